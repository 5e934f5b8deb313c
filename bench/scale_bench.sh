#!/bin/bash
# Growth of one plain VPC over 16, 32 and 64 namespace hosts (a full mesh: n(n-1)/2 tunnels). For
# each size, in one run, medians of 3 rounds from clean hosts unless noted:
#   - `vpc deploy` (connectivity checked after each: h2 pings 10.100.0.1);
#   - CBSD's flow over OpenSSH, as bench/deploy_bench.sh runs it: per node one sequential ssh with
#     its tunnel commands, then per node one ssh with its bridge commands (what `vpcctl plan`
#     renders for it, without the nft lines);
#   - the kernel floor: each node's own plan commands without SSH, all nodes in parallel, through
#     `ip -batch` (and `bridge -batch` for any bridge lines);
#   - a no-op `vpc deploy` after a real one;
#   - `vpc status --json`, 5 runs in a row, each with its time, exit code and number of directed
#     pairs reported lost or with a full-size probe unanswered (all false: the underlay is healthy);
#   - `node check`;
#   - with kept sessions (`--persist`, the keeper warmed by one command first): `vpc deploy` from
#     clean hosts (3 rounds) and `vpc status --json` (5 runs, false losses counted the same way);
#   - the controller's peak RSS and CPU time (user+sys, per node) during one deploy from clean hosts;
#   - what one status costs in CPU, with and without kept sessions (medians of the 5 runs): the
#     controller, the keeper, the nodes' sshds and the nodes' agents, and the least wall time that
#     much CPU needs on this machine's CPUs, which every namespace host shares.
# All hosts share this machine's kernel, so every host gets permanent underlay neighbour entries
# (e2e_static_underlay). Prints a line per size as it finishes, then a growth table.
#   VPCCTL=build/vpcctl bench/scale_bench.sh [SIZES...]
top=$(cd "$(dirname "$0")/.." && pwd)
export VPCCTL=${VPCCTL:-$top/build/vpcctl}
# shellcheck disable=SC1091  # lib.sh is found at run time (shellcheck -x follows it)
. "$top/tests/e2e/lib.sh"
sizes=${*:-16 32 64}
for n in $sizes; do
    case "$n" in '' | *[!0-9]*) echo "size '$n' is not a number of hosts"; exit 2 ;; esac
    if [ "$n" -lt 2 ] || [ "$n" -gt 254 ]; then echo "size $n: from 2 to 254 hosts (h2 pings h1; 10.77.0.N)"; exit 2; fi
