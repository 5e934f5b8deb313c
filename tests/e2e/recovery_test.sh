#!/bin/bash
# Controller loss: `state backup` on the controller (h1), `state restore` on another node (h2).
# From h2, deploy and status reach every node, h1 included (its host key pinned and the fabric
# key authorized on it at backup time); a later push from h1, the old controller, is refused as
# stale. Corrupt, truncated and foreign backups are refused with nothing changed.
#
#      underlay bridge "ul" (10.77.0.0/24): h1 (controller) 10.77.0.1, h2 10.77.0.2, h3 10.77.0.3
#      vpc1 10.100.0.0/24, plain, over h1, h2, h3
. "$(dirname "$0")/lib.sh"
e2e_require
command -v sqlite3 >/dev/null 2>&1 || e2e_skip "sqlite3 is not installed (scripts/install-deps.sh)"
e2e_setup 3
V1() { e2e_vpcctl h1 "$@"; }
V2() { e2e_vpcctl h2 "$@"; }
ping_from() { e2e_on "$1" ping -n -q -c 2 -i 0.2 -W 2 "${@:2}" >/dev/null 2>&1; }
pings_all() {
    local a b
    for a in 1 2 3; do
        for b in 1 2 3; do
            [ $a = $b ] && continue
            e2e_check "h$a pings h$b over vpc1 ($1)" ping_from h$a 10.100.0.$b
        done
    done
}
held() {  # the generation and epoch of the map node $1 holds
    sqlite3 "$E2E_DIR/$1/state/vpcctl.db" "SELECT generation || ' ' || epoch FROM map"
}

e2e_check "h1 enrols h2 and h3" e2e_enrol_all h2 h3
e2e_check "vpc1 is created" V1 vpc init vpc1 --plain --peer-network 10.100.0.0/24 --members h1,h2,h3
e2e_check "h1 deploys vpc1" V1 deploy
pings_all "deployed by h1"

# ---- Backup on the controller, online.
B="$E2E_DIR/backup.db"
out=$(V1 state backup "$B" 2>&1)
rc=$?
echo "$out"
e2e_check "state backup exits 0" [ $rc = 0 ]
e2e_check "the backup is 0600" [ "$(stat -c %a "$B")" = 600 ]
e2e_check "it says what it holds" e2e_contains "$out" "backed up fabric"
e2e_check "the fabric key is authorized on the controller itself" \
    grep -q "vpcctl@h1" "$E2E_DIR/h1/root/.ssh/authorized_keys"
e2e_check "the controller's own host key is pinned" e2e_contains "$out" "this node's host key pinned"
e2e_check "h1's node shows its host key" e2e_contains "$(V1 node show h1)" "SHA256:"
e2e_check "the backup holds the private key and known_hosts" \
    [ "$(sqlite3 "$B" "SELECT count(*) FROM vpcctl_backup WHERE name IN ('id_ed25519', 'known_hosts')")" = 2 ]
gen_backup=$(sqlite3 "$B" "SELECT content FROM vpcctl_backup WHERE name = 'generation'")
out=$(V1 state backup "$B" 2>&1)
e2e_check "a second backup replaces the file (the key already there, the host already pinned)" \
    e2e_expect_fail e2e_contains "$out" "pinned ("

# ---- Bad backups, restored on h2: refused, nothing changed.
# h2's state: its files (the lock files the attempts take aside) and the map it holds, whole.
state_of_h2() {
    ls "$E2E_DIR/h2/state" | grep -v -x -e lock -e apply.lock
    sqlite3 "$E2E_DIR/h2/state/vpcctl.db" "SELECT * FROM map; SELECT count(*) FROM node; SELECT * FROM setting"
}
before=$(state_of_h2)
head -c 8192 "$B" > "$E2E_DIR/truncated.db"
out=$(V2 state restore "$E2E_DIR/truncated.db" 2>&1)
rc=$?
echo "$out"
e2e_check "a truncated backup is refused with exit 2 (got $rc)" [ $rc = 2 ]
e2e_check "the truncated refusal names the file" e2e_contains "$out" "truncated.db'"
cp "$B" "$E2E_DIR/corrupt.db"
size=$(stat -c %s "$B")
printf 'garbage garbage garbage garbage garbage garbage garbage garbage' |
    dd of="$E2E_DIR/corrupt.db" bs=1 seek=$((size / 2)) conv=notrunc status=none
