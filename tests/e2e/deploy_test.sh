#!/bin/bash
# Deploying real VPCs from one controller across namespace hosts: reach, MTU, no loops,
# idempotence, member changes, isolation between VPCs, crash recovery, a dead node, bad maps,
# destroy.
#
#                   underlay bridge (10.77.0.0/24, fd77::/64)
#      +----------------+----------------+----------------+
#      h1 (controller)  h2               h3               h4 (joins later)
#      10.77.0.1        10.77.0.2        fd77::3          10.77.0.4
#      fd77::1          (IPv4 only)      10.77.0.3        fd77::4
#
#   vpc1 10.100.0.0/24: h1-h2 over IPv4, h1-h3 over IPv6, h2-h3 over IPv4; MTU 1500-70 = 1430
#   vpc2 10.200.0.0/24 on h1, h2, h3: must never see vpc1's frames
. "$(dirname "$0")/lib.sh"
e2e_require
e2e_setup 4
e2e_bootstrap_key h2 h3 h4
SNIFF="$(cd "$(dirname "$0")" && pwd)/sniff.py"
V() { e2e_vpcctl h1 "$@"; }
owned() { e2e_on "$1" ip -j link show | python3 -c 'import json,sys; print(" ".join(sorted(l["ifname"] for l in json.load(sys.stdin) if l.get("ifalias","").startswith("vpcctl:"))))'; }
ifindexes() { e2e_on "$1" ip -j link show | python3 -c 'import json,sys; print(" ".join("%s=%s" % (l["ifname"], l["ifindex"]) for l in sorted(json.load(sys.stdin), key=lambda l: l["ifname"]) if l.get("ifalias","").startswith("vpcctl:")))'; }
ping_from() { e2e_on "$1" ping -n -q -c 2 -i 0.2 -W 2 "${@:2}" >/dev/null 2>&1; }
changes() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(n["changes"] for n in d["nodes"]))'; }

V init --name h1 --address 10.77.0.1 --address fd77::1 >/dev/null
e2e_check "apply on a node that has no map yet is a no-op (what the boot unit runs)" \
    e2e_on h4 "$VPCCTL_BIN" apply --local
V node add h2 10.77.0.2 --identity "$E2E_DIR/bootstrap" --yes --remote-vpcctl "$VPCCTL_BIN" >/dev/null 2>&1
V node add h3 fd77::3 --underlay fd77::3 --underlay 10.77.0.3 --identity "$E2E_DIR/bootstrap" --yes \
    --remote-vpcctl "$VPCCTL_BIN" >/dev/null 2>&1
e2e_check "vpc init vpc1 over h1, h2, h3" V vpc init vpc1 --plain --peer-network 10.100.0.0/24 --members h1,h2,h3
e2e_check "vpc1 derived MTU 1430 (one pair over IPv6)" e2e_contains "$(V vpc show vpc1)" "mtu 1430"

# ---- A 3-node VPC deployed from one controller.
out=$(V vpc deploy vpc1 2>&1)
rc=$?
echo "$out"
e2e_check "vpc deploy vpc1 exits 0" [ $rc = 0 ]
for h in h1 h2 h3; do
    e2e_check "$h printed a progress line" e2e_contains "$out" "  $h: converged"
done
e2e_check "h1 has its two tunnels and the bridge" [ "$(owned h1)" = "vpc1 vx100 vx101" ]
e2e_check "h2 has its two tunnels and the bridge" [ "$(owned h2)" = "vpc1 vx100 vx102" ]
e2e_check "h3 has its two tunnels and the bridge" [ "$(owned h3)" = "vpc1 vx101 vx102" ]
e2e_check "h1-h3 runs over IPv6" e2e_contains "$(e2e_on h1 ip -d link show vx101)" "remote fd77::3"
for from in 1 2 3; do
    for to in 1 2 3; do
        [ $from = $to ] && continue
        e2e_check "h$from pings h$to over the overlay" ping_from h$from 10.100.0.$to
    done
done
e2e_check "ping -M do with payload MTU-28 = 1402 crosses (h1 -> h3, IPv6 underlay)" \
    ping_from h1 -M do -s 1402 10.100.0.3