done
e2e_require
[ -x /usr/bin/time ] || e2e_skip "/usr/bin/time is not installed (GNU time, for peak RSS)"
command -v python3 >/dev/null 2>&1 || e2e_skip "python3 is not installed (reads status --json)"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
clean_host() {
    # shellcheck disable=SC2016  # expanded by the host's sh
    e2e_on "$1" sh -c 'for i in $(ip -o link show | sed -n "s/^[0-9]*: \(vx[0-9]*\)[:@].*/\1/p"); do ip link del "$i"; done; ip link del vpc1 2>/dev/null; nft delete table inet vpcctl 2>/dev/null; true' 2>/dev/null
}
# Every host cleaned, in parallel (not measured).
clean_all() {
    local h
    for h in $hosts; do clean_host "$h" & done
    wait
}
# h2 reaches h1's overlay address; a ping that needed a second try is reported on stderr.
connected() {
    local try
    for try in 1 2 3; do
        if e2e_on h2 ping -c 1 -W 2 10.100.0.1 >/dev/null; then
            [ "$try" = 1 ] || e2e_log "$n hosts, $1: h2 reached 10.100.0.1 only at ping $try"
            return 0
        fi
    done
    echo "$n hosts: $1 did not connect (h2 -> 10.100.0.1)"
    exit 1
}
# One host's kernel floor: its plan's ip lines through ip -batch, then any bridge lines.
floor_host() {
    e2e_on "$1" ip -batch "$E2E_DIR/$1.ipbatch" || return 1
    [ -s "$E2E_DIR/$1.bridgebatch" ] || return 0
    e2e_on "$1" bridge -batch "$E2E_DIR/$1.bridgebatch"
}
# CPU used so far (ms) by the nodes' sshds (every process under each host's sshd listener, live or
# reaped), by the nodes' agents, and by the keeper: "sshd agents keeper". All hosts share this
# machine's CPUs, so what a status costs the nodes here is wall time of the controller's too.
cpu_ms() {
    local h
    for h in $hosts; do cat "$E2E_DIR/$h/sshd.bgpid"; done | python3 -c '
import os, sys
hz = os.sysconf("SC_CLK_TCK")
listeners = {int(x) for x in sys.stdin.read().split()}
stat, parent, cmd = {}, {}, {}
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        f = open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()
        c = open("/proc/%s/cmdline" % d, "rb").read().split(b"\0")
    except OSError:
        continue
    try:
        exe = os.readlink("/proc/%s/exe" % d)
    except OSError:
        exe = ""
    pid = int(d)
    parent[pid] = int(f[1])
    stat[pid] = (int(f[11]) + int(f[12]), int(f[13]) + int(f[14]))  # own, reaped children
    cmd[pid] = (exe, [a.decode(errors="replace") for a in c if a])
def under_listener(pid):
    while pid > 1:
        pid = parent.get(pid, 1)
        if pid in listeners:
            return True
    return False
sshd = sum(stat[p][1] for p in listeners if p in stat)
sshd += sum(sum(stat[p]) for p in stat if under_listener(p))
binary = sys.argv[1]
def is_vpcctl(p, verb):
    return cmd[p][0] == binary and verb in cmd[p][1]
agents = sum(sum(stat[p]) for p in stat if is_vpcctl(p, "agent") and not under_listener(p))
keeper = sum(sum(stat[p]) for p in stat if is_vpcctl(p, "serve"))
print(*(t * 1000 // hz for t in (sshd, agents, keeper)))' "$VPCCTL_BIN"
}
# Five `vpc status --json` runs (extra vpcctl options in "$@"): sets status_t (ms), status_runs
# (ms/exit/unhealthy pairs), lost_total (directed pairs unhealthy over the five) and status_cpu
# (the CPU one status cost, medians per run: controller, keeper, nodes' sshds, agents, in ms).
measure_status() {
    status_t=() status_runs=() lost_total=0
    local run start rc lost before after usr sys ctl_t=() sshd_t=() agent_t=() keeper_t=()
    for run in 1 2 3 4 5; do
        before=$(cpu_ms)
        start=$(e2e_now_ms)
        e2e_on h1 /usr/bin/time -o "$E2E_DIR/status.$run.time" -f '%U %S' "$VPCCTL_BIN" "$@" \
            vpc status vpc1 --json > "$E2E_DIR/status.$run.json" 2> "$E2E_DIR/status.$run.err"
        rc=$?
        status_t+=($(( $(e2e_now_ms) - start )))
        after=$(cpu_ms)
        read -r usr sys < <(tail -1 "$E2E_DIR/status.$run.time")
        ctl_t+=("$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1000 }')")
        read -r -a b <<< "$before"
        read -r -a a <<< "$after"
        sshd_t+=($(( a[0] - b[0] ))) agent_t+=($(( a[1] - b[1] ))) keeper_t+=($(( a[2] - b[2] )))
        lost=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for n in d["nodes"] for p in n["peers"] if p["loss_pct"] > 0 or p["mtu_ok"] is not True))' \
            "$E2E_DIR/status.$run.json" 2>/dev/null) || lost="?"
        status_runs+=("${status_t[-1]}ms/rc$rc/$lost")
        if [ "$rc" != 0 ] || [ "$lost" != 0 ]; then
            e2e_log "$n hosts: status run $run ($*) exit $rc, $lost pair(s) unhealthy; first problems:"
            python3 -c '
import json, sys
for p in json.load(open(sys.argv[1])).get("problems", [])[:10]: print("  " + p)' \
                "$E2E_DIR/status.$run.json" >&2 2>/dev/null
            head -5 "$E2E_DIR/status.$run.err" >&2
        fi
        case "$lost" in '' | *[!0-9]*) lost_total="?" ;; *) [ "$lost_total" = "?" ] || lost_total=$((lost_total + lost)) ;; esac
    done
    status_cpu="$(printf '%s\n' "${ctl_t[@]}" | median) $(printf '%s\n' "${keeper_t[@]}" | median)"
    status_cpu="$status_cpu $(printf '%s\n' "${sshd_t[@]}" | median) $(printf '%s\n' "${agent_t[@]}" | median)"
}
# What status_cpu says, and the wall time that much CPU needs on this machine's CPUs at best.
cpu_line() {
    awk -v n="$n" -v cpus="$(nproc)" -v c="$1" -v k="$2" -v s="$3" -v a="$4" 'BEGIN {
        printf "CPU per status: controller %d ms, keeper %d ms, nodes'"'"' sshds %d ms (%.1f ms per node), agents %d ms (%.1f ms per node); all %d ms over %d CPUs: %d ms of wall time at least", c, k, s, s / n, a, a / n, c + k + s + a, cpus, (c + k + s + a) / cpus }'
}
results=""
for n in $sizes; do
    e2e_setup "$n"
    e2e_static_underlay || { echo "$n hosts: static underlay neighbours failed"; exit 1; }
    hosts=$(seq 1 "$n" | sed 's/^/h/')
    V() { e2e_vpcctl h1 "$@"; }
    e2e_log "$n hosts: enrolling h2..h$n"
    # shellcheck disable=SC2046
    e2e_enrol_all $(seq 2 "$n" | sed 's/^/h/') || { echo "$n hosts: enrolment failed"; exit 1; }
    e2e_openssh_baseline
    V vpc init vpc1 --plain --peer-network 10.100.0.0/24 --members all >/dev/null
    for h in $hosts; do
        # Interface commands only (vpcctl's deploy also loads its firewall), rendered for clean hosts.
        e2e_cbsd_scripts "$h"
        sed -n 's/^ip //p' "$E2E_DIR/$h.plan" > "$E2E_DIR/$h.ipbatch"
        sed -n 's/^bridge //p' "$E2E_DIR/$h.plan" > "$E2E_DIR/$h.bridgebatch"
        if grep -vqE '^(ip|bridge) ' "$E2E_DIR/$h.plan"; then
            echo "plan of $h has lines that are neither ip nor bridge commands:"
            grep -vE '^(ip|bridge) ' "$E2E_DIR/$h.plan"
            exit 1
        fi
        [ "$(grep -c '^ip link add name vx' "$E2E_DIR/$h.plan")" = $((n - 1)) ] ||
            { echo "plan of $h does not create $((n - 1)) tunnels"; exit 1; }
    done
    deploy_t=() cbsd_t=() floor_t=()
    for round in 1 2 3; do
        e2e_log "$n hosts: round $round"
        clean_all
        start=$(e2e_now_ms)
        V vpc deploy vpc1 >/dev/null || { echo "deploy failed"; exit 1; }
        deploy_t+=($(( $(e2e_now_ms) - start )))
        connected "deploy (round $round)"
        clean_all
        start=$(e2e_now_ms)
        for h in $hosts; do SSH "$(e2e_ip4 "$h")" sh -s < "$E2E_DIR/$h.tunnels" || { echo "baseline tunnels on $h failed"; exit 1; }; done
        for h in $hosts; do SSH "$(e2e_ip4 "$h")" sh -s < "$E2E_DIR/$h.bridge" || { echo "baseline bridge on $h failed"; exit 1; }; done
        cbsd_t+=($(( $(e2e_now_ms) - start )))
        connected "CBSD flow (round $round)"
        clean_all
        pids=()
        start=$(e2e_now_ms)
        for h in $hosts; do
            floor_host "$h" &
            pids+=($!)
        done
        failed=0
        for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
        floor_t+=($(( $(e2e_now_ms) - start )))
        [ "$failed" = 0 ] || { echo "kernel floor: ip/bridge -batch failed"; exit 1; }
        connected "kernel floor (round $round)"
    done
    clean_all
    # One deploy from clean hosts under GNU time: peak RSS (KiB) and CPU (user, system seconds) of
    # the controller and what it waits for.
    e2e_on h1 /usr/bin/time -o "$E2E_DIR/time.out" -f '%M %U %S' "$VPCCTL_BIN" vpc deploy vpc1 >/dev/null ||
        { echo "deploy under time failed"; exit 1; }
    connected "deploy under time"
    read -r rss usr sys < <(tail -1 "$E2E_DIR/time.out")
    cpu_node=$(awk -v u="$usr" -v s="$sys" -v n="$n" 'BEGIN { printf "%.1f", (u + s) * 1000 / n }')
    noop_t=()
    for round in 1 2 3; do
        start=$(e2e_now_ms)
        V vpc deploy vpc1 >/dev/null || { echo "no-op deploy failed"; exit 1; }
        noop_t+=($(( $(e2e_now_ms) - start )))
    done
    measure_status
    plain_cpu=$status_cpu
    check_t=()
    for round in 1 2 3; do
        start=$(e2e_now_ms)
        V node check >/dev/null || { echo "node check failed"; exit 1; }
        check_t+=($(( $(e2e_now_ms) - start )))
    done
    # Kept sessions: the keeper is started and every session made by one status (not measured).
    plain_status_t=("${status_t[@]}") plain_status_runs=("${status_runs[@]}") plain_lost=$lost_total
    V --persist 600 vpc status vpc1 >/dev/null 2>&1
    kept_t=()
    for round in 1 2 3; do
        clean_all
        start=$(e2e_now_ms)
        V --persist 600 vpc deploy vpc1 >/dev/null || { echo "deploy with kept sessions failed"; exit 1; }
        kept_t+=($(( $(e2e_now_ms) - start )))
        connected "deploy with kept sessions (round $round)"
    done
    measure_status --persist 600
    kept_status_t=("${status_t[@]}") kept_status_runs=("${status_runs[@]}") kept_lost=$lost_total
    kept_cpu=$status_cpu
    V connections close >/dev/null 2>&1
    status_t=("${plain_status_t[@]}") status_runs=("${plain_status_runs[@]}") lost_total=$plain_lost
    d=$(printf '%s\n' "${deploy_t[@]}" | median)
    dk=$(printf '%s\n' "${kept_t[@]}" | median)
    sk=$(printf '%s\n' "${kept_status_t[@]}" | median)
    c=$(printf '%s\n' "${cbsd_t[@]}" | median)
    f=$(printf '%s\n' "${floor_t[@]}" | median)
    o=$(printf '%s\n' "${noop_t[@]}" | median)
    s=$(printf '%s\n' "${status_t[@]}" | median)
    k=$(printf '%s\n' "${check_t[@]}" | median)
    line=$(awk -v n="$n" -v d="$d" -v c="$c" -v f="$f" -v o="$o" -v s="$s" -v k="$k" \
        'BEGIN { printf "%2d hosts: deploy %d ms, CBSD flow %d ms (%.1fx), kernel floor %d ms (deploy %.1fx), no-op %d ms, status %d ms, node check %d ms", n, d, c, c / d, f, d / f, o, s, k }')
    kept=$(awk -v c="$c" -v f="$f" -v dk="$dk" -v sk="$sk" \
        'BEGIN { printf "kept sessions: deploy %d ms (CBSD %.1fx, floor %.1fx), status %d ms", dk, c / dk, dk / f, sk }')
    echo "$line, peak RSS $rss KiB, CPU $cpu_node ms/node; $kept   (rounds: deploy ${deploy_t[*]} / CBSD ${cbsd_t[*]} / floor ${floor_t[*]} / no-op ${noop_t[*]} / node check ${check_t[*]} / kept deploy ${kept_t[*]}; status ms/exit/unhealthy pairs: ${status_runs[*]}; kept: ${kept_status_runs[*]})"
    # shellcheck disable=SC2086  # four numbers
    echo "$n hosts, status without kept sessions: $(cpu_line $plain_cpu)"
    # shellcheck disable=SC2086
    echo "$n hosts, status with kept sessions: $(cpu_line $kept_cpu)"
    results="$results$(printf '%s %s %s %s %s %s %s %s %s %s %s %s %s' "$n" "$d" "$c" "$f" "$o" "$s" "$lost_total" "$k" "$rss" "$cpu_node" "$dk" "$sk" "$kept_lost")
