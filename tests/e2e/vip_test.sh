#!/bin/bash
# Virtual IPs through keepalived (VRRPv3) on VPC bridges: one holder, measured failover on a crash
# and on a cut link, a client's view of the loss, quorum (no split brain), preempt and no-preempt
# after a heal, and vip-event hooks.
#
#                  underlay bridge (10.77.0.0/24)
#        +------------------+------------------+
#        h1 (controller)    h2                 h3 (client)
#        vpc1 10.100.0.1    vpc1 10.100.0.2    vpc1 10.100.0.3
#
#   VIP A 10.100.0.250 vhid 10, group h1 > h2, preempt      (advert 100 ms, the default)
#   VIP B 10.100.0.251 vhid 11, group h1 > h2, --no-preempt
. "$(dirname "$0")/lib.sh"
e2e_require
e2e_setup 3
e2e_controller 3 || exit 1
V() { e2e_vpcctl h1 "$@"; }
A=10.100.0.250
B=10.100.0.251
holds() { e2e_on "$1" ip -4 -o addr show dev vpc1 2>/dev/null | grep -q " $2/"; }
holders() { local out=""; for h in h1 h2 h3; do holds $h "$1" && out="$out $h"; done; echo "${out# }"; }
# wait_holder VIP EXPECTED SECONDS: until exactly EXPECTED holds VIP
wait_holder() {
    local i
    for i in $(seq 1 $(( $3 * 20 ))); do
        [ "$(holders "$1")" = "$2" ] && return 0
        sleep 0.05
    done
    echo "holders of $1: '$(holders "$1")', expected '$2'"
    return 1
}
# ms until HOST holds VIP (polling inside the host, started before the event)
wait_ms_for() {
    e2e_on "$1" bash -c "s=\$(date +%s%N); while ! ip -4 -o addr show dev vpc1 | grep -q ' $2/'; do
        [ \$(( (\$(date +%s%N) - s) / 1000000 )) -gt 10000 ] && break; done; echo \$(( (\$(date +%s%N) - s) / 1000000 ))"
}
# failover NAME EVENT...: while h3 pings A every 20 ms, runs EVENT and prints the milliseconds
# until h2 holds A and the pings h3 lost.
failover() {
    local name=$1 client poller
    shift
    e2e_on h3 ping -n -q -i 0.02 -c 150 -W 1 $A > "$E2E_DIR/client.$name" 2>&1 &
    client=$!
    sleep 0.5
    ( wait_ms_for h2 $A > "$E2E_DIR/failover.$name" ) &
    poller=$!
    sleep 0.05
    "$@"
    wait $poller
    wait $client
    echo "$(cat "$E2E_DIR/failover.$name") $(awk '/packets transmitted/ {print $1 - $4}' "$E2E_DIR/client.$name")"
}
kill_keepalived() {
    local d="$E2E_DIR/$1/state" p
    for p in $(cat "$d/keepalived-vrrp.pid" "$d/keepalived.pid" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
}

V vpc init vpc1 --peer-network 10.100.0.0/24 --members all >/dev/null

# ---- Bad input: refused, nothing changes.
before=$(V vip list --json)
secret0="$E2E_DIR/empty"; : > "$secret0"
for args in "$A --vhid 0 --nodes h1,h2" "$A --vhid 256 --nodes h1,h2" "10.100.0.2 --vhid 10 --nodes h1,h2" \
            "$A --vhid 10 --nodes h1,h9" "$A --vhid 10 --nodes h1,h2 --password-file $secret0"; do
    # shellcheck disable=SC2086
    e2e_expect_fail "vip add $args is refused" V vip add vpc1 $args
done
e2e_check "... and no VIP was recorded" [ "$(V vip list --json)" = "$before" ]

# ---- Hooks on h1 and h2 record every transition they are told about (they run detached: wait).
hook_saw() { for _ in $(seq 1 100); do grep -q "$1" "$2" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
for h in h1 h2; do
    mkdir -p "$E2E_DIR/$h/state/hooks.d"
    chmod 755 "$E2E_DIR/$h/state/hooks.d"  # hooks run only from a directory no one else can write
    printf '#!/bin/sh\necho "$STATE $VPC $VIP $VHID" >> %s\n' "$E2E_DIR/$h/hook.log" > "$E2E_DIR/$h/state/hooks.d/10-log"
    chmod 755 "$E2E_DIR/$h/state/hooks.d/10-log"
done

e2e_check "vip add A (preempt)" V vip add vpc1 $A --vhid 10 --nodes h1,h2
e2e_check "vip add B (--no-preempt)" V vip add vpc1 $B --vhid 11 --nodes h1,h2 --no-preempt
e2e_expect_fail "a second VIP with vhid 10 is refused" V vip add vpc1 10.100.0.252 --vhid 10 --nodes h1,h2
e2e_expect_fail "a VIP equal to another VIP is refused" V vip add vpc1 $A --vhid 12 --nodes h1,h2
secret_shown() { V vip list --json | grep -q '"secret": "[A-Za-z0-9]\{16\}"'; }
e2e_check "vip list shows no secret without --show-secrets" e2e_contains "$(V vip list --json)" '"secret": "(redacted)"'
e2e_expect_fail "... not even the generated one" secret_shown
e2e_check "vpc deploy starts keepalived on h1 and h2" V vpc deploy vpc1

# ---- One holder; the other members reach it.
e2e_check "A is held by exactly one node: h1" wait_holder $A h1 5
one_holder() { for _ in $(seq 1 100); do [ "$(holders "$1" | wc -w)" = 1 ] && return 0; sleep 0.05; done; return 1; }
e2e_check "B is held by exactly one node" one_holder $B
# Without preemption the first keepalived up takes B; put it on h1 so the heal below shows B
# staying with h2 although h1 is preferred.
if [ "$(holders $B)" != h1 ]; then
    kill_keepalived h2
    e2e_check "B moves to h1 when h2's keepalived dies" wait_holder $B "h1 h2" 5
    V vpc deploy vpc1 >/dev/null
fi
e2e_check "B is held by h1 alone" wait_holder $B h1 5
for h in h2 h3; do e2e_check "$h reaches A through the overlay" e2e_on $h ping -c 2 -i 0.2 -W 2 -q $A; done
out=$(V vpc status vpc1)
echo "$out"
e2e_check "vpc status names the holder" e2e_contains "$out" "VIP $A (vhid 10): held by h1"
e2e_check "h1's hook ran with STATE=MASTER and the VIP's details" hook_saw "^MASTER vpc1 $A 10$" "$E2E_DIR/h1/hook.log"
e2e_check "h2's hook ran with STATE=BACKUP" hook_saw "^BACKUP vpc1 $A 10$" "$E2E_DIR/h2/hook.log"
e2e_check "vip show lists the recorded transitions" e2e_contains "$(V vip show vpc1 $A)" "h1 -> MASTER"

# ---- Failover on a crash: SIGKILL of h1's keepalived, while h3 pings A every 20 ms.
read -r ms lost <<< "$(failover crash kill_keepalived h1)"
echo "failover after SIGKILL of the holder's keepalived: ${ms} ms (advert 100 ms); client lost $lost of 150 pings at 20 ms intervals"
e2e_check "A moved to h2 after the crash (${ms} ms, target <= 400 ms)" [ "$ms" -le 400 ]
e2e_check "the client lost at most 25 pings (${lost})" [ "$lost" -le 25 ]
e2e_check "h2's hook saw MASTER" hook_saw "^MASTER vpc1 $A 10$" "$E2E_DIR/h2/hook.log"
out=$(V vpc status vpc1 2>&1)
e2e_check "vpc status reports keepalived down on h1 as drift" e2e_contains "$out" "start keepalived"
e2e_check "vpc deploy restarts keepalived on h1" V vpc deploy vpc1
e2e_check "heal (preempt): exactly one holder of A, the preferred h1" wait_holder $A h1 5
e2e_check "heal (no preempt): exactly one holder of B, still h2" wait_holder $B h2 5

# ---- Failover on a cut link, quorum, heal.
read -r ms lost <<< "$(failover cut e2e_cut h1)"
echo "failover after cutting the holder's underlay link: ${ms} ms; client lost $lost of 150 pings"
e2e_check "A moved to h2 after the cut (${ms} ms, target <= 400 ms)" [ "$ms" -le 400 ]
gives_up() { for _ in $(seq 1 100); do holds "$1" "$2" || return 0; sleep 0.1; done; return 1; }
e2e_check "without quorum, cut-off h1 gives A up (no split brain)" gives_up h1 $A
e2e_check "... while h2 holds it" holds h2 $A
e2e_heal h1
e2e_check "heal (preempt): exactly one node holds A, h1" wait_holder $A h1 10
e2e_check "heal (no preempt): exactly one node holds B, h2" wait_holder $B h2 10
status_healthy() { for _ in $(seq 1 8); do V vpc status vpc1 >/dev/null && return 0; sleep 1; done; V vpc status vpc1; return 1; }
e2e_check "vpc status is healthy again" status_healthy

# ---- Removing the VIPs stops keepalived.
e2e_check "vip remove A" V vip remove vpc1 $A
e2e_check "vip remove B" V vip remove vpc1 11
e2e_check "deploy after removing the VIPs" V vpc deploy vpc1
e2e_check "keepalived is stopped on h1" [ ! -f "$E2E_DIR/h1/state/keepalived.pid" ]
e2e_check "no node holds A any more" [ -z "$(holders $A)" ]
e2e_finish
