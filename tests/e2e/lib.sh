# End-to-end harness: hosts made of network namespaces on one underlay bridge, each with its own
# mount namespace (per-host /root, /var/lib/vpcctl and, for password hosts, /etc/shadow) and its
# own sshd, so each behaves like a separate machine. Sourced by tests/e2e/*_test.sh.
#
#                 netns ${E2E_P}ul: bridge "ul"
#        +---------------+---------------+---------------+
#      eth0            eth0            eth0            eth0
#   ${E2E_P}h1      ${E2E_P}h2      ${E2E_P}h3      ${E2E_P}h4 ...
#   10.77.0.1       10.77.0.2       10.77.0.3       10.77.0.4     (underlay IPv4)
#   fd77::1         fd77::2         fd77::3         fd77::4       (underlay IPv6)
#
# Each host also has its own /run/wireguard (wireguard-go's control sockets), as a real machine.
# Every address lives inside namespaces the test creates; nothing leaves them.
# Teardown (always, via trap) kills every process in the namespaces, deletes them and the work dir.

set -u
E2E_P="${E2E_PREFIX:-vpce$$}"
E2E_DIR=""
E2E_FAILS=0
E2E_HOSTS=""
E2E_ROUTERS=""
VPCCTL_SRC="${VPCCTL:-}"
# vpcctl with crash points (tests/faults), for the crash tests; beside vpcctl unless named.
VPCCTL_FAULTS_SRC="${VPCCTL_FAULTS:-$(dirname "${VPCCTL_SRC:-.}")/vpcctl-faults}"

e2e_log() { printf '%s\n' "$*" >&2; }
e2e_skip() {
    printf 'SKIP: %s\n' "$*"
    exit 77
}

# Skips (exit 77, shown as skipped by ctest) where namespaces cannot be made.
e2e_require() {
    [ "$(id -u)" = 0 ] || e2e_skip "end-to-end tests need root (network and mount namespaces)"
    [ -n "$VPCCTL_SRC" ] && [ -x "$VPCCTL_SRC" ] || e2e_skip "VPCCTL must name the built vpcctl binary"
    for tool in ip unshare nsenter /usr/sbin/sshd ssh-keygen openssl wg wireguard-go nft; do
        command -v "$tool" >/dev/null 2>&1 || e2e_skip "$tool is not installed (scripts/install-deps.sh)"
    done
    if ! ip netns add "${E2E_P}probe" 2>/dev/null; then
        e2e_skip "cannot create network namespaces here"
    fi
    ip netns del "${E2E_P}probe"
    unshare -m true 2>/dev/null || e2e_skip "cannot create mount namespaces here"
}

e2e_ns() { printf '%s%s' "$E2E_P" "$1"; }
e2e_ip4() { printf '10.77.0.%s' "${1#h}"; }
e2e_ip6() { printf 'fd77::%s' "${1#h}"; }

