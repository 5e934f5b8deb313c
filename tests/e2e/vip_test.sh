#!/bin/bash
# Virtual IPs under majority leases (vpcctl vipd) on VPC bridges. The holders of VIP A are sampled
# on every host every 5 ms (holders.py) from the first deploy to the end: never two holders, through
# a planned move, forged lease messages, a partial partition, an isolated holder and every process
# on the holder SIGKILLed, each followed by a heal. Also: failover times, pings lost by a move, a
# failing --check moving a VIP, vip-event hooks, vip show / vpc status, bad input refused with
# exit 2 and nothing changed, a two-member VPC with a witness, vip remove, and no keepalived.
#
#                  underlay bridge "ul" (10.77.0.0/24; nftables bridge filter for partitions)
#        +------------------+------------------+------------------+
#        h1 (controller)    h2                 h3                 h4
#        vpc1 10.100.0.1    vpc1 10.100.0.2    vpc1 10.100.0.3
#                                              vpc2 10.101.0.x    vpc2 10.101.0.x
#                                              guest g (vpc1, 10.100.0.103): client and attacker
#
#   VIP A 10.100.0.250 vhid 10, candidates h1 > h2 > h3, preempt, lease 1350 ms (the default)
#   VIP B 10.100.0.251 vhid 11, candidates h1 > h2, --check "test ! -e /root/check-fail"
#   VIP D 10.101.0.250 vhid 20 in vpc2 (two members), candidates h3 > h4, --witness h2
. "$(dirname "$0")/lib.sh"
e2e_require
e2e_setup 4
e2e_controller 4 || exit 1
V() { e2e_vpcctl h1 "$@"; }
A=10.100.0.250
B=10.100.0.251
D=10.101.0.250
BOUND_MS=1500
holds() { ip -n "$(e2e_ns "$1")" -o addr show 2>/dev/null | grep -q " $2/"; }
holders() { local out="" h; for h in h1 h2 h3 h4; do holds $h "$1" && out="$out $h"; done; echo "${out# }"; }
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
within() { [ "$1" != none ] && [ "$1" -le "$2" ]; }  # MS BOUND
# until_other HOST VIP SECONDS: until a host other than HOST holds VIP
until_other() {
    local i
    for i in $(seq 1 $(( $3 * 50 ))); do
        [ -n "$(holders "$2" | tr ' ' '\n' | grep -vx "$1")" ] && return 0
        sleep 0.02
    done
    return 1
}
procs() {  # HOST NAME: pids in HOST whose command line contains NAME
    local pid
    for pid in $(ip netns pids "$(e2e_ns "$1")"); do
        tr '\0' ' ' < /proc/"$pid"/cmdline 2>/dev/null | grep -q -- "$2" && echo "$pid"
    done
}
# no_doubles SINCE WHAT: the monitor saw no sample and no instant with two holders of A since SINCE.
no_doubles() {
    local s ms
    s=$(e2e_holders --from "$1" --value doubles)
    ms=$(e2e_holders --from "$1" --value double_ms)
    if [ "$s" = 0 ] && [ "$ms" = 0 ]; then
        e2e_pass "never two holders of A $2 ($(e2e_holders --from "$1" --value samples) samples)"
    else
        e2e_fail "two holders of A $2: $s samples, $ms ms"
        e2e_holders --from "$1"
    fi
}
# refused DESCRIPTION CMD...: CMD exits 2 and the VIPs are as they were.
refused() {
    local what=$1 before rc
    shift
    before=$(V vip list --json --show-secrets)
    "$@" > "$E2E_DIR/refused.out" 2>&1
    rc=$?
    if grep -q 'Run `vpcctl --help`' "$E2E_DIR/refused.out"; then  # CLI11's usage error
        e2e_fail "$what: this vpcctl does not know the command: $(head -c 300 "$E2E_DIR/refused.out")"
    elif [ $rc = 2 ] && [ "$(V vip list --json --show-secrets)" = "$before" ]; then
        e2e_pass "$what: refused with exit 2, nothing changed"
    else
        e2e_fail "$what: exit $rc (want 2), VIPs $([ "$(V vip list --json --show-secrets)" = "$before" ] && echo unchanged || echo CHANGED): $(head -c 300 "$E2E_DIR/refused.out")"
        # An add that should have been refused: take it back, so the checks after it still mean something.
        [ $rc = 0 ] && [ "$2 $3" = "vip add" ] && V vip remove "$4" "$5" >/dev/null 2>&1
    fi
    true
}

