#!/bin/sh
# Builds the Debian package the Debian way from a clean copy of the tree (`dpkg-buildpackage -us
# -uc -b`, nothing from build/ carried over) and checks what it holds: /usr/sbin/vpcctl, the man
# page, the systemd unit (naming /usr/sbin/vpcctl, enabled by the maintainer scripts), the
# completions and the schemas; the real library dependencies; and no /usr/local path inside the
# binary (its default search PATH is the prefix's and the system's; FreeBSD's devd directory
# follows the node's own prefix). Runs lintian when it is installed and prints its tags.
#   check_deb.sh SOURCE_DIR [OUT_DIR]     (OUT_DIR keeps the .deb; default: a scratch directory)
set -eu
src=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/vpcctl-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "check_deb: $*" >&2; exit 1; }
for tool in dpkg-buildpackage dh dpkg-deb; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (apt-get install debhelper devscripts)"
done

# A clean checkout: the files git tracks, as they are in the working tree.
mkdir "$work/vpcctl"
(cd "$src" && git ls-files -z | xargs -0 tar cf -) | tar xf - -C "$work/vpcctl"
(cd "$work/vpcctl" && DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck" dpkg-buildpackage -us -uc -b) \
    > "$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "dpkg-buildpackage failed"; }
deb=$(ls "$work"/vpcctl_*.deb)
echo "check_deb: built $(basename "$deb")"

dpkg-deb -c "$deb" | awk '{print $6}' > "$work/contents"
for f in ./usr/sbin/vpcctl ./usr/share/man/man8/vpcctl.8.gz ./lib/systemd/system/vpcctl.service \
         ./usr/share/bash-completion/completions/vpcctl ./usr/share/zsh/vendor-completions/_vpcctl \
         ./usr/share/vpcctl/schema/fabric-map.schema.json ./usr/share/doc/vpcctl/copyright; do
    grep -qx "$f" "$work/contents" || fail "the package lacks $f"
done
if grep -q '^\./usr/local' "$work/contents"; then fail "the package installs under /usr/local"; fi
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libssh-4 libsqlite3-0 libssl3 libstdc++6; do
    case "$depends" in *"$lib"*) ;; *) fail "Depends lacks $lib: $depends" ;; esac
done
echo "check_deb: Depends: $depends"

mkdir "$work/root" "$work/control"
dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"
grep -q '^ExecStart=/usr/sbin/vpcctl apply --local$' "$work/root/lib/systemd/system/vpcctl.service" ||
    fail "the unit does not run /usr/sbin/vpcctl"
grep -q 'deb-systemd-helper' "$work/control/postinst" || fail "postinst does not enable the unit"
bad=$(strings "$work/root/usr/sbin/vpcctl" | grep '/usr/local' || true)
[ -z "$bad" ] || fail "the binary holds /usr/local paths: $bad"
strings "$work/root/usr/sbin/vpcctl" | grep -qx '/usr/sbin/vpcctl' ||
    fail "the binary does not name its installed path /usr/sbin/vpcctl"
[ "$("$work/root/usr/sbin/vpcctl" --version)" = "vpcctl $(dpkg-deb -f "$deb" Version)" ] ||
    fail "the packaged vpcctl --version does not say the package's version"
echo "check_deb: /usr/sbin/vpcctl, man page, unit (enabled by postinst), completions, schemas;" \
     "no /usr/local path in the binary"
if command -v lintian >/dev/null 2>&1; then
    lintian --tag-display-limit 0 --display-info "$deb" > "$work/lintian" 2>&1 || true
    echo "check_deb: lintian: $(grep -c '^[EW]:' "$work/lintian") error or warning tag(s)"
    sed 's/^/  /' "$work/lintian"
fi
if [ -n "${2:-}" ]; then mkdir -p "$2" && cp "$deb" "$2/" && echo "check_deb: kept $2/$(basename "$deb")"; fi