out=$(V2 state restore "$E2E_DIR/corrupt.db" 2>&1)
rc=$?
echo "$out"
e2e_check "a corrupt backup is refused with exit 2 (got $rc)" [ $rc = 2 ]
e2e_check "the corrupt refusal names the file" e2e_contains "$out" "corrupt.db'"
printf 'not a database at all\n' > "$E2E_DIR/text.db"
e2e_expect_fail "a file that is no database is refused" V2 state restore "$E2E_DIR/text.db"
# Another fabric: a controller of its own on h3, in a separate state directory.
e2e_vpcctl h3 --state-dir /var/lib/vpcctl/other init --name h3 --address 10.77.0.3 >/dev/null
e2e_vpcctl h3 --state-dir /var/lib/vpcctl/other state backup "$E2E_DIR/foreign.db" >/dev/null 2>&1
out=$(V2 state restore "$E2E_DIR/foreign.db" 2>&1)
rc=$?
echo "$out"
e2e_check "a backup of another fabric is refused with exit 2 (got $rc)" [ $rc = 2 ]
e2e_check "the refusal names both fabrics" e2e_contains "$out" "but this node holds a map of fabric"
after=$(state_of_h2)
[ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after")
e2e_check "nothing changed on h2" [ "$before" = "$after" ]
e2e_expect_fail "h2 is no controller yet" V2 node list

# ---- The controller's datacenter is lost: h1 stops answering its users; h2 takes over.
out=$(V2 state restore "$B" 2>&1)
rc=$?
echo "$out"
e2e_check "state restore on h2 exits 0" [ $rc = 0 ]
e2e_check "h2 is the controller, one epoch on" e2e_contains "$out" "this node, h2, is its controller now: epoch 1"
e2e_check "h1 is a remote node with its host key pinned" e2e_contains "$out" "h1 is a remote node now (ssh root@10.77.0.1:22, host key pinned"
e2e_check "h2's private key is 0600" [ "$(stat -c %a "$E2E_DIR/h2/state/id_ed25519")" = 600 ]
list=$(V2 node list)
echo "$list"
e2e_check "node list on h2 marks h2 local" e2e_contains "$list" "h2 (local)"
gen_new=$(V2 node list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
e2e_check "the generation continues past the backup's ($gen_backup -> $gen_new)" [ "$gen_new" -gt "$gen_backup" ]
e2e_check "state check is clean on the restored controller" V2 state check

out=$(V2 deploy 2>&1)
rc=$?
echo "$out"
e2e_check "deploy from h2 exits 0" [ $rc = 0 ]
for h in h1 h2 h3; do
    e2e_check "deploy from h2 reached $h" e2e_contains "$out" "  $h: converged"
    e2e_check "$h holds the restored controller's map (epoch 1)" [ "$(held $h | cut -d' ' -f2)" = 1 ]
done
out=$(V2 vpc status vpc1 2>&1)
rc=$?
echo "$out"
e2e_check "vpc status from h2 is healthy across h1, h2, h3 (exit $rc)" [ $rc = 0 ]
pings_all "deployed by h2"
e2e_check "a change from h2 (vpc2 over h1, h2) deploys everywhere" \
    bash -c "$(declare -f e2e_vpcctl e2e_on); E2E_DIR=$E2E_DIR VPCCTL_BIN=$VPCCTL_BIN; \
    e2e_vpcctl h2 vpc init vpc2 --plain --peer-network 10.200.0.0/24 --members h1,h2 >/dev/null && \
    e2e_vpcctl h2 deploy >/dev/null"
e2e_check "h1 pings h2 over vpc2, made by the new controller" ping_from h1 10.200.0.2

# ---- The old controller comes back and pushes: refused as stale everywhere.
before_h3=$(held h3)
out=$(V1 deploy 2>&1)
rc=$?
echo "$out"
e2e_check "a deploy from the old controller fails (exit $rc)" [ $rc != 0 ]
e2e_check "the nodes refuse it as stale" e2e_contains "$out" "stale map: controller 'h1' is at epoch 0"
e2e_check "h3 still holds the new controller's map" [ "$before_h3" = "$(held h3)" ]
e2e_check "vpc2 is still on h1 (the old controller's map did not remove it)" ping_from h1 10.200.0.2
e2e_check "the new controller still converges everything" V2 deploy

e2e_finish
