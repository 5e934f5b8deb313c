#!/bin/bash
# Enrolment over SSH against real sshd: password bootstrap, identity bootstrap over IPv6, host-key
# pinning and a changed key, failures, removal.
#
#                      underlay bridge (10.77.0.0/24, fd77::/64)
#        +-------------------+-------------------+-------------------+
#        h1 (controller)     h2 (password)       h3 (bootstrap key)  h4 (nobody answers .99)
#        10.77.0.1           10.77.0.2           fd77::3             10.77.0.4
. "$(dirname "$0")/lib.sh"
e2e_require
e2e_setup 4 h2
e2e_bootstrap_key h3 h4

BIN="$VPCCTL_BIN"
ours_in() { cat "$E2E_DIR/$1/root/.ssh/authorized_keys" 2>/dev/null | grep -c "vpcctl@h1"; }
fp_of() { ssh-keygen -lf "$1" | awk '{print $2}'; }

e2e_check "init the controller" e2e_vpcctl h1 init --name h1 --address 10.77.0.1 --address fd77::1

# A wrong password fails clearly and changes nothing.
before=$(e2e_vpcctl h1 node list --json; cat "$E2E_DIR/h1/state/known_hosts" 2>/dev/null)
wrong="$E2E_DIR/wrong-password"
echo "not-the-password" > "$wrong"
out=$(e2e_vpcctl h1 node add h2 10.77.0.2 --password-file "$wrong" --yes --remote-vpcctl "$BIN" 2>&1)
rc=$?
echo "$out"
e2e_check "a wrong password fails with exit 1" [ $rc = 1 ]
e2e_check "... with a clear message" e2e_contains "$out" "the password was refused"
after=$(e2e_vpcctl h1 node list --json; cat "$E2E_DIR/h1/state/known_hosts" 2>/dev/null)
e2e_check "... and no state changed (nodes, pinned keys)" [ "$before" = "$after" ]
e2e_check "... and nothing was installed on h2" [ "$(ours_in h2)" = 0 ]

# Password bootstrap: the password is read from a file, used once, never stored.
out=$(e2e_vpcctl h1 node add h2 10.77.0.2 --password-file "$E2E_DIR/password" --yes \
    --remote-vpcctl "$BIN" 2>&1)
rc=$?
echo "$out"
e2e_check "node add h2 with a password succeeds" [ $rc = 0 ]
e2e_check "it authenticated with the password" e2e_contains "$out" "authenticated with password"
e2e_check "first contact printed the host key's fingerprint" \
    e2e_contains "$out" "$(fp_of "$E2E_DIR/h2/ssh_host_ed25519_key.pub")"
e2e_check "one line of ours in h2's authorized_keys" [ "$(ours_in h2)" = 1 ]
e2e_check "~/.ssh is 0700 and authorized_keys 0600 on h2" \
    [ "$(stat -c %a "$E2E_DIR/h2/root/.ssh")/$(stat -c %a "$E2E_DIR/h2/root/.ssh/authorized_keys")" = 700/600 ]
e2e_expect_fail "the password is stored nowhere in the state directory" \
    grep -rqF "$E2E_PASSWORD" "$E2E_DIR/h1/state"
json=$(e2e_vpcctl h1 node check h2 --json)
echo "$json"
e2e_check "afterwards key authentication works without the password" e2e_contains "$json" '"auth": "key"'
e2e_check "node check reports the remote vpcctl version" e2e_contains "$json" '"version": "0.1.0"'
out=$(e2e_vpcctl h1 node add h2 10.77.0.2 --password-file "$E2E_DIR/password" --remote-vpcctl "$BIN" 2>&1)
e2e_check "a second node add succeeds (with our key, no question about the host key)" \
    e2e_contains "$out" "authenticated with key"
e2e_check "after two runs authorized_keys holds exactly one line of ours" [ "$(ours_in h2)" = 1 ]
e2e_check "h2 was detected as linux with the namespace's MTU" \
    e2e_contains "$(e2e_vpcctl h1 node show h2)" "mtu:          1500"

# A node that answers without end is cut at 4 MiB: the controller neither waits for the rest nor
# holds it, and names the cut as that node's failure.
flood="$E2E_DIR/flooding-vpcctl"
printf '#!/bin/sh\ncase "$*" in *--version*) echo 0.1.0 ;; *) head -c 200000000 /dev/zero ;; esac\n' \
    > "$flood"
chmod 755 "$flood"
e2e_check "re-enrol h2 with a vpcctl that floods its output" \
    e2e_vpcctl h1 node add h2 10.77.0.2 --remote-vpcctl "$flood"
e2e_check "a plain VPC over h1 and h2" \
    e2e_vpcctl h1 vpc init flood --peer-network 10.99.0.0/24 --members h1,h2 --plain
start=$(e2e_now_ms)
out=$(e2e_vpcctl h1 vpc sync flood 2>&1)
rc=$?
took=$(( $(e2e_now_ms) - start ))
echo "sync to a flooding node: exit $rc after ${took} ms"
e2e_check "sync to the flooding node fails (exit 3: h1 took the map)" [ $rc = 3 ]
e2e_check "... naming the cut" e2e_contains "$out" "answered more than 4 MiB: output cut"
e2e_check "... without reading the 200 MB (${took} ms)" [ $took -lt 10000 ]
e2e_vpcctl h1 vpc destroy flood >/dev/null 2>&1
e2e_check "re-enrol h2 with the real vpcctl" e2e_vpcctl h1 node add h2 10.77.0.2 --remote-vpcctl "$BIN"

