#!/usr/bin/env bash
# run_robustness.sh HVGDB SAMPLES CASE
#
# Runs one case of robustness.py (clients that misbehave or leave at bad moments) inside gdb's
# embedded Python, which starts and checks the hvgdb processes itself.  SAMPLES is the build's
# samples folder (hello64.elf); the other guests are boot sectors the script writes.
#
# Environment in: E2E_GDB (default gdb), E2E_KEEP=1 keeps the work directory, E2E_KVM_DEVICE
# (default /dev/kvm) for testing the skip path, ROBUST_SCRIPT (default robustness.py; also
# network.py, whose cases use its helpers).
# Exit: 0 pass, 1 fail, 77 skipped (no usable /dev/kvm, no gdb, or a tool the case needs).
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 HVGDB SAMPLES CASE" >&2
    exit 1
fi
HVGDB=$1
SAMPLES=$2
CASE=$3
GDB=${E2E_GDB:-gdb}

. "$(dirname "$0")/preconditions.sh"
skip_without_kvm
skip_without_gdb "$GDB"
require_files "$HVGDB" "$SAMPLES/hello64.elf"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hvgdb-robust.XXXXXX")
cleanup() {
    if [ "${E2E_KEEP:-0}" = 1 ]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

SCRIPT=$(dirname "$0")/${ROBUST_SCRIPT:-robustness.py}
# The script bounds every wait itself; this outer limit only catches a wedged gdb.  It stays
# below ctest's TIMEOUT so that a hang is reported here, with the script's output.
E2E_GDB=$GDB ROBUST_HVGDB=$HVGDB ROBUST_SAMPLES=$SAMPLES ROBUST_CASE=$CASE ROBUST_WORK=$WORK \
    timeout -k 5 240 "$GDB" -nx -batch \
    -iex "python import sys; sys.dont_write_bytecode = True" \
    -x "$SCRIPT" </dev/null 2>&1
rc=$?
[ $rc -eq 124 ] && echo "FAILED: gdb did not finish within 240s"
[ $rc -eq 77 ] && exit 77  # the script said SKIPPED and why
[ $rc -eq 0 ] || exit 1
exit 0
