#!/bin/sh
# Installs everything vpcctl needs to build, test and run its demo on Debian 12.
# FreeBSD users: pkg install cmake sqlite3 libssh cli11 nlohmann-json googletest
set -eu
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: run as root (apt-get needs it)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: apt-get not found; see README.md for other platforms" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
    build-essential cmake pkg-config ca-certificates \
    libssh-dev libsqlite3-dev libcli11-dev nlohmann-json3-dev \
    libgtest-dev libgmock-dev libbenchmark-dev \
    clang libclang-rt-14-dev \
    openssh-server openssh-client keepalived iperf3 iproute2 iputils-ping \
    procps util-linux python3 sqlite3
