#!/usr/bin/env bash
# Runs the fuzz targets of a libFuzzer build (./dev.sh fuzz builds one and calls this):
#   run_fuzz.sh BUILD_DIR [SECONDS] [--merge] [TARGET...]
# Each target (default: every one with a corpus in tests/fuzz/corpus/) runs SECONDS (default
# 30) on a scratch copy of its checked-in corpus, and one line per target says how many
# inputs ran, how fast, the coverage (edges) before and after, the inputs that added coverage,
# the peak memory and whether it crashed.  A crash's input is kept in
# BUILD_DIR/fuzz-artifacts/TARGET/ and its report printed; copy the input into the corpus once
# the bug is fixed.  --merge adds the inputs that found new coverage to the checked-in corpus
# (libFuzzer -merge=1).  Exits 1 when any target crashed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

build=$1
shift
seconds=30
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
merge=0
targets=()
for arg in "$@"; do
    if [ "$arg" = --merge ]; then merge=1; else targets+=("$arg"); fi
done
if [ ${#targets[@]} -eq 0 ]; then
    for dir in "$here"/corpus/*/; do targets+=("$(basename "$dir")"); done
fi

# Reports with function names and lines: the sanitizers look for llvm-symbolizer only where
# this says (any version will do; Debian's llvm-N packages have one).
symbolizer=$(compgen -c llvm-symbolizer | sort -V | tail -1)
if [ -n "$symbolizer" ]; then export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v "$symbolizer")}; fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# One limit for every target: no input may take 10 s, and no single allocation may reach
# 512 MiB (nothing should grow with a length a client or an image file gives).
limits=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512)

final_stat() {  # final_stat NAME LOG: a number from libFuzzer's -print_final_stats lines
    sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$2" | tail -1
}

work="$build/fuzz-work"
rm -rf "$work"
crashed=0
printf '%-17s %10s %7s %13s %5s %7s  %s\n' target runs exec/s "cov start>end" new rss result
for target in "${targets[@]}"; do
    exe="$build/tests/fuzz/fuzz_$target"
    if [ ! -x "$exe" ]; then
        echo "run_fuzz.sh: no fuzz target $exe" >&2
        crashed=1
        continue
    fi
    corpus="$work/$target"
    artifacts="$build/fuzz-artifacts/$target/"
    mkdir -p "$corpus" "$artifacts"
    cp "$here/corpus/$target/"* "$corpus/"
    dict=()
    case $target in codec | session | parse_*) dict=(-dict="$here/rsp.dict") ;; esac
    log="$work/$target.log"
    before=$(find "$artifacts" -type f | wc -l)
    "$exe" -max_total_time="$seconds" "${limits[@]}" -print_final_stats=1 \
        -artifact_prefix="$artifacts" "${dict[@]}" "$corpus" >"$log" 2>&1
    rc=$?
    start=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -1)
    end=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
    result=ok
    if [ $rc -ne 0 ] || [ "$(find "$artifacts" -type f | wc -l)" -ne "$before" ]; then
        crashed=1
        result="CRASH (exit $rc): $(ls -t "$artifacts" 2>/dev/null | head -1)"
    fi
    printf '%-17s %10s %7s %13s %5s %5sMB  %s\n' "$target" "$(final_stat number_of_executed_units "$log")" \
        "$(final_stat average_exec_per_sec "$log")" "${start:-?}>${end:-?}" \
        "$(final_stat new_units_added "$log")" "$(final_stat peak_rss_mb "$log")" "$result"
    if [ "$result" != ok ]; then
        grep -E -m 12 'ERROR|fuzz check failed|SUMMARY|#[0-9]+ 0x' "$log" | sed 's/^/    /'
        echo "    full log: $log"
    elif [ $merge -eq 1 ]; then
        "$exe" -merge=1 "${limits[@]}" "$here/corpus/$target" "$corpus" >>"$log" 2>&1 ||
            echo "    merge failed, see $log"
    fi
done
exit $crashed
