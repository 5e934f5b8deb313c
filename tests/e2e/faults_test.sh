#!/bin/bash
# Faults: the controller killed during deploy (before, during and after sync, and at random
# moments), two deploys at once, a map import on a full filesystem, a remote command that hangs.
# Also greps everything the scenario prints and logs for the VIP secret.
#
#                 underlay bridge (10.77.0.0/24)
#        +------------------+------------------+
#        h1 (controller)    h2                 h3
#   vpc1 10.100.0.0/24 on all three; VIP 10.100.0.250 (h1 > h2) with a known secret
. "$(dirname "$0")/lib.sh"
e2e_require
e2e_setup 3
e2e_controller 3 || exit 1
V() { e2e_vpcctl h1 "$@"; }
SECRET="Kn0wnSecret-$$"
printf '%s\n' "$SECRET" > "$E2E_DIR/secret"
ALL="$E2E_DIR/all-output"
: > "$ALL"
# Runs vpcctl on h1, keeping everything it printed for the secret check at the end.
VL() { V "$@" >> "$ALL" 2>&1; }
# With a busy timeout, as any SQLite client: the local node's apply that a killed deploy left
# running may still hold a write lock for a moment.
db_ok() { [ "$(sqlite3 -cmd '.timeout 10000' "$E2E_DIR/h1/state/vpcctl.db" 'PRAGMA integrity_check')" = ok ]; }
failed_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["failed"])'; }

VL vpc init vpc1 --peer-network 10.100.0.0/24 --members all
VL vip add vpc1 10.100.0.250 --vhid 10 --nodes h1,h2 --password-file "$E2E_DIR/secret"
e2e_check "first deploy" VL vpc deploy vpc1

# ---- Crash points live only in the test binary: vpcctl itself ignores the variables.
VPCCTL_FAULT_DEPLOY_KILL_AT=before-sync e2e_vpcctl h1 vpc deploy vpc1 >> "$ALL" 2>&1
rc=$?
e2e_check "vpcctl ignores VPCCTL_FAULT_DEPLOY_KILL_AT (exit $rc)" [ $rc = 0 ]
VPCCTL_FAULT_DEPLOY_KILL_AT=mid-sync e2e_faults h1 vpc deploy vpc1 >> "$ALL" 2>&1
rc=$?
e2e_check "vpcctl-faults refuses an unknown crash point (exit $rc)" [ $rc = 2 ]

# ---- The controller killed with SIGKILL before, during and after sync.
n=0
for point in before-sync during-sync after-sync; do
    n=$((n + 1))
    VL vpc init "k$n" --peer-network "10.4$n.0.0/24" --members all
    VPCCTL_FAULT_DEPLOY_KILL_AT=$point e2e_faults h1 vpc deploy "k$n" >> "$ALL" 2>&1
    rc=$?
    e2e_check "deploy killed $point (exit $rc)" [ $rc = 137 ]
    e2e_check "... the database passes integrity_check" db_ok
    e2e_check "... state check finds no broken invariant" VL state check
    out=$(V vpc deploy "k$n" --json)
    echo "$out" >> "$ALL"
    e2e_check "... and the next deploy converges" [ "$(echo "$out" | failed_of)" = 0 ]
done
# ... and at random moments, from outside.
VL vpc init krand --peer-network 10.49.0.0/24 --members all
for delay in 0.05 0.15 0.3 0.6 0.9; do
    VL vpc member remove krand h3
    e2e_vpcctl h1 vpc deploy krand >> "$ALL" 2>&1 &
    sleep $delay
    pkill -9 -f "vpcctl vpc deploy krand"
    wait 2>/dev/null
    VL vpc member add krand h3
done
e2e_check "after five random kills the database passes integrity_check" db_ok
e2e_check "... state check is clean" VL state check
e2e_check "... and deploy converges" VL deploy
e2e_check "... then changes nothing" [ "$(V deploy --json | python3 -c 'import json,sys; print(sum(n["changes"] for n in json.load(sys.stdin)["nodes"]))')" = 0 ]

# ---- Two deploys at once: one waits for nobody, it refuses; they never interleave.
VL vpc member remove krand h2
e2e_vpcctl h1 vpc deploy krand > "$E2E_DIR/d1" 2>&1 &
p1=$!
e2e_vpcctl h1 vpc deploy krand > "$E2E_DIR/d2" 2>&1 &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
cat "$E2E_DIR/d1" "$E2E_DIR/d2" >> "$ALL"
echo "concurrent deploys exited $r1 and $r2"
e2e_check "one of two concurrent deploys converged and the other was refused (exits $r1, $r2)" \
    [ "$(printf '%s\n' $r1 $r2 | sort | tr '\n' ' ')" = "0 6 " ]
