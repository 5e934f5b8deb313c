#!/bin/bash
# `vpcctl node check` of 16 namespace hosts, against 16 sequential OpenSSH `ssh HOST true`, in one
# run (same hosts, same key, same pinned host keys). Prints the medians of 5 rounds and the ratio.
#   VPCCTL=build/vpcctl bench/node_check_bench.sh [HOSTS]
top=$(cd "$(dirname "$0")/.." && pwd)
export VPCCTL=${VPCCTL:-$top/build/vpcctl}
. "$top/tests/e2e/lib.sh"
e2e_require
n=${1:-16}
e2e_setup $((n + 1))
hosts=$(seq 2 $((n + 1)) | sed 's/^/h/')
# shellcheck disable=SC2086
e2e_bootstrap_key $hosts
e2e_vpcctl h1 init --name h1 --address 10.77.0.1 >/dev/null
for h in $hosts; do
    e2e_vpcctl h1 node add "$h" "$(e2e_ip4 "$h")" --identity "$E2E_DIR/bootstrap" --yes \
        --remote-vpcctl "$VPCCTL_BIN" >/dev/null 2>&1 || { echo "enrolling $h failed"; exit 1; }
done
key="$E2E_DIR/h1/state/id_ed25519"
kh="$E2E_DIR/h1/state/known_hosts"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
vpc_times=() ssh_times=()
for round in 1 2 3 4 5; do
    start=$(e2e_now_ms)
    e2e_vpcctl h1 node check >/dev/null || { echo "node check failed"; exit 1; }
    vpc_times+=($(( $(e2e_now_ms) - start )))
    start=$(e2e_now_ms)
    for h in $hosts; do
        e2e_on h1 ssh -q -i "$key" -o UserKnownHostsFile="$kh" -o GlobalKnownHostsFile=/dev/null \
            -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 \
            "root@$(e2e_ip4 "$h")" true || { echo "ssh $h failed"; exit 1; }
    done
    ssh_times+=($(( $(e2e_now_ms) - start )))
done
v=$(printf '%s\n' "${vpc_times[@]}" | median)
s=$(printf '%s\n' "${ssh_times[@]}" | median)
echo "hosts: $n"
echo "vpcctl node check (parallel):      ${v} ms  (rounds: ${vpc_times[*]})"
echo "sequential OpenSSH ssh HOST true:  ${s} ms  (rounds: ${ssh_times[*]})"
awk -v v="$v" -v s="$s" 'BEGIN { printf "speed-up: %.1fx\n", s / v }'
