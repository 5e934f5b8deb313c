#!/bin/bash
# Scale: one plain VPC over 31 of 32 namespace hosts (465 tunnels), all sharing this machine's
# kernel. Deploy; `vpc status` healthy 3 times in a row (no false loss among the 930 directed
# pairs); adding the 32nd host and removing it again touch only its own tunnels: every other
# vpcctl interface keeps its ifindex. The hosts share one neighbour table (1024 dynamic entries
# across every namespace): the underlay is pinned by the harness (e2e_static_underlay, what real
# hosts with their own tables have), the overlay by vpcctl itself (pinned peers).
#   VPCCTL=build/vpcctl tests/e2e/scale_test.sh   (VPCCTL_SCALE_HOSTS=N for another size)
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
e2e_require
n=${VPCCTL_SCALE_HOSTS:-32}
e2e_setup "$n"
e2e_static_underlay || e2e_fail "permanent underlay neighbours"
last=h$n
V() { e2e_vpcctl h1 "$@"; }
# shellcheck disable=SC2046
e2e_enrol_all $(seq 2 "$n" | sed 's/^/h/') || { e2e_fail "enrolment"; e2e_finish; }
members=$(seq 1 $((n - 1)) | sed 's/^/h/' | paste -sd,)
e2e_check "vpc1 over h1..h$((n - 1))" V vpc init vpc1 --plain --peer-network 10.100.0.0/24 --members "$members"
start=$(e2e_now_ms)
V vpc deploy vpc1 >/dev/null
rc=$?
e2e_check "deploy to $((n - 1)) hosts converges ($(( $(e2e_now_ms) - start )) ms)" [ $rc = 0 ]

# Three status runs in a row, each healthy: no pair reported lost, every full-size probe answered.
status_ok() {
    local i=$1 out rc took lost
    start=$(e2e_now_ms)
    out=$(V vpc status vpc1 --json 2>"$E2E_DIR/status.err")
    rc=$?
    took=$(( $(e2e_now_ms) - start ))
    lost=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for p in d["problems"][:20]: print("  " + p, file=sys.stderr)
peers = [p for n in d["nodes"] for p in n["peers"]]
print(sum(1 for p in peers if p["loss_pct"] > 0 or p["mtu_ok"] is not True), "of", len(peers))')
    e2e_check "status run $i: healthy, exit $rc, $lost pairs unhealthy, $took ms" \
        [ "$rc/${lost%% *}" = 0/0 ]
}
for i in 1 2 3; do status_ok "$i"; done
pins=$(e2e_on h1 ip neigh show dev vpc1 nud permanent 2>/dev/null | grep -c lladdr)
e2e_check "h1 pins the overlay address of each of the $((n - 2)) other members (got $pins)" [ "$pins" = $((n - 2)) ]

# name:ifindex of every vpcctl interface (tunnels vx*, bridge vpc1) on the given hosts.
ifindexes() {
    local h
    for h in "$@"; do
        e2e_on "$h" ip -o link show 2>/dev/null | sed -n "s/^\([0-9]*\): \(vx[0-9]*\|vpc1\)[:@].*/$h \2 \1/p"
    done | sort
}
kept=$(seq 1 $((n - 1)) | sed 's/^/h/')
# shellcheck disable=SC2086
before=$(ifindexes $kept)
e2e_check "each of the $((n - 1)) members has $((n - 2)) tunnels and the bridge" \
    [ "$(printf '%s\n' "$before" | wc -l)" = $(( (n - 1) * (n - 1) )) ]

e2e_check "member add vpc1 $last" V vpc member add vpc1 "$last"
e2e_check "deploy of the new member converges" V vpc deploy vpc1
# shellcheck disable=SC2086
after=$(ifindexes $kept)
e2e_check "no interface of the other members was recreated (every ifindex kept)" \
    [ -z "$(comm -23 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))" ]
e2e_check "each other member gained exactly one tunnel" \
    [ "$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | wc -l)" = $((n - 1)) ]
e2e_check "$last has a tunnel to each of the $((n - 1)) others" \
    [ "$(ifindexes "$last" | grep -c ' vx')" = $((n - 1)) ]
status_ok "after the add"

e2e_check "member remove vpc1 $last" V vpc member remove vpc1 "$last"
e2e_check "deploy of the removal converges" V vpc deploy vpc1
# shellcheck disable=SC2086
e2e_check "the others are back to exactly what they had, same ifindexes" [ "$(ifindexes $kept)" = "$before" ]
e2e_check "$last has no vpcctl interface left" [ -z "$(ifindexes "$last")" ]
pins=$(e2e_on h1 ip neigh show dev vpc1 nud permanent 2>/dev/null | grep -c lladdr)
e2e_check "h1 unpinned $last's address (pins: $pins)" [ "$pins" = $((n - 2)) ]
e2e_finish