e2e_check "... with a clear message naming the other" grep -q "another vpcctl is changing the state" "$E2E_DIR/d1" "$E2E_DIR/d2"

# ---- map import into a full filesystem: refused, the old map stays and is still used.
# (Not the sqlite3 shell: closing the last connection without persistent WAL would delete the
# -wal and -shm files that vpcctl keeps so that a full disk stays readable.)
held() { e2e_on h2 "$VPCCTL_BIN" apply --local --dry-run --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }
gen=$(held)
t="$E2E_DIR/h2-tmpfs"
mkdir -p "$t"
e2e_on h2 sh -c "mount -t tmpfs -o size=4m tmpfs $t && cp -a --sparse=never /var/lib/vpcctl/. $t/ && mount --bind $t /var/lib/vpcctl"
e2e_on h2 sh -c "dd if=/dev/zero of=$t/fill bs=4k 2>/dev/null; sync"
VL vpc member add krand h2
out=$(V vpc sync krand 2>&1)
echo "$out" >> "$ALL"
echo "$out"
e2e_check "sync to the node with a full disk fails for it" e2e_contains "$out" "h2"
e2e_check "... naming the full disk" e2e_contains "$out" "full"
e2e_check "h2 still holds generation $gen" [ "$(held)" = "$gen" ]
n=$(e2e_on h2 "$VPCCTL_BIN" apply --local --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["generation"], d["changes"])')
e2e_check "and its next apply uses that map and changes nothing ($n)" [ "$n" = "$gen 0" ]
e2e_on h2 rm -f "$t/fill"
e2e_check "with space back, deploy converges h2" VL vpc deploy krand
e2e_on h2 sh -c "cp -a /var/lib/vpcctl/. $E2E_DIR/h2/state/ 2>/dev/null; umount /var/lib/vpcctl; umount $t"

# ---- A remote command that hangs: stopped at the command timeout, the others unaffected.
# h3's vpcctl hangs inside apply: the first program it runs (ip, probing) never returns. The node's
# vpcctl stops itself and what it runs at its --deadline.
mkdir -p "$E2E_DIR/hangbin"
printf '#!/bin/sh\nexec sleep 600\n' > "$E2E_DIR/hangbin/ip"
chmod 755 "$E2E_DIR/hangbin/ip"
cat > "$E2E_DIR/hang" <<HANG
#!/bin/sh
case "\$*" in
  *apply*) PATH="$E2E_DIR/hangbin:\$PATH" exec $VPCCTL_BIN "\$@" ;;
  *) exec $VPCCTL_BIN "\$@" ;;
esac
HANG
chmod 755 "$E2E_DIR/hang"
VL node add h3 10.77.0.3 --remote-vpcctl "$E2E_DIR/hang"
# The deploy runs the hanging vpcctl, not h3's agent (which would apply with the real one).
e2e_kill_agent h3 || e2e_log "h3's agent did not stop"
VL vpc member remove krand h3
start=$(e2e_now_ms)
out=$(V vpc deploy krand --command-timeout 3 2>&1)
rc=$?
took=$(( $(e2e_now_ms) - start ))
echo "$out" >> "$ALL"
echo "$out"
e2e_check "deploy with a hanging node exits 3 (got $rc)" [ $rc = 3 ]
e2e_check "... reports it stopped at the command timeout" e2e_contains "$out" "command timeout (3 s)"
e2e_check "... converges the others" e2e_contains "$out" "h2: converged"
e2e_check "... in about the timeout (${took} ms)" [ $took -lt 6000 ]
sleep 1
e2e_expect_fail "the hung command was stopped on h3" e2e_on h3 pgrep -f "sleep 600"
VL node add h3 10.77.0.3 --remote-vpcctl "$VPCCTL_BIN"
e2e_check "with h3's vpcctl back, deploy is all green" VL deploy

# ---- The secret appeared in nothing printed or logged.
for f in "$ALL" "$E2E_DIR"/h*/state/keepalived.conf "$E2E_DIR"/h*/state/hooks.log "$E2E_DIR"/h*/sshd.log; do
    [ -f "$f" ] || continue
    e2e_expect_fail "the VIP secret is not in $(basename "$(dirname "$f")")/$(basename "$f")" grep -q "$SECRET" "$f"
done
out=$(V vip show vpc1 10.100.0.250; V vpc status vpc1; e2e_on h2 "$VPCCTL_BIN" status --local --json; e2e_on h2 "$VPCCTL_BIN" apply --local --dry-run --json; V map export)
e2e_expect_fail "nor in vip show, vpc status, status --local, apply --dry-run or map export" e2e_contains "$out" "$SECRET"
e2e_check "--show-secrets shows it" e2e_contains "$(V vip show vpc1 10 --show-secrets)" "$SECRET"
e2e_finish