e2e_expect_fail "ping -M do with payload MTU-27 = 1403 is refused" ping_from h1 -M do -s 1403 10.100.0.3
e2e_check "ping -M do 1402 crosses h2 -> h3 (IPv4 underlay)" ping_from h2 -M do -s 1402 10.100.0.3
status=$(V vpc status vpc1 2>&1)
rc=$?
echo "$status"
e2e_check "vpc status is healthy (exit 0)" [ $rc = 0 ]
e2e_check "the status matrix shows loss and latency" e2e_contains "$status" "0% "
e2e_check "h1 pins h2's and h3's overlay addresses to their bridges' MACs" \
    [ "$(e2e_on h1 ip neigh show dev vpc1 nud permanent 2>/dev/null | awk '{print $1, $3}' | sort | tr '\n' ' ')" = \
      "10.100.0.2 $(e2e_on h2 cat /sys/class/net/vpc1/address) 10.100.0.3 $(e2e_on h3 cat /sys/class/net/vpc1/address) " ]

# ---- A switch port that drops large frames (h3's, at 1400 bytes): status fails with exit 5 and
# names, for each pair through that port, the largest frame the path carries; ping -M do confirms
# that size crosses and one byte more does not.
ip -n "$(e2e_ns ul)" link set h3 mtu 1400
status=$(V vpc status vpc1 2>&1)
rc=$?
echo "$status"
e2e_check "status exits 5 when a path drops full-size frames (got $rc)" [ $rc = 5 ]
largest() { printf '%s\n' "$status" | sed -n "s/^ *$1 -> $2 ([^)]*): path drops frames larger than \([0-9]*\) bytes (VPC MTU 1430)$/\1/p"; }
for pair in "h1 h3" "h3 h1" "h2 h3" "h3 h2"; do
    set -- $pair
    n=$(largest $1 $2)
    e2e_check "$1 -> $2: path drops frames larger than N, with N reported (got '$n')" [ -n "$n" ]
    [ -n "$n" ] || continue
    e2e_check "$1 -> $2: $n bytes cross with don't-fragment" ping_from $1 -M do -s $((n - 28)) 10.100.0.${2#h}
    e2e_expect_fail "$1 -> $2: $((n + 1)) bytes do not" ping_from $1 -M do -s $((n - 27)) 10.100.0.${2#h}
done
e2e_expect_fail "h1 <-> h2 is not blamed" e2e_contains "$status" "h1 -> h2 ("
e2e_expect_fail "no pair reports loss" e2e_contains "$status" "% loss"
ip -n "$(e2e_ns ul)" link set h3 mtu 1500
e2e_check "status is healthy again once the port carries full frames" V vpc status vpc1

# ---- Idempotence: a second deploy changes nothing and keeps every ifindex.
before=$(for h in h1 h2 h3; do ifindexes $h; done)
n=$(V vpc deploy vpc1 --json | changes)
e2e_check "a second deploy reports zero changes (got $n)" [ "$n" = 0 ]
e2e_check "every vpcctl interface kept its ifindex" [ "$(for h in h1 h2 h3; do ifindexes $h; done)" = "$before" ]

# ---- Two VPCs on the same nodes; a broadcast in vpc1 reaches each node exactly once (no loop)
# and never appears in vpc2.
e2e_check "vpc2 on the same nodes deploys" V vpc init vpc2 --plain --peer-network 10.200.0.0/24 --members h1,h2,h3
e2e_check "deploy vpc2" V vpc deploy vpc2
marker=c0ffee$(printf '%06x' $$)
for h in h2 h3; do
    for b in vpc1 vpc2; do
        e2e_on $h python3 "$SNIFF" $b "$marker$marker" 4 > "$E2E_DIR/sniff.$h.$b" 2>/dev/null &
    done
done
sleep 1
rx_before=$(e2e_on h2 cat /sys/class/net/vpc1/statistics/rx_packets)
e2e_on h1 ping -n -b -q -c 20 -i 0.05 -p "$marker$marker" 10.100.0.255 >/dev/null 2>&1
wait
for h in h2 h3; do
    got=$(cat "$E2E_DIR/sniff.$h.vpc1")
    e2e_check "20 broadcasts from h1 arrive on $h's vpc1 exactly 20 times (got $got)" [ "$got" = 20 ]
    got=$(cat "$E2E_DIR/sniff.$h.vpc2")
    e2e_check "none of them arrives on $h's vpc2 (got $got)" [ "$got" = 0 ]
done
rx_after=$(e2e_on h2 cat /sys/class/net/vpc1/statistics/rx_packets)
e2e_check "h2's vpc1 bridge counters show no storm ($((rx_after - rx_before)) packets)" \
    [ $((rx_after - rx_before)) -lt 60 ]

# ---- Member changes: h4 joins (only its tunnels appear), then leaves (they go everywhere).
V node add h4 10.77.0.4 --underlay 10.77.0.4 --underlay fd77::4 --identity "$E2E_DIR/bootstrap" \
    --yes --remote-vpcctl "$VPCCTL_BIN" >/dev/null 2>&1
before=$(for h in h1 h2 h3; do ifindexes $h; done)
e2e_check "vpc member add vpc1 h4" V vpc member add vpc1 h4
out=$(V vpc deploy vpc1 --json)
e2e_check "deploy after adding h4 succeeds" [ "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["failed"])')" = 0 ]
after=$(for h in h1 h2 h3; do ifindexes $h; done)
kept=yes
for entry in $before; do case " $after " in *" $entry "*) ;; *) kept="no ($entry)";; esac; done
e2e_check "every existing interface kept its ifindex: $kept" [ "$kept" = yes ]
new_on_h1=$(echo "$after" | tr ' ' '\n' | grep -c .)
e2e_check "h1 gained exactly one tunnel (to h4)" [ "$new_on_h1" = $(( $(echo "$before" | tr ' ' '\n' | grep -c .) + 3 )) ]
e2e_check "h4 pings h2 over vpc1" ping_from h4 10.100.0.2
e2e_check "h4 has three tunnels and the bridge" [ "$(owned h4 | wc -w)" = 4 ]
e2e_check "vpc member remove vpc1 h4" V vpc member remove vpc1 h4
e2e_check "deploy after removing h4" V vpc deploy vpc1
e2e_check "h4's tunnels are gone from h4" [ -z "$(owned h4)" ]
for h in h1 h2 h3; do
    e2e_check "h4's tunnel is gone from $h" [ "$(owned $h | wc -w)" = 6 ]
