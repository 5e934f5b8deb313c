#!/bin/sh
# The demo: builds vpcctl and shows a sample 3-node fabric (two Linux nodes, one FreeBSD node,
# one pair over IPv6): the VPC's allocation, each node's plan, and the FreeBSD node's rc.conf.
#   scripts/demo.sh
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
"$top/scripts/build.sh" "$top/build" >/dev/null
state=$(mktemp -d /tmp/vpcctl-demo.XXXXXX)
trap 'rm -rf "$state"' EXIT INT TERM
run() {
    printf '\n$ %s\n' "$*"
    "$top/build/vpcctl" --state-dir "$state" "$@"
}
run init --name h1 --address 192.0.2.1 --address 2001:db8::1 --mtu 1500
run node add h2 192.0.2.2 --no-connect --platform freebsd
run node add h3 2001:db8::3 --underlay 192.0.2.3 --underlay 2001:db8::3 --mtu 9000 \
    --no-connect --platform linux
run node list
run vpc init vpc1 --peer-network 10.100.0.0/24 --members all
run plan vpc1 --node h1
run plan vpc1 --node h2
run render rc.conf --node h2
run vpc show vpc1 --json
