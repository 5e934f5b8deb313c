#!/bin/bash
# The demo: a real VPC across three namespace "hosts", each with its own sshd, deployed from one
# controller. Builds vpcctl, enrols h2 with a password and h3 over IPv6 with a bootstrap key,
# creates vpc1, deploys it, shows its health matrix and pings across the overlay.
#   scripts/demo.sh           run it and clean up
#   scripts/demo.sh --keep    leave the fabric up and print how to use and remove it
#   scripts/demo.sh --down    remove a fabric left by --keep
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export E2E_PREFIX=vpcdemo
keep=0
case "${1:-}" in
    --keep) keep=1 ;;
    --down)
        for ns in $(ip netns list | awk '{print $1}' | grep "^${E2E_PREFIX}"); do
            for pid in $(ip netns pids "$ns"); do kill -9 "$pid" 2>/dev/null; done
            ip netns del "$ns"
        done
        [ -f /tmp/vpcctl-demo.dir ] && rm -rf "$(cat /tmp/vpcctl-demo.dir)" /tmp/vpcctl-demo.dir
        echo "demo fabric removed"
        exit 0 ;;
    "") ;;
    *) echo "usage: scripts/demo.sh [--keep | --down]" >&2; exit 2 ;;
esac
if ip netns list 2>/dev/null | grep -q "^${E2E_PREFIX}"; then
    echo "a demo fabric is already up: remove it with scripts/demo.sh --down" >&2
    exit 1
fi

"$top/scripts/install-deps.sh" || exit 1
echo "building vpcctl..."
"$top/scripts/build.sh" "$top/build" >/dev/null || exit 1
export VPCCTL="$top/build/vpcctl"
. "$top/tests/e2e/lib.sh"
e2e_require
e2e_setup 3 h2
e2e_bootstrap_key h3
if [ $keep = 1 ]; then
    trap - EXIT
    echo "$E2E_DIR" > /tmp/vpcctl-demo.dir
fi

say() { printf '\n\033[1m## %s\033[0m\n' "$*"; }
rc=0
run() {
    printf '\n[h1]$ vpcctl %s\n' "$*"
    e2e_vpcctl h1 "$@" || { echo "demo: \`vpcctl $*\` failed" >&2; rc=1; }
}
say "Three hosts: h1 (the controller), h2 and h3, on an underlay 10.77.0.0/24 + fd77::/64, each with its own sshd"
run init --name h1 --address 10.77.0.1 --address fd77::1
say "Enrol h2 with its root password (read from a file, used once to install our public key)"
run node add h2 10.77.0.2 --password-file "$E2E_DIR/password" --yes --remote-vpcctl "$VPCCTL_BIN"
say "Enrol h3 over IPv6 with a bootstrap key, checking its host key fingerprint"
fp=$(ssh-keygen -lf "$E2E_DIR/h3/ssh_host_ed25519_key.pub" | awk '{print $2}')
run node add h3 fd77::3 --underlay fd77::3 --underlay 10.77.0.3 --identity "$E2E_DIR/bootstrap" \
    --fingerprint "$fp" --remote-vpcctl "$VPCCTL_BIN"
run node check
say "A VPC across all three: one tunnel per pair, each with its own VNI"
run vpc init vpc1 --peer-network 10.100.0.0/24 --members all
say "Deploy: push the map and converge every member, in parallel"
run vpc deploy vpc1
say "Health: drift and a ping matrix between overlay addresses"
run vpc status vpc1
say "A ping from h2 to h3 across the overlay (h2 -> h3 over the IPv4 underlay)"
printf '\n[h2]$ ping -c 3 10.100.0.3\n'
e2e_on h2 ping -c 3 -i 0.2 10.100.0.3 || rc=1
say "Deploying again changes nothing"
run vpc deploy vpc1
if [ $keep = 1 ]; then
    h1=$(cat "$E2E_DIR/h1/sshd.bgpid")
    say "The fabric stays up"
    cat <<TXT
Run vpcctl as the controller h1:
    nsenter --target $h1 --mount --net $VPCCTL_BIN vpc status vpc1
Run a command on a host (h1, h2, h3):
    ip netns exec ${E2E_PREFIX}h2 ping 10.100.0.1
Tear it all down:
    $top/scripts/demo.sh --down
TXT
else
    say "Cleaning up (use --keep to leave the fabric up)"
fi
exit $rc
