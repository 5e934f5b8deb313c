#!/bin/sh
# Configures and builds vpcctl into a build directory.
#   scripts/build.sh [BUILD_DIR] [extra cmake args...]
# VPCCTL_WERROR=1 adds -Werror; CI sets it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-"$top/build"}
[ $# -gt 0 ] && shift
werror=OFF
[ "${VPCCTL_WERROR:-0}" = 1 ] && werror=ON
cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE="${VPCCTL_BUILD_TYPE:-RelWithDebInfo}" \
    -DVPCCTL_WERROR="$werror" "$@" >/dev/null
cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)"
