#!/usr/bin/env bash
# hvgdb's one entry point for setup, build, demo and tests on Debian 12.
#   ./dev.sh demo       install what is missing, build, run hvgdb on the bundled sample
#   ./dev.sh test       install what is missing, build, run every test (unit, session, e2e)
#   ./dev.sh sanitize   unit and session tests built with ASan + UBSan
#   ./dev.sh format     check that the sources match .clang-format
#   ./dev.sh fuzz [SECONDS] [--merge] [TARGET...]  libFuzzer targets, ASan + UBSan, 30 s each
set -euo pipefail
cd "$(dirname "$0")"

BUILD=${HVGDB_BUILD_DIR:-build}
PACKAGES=(cmake make g++ gdb binutils libasio-dev libcli11-dev libfmt-dev doctest-dev)

installed() {  # installed PACKAGE: whether dpkg has it installed
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

as_root() {
    if [ "$(id -u)" -ne 0 ]; then sudo "$@"; else "$@"; fi
}

install_missing() {
    local missing=()
    for p in "${PACKAGES[@]}" "$@"; do
        installed "$p" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "dev.sh: installing ${missing[*]}" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# The Debian packages for the missing commands among "command:package" pairs.  tests/dap needs
# node and npm; a Node.js installed another way, with its own npm (which conflicts with
# Debian's npm package), serves as well.
packages_for_missing_commands() {
    local pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null || echo "${pair#*:}"
    done
}

# lldb-14 and lldb-16 for tests/e2e/check_lldb.py.  Each needs its python3-lldb package, and
# python3-lldb-14 and python3-lldb-16 conflict, so apt installs one lldb (16, unless 14 is
# there already) and, for the other, its library (liblldb-N, no conflict); that version's lldb
# and python3-lldb packages are unpacked into $BUILD/lldb (apt-get download, dpkg -x), where
# tests/e2e/run_lldb.sh looks for them.  Nothing installed is removed.
# A failed download leaves that version's tests to say SKIPPED.
install_lldb() {
    local version
    for version in 16 14; do
        installed "lldb-$version" && continue
        if ! dpkg-query -W -f='${Status}\n' 'python3-lldb-*' 2>/dev/null |
            grep -q "install ok installed"; then
            install_missing "lldb-$version" ||
                echo "dev.sh: could not install lldb-$version; its tests will say SKIPPED" >&2
            continue
        fi
        install_missing "liblldb-$version" || {
            echo "dev.sh: could not install liblldb-$version; its tests will say SKIPPED" >&2
            continue
        }
        [ -x "$BUILD/lldb/usr/lib/llvm-$version/bin/lldb" ] && continue
        echo "dev.sh: unpacking lldb-$version into $BUILD/lldb" >&2
        unpack_packages "$BUILD/lldb" "lldb-$version" "python3-lldb-$version" ||
            echo "dev.sh: could not download lldb-$version; its tests will say SKIPPED" >&2
    done
}

unpack_packages() {  # unpack_packages DIR PACKAGE...: apt-get download, then dpkg -x into DIR
    local dir=$1; shift
    local debs
    debs=$(mktemp -d)
    # A fresh machine may have no package lists yet.
    if ! (cd "$debs" && apt-get download -qq "$@" 2>/dev/null); then
        as_root apt-get update -qq
        (cd "$debs" && apt-get download -qq "$@" 2>/dev/null) || { rm -rf "$debs"; return 1; }
    fi
    mkdir -p "$dir"
    local deb
    for deb in "$debs"/*.deb; do dpkg -x "$deb" "$dir"; done
    rm -rf "$debs"
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
        # Optional test tools: a failed install leaves their tests to say SKIPPED.
        mapfile -t node_packages < <(packages_for_missing_commands node:nodejs npm:npm)
        install_missing "${node_packages[@]}" ||
            echo "dev.sh: could not install ${node_packages[*]}; the DAP tests will say SKIPPED" >&2
        install_lldb
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
    fuzz)
        # clang 19 and its libFuzzer; tests/fuzz/libfuzzer.cmake says why that version.
        install_missing clang-19 libclang-rt-19-dev
        cmake -S . -B "$BUILD-fuzz" -C tests/fuzz/libfuzzer.cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            >/dev/null
        cmake --build "$BUILD-fuzz" -j "$(nproc)" --target fuzz_targets
        tests/fuzz/run_fuzz.sh "$BUILD-fuzz" "${@:2}"
        ;;
    *)
        sed -n '2,7p' "$0" >&2
        exit 2
        ;;
esac
