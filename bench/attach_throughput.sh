#!/bin/bash
# Throughput between two guests (network namespaces) on different hosts across the VPC overlay,
# against the underlay between those same hosts, with iperf3, in one run (TCP, 5 s, 7 rounds that
# alternate them, medians; iperf3 on this shared-kernel lab varies by about 10% run to run). Also
# host to host over the overlay (the hosts' own VPC addresses), which splits the tunnel's cost
# from the guests' veth pairs. A --plain VPC: bench/encryption_bench.sh measures encrypted ones.
#   VPCCTL=build/vpcctl bench/attach_throughput.sh
top=$(cd "$(dirname "$0")/.." && pwd)
export VPCCTL=${VPCCTL:-$top/build/vpcctl}
. "$top/tests/e2e/lib.sh"
e2e_require
command -v iperf3 >/dev/null || e2e_skip "iperf3 is not installed"
e2e_setup 3
e2e_controller 3 || exit 1
V() { e2e_vpcctl h1 "$@"; }
V vpc init vpc1 --plain --peer-network 10.100.0.0/24 --members all >/dev/null
V vpc deploy vpc1 >/dev/null || { echo "deploy failed"; exit 1; }
ga=$(e2e_guest h2 ga); gb=$(e2e_guest h3 gb)
e2e_vpcctl h2 attach vpc1 --netns "$ga" --ip 10.100.0.101/24 >/dev/null
e2e_vpcctl h3 attach vpc1 --netns "$gb" --ip 10.100.0.102/24 >/dev/null
e2e_iperf3_server h3 "$gb" 10.100.0.102
e2e_iperf3_server h3 10.77.0.3
e2e_iperf3_server h3 10.100.0.3
sleep 0.5
gbps() { python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
over=() under=() hosts=()
for round in 1 2 3 4 5 6 7; do
    over+=("$(e2e_in h2 "$ga" iperf3 -J -t 5 -c 10.100.0.102 | gbps)")
    under+=("$(e2e_on h2 iperf3 -J -t 5 -c 10.77.0.3 | gbps)")
    hosts+=("$(e2e_on h2 iperf3 -J -t 5 -c 10.100.0.3 | gbps)")
done
o=$(printf '%s\n' "${over[@]}" | median)
u=$(printf '%s\n' "${under[@]}" | median)
t=$(printf '%s\n' "${hosts[@]}" | median)
echo "guest to guest over the overlay (vpc1, mtu $(e2e_in h2 "$ga" cat /sys/class/net/eth0/mtu)): ${o} Gbit/s  (rounds: ${over[*]})"
echo "host to host over the underlay:                          ${u} Gbit/s  (rounds: ${under[*]})"
echo "host to host over the overlay (vpc1 addresses):         ${t} Gbit/s  (rounds: ${hosts[*]})"
awk -v o="$o" -v u="$u" -v t="$t" 'BEGIN { printf "overlay / underlay: %.3f (target 0.85); host to host over the overlay / underlay: %.3f\n", o / u, t / u }'
# Each round's own ratio (its overlay stream against the underlay stream right after it): how far
# one round can be from the medians' ratio on this machine.
paired=$(for i in "${!over[@]}"; do awk -v o="${over[$i]}" -v u="${under[$i]}" 'BEGIN { printf "%.3f\n", o / u }'; done)
sorted=$(echo "$paired" | sort -n)
echo "overlay / underlay round by round: $(echo $paired) (lowest $(echo "$sorted" | head -n 1), median $(echo "$sorted" | median), highest $(echo "$sorted" | tail -n 1))"
