#!/bin/bash
# Hostile nodes and an on-path attacker, against real sshd:
#  - h3's vpcctl is replaced by a script (installed with --remote-vpcctl) that answers deploy,
#    status and node check with deeply nested JSON, wrong types, missing fields, 200 MB of output,
#    terminal escapes and invalid UTF-8. The controller must exit 1, 3, 4 or 5 naming h3, print no
#    raw ESC byte, keep its memory bounded, and converge h2 meanwhile; once h3 behaves, the next
#    deploy converges and `state check` is clean.
#  - Enrolment through a relay: the first connection reaches the real h4, later ones an impostor
#    sshd (h5) that accepts any key. `node add` must fail, pin nothing, and leave no key on h5.
#    Its agent answers the same way (a stand-in on its socket wraps the script's output).
#  - The reports real nodes print validate against schema/*-report.schema.json.
#
#                 underlay bridge (10.77.0.0/24)
#     h1 (controller, relay on 10.77.0.1:2222)   h2   h3 (hostile vpcctl)   h4 (real)   h5 (impostor)
. "$(dirname "$0")/lib.sh"
e2e_require
command -v /usr/bin/time >/dev/null || e2e_skip "/usr/bin/time is not installed (scripts/install-deps.sh)"
python3 -c 'import jsonschema' 2>/dev/null || e2e_skip "python3-jsonschema is not installed"
e2e_setup 5
TOP=$(cd "$(dirname "$0")/../.." && pwd)
V() { e2e_vpcctl h1 "$@"; }
e2e_controller 2 || exit 1

# ---- h3 runs a vpcctl that answers as MODE says.
MODE="$E2E_DIR/h3-mode"
echo normal > "$MODE"
HOSTILE="$E2E_DIR/bin/hostile-vpcctl"
cat > "$HOSTILE" <<SH
#!/bin/sh
case "\$(cat $MODE)" in
normal) exec $VPCCTL_BIN "\$@" ;;
nested) python3 -c 'import sys; sys.stdout.write("{\"node\":" + "[" * 2000000)' ; exit 0 ;;
types) echo '{"node": 5, "generation": "x", "changes": "many", "steps": {}, "vpcs": 3}' ; exit 0 ;;
missing) echo '{"node": "h3"}' ; exit 0 ;;
huge) head -c 200000000 /dev/zero | tr '\0' '{' ; exit 0 ;;
escapes)
    printf '{"error": "\\\\u001b]0;pwned\\\\u0007\\\\u001b[2J\\\\u009b31m forged"}\n'
    printf '\033[2J\033]0;pwned\007\377\376\nvpcctl: error: forged\n' >&2
    exit 1 ;;
utf8) printf 'bad \377\376 \033[31m red \302\233 C1\n'; exit 2 ;;
esac
SH
chmod 755 "$HOSTILE"
e2e_bootstrap_key h3
e2e_check "enrol h3 with the replaceable vpcctl" \
    V node add h3 10.77.0.3 --identity "$E2E_DIR/bootstrap" --yes --remote-vpcctl "$HOSTILE"
V vpc init vpc1 --peer-network 10.100.0.0/24 --members h1,h2,h3 --plain >/dev/null
e2e_check "first deploy converges" V vpc deploy vpc1

# ---- The reports real nodes print are what the schemas say.
schema() { python3 "$TOP/tests/tools/schema_check.py" "$TOP/schema/$1.schema.json" -; }
e2e_vpcctl h2 apply --local --json | schema apply-report
e2e_check "apply report valid" [ "${PIPESTATUS[1]}" = 0 ]
e2e_vpcctl h2 apply --local --dry-run --json | schema apply-report
e2e_check "dry-run apply report valid" [ "${PIPESTATUS[1]}" = 0 ]
e2e_vpcctl h2 status --local --json | schema status-report
e2e_check "status report valid" [ "${PIPESTATUS[1]}" = 0 ]
e2e_vpcctl h2 wg-key --json | schema wg-key-report
e2e_check "wg-key report valid" [ "${PIPESTATUS[1]}" = 0 ]
V map export --show-secrets | e2e_vpcctl h2 map import --node h2 --force --json | schema import-report
e2e_check "map import report valid" [ "${PIPESTATUS[2]}" = 0 ]
V map export | schema fabric-map
e2e_check "the exported map is valid" [ "${PIPESTATUS[1]}" = 0 ]

# ---- Every hostile answer is h3's failure, never the controller's.
# run_measured NAME ARGS...: vpcctl on h1 under /usr/bin/time; sets RC, OUT (stdout+stderr), RSS_KB.
run_measured() {
    local name=$1
    shift
    e2e_on h1 /usr/bin/time -f '%M' -o "$E2E_DIR/$name.rss" "$VPCCTL_BIN" "$@" \
        > "$E2E_DIR/$name.out" 2>&1
    RC=$?
    OUT=$(cat "$E2E_DIR/$name.out")
    RSS_KB=$(tail -1 "$E2E_DIR/$name.rss")
}
# The same commands against a well-behaved h3 first: the controller's own footprint (larger under
# AddressSanitizer), against which a hostile answer may add little; 200 MB is sent.
declare -A base_rss
for cmd in "vpc deploy vpc1" "vpc status vpc1" "node check"; do
    # shellcheck disable=SC2086
    run_measured "normal-${cmd// /-}" $cmd
    base_rss[$cmd]=$RSS_KB
    printf 'normal: %s: exit %s, peak RSS %s KiB\n' "$cmd" "$RC" "$RSS_KB"
