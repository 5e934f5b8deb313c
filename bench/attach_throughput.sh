#!/bin/bash
# Throughput between two guests (network namespaces) on different hosts across the VPC overlay,
# against the underlay between those same hosts, with iperf3, in one run (TCP, 5 s, 7 rounds that
# alternate them, medians; iperf3 on this shared-kernel lab varies by about 10% run to run). Also
# host to host over the overlay (the hosts' own VPC addresses), which splits the tunnel's cost
# from the guests' veth pairs; and both again over a bridge and vxlan pair built by hand between
# the same two hosts with the same MTU and vxlan settings, a guest on each bridge by a veth pair,
# and no vpcctl in it: the kernel's own speed for this overlay, the baseline the VPC is held to.
# A --plain VPC: bench/encryption_bench.sh measures encrypted ones.
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
# The hand-built pair: vxlan (VNI 4000, port 4790: outside vpcctl's VNIs and its firewall's port)
# on a bridge on each host, the VPC's MTU, vpcctl's vxlan flags (nolearning, the kernel's default
# UDP checksum), the hosts addressed on the bridges, and a guest namespace on each bridge by a veth
# pair. It goes away with the hosts' namespaces.
mtu=$(e2e_on h2 cat /sys/class/net/vpc1/mtu)
hand_built() {
    local h=$1 peer=$2 addr=$3 guest=$4 guest_addr=$5
    e2e_on "$h" ip -batch - <<EOF || return 1
link add hbvx mtu $mtu type vxlan id 4000 local $(e2e_ip4 "$h") remote $(e2e_ip4 "$peer") dstport 4790 nolearning
link add hbbr mtu $mtu type bridge
link set hbvx master hbbr
addr add $addr/24 dev hbbr
link add hbg mtu $mtu type veth peer name eth0 mtu $mtu netns $guest
link set hbg master hbbr
link set hbvx up
link set hbbr up
link set hbg up
EOF
    e2e_in "$h" "$guest" ip -batch - <<EOF
addr add $guest_addr/24 dev eth0
link set eth0 up
link set lo up
EOF
}
if ! { hga=$(e2e_guest h2 hga) && hgb=$(e2e_guest h3 hgb) &&
    hand_built h2 h3 10.199.0.2 "$hga" 10.199.0.102 &&
    hand_built h3 h2 10.199.0.3 "$hgb" 10.199.0.103; }; then
    echo "hand-built pair failed"
    exit 1
fi
e2e_iperf3_server h3 10.199.0.3
e2e_iperf3_server h3 "$hgb" 10.199.0.103
e2e_in h2 "$hga" ping -c 3 -W 1 10.199.0.103 >/dev/null || { echo "hand-built pair does not answer"; exit 1; }
sleep 0.5
gbps() { python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
over=() under=() hosts=() hand=() hand_guests=()
# In each round the streams compared run next to each other: the hand-built guests, then the VPC's,
# then the underlay; the VPC's hosts, then the hand-built hosts.
for round in 1 2 3 4 5 6 7; do
    hand_guests+=("$(e2e_in h2 "$hga" iperf3 -J -t 5 -c 10.199.0.103 | gbps)")
    over+=("$(e2e_in h2 "$ga" iperf3 -J -t 5 -c 10.100.0.102 | gbps)")
    under+=("$(e2e_on h2 iperf3 -J -t 5 -c 10.77.0.3 | gbps)")
    hosts+=("$(e2e_on h2 iperf3 -J -t 5 -c 10.100.0.3 | gbps)")
    hand+=("$(e2e_on h2 iperf3 -J -t 5 -c 10.199.0.3 | gbps)")
done
o=$(printf '%s\n' "${over[@]}" | median)
u=$(printf '%s\n' "${under[@]}" | median)
t=$(printf '%s\n' "${hosts[@]}" | median)
k=$(printf '%s\n' "${hand[@]}" | median)
g=$(printf '%s\n' "${hand_guests[@]}" | median)
echo "guest to guest over the overlay (vpc1, mtu $(e2e_in h2 "$ga" cat /sys/class/net/eth0/mtu)): ${o} Gbit/s  (rounds: ${over[*]})"
echo "host to host over the underlay:                          ${u} Gbit/s  (rounds: ${under[*]})"
echo "host to host over the overlay (vpc1 addresses):         ${t} Gbit/s  (rounds: ${hosts[*]})"
echo "guest to guest over the hand-built pair:                ${g} Gbit/s  (rounds: ${hand_guests[*]})"
echo "host to host over the hand-built pair:                  ${k} Gbit/s  (rounds: ${hand[*]})"
awk -v o="$o" -v u="$u" -v t="$t" 'BEGIN { printf "overlay / underlay: %.3f (target 0.85); host to host over the overlay / underlay: %.3f\n", o / u, t / u }'
awk -v o="$o" -v u="$u" -v t="$t" -v k="$k" -v g="$g" 'BEGIN { printf "the kernel'"'"'s own (hand-built) / underlay: guest to guest %.3f, host to host %.3f; vpcctl / hand-built: guest to guest %.3f, host to host %.3f\n", g / u, k / u, o / g, t / k }'
# Each round's own ratios (two streams run one after the other): how far one round can be from the
# medians' ratio on this machine.
by_round() {
    local what=$1 i paired sorted
    local -n a=$2 b=$3
    paired=$(for i in "${!a[@]}"; do awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN { printf "%.3f\n", x / y }'; done)
    sorted=$(echo "$paired" | sort -n)
    echo "$what round by round: $(echo "$paired" | paste -sd' ') (lowest $(echo "$sorted" | head -n 1), median $(echo "$sorted" | median), highest $(echo "$sorted" | tail -n 1))"
}
by_round "overlay / underlay" over under
by_round "vpcctl / hand-built, guest to guest" over hand_guests
by_round "vpcctl / hand-built, host to host" hosts hand
