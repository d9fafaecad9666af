#!/usr/bin/env bash
# run_e2e.sh HVGDB IMAGE SCRIPT [hvgdb options...]
#
# Runs one end-to-end scenario: starts hvgdb on IMAGE with a free gdb port and the guest's
# serial output in a file, runs `gdb -batch -nx -x SCRIPT` against it (again for each
# "reattach" the script asks for), then checks what the script expects of hvgdb's exit code and
# the serial output.  SCRIPT "none" runs no gdb (use with --no-wait); then E2E_EXPECT_EXIT and
# E2E_EXPECT_SERIAL (lines separated by '|') say what to expect.
#
# Environment in: E2E_SCENARIO (passed to the script), E2E_SYMBOLS (ELF for gdb, default
# IMAGE), E2E_GDB (default gdb), E2E_KEEP=1 keeps the work directory, E2E_KVM_DEVICE (default
# /dev/kvm) for testing the skip path, E2E_DRIVER: a program that runs SCRIPT instead of gdb
# (`node` for tests/dap/), with the same environment and the same duties towards E2E_STATE.
# Exit: 0 pass, 1 fail, 77 skipped (no usable /dev/kvm, or no gdb).
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 HVGDB IMAGE SCRIPT [hvgdb options...]" >&2
    exit 1
fi
HVGDB=$1
IMAGE=$2
SCRIPT=$3
shift 3
GDB=${E2E_GDB:-gdb}

# KVM first: without it nothing below can pass.
. "$(dirname "$0")/preconditions.sh"
skip_without_kvm
[ "$SCRIPT" != none ] && skip_without_gdb "$GDB"
require_files "$HVGDB" "$IMAGE"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hvgdb-e2e.XXXXXX")
SERIAL=$WORK/serial.txt
STATE=$WORK/expect
HVGDB_ERR=$WORK/hvgdb.stderr
HVGDB_OUT=$WORK/hvgdb.stdout
: >"$STATE"
HVGDB_PID=

cleanup() {
    if [ -n "$HVGDB_PID" ] && kill -0 "$HVGDB_PID" 2>/dev/null; then
        kill "$HVGDB_PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$HVGDB_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$HVGDB_PID" 2>/dev/null
    fi
    if [ "${E2E_KEEP:-0}" = 1 ]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

show_file() {
    echo "---- $1 ----"
    if [ -s "$2" ]; then cat "$2"; echo; else echo "(empty)"; fi
}

fail() {
    echo "FAILED: $*"
    show_file "hvgdb stderr" "$HVGDB_ERR"
    show_file "hvgdb stdout" "$HVGDB_OUT"
    show_file "serial output" "$SERIAL"
    exit 1
}

: >"$HVGDB_ERR"
"$HVGDB" --gdb 127.0.0.1:0 --serial "file:$SERIAL" "$@" "$IMAGE" \
    </dev/null >"$HVGDB_OUT" 2>"$HVGDB_ERR" &
HVGDB_PID=$!
echo "started: $HVGDB --gdb 127.0.0.1:0 --serial file:$SERIAL $* $IMAGE (pid $HVGDB_PID)"

# Waits up to $1 seconds for hvgdb to exit; sets HVGDB_RC.
wait_for_hvgdb() {
    local deadline=$((SECONDS + $1))
    while kill -0 "$HVGDB_PID" 2>/dev/null; do
        if [ $SECONDS -ge $deadline ]; then
            return 1
        fi
        sleep 0.1
    done
    wait "$HVGDB_PID"
    HVGDB_RC=$?
    HVGDB_PID=
    return 0
}

if [ "$SCRIPT" = none ]; then
    echo "exit ${E2E_EXPECT_EXIT:?E2E_EXPECT_EXIT is required without a script}" >>"$STATE"
    if [ -n "${E2E_EXPECT_SERIAL:-}" ]; then
        IFS='|' read -r -a lines <<<"$E2E_EXPECT_SERIAL"
        for line in "${lines[@]}"; do echo "serial $line" >>"$STATE"; done
    fi
else
    # hvgdb prints "hvgdb: listening on 127.0.0.1:PORT" once it accepts connections.
    PORT=
    deadline=$((SECONDS + 15))
    while [ -z "$PORT" ]; do
        PORT=$(sed -n 's/^hvgdb: listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$HVGDB_ERR" |
            head -n 1)
        [ -n "$PORT" ] && break
        if ! kill -0 "$HVGDB_PID" 2>/dev/null; then
            wait "$HVGDB_PID"
            rc=$?
            HVGDB_PID=
            fail "hvgdb exited with code $rc before listening"
        fi
        [ $SECONDS -ge $deadline ] && fail "no 'hvgdb: listening on 127.0.0.1:PORT' line in 15s"
        sleep 0.05
    done
    echo "hvgdb listens on port $PORT"

    phase=1
    while :; do
        echo "==== gdb session $phase: $SCRIPT (scenario ${E2E_SCENARIO:-}) ===="
        if [ -n "${E2E_DRIVER:-}" ]; then
            driver=("$E2E_DRIVER" "$SCRIPT")
        else
            driver=("$GDB" -batch -nx
                -iex "python import sys; sys.dont_write_bytecode = True; sys.path.insert(0, '$(dirname "$SCRIPT")')"
                -x "$SCRIPT")
        fi
        E2E_PORT=$PORT E2E_IMAGE=$IMAGE E2E_SYMBOLS=${E2E_SYMBOLS:-$IMAGE} E2E_SERIAL=$SERIAL \
            E2E_STATE=$STATE E2E_PHASE=$phase E2E_SCENARIO=${E2E_SCENARIO:-} E2E_LOG=$HVGDB_ERR \
            E2E_HVGDB_PID=$HVGDB_PID timeout -k 5 90 "${driver[@]}" </dev/null 2>&1
        rc=$?
        [ $rc -eq 124 ] && fail "gdb session $phase timed out after 90s"
        [ $rc -ne 0 ] && fail "gdb session $phase exited with code $rc"
        grep -qx "pass $phase" "$STATE" || fail "gdb session $phase did not report success"
        if [ "$(grep -cx reattach "$STATE")" -ge $phase ]; then
            phase=$((phase + 1))
            continue
        fi
        break
    done
fi

echo "==== checks after the run ===="
expected_exit=$(sed -n 's/^exit //p' "$STATE" | tail -n 1)
[ -n "$expected_exit" ] || fail "the scenario expects no exit code (test bug)"
wait_for_hvgdb 30 || fail "hvgdb still runs 30s after the scenario, expected exit code $expected_exit"
[ "$HVGDB_RC" -eq "$expected_exit" ] ||
    fail "hvgdb exited with code $HVGDB_RC, expected $expected_exit"
echo "ok: hvgdb exited with code $HVGDB_RC"

while IFS= read -r line; do
    case $line in
    "serial "*)
        text=${line#serial }
        grep -qF -- "$text" "$SERIAL" 2>/dev/null || fail "serial output lacks '$text'"
        echo "ok: serial output contains '$text'"
        ;;
    "log "*)
        text=${line#log }
        grep -qF -- "$text" "$HVGDB_ERR" 2>/dev/null || fail "hvgdb's log lacks '$text'"
        echo "ok: hvgdb's log contains '$text'"
        ;;
    "no-serial "*)
        text=${line#no-serial }
        if grep -qF -- "$text" "$SERIAL" 2>/dev/null; then
            fail "serial output contains '$text', expected it not to"
        fi
        echo "ok: serial output lacks '$text'"
        ;;
    esac
done <"$STATE"
show_file "serial output" "$SERIAL"
echo "PASSED"
