#!/usr/bin/env bash
# run_dap.sh MODE HVGDB SAMPLES SOURCE_DIR PACKAGES_DIR
#
# Runs dap_session.js, one Debug Adapter Protocol session through cdt-gdb-adapter, on the
# hello64 sample.  First installs the npm packages that package-lock.json pins into
# PACKAGES_DIR (in the build tree), once per lock file.  Then, by MODE:
#   attach  tests/e2e/run_e2e.sh starts hvgdb and runs the session with node (E2E_DRIVER);
#   launch  the session's adapter starts hvgdb itself.
# Exit: 0 pass, 1 fail, 77 skipped (no usable /dev/kvm; no gdb, node or npm; or npm could not
# install the packages).
set -u

if [ $# -ne 5 ]; then
    echo "usage: $0 attach|launch HVGDB SAMPLES SOURCE_DIR PACKAGES_DIR" >&2
    exit 1
fi
MODE=$1
HVGDB=$2
SAMPLES=$3
SOURCE_DIR=$4
PACKAGES=$5
HERE=$(cd "$(dirname "$0")" && pwd)
E2E=$SOURCE_DIR/tests/e2e

. "$E2E/preconditions.sh"
skip_without_kvm
skip_without_gdb gdb
skip_without_command node "./dev.sh test installs Debian's nodejs and npm"
skip_without_command npm "./dev.sh test installs Debian's nodejs and npm"
require_files "$HVGDB" "$SAMPLES/hello64.elf"

# npm ci once per package.json + package-lock.json; flock keeps dap.attach and dap.launch from
# installing at the same time.  --ignore-scripts: cdt-gdb-adapter's install script builds a
# pty addon with node-gyp (a compiler, python3 and Node's headers, which Debian's nodejs does
# not ship), and only its openGdbConsole option loads it; serialport's install script only
# looks for the prebuilt binary that its package ships and loads at run time anyway.
install_packages() {
    mkdir -p "$PACKAGES"
    exec 9>"$PACKAGES/.install-lock"
    flock 9
    local wanted
    wanted=$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$PACKAGES/.installed" 2>/dev/null)" != "$wanted" ]; then
        rm -f "$PACKAGES/.installed"
        cp "$HERE/package.json" "$HERE/package-lock.json" "$PACKAGES/"
        echo "npm ci --ignore-scripts in $PACKAGES (node $(node --version), npm $(npm --version))"
        if ! (cd "$PACKAGES" && timeout 300 npm ci --ignore-scripts --no-audit --no-fund) \
            >"$PACKAGES/npm-ci.log" 2>&1; then
            cat "$PACKAGES/npm-ci.log"
            echo "SKIPPED: npm ci could not install tests/dap's packages (npm's log above)"
            exit 77
        fi
        echo "$wanted" >"$PACKAGES/.installed"
    fi
    exec 9>&-
}
install_packages

export NODE_PATH=$PACKAGES/node_modules
export DAP_MODE=$MODE
export DAP_SOURCE=$SOURCE_DIR/samples/hello64/hello64.c
case $MODE in
attach)
    E2E_DRIVER=node exec "$E2E/run_e2e.sh" "$HVGDB" "$SAMPLES/hello64.elf" "$HERE/dap_session.js"
    ;;
launch)
    # In a process group of its own, so that an hvgdb the adapter leaves behind when the
    # session fails goes with it.
    E2E_HVGDB=$HVGDB E2E_IMAGE=$SAMPLES/hello64.elf \
        setsid timeout -k 5 120 node "$HERE/dap_session.js" </dev/null 2>&1 &
    pid=$!
    wait "$pid"
    rc=$?
    kill -- "-$pid" 2>/dev/null
    [ $rc -eq 124 ] && echo "FAILED: the session timed out after 120s"
    [ $rc -eq 0 ] && echo "PASSED"
    exit $rc
    ;;
*)
    echo "unknown mode $MODE (attach or launch)" >&2
    exit 1
    ;;
esac