done

# ---- Crash recovery: an apply killed with SIGKILL midway, then deploy converges.
e2e_check "vpc3 created" V vpc init vpc3 --plain --peer-network 10.30.0.0/24 --members h1,h2,h3
map=$(V map export)
echo "$map" | VPCCTL_FAULT_KILL_AFTER=7 e2e_faults h2 apply --local --import --node h2 >/dev/null 2>&1
rc=$?
e2e_check "the apply on h2 died by SIGKILL (exit $rc)" [ $rc = 137 ]
drift=$(e2e_on h2 "$VPCCTL_BIN" apply --local --dry-run --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["changes"])')
e2e_check "it left h2 half-built ($drift steps still needed)" [ "$drift" -gt 0 ]
e2e_check "deploy after the crash converges" V vpc deploy vpc3
e2e_check "h2 pings h1 over vpc3" ping_from h2 10.30.0.1
n=$(V deploy --json | changes)
e2e_check "deploy of everything is then a no-op (got $n changes)" [ "$n" = 0 ]

# ---- A dead node: deploy converges the others, names it, exits 3 within the timeout.
e2e_cut h3
V vpc member add vpc3 h4 >/dev/null
start=$(e2e_now_ms)
out=$(V vpc deploy vpc3 --timeout 3 2>&1)
rc=$?
took=$(( $(e2e_now_ms) - start ))
echo "$out"
e2e_check "deploy with h3 unreachable exits 3 (got $rc)" [ $rc = 3 ]
e2e_check "... names h3 as failed" e2e_contains "$out" "h3: FAILED"
e2e_check "... converges the others" e2e_contains "$out" "h4: converged"
e2e_check "... within the 3 s connect timeout plus a margin (${took} ms)" [ $took -lt 6000 ]
e2e_expect_fail "status is not healthy while h3 is down" V vpc status vpc3 --timeout 2
e2e_heal h3
sleep 1
e2e_check "after h3 is back, deploy is all green" V vpc deploy vpc3
healthy() { for _ in 1 2 3 4 5; do V vpc status vpc3 >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }
e2e_check "and status becomes healthy (neighbours re-learnt within 5 s)" healthy

