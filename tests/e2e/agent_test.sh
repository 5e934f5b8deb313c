#!/bin/bash
# The node agent: apply starts `vpcctl agent` on every Linux member; `vpc status` and `deploy`
# are answered by it (over an SSH stream to its socket, and on the controller over the socket
# itself) and stay true: a link, a pinned neighbour or the firewall changed by hand shows up as drift in the very
# next status, through the agent. A dead agent is drift that deploy repairs; an agent whose
# vpcctl was replaced hands over to the command and the next deploy starts the new one.
#
#      underlay bridge "ul" (10.77.0.0/24): h1 (controller) 10.77.0.1, h2 10.77.0.2, h3 10.77.0.3
#      vpc1 10.100.0.0/24, plain, over h1, h2, h3
. "$(dirname "$0")/lib.sh"
e2e_require
e2e_setup 3
V1() { e2e_vpcctl h1 "$@"; }
# The status of vpc1 as JSON in $status, its exit code in $rc.
status() {
    status=$(V1 vpc status vpc1 --json "$@" 2>"$E2E_DIR/status.err")
    rc=$?
    cat "$E2E_DIR/status.err" >&2
}
# Which nodes the agent answered for, and whether all are healthy.
agents() { printf '%s' "$status" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(n["node"] for n in d["nodes"] if n["agent"]))'; }
# Node $1's drift: its VPC's steps and its own (firewall, daemons), from the problems.
drift_of() { printf '%s' "$status" | python3 -c '
import json, sys
d = json.load(sys.stdin)
node = sys.argv[1]
print("\n".join(x["description"] for n in d["nodes"] if n["node"] == node for x in n["drift"]))
print("\n".join(p for p in d["problems"] if p.startswith(node + ": drift: ")))' "$1"; }
agent_pid() { e2e_on "$1" head -n 1 /var/lib/vpcctl/agent.pid 2>/dev/null; }
ps_agents() { pgrep -f -x "$VPCCTL_BIN --state-dir /var/lib/vpcctl agent" | wc -l; }

e2e_check "h1 enrols h2 and h3" e2e_enrol_all h2 h3
e2e_check "vpc1 is created" V1 vpc init vpc1 --plain --peer-network 10.100.0.0/24 --members h1,h2,h3
out=$(V1 deploy 2>&1)
echo "$out"
e2e_check "h1 deploys vpc1" [ $? = 0 ]
for h in h1 h2 h3; do
    e2e_check "$h runs an agent with its socket" e2e_on $h test -S /var/lib/vpcctl/agent.sock
    e2e_check "$h's agent is the process in its pid file" e2e_on $h kill -0 "$(agent_pid $h)"
done
e2e_check "three agents run, one per host" [ "$(ps_agents)" = 3 ]
for h in h1 h2 h3; do
    # Read from rtnetlink in the agent's own process, once they parse to what `ip` prints there.
    e2e_check "$h's agent reads the interface listings from rtnetlink" \
        e2e_contains "$(e2e_on $h cat /var/lib/vpcctl/agent.log)" "interface listings read from rtnetlink (checked against ip)"
done

# ---- Deploy through the agents: the map streamed to each, applied in its process.
deployed=$(V1 deploy --json 2>"$E2E_DIR/deploy.err")
rc=$?
cat "$E2E_DIR/deploy.err" >&2
by_agent() { printf '%s' "$deployed" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(n["node"] for n in d["nodes"] if n["agent"]))'; }
changes() { printf '%s' "$deployed" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(n["changes"] for n in d["nodes"]))'; }
e2e_check "a second deploy exits 0 ($rc)" [ $rc = 0 ]
e2e_check "every node's agent applied it: $(by_agent)" [ "$(by_agent)" = "h1 h2 h3" ]
e2e_check "and changed nothing: $(changes)" [ "$(changes)" = 0 ]
e2e_on h3 ip link set dev vpc1 down
deployed=$(V1 deploy --json 2>/dev/null)
# Up again, and the pins the kernel flushed with the link.
e2e_check "a deploy through h3's agent repairs a bridge set down by hand: $(changes) change(s)" \
    [ "$(changes)" -ge 1 ]
e2e_check "by the agents: $(by_agent)" [ "$(by_agent)" = "h1 h2 h3" ]
e2e_check "h3's bridge is up again" e2e_contains "$(e2e_on h3 ip -br link show vpc1)" "UP"

# ---- Status through the agents, direct SSH and kept sessions alike.
status
e2e_check "vpc status is healthy (exit $rc)" [ $rc = 0 ]
e2e_check "every node's agent answered: $(agents)" [ "$(agents)" = "h1 h2 h3" ]
status --persist 30
e2e_check "with kept sessions too (exit $rc)" [ $rc = 0 ]
e2e_check "every node's agent answered over kept sessions: $(agents)" [ "$(agents)" = "h1 h2 h3" ]
for i in 1 2 3; do
    status --persist 30
    e2e_check "status run $i is healthy (exit $rc)" [ $rc = 0 ]
    e2e_check "status run $i went through the agents: $(agents)" [ "$(agents)" = "h1 h2 h3" ]
done
text=$(V1 vpc status vpc1 2>&1)
e2e_check "the text status says healthy" e2e_contains "$text" "healthy"

# ---- Changes by hand are seen at once, through the agent (its listings are not stale).
e2e_on h2 ip link set dev vpc1 mtu 1300
status
e2e_check "a changed bridge MTU on h2 fails the next status (exit $rc)" [ $rc = 5 ]
e2e_check "h2's agent answered it" e2e_contains " $(agents) " " h2 "
e2e_check "h2's drift names the MTU" e2e_contains "$(drift_of h2)" "mtu"
e2e_check "deploy repairs it" V1 deploy
status
e2e_check "healthy again (exit $rc)" [ $rc = 0 ]

# A tunnel's own settings, read from the vxlan's netlink details.
vx=$(e2e_on h2 ip -o link show master vpc1 type vxlan | sed -n '1s/^[0-9]*: \([^:@]*\).*/\1/p')
e2e_check "h2 has a tunnel on vpc1 ($vx)" [ -n "$vx" ]
e2e_on h2 ip link set dev "$vx" type vxlan learning
status
e2e_check "learning turned on by hand on h2's $vx fails the next status (exit $rc)" [ $rc = 5 ]
e2e_check "h2's drift names the tunnel: $(drift_of h2)" e2e_contains "$(drift_of h2)" "$vx"
e2e_check "h2's agent answered it" e2e_contains " $(agents) " " h2 "
e2e_check "deploy repairs the tunnel" V1 deploy
e2e_on h2 ip link set dev "$vx" nomaster
status
e2e_check "a tunnel taken off the bridge on h2 fails the next status (exit $rc)" [ $rc = 5 ]
e2e_check "h2's drift names it: $(drift_of h2)" e2e_contains "$(drift_of h2)" "$vx"
e2e_check "deploy puts it back" V1 deploy
e2e_on h3 ip addr flush dev vpc1
status
e2e_check "h3's overlay address flushed by hand fails the next status (exit $rc)" [ $rc = 5 ]
e2e_check "h3's drift names the address: $(drift_of h3)" e2e_contains "$(drift_of h3)" "10.100.0.3"
e2e_check "deploy puts the address back" V1 deploy
status
e2e_check "healthy again after the tunnel and the address (exit $rc)" [ $rc = 0 ]

e2e_on h3 ip neigh del 10.100.0.1 dev vpc1
status
e2e_check "a removed pin on h3 fails the next status (exit $rc)" [ $rc = 5 ]
e2e_check "h3's drift names the pin: $(drift_of h3)" e2e_contains "$(drift_of h3)" "pin h1"
e2e_check "h3's agent answered it" e2e_contains " $(agents) " " h3 "
e2e_check "deploy repairs the pin" V1 deploy

e2e_on h2 nft flush chain inet vpcctl input
status
e2e_check "a flushed firewall chain on h2 fails the next status (exit $rc)" [ $rc = 5 ]
e2e_check "h2's drift names the firewall: $(drift_of h2)" e2e_contains "$(drift_of h2)" "firewall"
e2e_check "deploy reloads the firewall" V1 deploy
status
e2e_check "healthy again after the firewall (exit $rc)" [ $rc = 0 ]
e2e_check "all through the agents" [ "$(agents)" = "h1 h2 h3" ]

# ---- A dead agent is drift; the status still answers, by running the command.
e2e_on h3 kill "$(agent_pid h3)"
for _ in $(seq 50); do e2e_on h3 test -S /var/lib/vpcctl/agent.sock || break; sleep 0.1; done
status
e2e_check "with h3's agent gone, status fails (exit $rc)" [ $rc = 5 ]
e2e_check "h3 answered by the command instead: $(agents)" [ "$(agents)" = "h1 h2" ]
e2e_check "h3's drift says the agent is not running" e2e_contains "$(drift_of h3)" "start agent"
e2e_check "deploy starts it again" V1 deploy
status
e2e_check "healthy with h3's agent back (exit $rc)" [ $rc = 0 ]
e2e_check "h3's agent answers again: $(agents)" [ "$(agents)" = "h1 h2 h3" ]

# ---- An upgrade: the agents see their vpcctl replaced, hand over and exit.
cp "$VPCCTL_BIN" "$VPCCTL_BIN.new" && mv -f "$VPCCTL_BIN.new" "$VPCCTL_BIN"
status
e2e_check "right after the upgrade no agent answers: '$(agents)'" [ -z "$(agents)" ]
sleep 0.5
e2e_check "the old agents exited" [ "$(ps_agents)" = 0 ]
status
e2e_check "the next status fails (exit $rc)" [ $rc = 5 ]
e2e_check "h2's drift says its agent is not running" e2e_contains "$(drift_of h2)" "start agent"
e2e_check "deploy starts the new agents" V1 deploy
e2e_check "three agents run again" [ "$(ps_agents)" = 3 ]
status
e2e_check "healthy after the upgrade's deploy (exit $rc)" [ $rc = 0 ]
e2e_check "the new agents answered: $(agents)" [ "$(agents)" = "h1 h2 h3" ]

# ---- A node without a VPC runs no agent.
e2e_check "h3 leaves vpc1" V1 vpc member remove vpc1 h3
e2e_check "deploy after h3 left" V1 deploy
e2e_expect_fail "h3's agent was stopped" e2e_on h3 test -e /var/lib/vpcctl/agent.pid
status
e2e_check "vpc1 over h1 and h2 is healthy (exit $rc)" [ $rc = 0 ]
e2e_check "through their agents: $(agents)" [ "$(agents)" = "h1 h2" ]
e2e_finish
