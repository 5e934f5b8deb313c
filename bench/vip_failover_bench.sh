#!/bin/bash
# VIP failover and split brain, keepalived against vpcctl vipd, in one run. Three namespace hosts
# on one switch (lib.sh's underlay bridge), the VIP on all three (h1 preferred, then h2, h3), its
# holders sampled on every host every 5 ms (tests/e2e/holders.py). For each contender:
#   isolated: the switch drops everything to and from the holder, then forwards again (its own
#             link stays up: pulling the cable would tell keepalived on eth0 through the carrier,
#             and a failure one hop further away does not);
#   SIGKILL:  every process on the holder but its sshd is SIGKILLed at once (keepalived: parent
#             and VRRP child; vipd: vpcctl vipd and wireguard-go), then restarted;
#   partial:  h1<->h3 cut both ways at the switch (bridge nftables), both still reach h2, 10 s.
# Failover = from the event to the first instant another host holds the VIP; "old kept" = how
# long after the event the old holder still had it (keepalived never lets it go: "never" means
# until the heal). TRIALS (default 10) per event.
#
#                 netns ul: bridge "ul" (nftables bridge filter: isolation, partial partition)
#        +------------------+------------------+
#        h1 10.77.0.1       h2 10.77.0.2       h3 10.77.0.3
#   keepalived: the VIP 10.77.0.250/24 on eth0 (the switch is the shared segment)
#   vipd:       vpc1 (encrypted, over the switch), the VIP 10.100.0.250 on bridge vpc1
#
# With BASELINE_VPCCTL=<a vpcctl from before issue 12>, contender "old" is that vpcctl's own VIPs
# (keepalived VRRPv3, 100 ms adverts, its quorum script) on the same fabric as vipd.
#
#   VPCCTL=build/vpcctl [TRIALS=10] [BASELINE_VPCCTL=old/vpcctl] bench/vip_failover_bench.sh \
#       [kv2] [kv3] [vipd] [old]
top=$(cd "$(dirname "$0")/.." && pwd)
export VPCCTL=${VPCCTL:-$top/build/vpcctl}
NEW_VPCCTL=$VPCCTL
. "$top/tests/e2e/lib.sh"
e2e_require
command -v keepalived >/dev/null || e2e_skip "keepalived is not installed (scripts/install-deps.sh)"
legs=${*:-kv2 kv3 vipd${BASELINE_VPCCTL:+ old}}
trials=${TRIALS:-10}
hosts="h1 h2 h3"

holds() { ip -n "$(e2e_ns "$1")" -o addr show 2>/dev/null | grep -q " $VIP/"; }
holders() { local out="" h; for h in $hosts; do holds "$h" && out="$out $h"; done; echo "${out# }"; }
# settle EXPECTED SECONDS: until exactly EXPECTED holds the VIP, unchanged for a second.
settle() {
    local since="" i
    for i in $(seq 1 $(( $2 * 20 ))); do
        if [ "$(holders)" = "$1" ]; then
            [ -z "$since" ] && since=$i
            [ $(( i - since )) -ge 20 ] && return 0
        else
            since=""
        fi
        sleep 0.05
    done
    echo "  (holders '$(holders)', expected '$1' for a second)" >&2
    return 1
}
# until_other HOST SECONDS: until a host other than HOST holds the VIP.
until_other() {
    local i h
    for i in $(seq 1 $(( $2 * 100 ))); do
        for h in $hosts; do [ "$h" != "$1" ] && holds "$h" && return 0; done
        sleep 0.01
    done
    return 1
}

# ---- keepalived on eth0, the VIP on the switch's segment.
ka_conf() {  # HOST VERSION ADVERT_S
    local prio=$(( 210 - 10 * ${1#h} ))
    cat <<CONF
global_defs {
  vrrp_version $2
  script_user root
  enable_script_security
}
vrrp_instance bench {
  state BACKUP
  interface eth0
  virtual_router_id 50
  priority $prio
  advert_int $3
  virtual_ipaddress {
    $VIP/24 dev eth0
  }
}
CONF
}
ka_start() {
    local d="$E2E_DIR/$1"
    rm -f "$d/ka.pid" "$d/ka-vrrp.pid"
    e2e_on "$1" keepalived --vrrp --use-file "$d/keepalived.conf" --pid "$d/ka.pid" \
        --vrrp_pid "$d/ka-vrrp.pid" >/dev/null 2>&1
}
ka_setup() {  # VERSION ADVERT_S
    local h
    for h in $hosts; do
        ka_conf $h "$1" "$2" > "$E2E_DIR/$h/keepalived.conf"
        ka_start $h
    done
}
ka_restart() {  # after SIGKILL the address stays behind: take it away, then start again
    e2e_on "$1" ip addr del "$VIP/24" dev eth0 2>/dev/null
    ka_start "$1"
}

# ---- vpcctl: the lib.sh fabric, vpc1 on all three, the VIP on all three.
vipd_setup() {
    e2e_controller 3 || return 1
    e2e_vpcctl h1 vpc init vpc1 --peer-network 10.100.0.0/24 --members all >/dev/null || return 1
    e2e_vpcctl h1 vip add vpc1 $VIP --vhid 1 --nodes h1,h2,h3 >/dev/null || return 1
    e2e_vpcctl h1 vpc deploy vpc1 >/dev/null || return 1
}
vipd_restart() { e2e_vpcctl h1 vpc deploy vpc1 >/dev/null 2>&1; }

# trial KIND RESTART_FN: one event on h1, the failover measured by the monitor, then the heal.
trial() {
    local kind=$1 restart=$2 t fo rel
    settle h1 20 || return 1
    t=$(e2e_now_ms)
    case $kind in
    iso) e2e_switch_drop 'iifname "h1"' 'oifname "h1"' ;;
    kill) e2e_kill_all h1 ;;
    esac
    until_other h1 15
    sleep 2  # long enough to see the old holder's lease or lifetime run out
    fo=$(e2e_holders --event "$t" --value failover_ms)
    rel=$(e2e_holders --event "$t" --value released_ms)
    [ "$rel" = none ] && rel=never
    case $kind in
    iso) e2e_switch_clear ;;
    kill) $restart h1 ;;
    esac
    echo "$fo $rel"
}