e2e_teardown() {
    local h ns pid
    set +e
    e2e_holders_stop
    # Daemons the harness started by pid file (e2e_iperf3_server): a daemon started through
    # `ip netns exec` has been seen to outlive the namespace sweep below.
    if [ -n "$E2E_DIR" ]; then
        for f in "$E2E_DIR"/daemons/*.pid; do
            [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
        done
    fi
    for h in $E2E_HOSTS; do
        [ "$h" = ul ] && continue
        # Processes in the host's guest namespaces (visible only from its mount namespace).
        for g in $(e2e_on "$h" ip netns list 2>/dev/null | awk -v p="$E2E_P" 'index($1, p) == 1 {print $1}'); do
            for pid in $(e2e_on "$h" ip netns pids "$g" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
        done
        ns=$(e2e_ns "$h")
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    done
    for h in $E2E_HOSTS ul $E2E_ROUTERS; do
        ns=$(e2e_ns "$h")
        ip netns del "$ns" 2>/dev/null
    done
    E2E_ROUTERS=""
    # Guest namespaces live in their host's mount namespace and went with it; drop their names.
    for f in /run/netns/"$E2E_P"*; do
        [ -e "$f" ] || continue
        umount "$f" 2>/dev/null
        rm -f "$f"
    done
    if [ -n "$E2E_DIR" ] && [ -d "$E2E_DIR" ]; then
        [ "${E2E_KEEP:-0}" = 1 ] && e2e_log "keeping $E2E_DIR" || rm -rf "$E2E_DIR"
    fi
    rmdir /var/lib/vpcctl 2>/dev/null
    rmdir /run/wireguard 2>/dev/null
    E2E_HOSTS=""
}

# e2e_setup N [PASSWORD_HOSTS...]: hosts h1..hN; the named ones accept root's password.
e2e_setup() {
    local n=$1 i h ns d
    shift
    trap e2e_teardown EXIT
    trap 'exit 130' INT TERM
    E2E_DIR=$(mktemp -d /tmp/vpcctl-e2e.XXXXXX)
    chmod 755 "$E2E_DIR"
    mkdir -p "$E2E_DIR/bin" /var/lib/vpcctl /run/sshd /run/wireguard
    cp "$VPCCTL_SRC" "$E2E_DIR/bin/vpcctl"
    VPCCTL_BIN="$E2E_DIR/bin/vpcctl"
    VPCCTL_FAULTS_BIN=""
    if [ -x "$VPCCTL_FAULTS_SRC" ]; then
        cp "$VPCCTL_FAULTS_SRC" "$E2E_DIR/bin/vpcctl-faults"
        VPCCTL_FAULTS_BIN="$E2E_DIR/bin/vpcctl-faults"
    fi
    E2E_PASSWORD="e2e-$$-secret"
    printf '%s\n' "$E2E_PASSWORD" > "$E2E_DIR/password"
    chmod 600 "$E2E_DIR/password"
    ip netns add "$(e2e_ns ul)"
    E2E_HOSTS="ul"
    ip -n "$(e2e_ns ul)" link add ul type bridge
    ip -n "$(e2e_ns ul)" link set ul up
    for i in $(seq 1 "$n"); do
        e2e_add_host "h$i" "$@"
    done
}

# e2e_behind_nat HOST PUBLIC NET: HOST (from e2e_add_host) moves behind a 1:1 NAT router, the
# namespace r<N>: the router holds PUBLIC on the underlay and forwards all of it to HOST at NET.2
# (iptables DNAT), masquerading what HOST sends out (MASQUERADE: as PUBLIC). HOST keeps only
# NET.2 (default route via NET.1), where its sshd listens now: it has no underlay address.
e2e_behind_nat() {
    local h=$1 pub=$2 net=$3 r ns rns ul d
    r="r${h#h}"
    ns=$(e2e_ns "$h")
    rns=$(e2e_ns "$r")
    ul=$(e2e_ns ul)
    d="$E2E_DIR/$h"
    ip netns add "$rns" || return 1
    E2E_ROUTERS="$E2E_ROUTERS $r"
    ip -n "$rns" link set lo up
    ip -n "$ul" link add "$r" type veth peer name eth0 netns "$rns"
    ip -n "$ul" link set "$r" master ul up
    ip -n "$rns" addr add "$pub/24" dev eth0
    ip -n "$rns" link set eth0 up
    # The host's leg leaves the underlay bridge for the router.
    ip -n "$ul" link set "$h" nomaster
    ip -n "$ul" link set "$h" netns "$rns"
    ip -n "$rns" link set "$h" name lan
    ip -n "$rns" addr add "$net.1/24" dev lan
    ip -n "$rns" link set lan up
    ip netns exec "$rns" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$rns" iptables -t nat -A PREROUTING -d "$pub" -j DNAT --to-destination "$net.2" || return 1
    ip netns exec "$rns" iptables -t nat -A POSTROUTING -s "$net.0/24" -o eth0 -j MASQUERADE || return 1
    ip -n "$ns" addr flush dev eth0 scope global
    ip -n "$ns" addr add "$net.2/24" dev eth0
    ip -n "$ns" route add default via "$net.1"
    e2e_stop_sshd "$h"
    sed -i -e '/^ListenAddress /d' -e "1i ListenAddress $net.2" "$d/sshd_config"
    e2e_start_sshd "$h"
}

# e2e_static_underlay: every host knows every other host's underlay MAC (permanent neighbour
# entries, IPv4 and IPv6). All hosts here share one kernel, whose neighbour table holds at most
# gc_thresh3 (1024) dynamic entries across every namespace; 32 hosts that all talk to each other
# need about 2,000 underlay entries alone, and the rest then fail to resolve. Real hosts each have
# their own table (and reach other datacenters through one gateway); permanent entries are exempt
# from that limit, so this gives the lab what every real host has. Call it after the last host.
e2e_static_underlay() {
    local h o mac
    for h in $E2E_HOSTS; do
        [ "$h" = ul ] && continue
        mac=$(e2e_on "$h" cat /sys/class/net/eth0/address) || return 1
        printf 'neigh replace %s lladdr %s dev eth0 nud permanent\n' "$(e2e_ip4 "$h")" "$mac" \
            "$(e2e_ip6 "$h")" "$mac" >> "$E2E_DIR/underlay.neigh"
    done
    for h in $E2E_HOSTS; do
        [ "$h" = ul ] && continue
        o=$(e2e_ip4 "$h")
        grep -v -e "neigh replace $o lladdr" -e "neigh replace $(e2e_ip6 "$h") lladdr" \
            "$E2E_DIR/underlay.neigh" > "$E2E_DIR/$h/underlay.neigh"
        e2e_on "$h" ip -batch "$E2E_DIR/$h/underlay.neigh" || return 1
    done
}

# e2e_add_host NAME [PASSWORD_HOSTS...]
e2e_add_host() {
    local h=$1 ns d pw=no
    shift
    for p in "$@"; do [ "$p" = "$h" ] && pw=yes; done
    ns=$(e2e_ns "$h")
    d="$E2E_DIR/$h"
    mkdir -p "$d/root/.ssh" "$d/state" "$d/wireguard"
    chmod 700 "$d/root" "$d/root/.ssh" "$d/state" "$d/wireguard"
    ip netns add "$ns"
    E2E_HOSTS="$E2E_HOSTS $h"
    ip -n "$ns" link set lo up
    ip -n "$(e2e_ns ul)" link add "$h" type veth peer name eth0 netns "$ns"
    ip -n "$(e2e_ns ul)" link set "$h" master ul up
    ip -n "$ns" addr add "$(e2e_ip4 "$h")/24" dev eth0
    ip -n "$ns" addr add "$(e2e_ip6 "$h")/64" dev eth0 nodad
    ip -n "$ns" link set eth0 up
    ssh-keygen -q -t ed25519 -N '' -C "$h" -f "$d/ssh_host_ed25519_key"
    cat > "$d/sshd_config" <<CFG
Port 22
ListenAddress $(e2e_ip4 "$h")
ListenAddress $(e2e_ip6 "$h")
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys
PermitRootLogin $([ $pw = yes ] && echo yes || echo prohibit-password)
PasswordAuthentication $pw
KbdInteractiveAuthentication no
UsePAM no
StrictModes yes
PrintMotd no
LogLevel VERBOSE
MaxStartups 100
MaxSessions 100
CFG
    local binds="mount --bind $d/root /root && mount --bind $d/state /var/lib/vpcctl"
    binds="$binds && mount --bind $d/wireguard /run/wireguard"
    if [ $pw = yes ]; then
        local hash
        hash=$(openssl passwd -6 -salt "$(printf '%08d' $$)" "$E2E_PASSWORD")
        awk -F: -v OFS=: -v h="$hash" '$1 == "root" { $2 = h } { print }' /etc/shadow > "$d/shadow"
        chmod 640 "$d/shadow"
        binds="$binds && mount --bind $d/shadow /etc/shadow"
    fi
    printf '%s\n' "$binds" > "$d/binds"
    e2e_start_sshd "$h"
}

e2e_start_sshd() {
    local h=$1 d="$E2E_DIR/$1" ns
    ns=$(e2e_ns "$h")
    ip netns exec "$ns" unshare -m --propagation private sh -c \
        "$(cat "$d/binds") && exec /usr/sbin/sshd -D -e -f $d/sshd_config" >>"$d/sshd.log" 2>&1 &
    echo $! > "$d/sshd.bgpid"
    disown $! 2>/dev/null
    e2e_wait_port "$h"
}

e2e_stop_sshd() {
    local h=$1 d="$E2E_DIR/$1" pid
    pid=$(cat "$d/sshd.bgpid")
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.02
    done
    kill -9 "$pid" 2>/dev/null
    true
}

# Where HOST's sshd listens (its first ListenAddress).
e2e_ssh_at() { awk '$1 == "ListenAddress" { print $2; exit }' "$E2E_DIR/$1/sshd_config"; }

e2e_wait_port() {
    local h=$1 ns i
    ns=$(e2e_ns "$h")
    for i in $(seq 1 100); do
        if ip netns exec "$ns" bash -c "echo > /dev/tcp/$(e2e_ssh_at "$h")/22" 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    e2e_log "sshd on $h did not start:"
    cat "$E2E_DIR/$h/sshd.log" >&2
    return 1
}

# e2e_on HOST CMD...: runs CMD on HOST, in its network and mount namespaces (those of its sshd).
e2e_on() {
    local h=$1 pid
    shift
    pid=$(cat "$E2E_DIR/$h/sshd.bgpid")
    nsenter --target "$pid" --mount --net -- "$@"
}

# e2e_vpcctl HOST ARGS...: vpcctl on HOST with its own state directory.
e2e_vpcctl() {
    local h=$1
    shift
    e2e_on "$h" "$VPCCTL_BIN" "$@"
}

# e2e_faults HOST ARGS...: vpcctl-faults on HOST, its crash point named by the VPCCTL_FAULT_*
# variable set for the call (`VPCCTL_FAULT_KILL_AFTER=7 e2e_faults h2 apply ...`). A test that
# needs it fails, not skips, without it: the crash tests are part of the suite.
e2e_faults() {
    local h=$1
    shift
    if [ -z "$VPCCTL_FAULTS_BIN" ]; then
        e2e_log "no vpcctl-faults at $VPCCTL_FAULTS_SRC (build it, or name it in VPCCTL_FAULTS)"
        return 1
    fi
    e2e_on "$h" "$VPCCTL_FAULTS_BIN" "$@"
}

# e2e_guest HOST NAME: a guest network namespace made on HOST (in its mount namespace, as on a
# real machine), to attach to a VPC there; prints its full name. Run commands in it with
# `e2e_in HOST NAME CMD...`. Removed at teardown.
e2e_guest() {
    local ns="${E2E_P}$2"
    e2e_on "$1" ip netns add "$ns" || return 1
    printf '%s' "$ns"
}
e2e_in() {
    local h=$1 ns=$2
    shift 2
    e2e_on "$h" ip netns exec "$ns" "$@"
}

# e2e_kill_agent HOST: stops HOST's node agent (the vpcctl agent processes in its network
# namespace) and waits until its socket is gone: HOST's commands then run as before.
e2e_kill_agent() {
    local pid
    for pid in $(ip netns pids "$(e2e_ns "$1")" 2>/dev/null); do
        case "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" in
            *" agent "*) kill "$pid" 2>/dev/null ;;
        esac
    done
    for _ in $(seq 50); do
        e2e_on "$1" test -S /var/lib/vpcctl/agent.sock || return 0
        sleep 0.1
    done
    return 1
}

# e2e_iperf3_server HOST [GUEST] ADDRESS: an iperf3 server, detached, on HOST (in its guest
# namespace GUEST when given) bound to ADDRESS; its pid file is in $E2E_DIR/daemons, and teardown
# kills it.
e2e_iperf3_server() {
    mkdir -p "$E2E_DIR/daemons"
    local pidfile
    pidfile=$(mktemp "$E2E_DIR/daemons/iperf3.XXXXXX.pid")
    if [ $# = 3 ]; then
        e2e_in "$1" "$2" iperf3 -s -D -B "$3" -I "$pidfile"
    else
        e2e_on "$1" iperf3 -s -D -B "$2" -I "$pidfile"
    fi
}

# A key of the harness's own, authorised on the given hosts, for --identity bootstraps.
e2e_bootstrap_key() {
    local h
    [ -f "$E2E_DIR/bootstrap" ] || ssh-keygen -q -t ed25519 -N '' -C bootstrap -f "$E2E_DIR/bootstrap"
    for h in "$@"; do
        cat "$E2E_DIR/bootstrap.pub" >> "$E2E_DIR/$h/root/.ssh/authorized_keys"
        chmod 600 "$E2E_DIR/$h/root/.ssh/authorized_keys"
    done
}

# e2e_enrol_all HOSTS...: h1 becomes the controller (underlay 10.77.0.1) and enrols the given
# hosts with the harness's bootstrap key. Returns 1, naming the host, when one does not enrol.
e2e_enrol_all() {
    local h
    e2e_bootstrap_key "$@"
    e2e_vpcctl h1 init --name h1 --address 10.77.0.1 >/dev/null || return 1
    for h in "$@"; do
        e2e_vpcctl h1 node add "$h" "$(e2e_ip4 "$h")" --identity "$E2E_DIR/bootstrap" --yes \
            --remote-vpcctl "$VPCCTL_BIN" >/dev/null 2>&1 || { e2e_log "enrolling $h failed"; return 1; }
    done
}

# e2e_openssh_baseline: after e2e_enrol_all, OpenSSH on h1 logs in to every host (h1 included)
# with the controller's key and pinned host keys, as `SSH ADDRESS CMD...`: the baseline flows.
e2e_openssh_baseline() {
    local key="$E2E_DIR/h1/state/id_ed25519" kh="$E2E_DIR/h1/state/known_hosts"
    cat "$key.pub" >> "$E2E_DIR/h1/root/.ssh/authorized_keys"
    chmod 600 "$E2E_DIR/h1/root/.ssh/authorized_keys"
    e2e_on h1 ssh-keyscan -t ed25519 10.77.0.1 2>/dev/null >> "$kh"
    SSH() {
        e2e_on h1 ssh -q -i "$E2E_DIR/h1/state/id_ed25519" \
            -o UserKnownHostsFile="$E2E_DIR/h1/state/known_hosts" -o GlobalKnownHostsFile=/dev/null \
            -o StrictHostKeyChecking=yes -o BatchMode=yes "root@$1" "${@:2}"
    }
}

# e2e_cbsd_scripts HOST: what `vpcctl plan vpc1` renders for HOST (comments and nft lines left
# out) in $E2E_DIR/HOST.plan, split as CBSD's flow runs it: HOST.tunnels (creating the vxlan
# interfaces) and HOST.bridge (the rest).
e2e_cbsd_scripts() {
    local p="$E2E_DIR/$1.plan" tunnels='^ip link (add name vx|set dev vx[0-9]+ alias)'
    e2e_vpcctl h1 plan vpc1 --node "$1" | grep -v '^#' | grep -v '^nft ' > "$p"
    grep -E "$tunnels" "$p" > "$E2E_DIR/$1.tunnels"
    grep -vE "$tunnels" "$p" > "$E2E_DIR/$1.bridge"
}

# e2e_cut HOST / e2e_heal HOST: unplug / replug the host's underlay cable (its addresses stay).
e2e_cut() { ip -n "$(e2e_ns ul)" link set "$1" down; }
e2e_heal() { ip -n "$(e2e_ns ul)" link set "$1" up; }

# e2e_switch_drop RULE...: the underlay switch drops the frames each nftables bridge rule matches
# (e.g. 'iifname "h1" oifname "h3"': from h1 to h3) until e2e_switch_clear; links stay up.
e2e_switch_drop() {
    local r rules=""
    for r in "$@"; do rules="$rules    $r drop
"; done
    ip netns exec "$(e2e_ns ul)" nft -f - <<NFT
table bridge e2e {
  chain forward {
    type filter hook forward priority 0; policy accept;
$rules  }
}
NFT
}
e2e_switch_clear() { ip netns exec "$(e2e_ns ul)" nft delete table bridge e2e 2>/dev/null; true; }

# e2e_kill_all HOST: every process in HOST's network namespace but its sshd, SIGKILLed at once
# (a machine whose services all crash; the harness can still reach it to restart them). All are
# stopped first, so none can act on another's death (keepalived's VRRP child turns a SIGTERM from
# its parent's death into a clean hand-over when it runs between two kills).
e2e_kill_all() {
    local pids="" pid
    for pid in $(ip netns pids "$(e2e_ns "$1")"); do
        case "$(cat /proc/"$pid"/comm 2>/dev/null)" in sshd | sshd-session | "") ;; *) pids="$pids $pid" ;; esac
    done
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    kill -STOP $pids 2>/dev/null
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    true
}

# e2e_controller N: h1 is initialised as the controller and h2..hN are enrolled over IPv4 with
# the bootstrap key (for scenarios where enrolment is not the point).
e2e_controller() {
    local i h
    for i in $(seq 2 "$1"); do e2e_bootstrap_key "h$i"; done
    e2e_vpcctl h1 init --name h1 --address 10.77.0.1 >/dev/null || return 1
    for i in $(seq 2 "$1"); do
        h="h$i"
        e2e_vpcctl h1 node add "$h" "$(e2e_ip4 "$h")" --identity "$E2E_DIR/bootstrap" --yes \
            --remote-vpcctl "$VPCCTL_BIN" >/dev/null 2>&1 || { e2e_log "enrolling $h failed"; return 1; }
    done
}

e2e_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# e2e_holders_start VIP [HOSTS...]: the holder monitor (holders.py) samples every HOST (default:
# every host) for VIP every 5 ms and records each transition, into $E2E_HOLDERS (a new file each
# call); stopped by e2e_holders_stop or at teardown. e2e_holders ARGS: its analysis of that file
# (holders.py analyze), e.g. `e2e_holders --from T --value doubles`.
E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_HOLDERS=""
E2E_HOLDERS_PID=""
e2e_holders_start() {
    local vip=$1 h args="" n
    shift
    e2e_holders_stop
    for h in ${*:-$E2E_HOSTS}; do
        [ "$h" = ul ] || args="$args $h=$(e2e_ns "$h")"
    done
    n=$(ls "$E2E_DIR" | grep -c '^holders\.[0-9]*\.jsonl$')
    E2E_HOLDERS="$E2E_DIR/holders.$n.jsonl"
    rm -f "$E2E_DIR/holders.ready"
    # shellcheck disable=SC2086
    python3 "$E2E_LIB/holders.py" watch --vip "$vip" --out "$E2E_HOLDERS" \
        --ready "$E2E_DIR/holders.ready" $args &
    E2E_HOLDERS_PID=$!
    for _ in $(seq 1 200); do
        [ -e "$E2E_DIR/holders.ready" ] && return 0
        kill -0 "$E2E_HOLDERS_PID" 2>/dev/null || break
        sleep 0.02
    done
    e2e_log "the holder monitor did not start"
    return 1
}
e2e_holders_stop() {
    [ -n "$E2E_HOLDERS_PID" ] || return 0
    kill "$E2E_HOLDERS_PID" 2>/dev/null
    wait "$E2E_HOLDERS_PID" 2>/dev/null
    E2E_HOLDERS_PID=""
}
e2e_holders() { python3 "$E2E_LIB/holders.py" analyze "$E2E_HOLDERS" "$@"; }

e2e_pass() { printf 'PASS: %s\n' "$*"; }
e2e_fail() {
    printf 'FAIL: %s\n' "$*"
    E2E_FAILS=$((E2E_FAILS + 1))
}
# e2e_check DESCRIPTION CMD...: passes when CMD succeeds.
e2e_check() {
    local what=$1
    shift
    if "$@"; then e2e_pass "$what"; else e2e_fail "$what"; fi
}
# e2e_expect_fail DESCRIPTION CMD...: passes when CMD fails.
e2e_expect_fail() {
    local what=$1
    shift
    if "$@"; then e2e_fail "$what"; else e2e_pass "$what"; fi
}
e2e_contains() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }

e2e_finish() {
    if [ "$E2E_FAILS" -gt 0 ]; then
        printf '%s check(s) failed\n' "$E2E_FAILS"
        exit 1
    fi
    printf 'all checks passed\n'
    exit 0
}
