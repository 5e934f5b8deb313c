#!/bin/bash
# Guests on VPC bridges: Linux network namespaces attached on different hosts reach each other
# through the overlay, a guest of another VPC does not (even with an address in the same subnet),
# MTU is the VPC's, quotas hold, detach cleans up, apply re-creates a vanished veth.
#
#                 underlay bridge (10.77.0.0/24)
#        +------------------+------------------+
#        h1 (controller)    h2                 h3
#                           g1 (vpc1)          g2 (vpc1), g3 (vpc2)
#
#   vpc1 10.100.0.0/24 (h1, h2, h3): g1 10.100.0.101, g2 10.100.0.102
#   vpc2 10.200.0.0/24 (h1, h2, h3), --max-jails 1: g3 10.100.0.103 (vpc1's subnet, on purpose)
. "$(dirname "$0")/lib.sh"
e2e_require
e2e_setup 3
e2e_controller 3 || exit 1
V() { e2e_vpcctl h1 "$@"; }
V vpc init vpc1 --peer-network 10.100.0.0/24 --members all >/dev/null
V vpc init vpc2 --peer-network 10.200.0.0/24 --members all --max-jails 1 >/dev/null
V vpc init vpc3 --peer-network 10.30.0.0/24 --members h1,h2 >/dev/null
g1=$(e2e_guest h2 g1); g2=$(e2e_guest h3 g2); g3=$(e2e_guest h3 g3); g4=$(e2e_guest h3 g4)
g5=$(e2e_guest h2 g5)
A() { local h=$1; shift; e2e_vpcctl "$h" attach "$@"; }

# ---- Bad input, before anything is deployed or attached.
out=$(A h2 vpc1 --netns "$g1" 2>&1)
e2e_check "attach to a VPC not deployed on this node is refused" e2e_contains "$out" "holds no map yet"
V vpc deploy vpc1 >/dev/null && V vpc deploy vpc2 >/dev/null
e2e_check "vpc3 is deployed on h1 and h2 only" V vpc deploy vpc3
out=$(A h3 vpc3 --netns "$g1" 2>&1)
e2e_check "attach on a node outside the VPC is refused" e2e_contains "$out" "not deployed on this node"
out=$(A h2 nosuch --netns "$g1" 2>&1)
e2e_check "an unknown VPC is refused, named" e2e_contains "$out" "unknown VPC 'nosuch'"
for bad in 'g;1' 'g 1' 'g$(id)' "g'1" ''; do
    out=$(A h2 vpc1 --netns "$bad" 2>&1); rc=$?
    e2e_check "guest name '$bad' is refused (exit $rc)" [ $rc = 2 ]
done
for mac in 02:00:00:00:00 01:00:5e:00:00:01 zz:00:00:00:00:01 00:00:00:00:00:00; do
    out=$(A h2 vpc1 --netns "$g1" --mac $mac 2>&1)
    e2e_check "MAC $mac is refused, named" e2e_contains "$out" "'$mac'"
done
for ip in 10.100.0.101 10.100.0.0/24 10.100.0.255/24 224.0.0.1/24 10.100.0.101/33 bogus 0.0.0.0/0; do
    out=$(A h2 vpc1 --netns "$g1" --ip $ip 2>&1)
    e2e_check "--ip $ip is refused, named" e2e_contains "$out" "'$ip'"
done
out=$(A h2 vpc1 --netns "$g1" --ip 10.100.0.1/24 2>&1)
e2e_check "an overlay address is refused" e2e_contains "$out" "overlay address"
e2e_check "... and nothing was recorded" [ "$(e2e_vpcctl h2 attachments --json | grep -c interface)" = 0 ]

# ---- Reach: two guests on different hosts.
e2e_check "attach g1 on h2 to vpc1" A h2 vpc1 --netns "$g1" --ip 10.100.0.101/24 --mac 02:00:00:00:01:01
e2e_check "attach g2 on h3 to vpc1" A h3 vpc1 --netns "$g2" --ip 10.100.0.102/24
out=$(A h2 vpc1 --netns "$g1" --ip 10.100.0.111/24 2>&1)
e2e_check "a guest already attached is refused" e2e_contains "$out" "already attached"
e2e_check "g1 pings g2 across hosts" e2e_in h2 "$g1" ping -c 2 -i 0.2 -W 2 -q 10.100.0.102
e2e_check "g2 pings g1" e2e_in h3 "$g2" ping -c 2 -i 0.2 -W 2 -q 10.100.0.101
e2e_check "g1's MAC is the one given" e2e_contains "$(e2e_in h2 "$g1" ip link show eth0)" "02:00:00:00:01:01"
mtu=$(V vpc show vpc1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["mtu"])')
e2e_check "g1's eth0 has the VPC MTU ($mtu)" [ "$(e2e_in h2 "$g1" cat /sys/class/net/eth0/mtu)" = "$mtu" ]
e2e_check "g2's eth0 has the VPC MTU" [ "$(e2e_in h3 "$g2" cat /sys/class/net/eth0/mtu)" = "$mtu" ]
e2e_check "ping -M do at MTU-28 crosses between the guests" \
    e2e_in h2 "$g1" ping -c 2 -i 0.2 -W 2 -q -M do -s $((mtu - 28)) 10.100.0.102
