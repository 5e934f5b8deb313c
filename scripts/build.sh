#!/bin/sh
# Configures and builds vpcctl into a build directory.
#   scripts/build.sh [BUILD_DIR] [extra cmake args...]
# VPCCTL_WERROR=1 adds -Werror; CI sets it. The build is a unity build (sources compiled in
# batches, about half the time from scratch) unless VPCCTL_UNITY=0, which compiles file by file
# (and so shows a source that leans on a batch-mate's includes).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-"$top/build"}
[ $# -gt 0 ] && shift
werror=OFF
[ "${VPCCTL_WERROR:-0}" = 1 ] && werror=ON
unity=ON
[ "${VPCCTL_UNITY:-1}" = 0 ] && unity=OFF
cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE="${VPCCTL_BUILD_TYPE:-RelWithDebInfo}" \
    -DVPCCTL_WERROR="$werror" -DVPCCTL_UNITY="$unity" "$@" >/dev/null
cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)"
