#!/bin/sh
# What vpcctl installs beside its binary, checked with the ecosystem's own tools:
#   - the systemd unit: `systemd-analyze verify` (its ExecStart pointed at this build's binary,
#     its Documentation= man page found in this build);
#   - the rc.d scripts: `sh -n`, and both run the installed binary;
#   - the man page: `mandoc -Tlint -W warning` prints nothing, and it documents every command and
#     option of the CLI (tests/tools/check_man.py over `vpcctl completion json`);
#   - the generated completions: `bash -n` (and `zsh -n` where zsh is installed);
#   - `make install` into a scratch root holds the binary, the page, the unit, the completions,
#     the schemas and the licence, and the FreeBSD port's pkg-plist lists the same files.
#   check_dist.sh SOURCE_DIR BUILD_DIR VPCCTL
set -eu
src=$1 build=$2 vpcctl=$3
tmp=$(mktemp -d /tmp/vpcctl-dist.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check_dist: $*" >&2; exit 1; }

unit=$build/dist/vpcctl.service
program=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")
[ -n "$program" ] || fail "$unit has no ExecStart"
sed "s|$program|$vpcctl|g" "$unit" > "$tmp/vpcctl.service"
mkdir -p "$tmp/man/man8"
cp "$src/dist/vpcctl.8" "$tmp/man/man8/"
out=$(MANPATH=$tmp/man systemd-analyze verify "$tmp/vpcctl.service" 2>&1) ||
    fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
echo "check_dist: systemd-analyze verify: clean"

for script in vpcctl vpcctl_vipd; do
    sh -n "$build/dist/rc.d/$script" || fail "rc.d script $script: sh -n failed"
done
grep -q "^vpcctl_program=\"$program\"$" "$build/dist/rc.d/vpcctl" ||
    fail "rc.d script vpcctl does not run the installed $program"
grep -q "^command_args=\".* $program --state-dir " "$build/dist/rc.d/vpcctl_vipd" ||
    fail "rc.d script vpcctl_vipd does not run the installed $program"
echo "check_dist: rc.d scripts: sh -n clean"

out=$(mandoc -Tlint -W warning "$src/dist/vpcctl.8" 2>&1) || true
[ -z "$out" ] || fail "mandoc -Tlint -W warning: $out"
echo "check_dist: mandoc -Tlint -W warning: clean"
"$vpcctl" completion json > "$tmp/tree.json"
python3 "$src/tests/tools/check_man.py" "$tmp/tree.json" "$src/dist/vpcctl.8"

bash -n "$build/completions/vpcctl.bash" || fail "bash -n of the bash completion failed"
"$vpcctl" completion bash | cmp -s - "$build/completions/vpcctl.bash" ||
    fail "$build/completions/vpcctl.bash is not what this vpcctl generates"
# The bash completion completes: subcommands, then options of the command typed so far.
got=$(bash -c '. "$1"; COMP_WORDS=(vpcctl vpc member a); COMP_CWORD=3; _vpcctl; echo "${COMPREPLY[*]}"' \
    _ "$build/completions/vpcctl.bash")
[ "$got" = "add" ] || fail "bash completion of 'vpcctl vpc member a' gave '$got', not 'add'"
got=$(bash -c '. "$1"; COMP_WORDS=(vpcctl vpc init v1 --pee); COMP_CWORD=4; _vpcctl; echo "${COMPREPLY[*]}"' \
    _ "$build/completions/vpcctl.bash")
[ "$got" = "--peer-network" ] || fail "bash completion of 'vpc init v1 --pee' gave '$got'"
if command -v zsh >/dev/null 2>&1; then
    zsh -n "$build/completions/_vpcctl" || fail "zsh -n of the zsh completion failed"
    echo "check_dist: completions: bash -n, zsh -n clean; bash completes commands and options"
else
    echo "check_dist: completions: bash -n clean, bash completes; zsh is not installed: zsh -n NOT RUN"
fi

DESTDIR=$tmp/root cmake --install "$build" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
for f in sbin/vpcctl share/man/man8/vpcctl.8 lib/systemd/system/vpcctl.service \
         share/bash-completion/completions/vpcctl share/zsh/site-functions/_vpcctl \
         share/vpcctl/schema/fabric-map.schema.json share/doc/vpcctl/LICENSE; do
    [ -e "$tmp/root$prefix/$f" ] || fail "make install did not install $prefix/$f"
done
echo "check_dist: make install: binary, man page, unit, completions, schemas, licence"

# The FreeBSD port's pkg-plist lists what make install installs (but the systemd unit, Linux's;
# the port installs the rc.d script itself through USE_RC_SUBR, and compresses the man page).
(cd "$tmp/root$prefix" && find . -type f | sed 's|^\./||' | grep -v '^lib/systemd/' | sort) > "$tmp/installed"
sed -e 's|%%DATADIR%%|share/vpcctl|' -e 's|%%DOCSDIR%%|share/doc/vpcctl|' -e 's|\.gz$||' \
    "$src/dist/freebsd/pkg-plist" | sort > "$tmp/plist"
diff "$tmp/plist" "$tmp/installed" > "$tmp/plist.diff" ||
    fail "dist/freebsd/pkg-plist (<) differs from what make install installs (>): $(cat "$tmp/plist.diff")"
echo "check_dist: dist/freebsd/pkg-plist lists what make install installs"