"
    prefix=$E2E_P
    e2e_teardown
    left=$(ip netns list | awk -v p="$prefix" 'index($1, p) == 1 {print $1}')
    [ -z "$left" ] || { echo "$n hosts: namespaces left after teardown: $(echo "$left" | paste -sd' ')"; exit 1; }
done
echo
echo "Without kept sessions (every command logs in to every node):"
printf '%s' "$results" | awk 'BEGIN {
    f = "%5s %9s %9s %7s %8s %7s %7s %9s %10s %10s %9s %8s\n"
    printf f, "hosts", "deploy", "CBSD", "CBSD/", "floor", "deploy/", "no-op", "status", "false", "node check", "peak RSS", "CPU/node"
    printf f, "", "ms", "ms", "deploy", "ms", "floor", "ms", "ms (med)", "loss (5x)", "ms", "KiB", "ms"
} {
    printf "%5d %9d %9d %7.1f %8d %7.1f %7d %9d %10s %10d %9d %8.1f\n", $1, $2, $3, $3 / $2, $4, $2 / $4, $5, $6, $7, $8, $9, $10
}'
echo
echo "With kept sessions (--persist; the keeper already holds a session per node):"
printf '%s' "$results" | awk 'BEGIN {
    f = "%5s %9s %7s %8s %9s %10s\n"
    printf f, "hosts", "deploy", "CBSD/", "deploy/", "status", "false"
    printf f, "", "ms", "deploy", "floor", "ms (med)", "loss (5x)"
} {
    printf "%5d %9d %7.1f %8.1f %9d %10s\n", $1, $11, $3 / $11, $11 / $4, $12, $13
}'
