#!/bin/sh
# The test command: installs dependencies, builds, runs the unit tests and (as root, where network
# namespaces can be made; otherwise they are reported as skipped) the end-to-end tests.
# With VPCCTL_FREEBSD_CHECKER (the FreeBSD command checker) it lints the FreeBSD golden files.
# Under CI=true it also builds with -Werror, runs the unit and end-to-end tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer on), and runs every fuzzer for a
# bounded time.
#   scripts/test.sh [--unit-only]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
unit_only=0
[ "${1:-}" = "--unit-only" ] && unit_only=1
ci=0
[ "${CI:-}" = true ] && ci=1

"$top/scripts/install-deps.sh"
[ $ci = 1 ] && export VPCCTL_WERROR=1

echo "== build ($(date +%T))"
"$top/scripts/build.sh" "$top/build"

echo "== unit tests ($(date +%T))"
ctest --test-dir "$top/build" -L unit --output-on-failure -j 2

if [ -n "${VPCCTL_FREEBSD_CHECKER:-}" ]; then
    echo "== FreeBSD golden files against FreeBSD's grammar ($(date +%T))"
    "$top/scripts/check-freebsd-goldens.sh" "$VPCCTL_FREEBSD_CHECKER"
fi

sanitize=0
{ [ $ci = 1 ] || [ "${VPCCTL_SANITIZE:-0}" = 1 ]; } && sanitize=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if [ $sanitize = 1 ]; then
    echo "== unit tests under ASan+UBSan ($(date +%T))"
    VPCCTL_BUILD_TYPE=Debug "$top/scripts/build.sh" "$top/build-asan" -DVPCCTL_SANITIZE=ON \
        -DVPCCTL_BUILD_BENCH=OFF
    ctest --test-dir "$top/build-asan" -L unit --output-on-failure -j 2
fi

if [ $unit_only = 1 ]; then
    exit 0
fi
echo "== end-to-end tests ($(date +%T))"
ctest --test-dir "$top/build" -L e2e --output-on-failure
if [ $sanitize = 1 ]; then
    # The 32-host scale test runs in the release pass only: under the sanitizers it takes four
    # minutes and runs no code that the other tests do not run under them.
    echo "== end-to-end tests under ASan+UBSan (all but e2e_scale_test, run above without them) ($(date +%T))"
    ctest --test-dir "$top/build-asan" -L e2e -E '^e2e_scale_test$' --output-on-failure
fi
if [ $ci = 1 ] || [ "${VPCCTL_FUZZ_SECONDS:-}" != "" ]; then
    echo "== fuzzing ($(date +%T))"
    "$top/scripts/fuzz.sh" "${VPCCTL_FUZZ_SECONDS:-45}"
fi
echo "== all tests passed ($(date +%T))"