# stats VALUES...: "min median max" (or "- - -")
stats() { printf '%s\n' "$@" | sort -n | awk 'NF {a[++n]=$1} END {if (n) print a[1], a[int((n+1)/2)], a[n]; else print "- - -"}'; }

declare -A row
run_leg() {
    local leg=$1 name restart i fo rel kind t t_end d n kept cols=""
    case $leg in
    kv2) name="keepalived VRRPv2, advert 1 s"; VIP=10.77.0.250 ;;
    kv3) name="keepalived VRRPv3, advert 100 ms"; VIP=10.77.0.250 ;;
    vipd) name="vpcctl vipd, lease 1350 ms"; VIP=10.100.0.250 ;;
    old) name="vpcctl before leases (keepalived)"; VIP=10.100.0.250 ;;
    *) echo "unknown contender $leg (kv2, kv3, vipd, old)"; exit 2 ;;
    esac
    VPCCTL_SRC=$NEW_VPCCTL
    if [ $leg = old ]; then
        [ -n "${BASELINE_VPCCTL:-}" ] || { echo "old: set BASELINE_VPCCTL to a vpcctl from before issue 12"; return; }
        VPCCTL_SRC=$BASELINE_VPCCTL
    fi
    e2e_setup 3
    case $leg in
    kv2) ka_setup 2 1; restart=ka_restart ;;
    kv3) ka_setup 3 0.1; restart=ka_restart ;;
    old) vipd_setup || exit 1; restart=vipd_restart ;;
    vipd)
        if ! e2e_vpcctl h1 --help | grep -qE '^  vipd '; then
            row[$leg]=$(printf '%-34s %s' "$name" "(this vpcctl has no vipd)")
            e2e_teardown
            return
        fi
        vipd_setup || { row[$leg]=$(printf '%-34s %s' "$name" "(setup failed)"); e2e_teardown; return; }
        restart=vipd_restart
        ;;
    esac
    e2e_holders_start "$VIP" || exit 1
    echo "== $name" >&2
    for kind in iso kill; do
        local fos=() rels=() never=0
        settle h1 20
        t=$(e2e_now_ms)
        for i in $(seq 1 "$trials"); do
            read -r fo rel <<< "$(trial $kind $restart)"
            echo "  $kind trial $i: failover ${fo:-?} ms, old holder kept it ${rel:-?} ms" >&2
            [ -n "$fo" ] && [ "$fo" != none ] && fos+=("$fo")
            case ${rel:-never} in never) never=$((never + 1)) ;; *) rels+=("$rel") ;; esac
        done
        settle h1 20
        sleep 0.3  # the monitor writes its samples at least every 200 ms
        d=$(e2e_holders --from "$t" --to "$(e2e_now_ms)" --value doubles)
        kept=$(stats "${rels[@]}" | cut -d' ' -f2)
        [ $never -gt 0 ] && kept="never:$never"
        # shellcheck disable=SC2046
        cols="$cols$(printf '%5s %6s %5s %2s %8s %6s  ' $(stats "${fos[@]}") ${#fos[@]} "$kept" "$d")"
    done
    settle h1 20
    t=$(e2e_now_ms)
    e2e_switch_drop 'iifname "h1" oifname "h3"' 'iifname "h3" oifname "h1"'
    sleep 10
    t_end=$(e2e_now_ms)
    e2e_switch_clear
    sleep 0.5
    d=$(e2e_holders --from "$t" --to "$t_end" --value doubles)
    n=$(e2e_holders --from "$t" --to "$t_end" --value samples)
    echo "  partial partition:" >&2
    e2e_holders --from "$t" --to "$t_end" >&2
    row[$leg]=$(printf '%-34s %s %6s / %s' "$name" "$cols" "$d" "$n")
    e2e_teardown
}

for leg in $legs; do run_leg "$leg"; done
echo
echo "VIP failover, $trials trials per event: ms from the event to another host holding the VIP (min median max, n trials"
echo "that failed over); old: ms the old holder kept it (median; never:N, N trials it kept it until the heal);"
echo "2x: samples (every host every 5 ms) with two holders, over all trials and heals"
printf '%-34s %-38s %-38s %s\n' "" "holder isolated" "holder SIGKILLed" "partial partition 10 s"
printf '%-34s %5s %6s %5s %2s %8s %6s  %5s %6s %5s %2s %8s %6s  %s\n' "" min median max n old 2x min median max n old 2x "2x / samples"
for leg in $legs; do echo "${row[$leg]}"; done
