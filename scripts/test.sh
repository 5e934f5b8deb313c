#!/bin/sh
# The test command: installs dependencies, builds, runs the unit tests, and (as root, where
# network namespaces can be made) the end-to-end tests. Under CI=true it also builds with -Werror
# and runs the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
#   scripts/test.sh [--unit-only]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
unit_only=0
[ "${1:-}" = "--unit-only" ] && unit_only=1

"$top/scripts/install-deps.sh"
if [ "${CI:-}" = true ]; then
    export VPCCTL_WERROR=1
fi

echo "== build"
"$top/scripts/build.sh" "$top/build"

echo "== unit tests"
ctest --test-dir "$top/build" -L unit --output-on-failure -j 2

if [ "${CI:-}" = true ] || [ "${VPCCTL_SANITIZE:-0}" = 1 ]; then
    echo "== unit tests under ASan+UBSan"
    VPCCTL_BUILD_TYPE=Debug "$top/scripts/build.sh" "$top/build-asan" -DVPCCTL_SANITIZE=ON \
        -DVPCCTL_BUILD_BENCH=OFF
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir "$top/build-asan" -L unit --output-on-failure -j 2
fi

if [ "$unit_only" = 1 ]; then
    exit 0
fi
if [ -d "$top/tests/e2e" ] && ls "$top"/tests/e2e/*_test.sh >/dev/null 2>&1; then
    echo "== end-to-end tests"
    ctest --test-dir "$top/build" -L e2e --output-on-failure
fi
echo "== all tests passed"
