#!/usr/bin/env bash
# Bounded libFuzzer run for CI (docs/architecture.md, "Tests": tests/fuzz/): each fuzzer runs for SECONDS
# (default 20) over a temporary copy of its seed corpus, two at a time. Fails on any crash,
# leak, timeout (>10 s per input) or OOM (>2 GB), printing the log tail and the reproducer.
#   tests/fuzz/run_smoke.sh [BUILD_DIR (default build-fuzz)] [SECONDS]
# Reproduce a failure with: BUILD_DIR/tests/fuzz/<name>_fuzzer <reproducer file>
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build-fuzz}" && pwd)
seconds=${2:-${FUZZ_SECONDS:-20}}
parallel=${FUZZ_PARALLEL:-2}
targets=(frame packet_header transport_parameters qpack connection qlog_reader)
work=$(mktemp -d "${TMPDIR:-/tmp}/quiver-fuzz.XXXXXX")
# libFuzzer handles leaks and aborts itself and writes the reproducer; keep ASan from
# aborting first (scripts/test sets abort_on_error for the unit tests).
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_one() {
    local name=$1 dir=$work/$1
    mkdir -p "$dir/corpus" "$dir/artifacts"
    cp "$root/tests/fuzz/corpus/$name/"* "$dir/corpus/"
    nice "$build/tests/fuzz/${name}_fuzzer" -seed=1 -max_total_time="$seconds" -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus" \
        >"$dir/log" 2>&1
    echo $? >"$dir/rc"
}

start=$(date +%s)
for name in "${targets[@]}"; do
    [ -x "$build/tests/fuzz/${name}_fuzzer" ] || { echo "missing ${name}_fuzzer in $build" >&2; exit 2; }
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
    run_one "$name" &
done
wait

failed=0
for name in "${targets[@]}"; do
    dir=$work/$name
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$')
    if [ "$(cat "$dir/rc")" = 0 ] && [ -z "$(ls -A "$dir/artifacts")" ]; then
        echo "fuzz: $name ok (${runs:-?} inputs in ${seconds} s)"
    else
        failed=1
        echo "fuzz: $name FAILED (exit $(cat "$dir/rc")); log $dir/log" >&2
        grep -v NEW_FUNC "$dir/log" | tail -n 60 >&2
        for a in "$dir/artifacts/"*; do
            [ -e "$a" ] && echo "reproducer: $a ($(od -An -tx1 -v "$a" | tr -d ' \n' | head -c 400))" >&2
        done
    fi
done
echo "fuzz: done in $(( $(date +%s) - start )) s"
if [ "$failed" = 0 ]; then rm -rf "$work"; else echo "fuzz: kept $work" >&2; fi
exit "$failed"
