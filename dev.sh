#!/usr/bin/env bash
# hvgdb's one entry point for setup, build, demo and tests on Debian 12.
#   ./dev.sh demo       install what is missing, build, run hvgdb on the bundled sample
#   ./dev.sh test       install what is missing, build, run every test (unit, session, e2e)
#   ./dev.sh sanitize   unit and session tests built with ASan + UBSan
#   ./dev.sh format     check that the sources match .clang-format
set -euo pipefail
cd "$(dirname "$0")"

BUILD=${HVGDB_BUILD_DIR:-build}
PACKAGES=(cmake make g++ gdb binutils libasio-dev libcli11-dev libfmt-dev doctest-dev)

install_missing() {
    local missing=()
    for p in "${PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "dev.sh: installing ${missing[*]}" >&2
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

build() {  # build DIR [cmake args...]
    local dir=$1; shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j "$(nproc)"
}

# ctest, then one plain summary line: "tests: N passed, N failed, N skipped".
run_ctest() {  # run_ctest DIR [ctest args...]
    local dir=$1; shift
    local log; log=$(mktemp)
    local rc=0
    ctest --test-dir "$dir" --output-on-failure "$@" 2>&1 | tee "$log" || rc=$?
    [ "${PIPESTATUS[0]}" -ne 0 ] && rc=1
    local total failed skipped
    total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
    failed=$(sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
    skipped=$(grep -c '(Skipped)' "$log" || true)
    rm -f "$log"
    if [ -z "$total" ]; then
        echo "dev.sh: ctest printed no summary" >&2
        return 1
    fi
    echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
    [ "$skipped" -gt 0 ] && echo "(skipped tests say why above: look for SKIPPED)"
    return $rc
}

case "${1:-}" in
    demo)
        install_missing
        build "$BUILD"
        exec "$BUILD/app/hvgdb" "$BUILD/samples/hello64.elf"
        ;;
    test)
        install_missing
        build "$BUILD"
        run_ctest "$BUILD"
        ;;
    sanitize)
        install_missing
        build "$BUILD-asan" -DHVGDB_SANITIZE=ON -DHVGDB_SAMPLES=OFF
        ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest "$BUILD-asan"
        ;;
    format)
        install_missing clang-format
        files=$(git ls-files '*.cpp' '*.hpp' '*.c' '*.h')
        clang-format --dry-run --Werror $files
        echo "format: $(echo "$files" | wc -w) files match .clang-format"
        ;;
    *)
        sed -n '2,7p' "$0" >&2
        exit 2
        ;;
esac
