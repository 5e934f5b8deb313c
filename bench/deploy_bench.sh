#!/bin/bash
# Deploy time of a VPC over 4, 8 and 16 namespace hosts, against CBSD's flow in OpenSSH, in one
# run: for each node, one ssh that creates its tunnels; then for each node, one ssh that creates
# the bridge and adds the members (what `cbsd vpc mode=deploy` does), sequentially. The baseline
# runs exactly the commands `vpcctl plan` renders for each node, so both do the same kernel work.
# Also: a no-op re-deploy of 16 hosts against 16 parallel bare `ssh HOST true`, and the
# controller's peak memory during the 16-host deploy. Medians of 3 rounds.
#   VPCCTL=build/vpcctl bench/deploy_bench.sh [SIZES...]
top=$(cd "$(dirname "$0")/.." && pwd)
export VPCCTL=${VPCCTL:-$top/build/vpcctl}
. "$top/tests/e2e/lib.sh"
e2e_require
sizes=${*:-4 8 16}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
clean_host() {
    e2e_on "$1" sh -c 'for i in $(ip -o link show | sed -n "s/^[0-9]*: \(vx[0-9]*\)[:@].*/\1/p"); do ip link del "$i"; done; ip link del vpc1 2>/dev/null; nft delete table inet vpcctl 2>/dev/null; true' 2>/dev/null
}
results=""
for n in $sizes; do
    e2e_setup "$n"
    hosts=$(seq 1 "$n" | sed 's/^/h/')
    V() { e2e_vpcctl h1 "$@"; }
    # shellcheck disable=SC2046
    e2e_enrol_all $(seq 2 "$n" | sed 's/^/h/') || { echo "enrolment failed"; exit 1; }
    e2e_openssh_baseline
    # Plain: CBSD's flow has no encryption (bench/encryption_bench.sh measures what it costs).
    V vpc init vpc1 --plain --peer-network 10.100.0.0/24 --members all >/dev/null
    for h in $hosts; do
        # The baseline runs the interface commands only (vpcctl's deploy also loads its firewall).
        e2e_cbsd_scripts "$h"
    done
    deploy_t=() cbsd_t=()
    for round in 1 2 3; do
        start=$(e2e_now_ms)
        V vpc deploy vpc1 >/dev/null || { echo "deploy failed"; exit 1; }
        deploy_t+=($(( $(e2e_now_ms) - start )))
        e2e_on h2 ping -c 1 -W 2 10.100.0.1 >/dev/null || { echo "deploy did not connect"; exit 1; }
        if [ "$round" = 3 ] && [ "$n" = 16 ]; then
            noop_t=() bare_t=()
            for r in 1 2 3; do
                start=$(e2e_now_ms)
                V vpc deploy vpc1 >/dev/null
                noop_t+=($(( $(e2e_now_ms) - start )))
                start=$(e2e_now_ms)
                for h in $hosts; do SSH "$(e2e_ip4 "$h")" true & done
                wait
                bare_t+=($(( $(e2e_now_ms) - start )))
            done
            rss=$(e2e_on h1 /usr/bin/time -f %M "$VPCCTL_BIN" vpc deploy vpc1 2>&1 >/dev/null | tail -1)
        fi
        for h in $hosts; do clean_host "$h"; done
        start=$(e2e_now_ms)
        for h in $hosts; do SSH "$(e2e_ip4 "$h")" sh -s < "$E2E_DIR/$h.tunnels" || { echo "baseline tunnels on $h failed"; exit 1; }; done
        for h in $hosts; do SSH "$(e2e_ip4 "$h")" sh -s < "$E2E_DIR/$h.bridge" || { echo "baseline bridge on $h failed"; exit 1; }; done
        cbsd_t+=($(( $(e2e_now_ms) - start )))
        e2e_on h2 ping -c 1 -W 2 10.100.0.1 >/dev/null || { echo "baseline did not connect"; exit 1; }
        for h in $hosts; do clean_host "$h"; done
    done
    d=$(printf '%s\n' "${deploy_t[@]}" | median)
    c=$(printf '%s\n' "${cbsd_t[@]}" | median)
    line=$(awk -v n="$n" -v d="$d" -v c="$c" 'BEGIN { printf "%2d hosts: vpcctl vpc deploy %5d ms, CBSD flow over OpenSSH %6d ms, %.1fx faster", n, d, c, c / d }')
    echo "$line   (rounds: ${deploy_t[*]} / ${cbsd_t[*]})"
    results="$results$line\n"
    e2e_teardown
done
if [ -n "${noop_t:-}" ]; then
    no=$(printf '%s\n' "${noop_t[@]}" | median)
    ba=$(printf '%s\n' "${bare_t[@]}" | median)
    awk -v a="$no" -v b="$ba" 'BEGIN { printf "no-op re-deploy of 16 hosts %d ms vs 16 parallel bare ssh logins %d ms: %.2fx\n", a, b, a / b }'
    echo "controller peak RSS during a 16-host deploy: ${rss} KiB"
fi
