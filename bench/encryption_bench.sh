#!/bin/bash
# The cost of encryption, in one run:
#  1. iperf3 guest to guest (network namespaces on h2 and h3) over an encrypted VPC, against a bare
#     WireGuard link built by hand between the same two hosts with the same engine (wireguard-go
#     where the kernel has no WireGuard), TCP, 5 s, 3 rounds, medians;
#  2. deploy of 16 hosts, an encrypted VPC against a plain one (3 rounds each; the first encrypted
#     round also collects every node's key);
#  3. with BASELINE_VPCCTL=<an older vpcctl>, plain-VPC throughput of that binary against this one
#     (guest to guest, same method), to show what no-learning and the firewall cost.
#   VPCCTL=build/vpcctl [BASELINE_VPCCTL=old/vpcctl] bench/encryption_bench.sh [throughput|deploy|plain]...
top=$(cd "$(dirname "$0")/.." && pwd)
export VPCCTL=${VPCCTL:-$top/build/vpcctl}
NEW_VPCCTL=$VPCCTL
. "$top/tests/e2e/lib.sh"
e2e_require
command -v iperf3 >/dev/null || e2e_skip "iperf3 is not installed"
parts=${*:-throughput deploy plain}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
gbps() { python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'; }
V() { e2e_vpcctl h1 "$@"; }

# Guests ga on h2 and gb on h3 in VPC $1, with iperf3 listening in gb; prints nothing.
guests() {
    ga=$(e2e_guest h2 ga); gb=$(e2e_guest h3 gb)
    e2e_vpcctl h2 attach "$1" --netns "$ga" --ip 10.100.0.101/24 >/dev/null || exit 1
    e2e_vpcctl h3 attach "$1" --netns "$gb" --ip 10.100.0.102/24 >/dev/null || exit 1
    e2e_iperf3_server h3 "$gb" 10.100.0.102
    sleep 0.5
}
overlay_gbps() { e2e_in h2 "$ga" iperf3 -J -t 5 -c 10.100.0.102 | gbps; }

for part in $parts; do
case $part in
throughput)
    e2e_setup 3
    e2e_controller 3 || exit 1
    V vpc init vpc1 --peer-network 10.100.0.0/24 --members all >/dev/null
    V vpc deploy vpc1 >/dev/null || { echo "deploy failed"; exit 1; }
    guests vpc1
    # The bare link: a second wireguard-go interface on h2 and h3, on its own port, by hand.
    for h in h2 h3; do
        n=${h#h}
        e2e_on $h sh -c "umask 077; wg genkey > $E2E_DIR/$h/bare.key"
        e2e_on $h wireguard-go wgbare >/dev/null 2>&1 || e2e_on $h ip link add wgbare type wireguard
        e2e_on $h wg set wgbare listen-port 51821 private-key "$E2E_DIR/$h/bare.key"
        e2e_on $h ip addr add 10.99.0.$n/24 dev wgbare
        e2e_on $h ip link set wgbare up
    done
    e2e_on h2 wg set wgbare peer "$(wg pubkey < "$E2E_DIR/h3/bare.key")" endpoint 10.77.0.3:51821 allowed-ips 10.99.0.3/32
    e2e_on h3 wg set wgbare peer "$(wg pubkey < "$E2E_DIR/h2/bare.key")" endpoint 10.77.0.2:51821 allowed-ips 10.99.0.2/32
    e2e_iperf3_server h3 10.99.0.3
    sleep 0.5
    engine=$(e2e_on h2 ip -d link show wg-vpcctl | grep -q "tun type tun" && echo wireguard-go || echo kernel)
    over=() bare=()
    for round in 1 2 3 4 5 6 7; do
        over+=("$(overlay_gbps)")
        bare+=("$(e2e_on h2 iperf3 -J -t 5 -c 10.99.0.3 | gbps)")
    done
    o=$(printf '%s\n' "${over[@]}" | median)
    b=$(printf '%s\n' "${bare[@]}" | median)
    echo "engine: $engine"
    echo "guest to guest over encrypted vpc1 (mtu $(e2e_in h2 "$ga" cat /sys/class/net/eth0/mtu)): ${o} Gbit/s  (rounds: ${over[*]})"
    echo "bare WireGuard link h2 -> h3 (mtu $(e2e_on h2 cat /sys/class/net/wgbare/mtu)):        ${b} Gbit/s  (rounds: ${bare[*]})"
    awk -v o="$o" -v b="$b" 'BEGIN { printf "encrypted VPC / bare WireGuard: %.2f\n", o / b }'
    e2e_teardown
    ;;
deploy)
    e2e_setup 16
    e2e_controller 16 || exit 1
    enc=() pl=()
    for round in 1 2 3; do
        V vpc init "e$round" --peer-network "10.10$round.0.0/24" --members all >/dev/null
        start=$(e2e_now_ms)
        V vpc deploy "e$round" >/dev/null || { echo "encrypted deploy failed"; exit 1; }
        enc+=($(( $(e2e_now_ms) - start )))
        e2e_on h2 ping -c 1 -W 2 "10.10$round.0.16" >/dev/null || { echo "encrypted deploy did not connect"; exit 1; }
        V vpc destroy "e$round" >/dev/null
        V vpc init "p$round" --plain --peer-network "10.20$round.0.0/24" --members all >/dev/null
        start=$(e2e_now_ms)
        V vpc deploy "p$round" >/dev/null || { echo "plain deploy failed"; exit 1; }
        pl+=($(( $(e2e_now_ms) - start )))
        e2e_on h2 ping -c 1 -W 2 "10.20$round.0.16" >/dev/null || { echo "plain deploy did not connect"; exit 1; }
        V vpc destroy "p$round" >/dev/null
    done
    e=$(printf '%s\n' "${enc[@]}" | median)
    p=$(printf '%s\n' "${pl[@]}" | median)
    echo "deploy of 16 hosts: encrypted ${e} ms (rounds: ${enc[*]}; the first also collects 16 keys), plain ${p} ms (rounds: ${pl[*]})"
    awk -v e="$e" -v p="$p" 'BEGIN { printf "encrypted / plain: %.2f\n", e / p }'
    e2e_teardown
    ;;
plain)
    [ -n "${BASELINE_VPCCTL:-}" ] || { echo "plain: set BASELINE_VPCCTL to an older vpcctl to compare"; continue; }
    declare -A result
    for which in baseline this; do
        if [ $which = baseline ]; then VPCCTL_SRC=$BASELINE_VPCCTL; else VPCCTL_SRC=$NEW_VPCCTL; fi
        e2e_setup 3
        e2e_controller 3 || exit 1
        flag=--plain
        V vpc init --help 2>&1 | grep -q -- --plain || flag=""
        V vpc init vpc1 $flag --peer-network 10.100.0.0/24 --members all >/dev/null
        V vpc deploy vpc1 >/dev/null || { echo "deploy failed"; exit 1; }
        guests vpc1
        runs=()
        for round in 1 2 3; do runs+=("$(overlay_gbps)"); done
        result[$which]=$(printf '%s\n' "${runs[@]}" | median)
        echo "plain VPC guest to guest, $which vpcctl: ${result[$which]} Gbit/s (rounds: ${runs[*]})"
        e2e_teardown
    done
    awk -v a="${result[this]}" -v b="${result[baseline]}" 'BEGIN { printf "plain throughput, this / baseline: %.2f\n", a / b }'
    VPCCTL_SRC=$NEW_VPCCTL
    ;;
esac
done
