#!/bin/sh
# Line coverage of src/fabric (or of the layer named) by the unit tests alone, measured with gcov:
#   scripts/coverage.sh [LAYER]        (LAYER: fabric by default; model, plan, platform, ...)
# Builds the unit tests with --coverage into build-cov (a Debug build, -O0), runs them once, and
# prints each source file's lines executed and the total. Not part of CI: it takes a full build.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
layer=${1:-fabric}
dir="$top/build-cov"
VPCCTL_BUILD_TYPE=Debug "$top/scripts/build.sh" "$dir" -DCMAKE_CXX_FLAGS="--coverage -O0" \
    -DVPCCTL_BUILD_BENCH=OFF >/dev/null
find "$dir" -name '*.gcda' -delete
"$dir/vpcctl_unit_tests" --gtest_brief=1 >"$dir/coverage-run.log" 2>&1 || {
    tail -20 "$dir/coverage-run.log"
    echo "coverage: the unit tests failed" >&2
    exit 1
}
objects="$dir/CMakeFiles/vpcctl_core.dir/src/$layer"
echo "line coverage of src/$layer by the unit tests ($(grep '^\[  PASSED' "$dir/coverage-run.log" | sed 's/.*] //; s/\.$//')):"
for data in "$objects"/*.cc.gcda; do
    src="$top/src/$layer/$(basename "$data" .gcda)"
    gcov -n -o "$data" "$src" 2>/dev/null | grep -A1 "^File '$src'" | tail -1 |
        sed "s|^Lines executed:|$(basename "$src") |"
done | awk '{ split($2, p, "%"); n = $4; hit += p[1] * n / 100; all += n;
              printf "  %-18s %8s of %5d lines\n", $1, $2, n }
            END { if (all == 0) { print "  no data"; exit 1 }
                  printf "  %-18s %7.1f%% of %5d lines\n", "total", 100 * hit / all, all }'