V vpc init vpc1 --peer-network 10.100.0.0/24 --members h1,h2,h3 >/dev/null
V vpc init vpc2 --peer-network 10.101.0.0/24 --members h3,h4 >/dev/null

# ---- Bad input: refused with exit 2, nothing changes.
before=$(V vip list --json)
refused "a lease below 1350 ms" V vip add vpc1 $A --vhid 10 --nodes h1,h2,h3 --lease 1349
refused "a lease above 60000 ms" V vip add vpc1 $A --vhid 10 --nodes h1,h2,h3 --lease 60001
refused "an unknown node" V vip add vpc1 $A --vhid 10 --nodes h1,h9
refused "a witness not in the fabric" V vip add vpc2 $D --vhid 20 --nodes h3,h4 --witness h9
refused "a check that does not exist" V vip add vpc1 $B --vhid 11 --nodes h1,h2 --check /nonexistent/check
printf "#!/bin/sh\nexit 0\n" > "$E2E_DIR/not-executable"; chmod 644 "$E2E_DIR/not-executable"
refused "a check that is not executable" V vip add vpc1 $B --vhid 11 --nodes h1,h2 --check "$E2E_DIR/not-executable"
refused "a check that is not an absolute path" V vip add vpc1 $B --vhid 11 --nodes h1,h2 --check "test -e /root/x"
refused "a two-member VPC without --witness or --unsafe-two-node" V vip add vpc2 $D --vhid 20 --nodes h3,h4
e2e_check "... and no VIP was recorded" [ "$(V vip list --json)" = "$before" ]