e2e_expect_fail "... and MTU-27 does not" e2e_in h2 "$g1" ping -c 1 -W 1 -q -M do -s $((mtu - 27)) 10.100.0.102

# ---- Isolation: a vpc2 guest with an address in vpc1's subnet reaches neither.
e2e_check "attach g3 on h3 to vpc2 (quota 1)" A h3 vpc2 --netns "$g3" --ip 10.100.0.103/24
e2e_expect_fail "g3 (vpc2) cannot reach g1 (vpc1)" e2e_in h3 "$g3" ping -c 2 -i 0.2 -W 1 -q 10.100.0.101
e2e_expect_fail "g3 (vpc2) cannot reach g2 (vpc1) on its own host" e2e_in h3 "$g3" ping -c 2 -i 0.2 -W 1 -q 10.100.0.102

# ---- Quotas.
out=$(A h3 vpc2 --netns "$g4" --ip 10.200.0.104/24 2>&1); rc=$?
echo "$out"
e2e_check "the guest one past --max-jails 1 is refused (exit $rc)" [ $rc = 2 ]
e2e_check "... with a clear message" e2e_contains "$out" "allows 1 jails/namespaces per node"

# ---- Status lists the guests; apply re-creates a vanished veth.
out=$(V vpc status vpc1)
echo "$out"
e2e_check "vpc status lists g1 on h2" e2e_contains "$out" "h2: netns $g1"
e2e_check "vpc status lists g2 on h3" e2e_contains "$out" "h3: netns $g2"
vg=$(e2e_vpcctl h2 attachments --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["attachments"][0]["interface"])')
e2e_on h2 ip link del dev "$vg"
e2e_expect_fail "with its veth gone, g1 is cut off" e2e_in h2 "$g1" ping -c 1 -W 1 -q 10.100.0.102
out=$(e2e_vpcctl h2 apply --local --json)
e2e_check "apply --local re-creates it" e2e_contains "$out" '"attach-guest"'
e2e_check "g1 reaches g2 again" e2e_in h2 "$g1" ping -c 2 -i 0.2 -W 2 -q 10.100.0.102
n=$(e2e_vpcctl h2 apply --local --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["changes"])')
e2e_check "and the next apply changes nothing (got $n)" [ "$n" = 0 ]

# ---- Detach.
out=$(e2e_vpcctl h2 detach vpc1 "$g1" --json)
e2e_check "detach g1 (--json: its veth, removed)" [ "$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["guest"], d["kind"], d["interface"], d["interface_removed"])')" = "$g1 netns $vg True" ]
e2e_check "its veth is gone" [ -z "$(e2e_on h2 ip -o link show dev "$vg" 2>/dev/null)" ]
e2e_check "its record is gone" [ "$(e2e_vpcctl h2 attachments --json | grep -c interface)" = 0 ]
e2e_check "g1 has no eth0 left" [ -z "$(e2e_in h2 "$g1" ip -o link show dev eth0 2>/dev/null)" ]
out=$(e2e_vpcctl h2 detach vpc1 "$g1" 2>&1)
e2e_check "detaching it again is a clear error" e2e_contains "$out" "no guest"

# ---- A destroyed VPC takes its guests' interfaces along.
e2e_check "attach g5 on h2 to vpc3" A h2 vpc3 --netns "$g5" --ip 10.30.0.105/24
e2e_check "vpc destroy vpc3" V vpc destroy vpc3
e2e_check "g5's veth is gone from h2" [ -z "$(e2e_on h2 ip -o link show 2>/dev/null | grep vpcctl-guest || true)" ]
e2e_check "and so is its record" [ "$(e2e_vpcctl h2 attachments --json | grep -c interface)" = 0 ]
e2e_finish