# ---- Kept sessions (--persist): the next command reaches every node over the session the last one
# left, with no new login; a node that goes dark is named within 1.5 connect timeouts; `connections
# close` ends the keeper.
logins() { cat "$E2E_DIR"/h[234]/sshd.log | grep -c "Accepted publickey"; }
keeper_pids() {
    for p in $(ip netns pids "$(e2e_ns h1)"); do
        tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q "connections serve --idle 30" && echo "$p"
    done
}
e2e_check "status with --persist 30 (starts the keeper)" V --persist 30 vpc status vpc3
e2e_check "one keeper runs" [ "$(keeper_pids | wc -l)" = 1 ]
n0=$(logins)
persisted() { VPCCTL_PERSIST=30 V vpc status vpc3; }
e2e_check "status again (VPCCTL_PERSIST=30) over the kept sessions" persisted
e2e_check "and again (--persist 30)" V --persist 30 vpc status vpc3
e2e_check "... with no new login on h2, h3, h4 ($n0 before, $(logins) after)" [ "$(logins)" = "$n0" ]
kept=$(V connections list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["keeper"], len(d["sessions"]), min(s["commands"] for s in d["sessions"]))')
e2e_check "connections list: 3 sessions, each ran 3 commands (got: $kept)" [ "$kept" = "True 3 3" ]
e2e_cut h3
start=$(e2e_now_ms)
out=$(V --persist 30 vpc status vpc3 --timeout 2 2>&1)
rc=$?
took=$(( $(e2e_now_ms) - start ))
e2e_check "with h3 dark, status over kept sessions fails (rc $rc)" [ $rc != 0 ]
e2e_check "... naming h3" e2e_contains "$out" "h3: FAILED"
e2e_check "... within 1.5 x the 2 s timeout plus a margin (${took} ms)" [ $took -lt 5500 ]
e2e_heal h3
sleep 1
healthy_kept() { for _ in 1 2 3 4 5; do V --persist 30 vpc status vpc3 >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }
e2e_check "after h3 is back, status over kept sessions is healthy" healthy_kept
e2e_check "connections close" V connections close
keeper_gone() { for _ in $(seq 50); do [ -z "$(keeper_pids)" ] && return 0; sleep 0.1; done; return 1; }
e2e_check "... and the keeper is gone" keeper_gone
e2e_check "... with its socket" [ ! -e "$E2E_DIR/h1/state/keeper.sock" ]

# ---- Bad maps: stale and malformed maps are refused and change nothing.
held() { e2e_on h2 sqlite3 /var/lib/vpcctl/vpcctl.db "select generation from map"; }
gen=$(held)
stale=$(V map export | python3 -c 'import json,sys; d=json.load(sys.stdin); d["generation"]=1; print(json.dumps(d))')
out=$(echo "$stale" | e2e_on h2 "$VPCCTL_BIN" map import --node h2 2>&1)
rc=$?
e2e_check "a stale map is refused (exit $rc)" [ $rc = 1 ]
e2e_check "... saying so" e2e_contains "$out" "stale map"
out=$(echo '{"format": 1, "fabric": "x", "nodes": [' | e2e_on h2 "$VPCCTL_BIN" map import --node h2 2>&1)
rc=$?
e2e_check "a malformed map is refused (exit $rc)" [ $rc = 1 ]
bad=$(V map export | python3 -c 'import json,sys; d=json.load(sys.stdin); d["vpcs"][0]["tunnels"][0]["vni"]=d["vpcs"][0]["tunnels"][1]["vni"]; print(json.dumps(d))')
out=$(echo "$bad" | e2e_on h2 "$VPCCTL_BIN" map import --node h2 2>&1)
e2e_check "a map with a duplicate VNI is refused" e2e_contains "$out" "VNI used twice"
e2e_check "h2 still holds generation $gen" [ "$(held)" = "$gen" ]
n=$(e2e_on h2 "$VPCCTL_BIN" apply --local --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["changes"])')
e2e_check "and its next apply changes nothing (got $n)" [ "$n" = 0 ]

