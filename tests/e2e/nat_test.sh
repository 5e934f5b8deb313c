#!/bin/bash
# A node behind 1:1 NAT in a plain and an encrypted VPC with others: enrolment detects it, its
# tunnels start from the address it has while its peers send to the public one, every pair
# pings, the exact MTU crosses, status is healthy; a stale local address is found again by apply;
# bad values are refused with nothing changed.
#
#                underlay bridge "ul" (10.77.0.0/24)
#      +----------------+----------------+----------------+
#      h1 (controller)  h2               h3               r4 (NAT router)
#      10.77.0.1        10.77.0.2        10.77.0.3        10.77.0.44 -> DNAT 192.168.44.2
#                                                         |  MASQUERADE 192.168.44.0/24
#                                                         h4 192.168.44.2 (no underlay address)
#
#   plain1 10.101.0.0/24 over h1..h4 (MTU 1450); enc1 10.102.0.0/24, encrypted, over h1, h2, h4.
. "$(dirname "$0")/lib.sh"
e2e_require
command -v iptables >/dev/null 2>&1 || e2e_skip "iptables is not installed (scripts/install-deps.sh)"
e2e_setup 4
e2e_check "h4 moves behind its NAT router (public 10.77.0.44)" e2e_behind_nat h4 10.77.0.44 192.168.44
e2e_expect_fail "h4 no longer has an underlay address" e2e_contains "$(e2e_on h4 ip -4 addr)" "10.77.0."
e2e_bootstrap_key h2 h3 h4
V() { e2e_vpcctl h1 "$@"; }
ping_from() { e2e_on "$1" ping -n -q -c 2 -i 0.2 -W 2 "${@:2}" >/dev/null 2>&1; }

V init --name h1 --address 10.77.0.1 >/dev/null
for h in h2 h3; do
    V node add $h 10.77.0.${h#h} --identity "$E2E_DIR/bootstrap" --yes --remote-vpcctl "$VPCCTL_BIN" >/dev/null 2>&1
done
out=$(V node add h4 10.77.0.44 --identity "$E2E_DIR/bootstrap" --yes --remote-vpcctl "$VPCCTL_BIN" 2>&1)
rc=$?
echo "$out"
e2e_check "h4 enrols through its NAT (ssh forwarded)" [ $rc = 0 ]
show=$(V node show h4)
echo "$show"
e2e_check "node show says h4 is behind NAT" e2e_contains "$show" "behind NAT:   local 192.168.44.2, public 10.77.0.44"
e2e_check "h4's MTU is its own interface's (1500), not a guess" e2e_contains "$show" "mtu:          1500"
e2e_check "node show --json says it too" e2e_contains "$(V node show h4 --json)" '"local_address": {
    "ipv4": "192.168.44.2"'

# ---- Bad values: refused, naming the value, with nothing changed.
generation() { V node list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }
gen=$(generation)
out=$(V node update h4 --local-address 10.77.0.44 2>&1)
rc=$?
e2e_check "--local-address equal to the underlay is refused with exit 2 (got $rc)" [ $rc = 2 ]
e2e_check "the refusal names the value" e2e_contains "$out" "10.77.0.44 is the underlay address"
out=$(V node update h4 --local-address fd00::4 2>&1)
e2e_check "--local-address of a family the node has no underlay in is refused" e2e_contains "$out" "has no ipv6 underlay address"
e2e_check "nothing changed" e2e_contains "$(V node show h4)" "behind NAT:   local 192.168.44.2, public 10.77.0.44"
e2e_check "the generation stayed ($gen)" [ "$gen" = "$(generation)" ]

e2e_check "plain1 is created over h1..h4" V vpc init plain1 --plain --peer-network 10.101.0.0/24 --members h1,h2,h3,h4
e2e_check "enc1 is created encrypted over h1, h2, h4" V vpc init enc1 --peer-network 10.102.0.0/24 --members h1,h2,h4
out=$(V deploy 2>&1)
rc=$?
echo "$out"
e2e_check "deploy exits 0" [ $rc = 0 ]
e2e_check "deploy reports h4 behind NAT" e2e_contains "$out" "behind NAT: local 192.168.44.2, public 10.77.0.44"

# ---- Plain: h4's tunnels start from 192.168.44.2; its peers send to 10.77.0.44.
links=$(e2e_on h4 ip -d link show type vxlan)
e2e_check "h4's VXLAN tunnels start from its own address" e2e_contains "$links" "remote 10.77.0.1 local 192.168.44.2"
e2e_expect_fail "no tunnel of h4 starts from the public address" e2e_contains "$links" "local 10.77.0.44"
e2e_check "h1's tunnel to h4 ends at the public address" e2e_contains "$(e2e_on h1 ip -d link show type vxlan)" "remote 10.77.0.44 local 10.77.0.1"
for a in 1 2 3 4; do
    for b in 1 2 3 4; do
        [ $a = $b ] && continue
        e2e_check "h$a pings h$b over plain1" ping_from h$a 10.101.0.$b
    done
done
e2e_check "1450-byte frames cross h4 -> h1 with don't-fragment (plain1 MTU)" ping_from h4 -M do -s 1422 10.101.0.1
e2e_check "and h2 -> h4" ping_from h2 -M do -s 1422 10.101.0.4

# ---- Encrypted: WireGuard to the public address; h4 sends from behind its NAT.
e2e_check "h1's WireGuard endpoint for h4 is the public address" e2e_contains "$(e2e_on h1 wg show wg-vpcctl endpoints)" "10.77.0.44:51820"
for a in 1 2 4; do
    for b in 1 2 4; do
        [ $a = $b ] && continue
        e2e_check "h$a pings h$b over enc1" ping_from h$a 10.102.0.$(( b == 4 ? 3 : b ))
    done
done
e2e_check "the NAT router carried VXLAN to h4 (DNAT counted packets)" \
    [ "$(ip netns exec "$(e2e_ns r4)" iptables -t nat -L PREROUTING -v -n -x | awk '/DNAT/ {print $1}')" -gt 0 ]

n=$(V deploy --json | python3 -c 'import json,sys; print(sum(n["changes"] for n in json.load(sys.stdin)["nodes"]))')
e2e_check "a second deploy changes nothing (got $n)" [ "$n" = 0 ]
for v in plain1 enc1; do
    out=$(V vpc status $v 2>&1)
    rc=$?
    echo "$out"
    e2e_check "vpc status $v is healthy with h4 behind NAT, full-size probes included (exit $rc)" [ $rc = 0 ]
done

# ---- A stale local address (the NAT renumbered the node): apply finds the real one itself.
e2e_check "node update --local-address sets a given address" V node update h4 --local-address 192.168.44.99
out=$(V deploy 2>&1)
rc=$?
echo "$out"
e2e_check "deploy with a stale local address exits 0" [ $rc = 0 ]
e2e_check "h4's apply found 192.168.44.2 by its route" e2e_contains "$out" "behind NAT: local 192.168.44.2, public 10.77.0.44"
e2e_check "h4's tunnels still start from 192.168.44.2" e2e_contains "$(e2e_on h4 ip -d link show type vxlan)" "remote 10.77.0.1 local 192.168.44.2"
e2e_check "h1 pings h4 over plain1" ping_from h1 10.101.0.4
out=$(V node update h4 --local-address auto 2>&1)
echo "$out"
e2e_check "node update --local-address auto detects it again" e2e_contains "$out" "local address 192.168.44.99 -> 192.168.44.2"

e2e_finish