# IPv6, with a bootstrap identity; without --yes or --fingerprint a script gets a clear refusal.
out=$(e2e_vpcctl h1 node add h3 fd77::3 --identity "$E2E_DIR/bootstrap" --remote-vpcctl "$BIN" </dev/null 2>&1)
rc=$?
e2e_check "first contact without --yes is refused when not on a terminal" [ $rc = 2 ]
e2e_check "the refusal names the fingerprint to confirm" e2e_contains "$out" "--fingerprint SHA256:"
fp3=$(fp_of "$E2E_DIR/h3/ssh_host_ed25519_key.pub")
out=$(e2e_vpcctl h1 node add h3 fd77::3 --identity "$E2E_DIR/bootstrap" --fingerprint SHA256:AAAAwrong \
    --remote-vpcctl "$BIN" 2>&1)
e2e_check "a wrong --fingerprint is refused" e2e_contains "$out" "not the SHA256:AAAAwrong"
out=$(e2e_vpcctl h1 node add h3 fd77::3 --identity "$E2E_DIR/bootstrap" --fingerprint "$fp3" \
    --remote-vpcctl "$BIN" 2>&1)
rc=$?
echo "$out"
e2e_check "node add to an IPv6 address with the right --fingerprint succeeds" [ $rc = 0 ]
e2e_check "the IPv6 node's SSH address is recorded" e2e_contains "$(e2e_vpcctl h1 node show h3)" "root@[fd77::3]:22"
e2e_check "node check h3 over IPv6 passes" e2e_vpcctl h1 node check h3

# A changed host key: refused everywhere, naming both fingerprints, nothing sent.
e2e_stop_sshd h3
rm -f "$E2E_DIR/h3/ssh_host_ed25519_key" "$E2E_DIR/h3/ssh_host_ed25519_key.pub"
ssh-keygen -q -t ed25519 -N '' -C h3-new -f "$E2E_DIR/h3/ssh_host_ed25519_key"
fp3new=$(fp_of "$E2E_DIR/h3/ssh_host_ed25519_key.pub")
: > "$E2E_DIR/h3/sshd.log"
e2e_start_sshd h3
out=$(e2e_vpcctl h1 node check h3 2>&1)
rc=$?
echo "$out"
e2e_check "node check with a changed host key exits non-zero" [ $rc != 0 ]
e2e_check "the error names the pinned fingerprint" e2e_contains "$out" "$fp3"
e2e_check "the error names the presented fingerprint" e2e_contains "$out" "$fp3new"
out=$(e2e_vpcctl h1 node remove h3 2>&1)
rc=$?
e2e_check "node remove with a changed host key is refused too" [ $rc != 0 ]
e2e_check "... naming both fingerprints" e2e_contains "$out" "$fp3new"
e2e_check "... and h3 is still a node" e2e_contains "$(e2e_vpcctl h1 node list)" "h3"
out=$(e2e_vpcctl h1 node add h3 fd77::3 --identity "$E2E_DIR/bootstrap" --yes --remote-vpcctl "$BIN" 2>&1)
e2e_check "re-running node add does not silently accept the new key" e2e_contains "$out" "CHANGED"
sleep 0.2
e2e_expect_fail "nothing authenticated on h3 after its key changed" grep -q "Accepted" "$E2E_DIR/h3/sshd.log"

# Failures: an address nobody answers costs at most the connect timeout.
for t in 2 5; do
    start=$(e2e_now_ms)
    out=$(e2e_vpcctl h1 node add h9 10.77.0.99 --password-file "$E2E_DIR/password" --yes --timeout $t 2>&1)
    rc=$?
    took=$(( $(e2e_now_ms) - start ))
    echo "unanswered address, --timeout $t: exit $rc after ${took} ms: $out"
    e2e_check "an address nobody answers fails (timeout ${t} s)" [ $rc != 0 ]
    e2e_check "... within the connect timeout plus 1 s (${took} ms)" [ $took -lt $(( t * 1000 + 1000 )) ]
done

# Removal takes our key line out of the remote file.
e2e_check "node remove h2" e2e_vpcctl h1 node remove h2
e2e_check "our key line is gone from h2's authorized_keys" [ "$(ours_in h2)" = 0 ]
e2e_expect_fail "h2 is no longer a node" e2e_contains "$(e2e_vpcctl h1 node list)" " h2 "
e2e_expect_fail "h2's pin is gone from known_hosts" grep -q "10.77.0.2" "$E2E_DIR/h1/state/known_hosts"
e2e_check "enrol h4 with the bootstrap key" \
    e2e_vpcctl h1 node add h4 10.77.0.4 --identity "$E2E_DIR/bootstrap" --yes --remote-vpcctl "$BIN"
e2e_stop_sshd h4
out=$(e2e_vpcctl h1 node remove h4 2>&1)
rc=$?
e2e_check "node remove of an unreachable node is refused" [ $rc != 0 ]
e2e_check "... saying --force would do it" e2e_contains "$out" "--force"
e2e_check "... and h4 is still a node" e2e_contains "$(e2e_vpcctl h1 node list)" "h4"
e2e_check "node remove --force removes it anyway" e2e_vpcctl h1 node remove h4 --force
e2e_finish