done
# h3's agent is hostile too: a stand-in on its socket answers with what the script prints.
e2e_kill_agent h3 || e2e_log "h3's agent did not stop"
e2e_on h3 python3 "$TOP/tests/e2e/fake_agent.py" /var/lib/vpcctl/agent.sock "$HOSTILE" \
    >/dev/null 2>&1 &
for _ in $(seq 50); do e2e_on h3 test -S /var/lib/vpcctl/agent.sock && break; sleep 0.1; done
max_growth=0
for mode in nested types missing huge escapes utf8; do
    echo "$mode" > "$MODE"
    for cmd in "vpc deploy vpc1" "vpc status vpc1" "node check"; do
        name="$mode-${cmd// /-}"
        # shellcheck disable=SC2086
        run_measured "$name" $cmd
        growth=$((RSS_KB - ${base_rss[$cmd]}))
        [ "$growth" -gt "$max_growth" ] && max_growth=$growth
        printf '%s: %s: exit %s, peak RSS %s KiB (%+d KiB)\n' "$mode" "$cmd" "$RC" "$RSS_KB" "$growth"
        case $RC in 1|3|4|5) e2e_pass "$mode / $cmd: exit $RC" ;; *) e2e_fail "$mode / $cmd: exit $RC"; echo "$OUT" | tail -5 ;; esac
        e2e_check "$mode / $cmd: names h3" grep -q "h3" "$E2E_DIR/$name.out"
        e2e_expect_fail "$mode / $cmd: prints no raw ESC byte" grep -q $'\x1b' "$E2E_DIR/$name.out"
        e2e_expect_fail "$mode / $cmd: no forged error line" grep -q '^vpcctl: error: forged' "$E2E_DIR/$name.out"
        e2e_check "$mode / $cmd: peak RSS within 48 MiB of a well-behaved run ($growth KiB more)" \
            [ "$growth" -lt 49152 ]
        if [ "$cmd" = "vpc deploy vpc1" ]; then
            e2e_check "$mode / $cmd: h2 converges meanwhile" grep -q "h2: converged" "$E2E_DIR/$name.out"
        fi
    done
done
echo "largest growth of the controller's peak RSS over a well-behaved run: $max_growth KiB"
grep -h "h3" "$E2E_DIR"/*-vpc-deploy-vpc1.out | head -8

echo normal > "$MODE"
e2e_on h3 pkill -f "fake_agent.py"
e2e_check "once h3 behaves, deploy converges" V vpc deploy vpc1
e2e_check "... and state check is clean" V state check
e2e_check "... and node check passes" V node check

# ---- Enrolment through a relay that swaps the host after the first connection.
H5="$E2E_DIR/h5"
cat >> "$H5/sshd_config" <<CFG
AuthorizedKeysCommand /usr/bin/echo %t %k
AuthorizedKeysCommandUser nobody
CFG
e2e_stop_sshd h5
e2e_start_sshd h5
e2e_bootstrap_key h4
relay_log="$E2E_DIR/relay.log"
stop_relay() {
    pkill -f "relay.py 10.77.0.1 2222"
    wait 2>/dev/null
    rm -f "$relay_log"
}
wait_relay() {
    for _ in $(seq 1 100); do grep -q listening "$relay_log" 2>/dev/null && return 0; sleep 0.05; done
    e2e_log "the relay did not start"; cat "$relay_log" >&2
}
e2e_on h1 python3 "$TOP/tests/e2e/relay.py" 10.77.0.1 2222 10.77.0.4:22 10.77.0.5:22 \
    > "$relay_log" 2>&1 &
wait_relay
h4_fp=$(ssh-keygen -lf "$E2E_DIR/h4/ssh_host_ed25519_key.pub" | awk '{print $2}')
pins_before=$(cat "$E2E_DIR/h1/state/known_hosts")
out=$(V node add h4 10.77.0.1 --port 2222 --underlay 10.77.0.4 --fingerprint "$h4_fp" --identity "$E2E_DIR/bootstrap" \
    --remote-vpcctl "$VPCCTL_BIN" 2>&1)
rc=$?
echo "$out"
cat "$relay_log"
e2e_check "the relay sent the first connection to h4 and a later one to the impostor" \
    grep -q "connection 2 -> 10.77.0.5:22" "$relay_log"
e2e_check "node add through the swapping relay fails (exit $rc)" [ "$rc" != 0 ]
e2e_check "... saying the later connection presented another key" \
    e2e_contains "$out" "confirmed on the first"
e2e_check "... nothing is pinned" [ "$(cat "$E2E_DIR/h1/state/known_hosts")" = "$pins_before" ]
e2e_expect_fail "... h4 is not a node" V node show h4
e2e_expect_fail "... no key of ours on the impostor" grep -q "vpcctl@h1" "$H5/root/.ssh/authorized_keys"
e2e_expect_fail "... the impostor authenticated nobody" grep -q "Accepted" "$H5/sshd.log"
stop_relay

# Control: through a relay that does not swap, the same enrolment succeeds and pins h4's key.
e2e_on h1 python3 "$TOP/tests/e2e/relay.py" 10.77.0.1 2222 10.77.0.4:22 10.77.0.4:22 \
    > "$relay_log" 2>&1 &
wait_relay
e2e_check "control: the same enrolment through an honest relay succeeds" \
    V node add h4 10.77.0.1 --port 2222 --underlay 10.77.0.4 --fingerprint "$h4_fp" --identity "$E2E_DIR/bootstrap" \
    --remote-vpcctl "$VPCCTL_BIN"
e2e_check "... and pins h4's key" e2e_contains "$(V node show h4)" "$h4_fp"
stop_relay
e2e_finish