# ---- node update: h2 moves to another underlay address. Nothing is renumbered, deploy makes the
# tunnels to it again everywhere (and the firewalls accept it), and traffic to its old address is
# no longer needed: with VXLAN to 10.77.0.2 dropped, every pair still pings.
ip -n "$(e2e_ns h2)" addr add 10.77.0.12/24 dev eth0
numbers() { V vpc show "$1" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted((t["vni"], [e["node"] for e in t["ends"]]) for t in d["tunnels"]), sorted((m["node"], m["overlay"]) for m in d["members"]))'; }
before=$(numbers vpc1; numbers vpc3)
out=$(V node update h2 --underlay 10.77.0.2 --underlay 10.77.0.3 2>&1)
rc=$?
e2e_check "node update to h3's underlay address is refused with exit 2 (got $rc), naming it" \
    [ $rc = 2 ] && e2e_contains "$out" "10.77.0.3" && e2e_contains "$out" "h3"
out=$(V node update h2 --underlay 10.77.0.12 2>&1)
e2e_check "node update h2 --underlay 10.77.0.12 says what changed" \
    e2e_contains "$out" "underlay 10.77.0.2 -> 10.77.0.12"
e2e_check "deploy applies it on every node" V deploy
e2e_check "no VNI or overlay address changed" [ "$(numbers vpc1; numbers vpc3)" = "$before" ]
e2e_check "h1's tunnels to h2 now end at 10.77.0.12" e2e_contains "$(e2e_on h1 ip -d link show)" "remote 10.77.0.12 "
e2e_check "no tunnel still ends at 10.77.0.2" [ -z "$(e2e_on h1 ip -d link show | grep 'remote 10.77.0.2 ')" ]
e2e_on h2 nft -f - <<'NFT'
table inet e2e_old_underlay {
    chain in { type filter hook input priority -300; ip daddr 10.77.0.2 udp dport 4789 drop; }
}
NFT
for p in "h1 2" "h2 1" "h3 2" "h2 3"; do
    set -- $p
    e2e_check "$1 pings 10.100.0.$2 over vpc1 with VXLAN to h2's old address dropped" ping_from $1 10.100.0.$2
done
e2e_check "vpc status vpc1 is healthy after the move" V vpc status vpc1
e2e_on h2 nft delete table inet e2e_old_underlay

# ---- vpc set: vpc1 moves to UDP port 4790; deploy makes its tunnels again on it (and the
# firewalls follow), every pair pings, and an MTU below the minimum is refused.
out=$(V vpc set vpc1 --mtu 500 2>&1)
rc=$?
e2e_check "vpc set --mtu 500 is refused with exit 2 (got $rc), naming it" [ $rc = 2 ] && e2e_contains "$out" "500"
e2e_check "vpc set vpc1 --port 4790" V vpc set vpc1 --port 4790
e2e_check "deploy applies it" V vpc deploy vpc1
e2e_check "h1's vpc1 tunnels use port 4790" e2e_contains "$(e2e_on h1 ip -d link show vx100)" "dstport 4790"
e2e_check "no vpc1 VNI or overlay address changed" [ "$(numbers vpc1)" = "$(echo "$before" | head -1)" ]
for p in "h1 2" "h2 3" "h3 1"; do
    set -- $p
    e2e_check "$1 pings 10.100.0.$2 over vpc1 on port 4790" ping_from $1 10.100.0.$2
done

# ---- Destroy: no vpcctl-owned interface is left on any host.
for v in vpc1 vpc2 vpc3; do e2e_check "vpc destroy $v" V vpc destroy $v; done
for h in h1 h2 h3 h4; do
    e2e_check "no vpcctl interface left on $h" [ -z "$(owned $h)" ]
done
e2e_check "no VPC left on the controller" [ "$(V vpc list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vpcs"]))')" = 0 ]
e2e_finish