# ---- Hooks on h1 and h2 record every transition they are told about (they run detached: wait).
hook_saw() { for _ in $(seq 1 100); do grep -q "$1" "$2" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
for h in h1 h2; do
    mkdir -p "$E2E_DIR/$h/state/hooks.d"
    chmod 755 "$E2E_DIR/$h/state/hooks.d"  # hooks run only from a directory no one else can write
    printf '#!/bin/sh\necho "$STATE $VPC $VIP $VHID" >> %s\n' "$E2E_DIR/$h/hook.log" > "$E2E_DIR/$h/state/hooks.d/10-log"
    chmod 755 "$E2E_DIR/$h/state/hooks.d/10-log"
done

e2e_check "vip add A (three candidates, the default lease given)" V vip add vpc1 $A --vhid 10 --nodes h1,h2,h3 --lease 1350
e2e_check "vip add B (--check)" V vip add vpc1 $B --vhid 11 --nodes h1,h2 --check "/usr/bin/test ! -e /root/check-fail"
t_start=$(e2e_now_ms)
e2e_holders_start $A || exit 1
e2e_check "vpc deploy vpc1 starts vipd" V vpc deploy vpc1
if ! wait_holder $A h1 10; then
    e2e_fail "A is held by exactly one node: h1 (the checks that need a holder are skipped)"
    e2e_finish
fi
e2e_pass "A is held by exactly one node: h1"
e2e_check "B is held by exactly one node: h1" wait_holder $B h1 10
for h in h1 h2 h3; do
    e2e_check "vipd runs on $h (pid file, process)" [ -s "$E2E_DIR/$h/state/vipd.pid" -a -n "$(procs $h " vipd")" ]
done
for h in h1 h2 h3 h4; do
    e2e_check "no keepalived on $h" [ -z "$(procs $h keepalived)" ]
    e2e_check "no keepalived.conf on $h" [ ! -e "$E2E_DIR/$h/state/keepalived.conf" ]
done
g=$(e2e_guest h3 g)
e2e_vpcctl h3 attach vpc1 --netns "$g" --ip 10.100.0.103/24 >/dev/null
e2e_check "a guest on h3 reaches A" e2e_in h3 "$g" ping -c 2 -i 0.2 -W 2 -q $A
out=$(V vpc status vpc1)
echo "$out"
e2e_check "vpc status names the holder of A" e2e_contains "$out" "held by h1"
out=$(V vip show vpc1 $A)
echo "$out"
e2e_check "vip show names the holder of A" e2e_contains "$out" "holder: h1"
e2e_check "vip show shows the lease epoch" e2e_contains "$out" "epoch"
e2e_check "h1's hook ran with STATE=MASTER and the VIP's details" hook_saw "^MASTER vpc1 $A 10$" "$E2E_DIR/h1/hook.log"
e2e_check "h2's hook ran with STATE=BACKUP" hook_saw "^BACKUP vpc1 $A 10$" "$E2E_DIR/h2/hook.log"

# ---- Planned moves, while the guest pings A every 20 ms; h2 records the lease messages it sees.
e2e_on h2 python3 "$E2E_LIB/udp_replay.py" capture vpc1 4797 8 "$E2E_DIR/captured" >/dev/null 2>&1 &
capture=$!
sleep 0.3
move() {  # TARGET: prints the pings lost out of 100
    e2e_in h3 "$g" ping -n -q -i 0.02 -c 100 -W 1 $A > "$E2E_DIR/move.ping" 2>&1 &
    local client=$!
    sleep 0.5
    V vip move vpc1 $A --to "$1" > "$E2E_DIR/move.out" 2>&1 || cat "$E2E_DIR/move.out" >&2
    wait $client
    awk '/packets transmitted/ {print $1 - $4}' "$E2E_DIR/move.ping"
}
# moved TARGET LOST: the move reached TARGET, and the guest lost at most 1 ping
moved() {
    if ! wait_holder $A "$1" 3; then
        e2e_fail "vip move hands A to $1 (the loss is not measured)"
    else
        e2e_pass "vip move hands A to $1"
        e2e_check "... losing at most 1 of 100 pings sent every 20 ms ($2)" [ "${2:-100}" -le 1 ]
    fi
}
lost=$(move h2)
echo "vip move A to h2: the guest lost $lost of 100 pings"
moved h2 "$lost"
sleep 2
e2e_check "after the move h2 keeps A (no preemption back)" wait_holder $A h2 1
lost=$(move h1)
echo "vip move A back to h1: the guest lost $lost of 100 pings"
moved h1 "$lost"
refused "vip move to a node that is not a candidate" V vip move vpc1 $B --to h3
refused "vip move to a node outside the VPC" V vip move vpc1 $A --to h4
e2e_check "... and A is still held by h1 alone" wait_holder $A h1 1
no_doubles "$t_start" "through the moves"

# ---- Forged lease messages from the guest on h3: replays and bad HMACs, sent to the members
# from the members' own overlay addresses. Nothing changes.
wait $capture
n=$(wc -l < "$E2E_DIR/captured" 2>/dev/null || echo 0)
e2e_check "h2 captured lease messages to replay ($n)" [ "$n" -gt 0 ]
dropped() { cat "$E2E_DIR"/h[123]/state/vipd.log 2>/dev/null | grep -c "dropped"; }
dropped_before=$(dropped)
t=$(e2e_now_ms)
for mut in none last mid first; do
    e2e_in h3 "$g" python3 "$E2E_LIB/udp_replay.py" send "$E2E_DIR/captured" --mutate $mut --repeat 3 >/dev/null
    sleep 0.5
done
sleep 2
e2e_check "forged messages (replays, bad HMACs) change nothing: h1 holds A" wait_holder $A h1 1
e2e_check "... and the monitor saw no transition" [ "$(e2e_holders --from "$t" --value transitions)" = 0 ]
e2e_check "... though they reached vipd: it logged dropping them ($(( $(dropped) - dropped_before )) lines)" [ "$(dropped)" -gt "$dropped_before" ]
no_doubles "$t" "while forged messages arrive"

# ---- Partial partition: h1 <-> h3 cut both ways at the switch, both still reach h2.
t=$(e2e_now_ms)
e2e_switch_drop 'iifname "h1" oifname "h3"' 'iifname "h3" oifname "h1"'
sleep 6
e2e_check "partial partition: h1 still holds A alone" wait_holder $A h1 1
e2e_switch_clear
sleep 2
e2e_check "after the heal h1 holds A alone" wait_holder $A h1 5
no_doubles "$t" "through a partial partition and its heal"

# fail_h1 WHAT EVENT...: runs EVENT against the holder h1, prints the failover to another host and
# when h1 let A go (from the monitor), checks both; sets $fo.
fail_h1() {
    local what=$1 t rel
    shift
    t=$(e2e_now_ms)
    "$@"
    until_other h1 $A 10
    sleep 1.5  # long enough for h1's lease and the address's lifetime to run out
    fo=$(e2e_holders --event "$t" --value failover_ms)
    rel=$(e2e_holders --event "$t" --value released_ms)
    echo "failover after $what: ${fo} ms (h1 dropped A after ${rel} ms)"
    e2e_check "A moved away from h1 after $what in ${fo} ms (bound ${BOUND_MS} ms)" within "$fo" $BOUND_MS
    e2e_check "h1 let A go after $what (after ${rel} ms)" [ "$rel" != none ]
}

# ---- Isolated holder: h1's cable pulled at the switch, then plugged back.
t=$(e2e_now_ms)
fail_h1 "isolating the holder" e2e_cut h1
fo_iso=$fo
e2e_heal h1
e2e_check "after the heal h1 holds A alone (preempt)" wait_holder $A h1 10
no_doubles "$t" "through the isolation of its holder and the heal"

# ---- Every process on the holder SIGKILLed: the kernel lifetime removes the address.
t=$(e2e_now_ms)
fail_h1 "SIGKILL of every process on the holder" e2e_kill_all h1
fo_kill=$fo
out=$(V vpc status vpc1 2>&1)
e2e_check "vpc status reports vipd down on h1 as drift" e2e_contains "$out" "vipd"
e2e_check "vpc deploy restarts h1" V vpc deploy vpc1
e2e_check "after the restart h1 holds A alone (preempt)" wait_holder $A h1 10
no_doubles "$t" "through SIGKILL of its holder and the restart"
e2e_check "h2's hook saw MASTER" hook_saw "^MASTER vpc1 $A 10$" "$E2E_DIR/h2/hook.log"
no_doubles "$t_start" "over the whole test so far"

# ---- A failing service check moves B; a passing one brings it back (preempt).
e2e_check "B is held by h1" wait_holder $B h1 5
touch "$E2E_DIR/h1/root/check-fail"
e2e_check "B moves to h2 when h1's check fails" wait_holder $B h2 6
rm -f "$E2E_DIR/h1/root/check-fail"
e2e_check "B returns to h1 when its check passes again" wait_holder $B h1 8
e2e_check "vip set accepts a lease in bounds" V vip set vpc1 $A --lease 1350
refused "vip set with a lease out of bounds" V vip set vpc1 $A --lease 100

# ---- Two members and a witness outside the VPC.
e2e_check "vip add D on two members with --witness h2" V vip add vpc2 $D --vhid 20 --nodes h3,h4 --witness h2
e2e_check "vpc deploy vpc2" V vpc deploy vpc2
e2e_check "vipd runs on the witness h2 for vpc2" [ -n "$(procs h2 " vipd")" ]
e2e_check "D is held by exactly one node: h3" wait_holder $D h3 10
e2e_cut h3
e2e_check "with h3 cut off, h4 and the witness move D to h4" wait_holder $D h4 5
e2e_heal h3
e2e_check "after the heal h3 holds D alone" wait_holder $D h3 10
e2e_check "A stayed with h1 meanwhile" wait_holder $A h1 5
no_doubles "$t_start" "over the whole test"

# ---- Removing the VIPs releases the addresses and stops vipd where none is left.
e2e_check "vip remove A" V vip remove vpc1 $A
e2e_check "vip remove B" V vip remove vpc1 11
e2e_check "deploy after removing the VIPs" V vpc deploy vpc1
e2e_check "no node holds A any more" wait_holder $A "" 3
e2e_check "no node holds B any more" wait_holder $B "" 3
e2e_check "vipd is stopped on h1 (no VIP left there)" [ -z "$(procs h1 " vipd")" -a ! -e "$E2E_DIR/h1/state/vipd.pid" ]
e2e_check "vipd still runs on h2 (witness of D)" [ -n "$(procs h2 " vipd")" ]
for h in h1 h2 h3 h4; do
    e2e_check "no keepalived on $h at the end" [ -z "$(procs $h keepalived)" ]
done
echo "failover on the defaults: isolation ${fo_iso} ms, SIGKILL ${fo_kill} ms"
e2e_finish
