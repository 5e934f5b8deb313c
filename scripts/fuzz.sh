#!/bin/sh
# Builds the libFuzzer harnesses with clang (ASan + UBSan) into build-fuzz and runs each one for
# SECONDS (default 50) from its seed corpus, two at a time (one per core). Prints the executions per harness; fails on the first
# crash, leaving the input in build-fuzz/artifacts/ (add it to tests/fuzz/regressions/<target>/
# once fixed).
#   scripts/fuzz.sh [SECONDS]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-50}
"$top/scripts/install-deps.sh"
dir="$top/build-fuzz"
cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DVPCCTL_FUZZ=ON -DVPCCTL_UNITY=ON -DVPCCTL_BUILD_TESTS=OFF -DVPCCTL_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)" --target fuzz_addresses fuzz_linux_probe \
    fuzz_freebsd_ifconfig fuzz_map fuzz_known_hosts fuzz_wg_dump fuzz_apply_report \
    fuzz_status_report fuzz_key_report fuzz_import_report fuzz_vip_take_report \
    fuzz_vipd_message fuzz_vipd_config fuzz_probe_reply
mkdir -p "$dir/artifacts"
# One harness: its seed corpus and regressions, SECONDS of fuzzing; its line, or its log on a crash.
fuzz_one() {
    target=$1
    work="$dir/corpus/$target"
    rm -rf "$work" && mkdir -p "$work"
    cp "$top/tests/fuzz/corpus/$target/"* "$work/"
    if [ -d "$top/tests/fuzz/regressions/$target" ]; then
        cp "$top/tests/fuzz/regressions/$target/"* "$work/" 2>/dev/null || true
    fi
    log="$dir/$target.log"
    if ! "$dir/fuzz_$target" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
            -rss_limit_mb=2048 -artifact_prefix="$dir/artifacts/$target-" "$work" >"$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz: $target FAILED (input in $dir/artifacts/)" >&2
        return 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz: $target: $runs executions in ${secs} s, no crash"
}
# Each harness is one process on one core: two lanes at once, each harness still gets SECONDS.
lane() {
    for target in "$@"; do fuzz_one "$target" || return 1; done
}
lane addresses freebsd_ifconfig known_hosts apply_report key_report vip_take_report vipd_config &
first=$!
lane linux_probe map wg_dump status_report import_report vipd_message probe_reply &
second=$!
rc=0
wait "$first" || rc=1
wait "$second" || rc=1
exit $rc
