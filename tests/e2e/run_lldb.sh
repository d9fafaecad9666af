#!/usr/bin/env bash
# run_lldb.sh VERSION UNPACKED HVGDB IMAGE SCRIPT [hvgdb options...]
#
# Runs one end-to-end scenario with lldb-VERSION, driven through lldb's Python module: finds
# the module, makes it importable in a work directory, and hands over to run_e2e.sh with
# python3 as the driver (E2E_DRIVER), which starts hvgdb and checks it as for gdb.
#
# The library is Debian's liblldb-VERSION.  The module's Python files are python3-lldb-VERSION's,
# installed, or unpacked below UNPACKED: python3-lldb-14 and python3-lldb-16 conflict, so apt
# installs one of them and ./dev.sh unpacks the other there (`dpkg -x`).
#
# Why a work directory: Debian 12's module does not import as installed ("cannot import name
# '_lldb'").  Its extension lldb/_lldb.cpython-311-x86_64-linux-gnu.so is a link to
# ../../../liblldb.so (python3-lldb-16; only liblldb-16-dev has that file) or to
# ../../../../../lib/liblldb.so (python3-lldb-14: /usr/lib/lib/liblldb.so, which no package
# has), and the one good link the package ships, _lldb.so in /usr/lib/llvm-VERSION/lib/python3/
# dist-packages/lldb, sits in a directory without the module's Python files.  The fix: an lldb/
# package in the work directory made of links to the module's files, and _lldb.so linked to
# liblldb-VERSION.so.1; PYTHONPATH points there.  Nothing outside the work directory changes.
#
# Exit: 0 pass, 1 fail, 77 skipped (no usable /dev/kvm, or lldb-VERSION is not installed).
set -u

if [ $# -lt 5 ]; then
    echo "usage: $0 VERSION UNPACKED HVGDB IMAGE SCRIPT [hvgdb options...]" >&2
    exit 1
fi
VERSION=$1
UNPACKED=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)

. "$HERE/preconditions.sh"
skip_without_kvm

# The first of the paths given that exists (globs that match nothing stay as they are).
first_existing() {
    local path
    for path in "$@"; do
        if [ -e "$path" ]; then
            echo "$path"
            return 0
        fi
    done
    return 1
}

HINT="./dev.sh test installs lldb-14 and lldb-16"
LIBRARY=$(first_existing /usr/lib/llvm-"$VERSION"/lib/liblldb.so.1 \
    "$UNPACKED"/usr/lib/llvm-"$VERSION"/lib/liblldb.so.1) || {
    echo "SKIPPED: lldb-$VERSION is not installed (no liblldb-$VERSION; $HINT)"
    exit 77
}
MODULE=$(first_existing /usr/lib/llvm-"$VERSION"/lib/python3*/*-packages/lldb/__init__.py \
    "$UNPACKED"/usr/lib/llvm-"$VERSION"/lib/python3*/*-packages/lldb/__init__.py) || {
    echo "SKIPPED: lldb-$VERSION's Python module is not installed (python3-lldb-$VERSION; $HINT)"
    exit 77
}
MODULE=$(dirname "$MODULE")

PYTHON_DIR=$(mktemp -d "${TMPDIR:-/tmp}/hvgdb-lldb.XXXXXX")
trap 'rm -rf "$PYTHON_DIR"' EXIT
mkdir "$PYTHON_DIR/lldb"
for entry in "$MODULE"/*; do
    case ${entry##*/} in
    _lldb*) ;;  # the broken link
    *) ln -s "$entry" "$PYTHON_DIR/lldb/" ;;
    esac
done
ln -s "$(readlink -f "$LIBRARY")" "$PYTHON_DIR/lldb/_lldb.so"
export PYTHONPATH=$PYTHON_DIR${PYTHONPATH:+:$PYTHONPATH}
export PYTHONDONTWRITEBYTECODE=1

if ! version=$(python3 -c 'import lldb; print(lldb.SBDebugger.GetVersionString())' 2>&1); then
    echo "FAILED: lldb-$VERSION's Python module ($MODULE) does not import: $version"
    exit 1
fi
echo "$version: module $MODULE, library $(readlink -f "$LIBRARY")"

E2E_DRIVER=python3 E2E_LLDB_VERSION=$VERSION "$HERE/run_e2e.sh" "$@"
