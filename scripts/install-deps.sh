#!/bin/sh
# Installs what vpcctl needs to build, test and run its demo on Debian 12 (as root).
# Skips apt-get when every package is already installed, unless VPCCTL_FORCE_APT=1.
# FreeBSD: pkg install cmake pkgconf sqlite3 libssh cli11 nlohmann-json googletest benchmark wireguard-tools
set -eu
PACKAGES="build-essential cmake pkg-config ca-certificates
  libssh-dev libsqlite3-dev libcli11-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  openssh-server openssh-client keepalived iperf3 iproute2 iputils-ping
  wireguard-go wireguard-tools nftables iptables tcpdump
  procps util-linux python3 python3-jsonschema sqlite3 time openssl
  mandoc man-db systemd zsh bash-completion"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ] && [ "${VPCCTL_FORCE_APT:-0}" != 1 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing; run as root to install them" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: apt-get not found; see README.md for other platforms" >&2
    exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $PACKAGES
