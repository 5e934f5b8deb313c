#!/bin/sh
# Lints every FreeBSD golden file (plans, rc.conf output, commands) with a FreeBSD command checker
# for FreeBSD 13, 14 and 15: each must report 0 problems. FreeBSD cannot run here; the goldens are
# what vpcctl renders, and the checker walks them the way ifconfig(8) and network.subr do.
#   scripts/check-freebsd-goldens.sh CHECKER      (or VPCCTL_FREEBSD_CHECKER=CHECKER)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
checker=${1:-${VPCCTL_FREEBSD_CHECKER:-}}
if [ -z "$checker" ] || [ ! -f "$checker" ]; then
    echo "usage: $0 CHECKER (check-freebsd-cmds.py)" >&2
    exit 2
fi
failed=0
for release in 13 14 15; do
    for f in "$top"/tests/golden/freebsd/*; do
        if ! out=$(python3 "$checker" --release "$release" < "$f"); then
            echo "FreeBSD $release: $(basename "$f"):"
            echo "$out"
            failed=1
        fi
    done
done
[ $failed = 0 ] && echo "freebsd goldens: 0 problems for FreeBSD 13, 14 and 15"
exit $failed
