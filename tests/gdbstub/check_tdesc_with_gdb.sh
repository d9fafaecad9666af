#!/bin/sh
# Proves the real gdb accepts our target.xml: loads it with `set tdesc filename` and checks
# that gdb adopted it (no warning, the architecture and the registers as we described them).
# Usage: check_tdesc_with_gdb.sh <print_target_xml> <x86-64|i386|i8086> <skip-code>
set -eu
tool=$1 arch=$2 skip=$3

gdb_bin=$(command -v gdb || true)
if [ -z "$gdb_bin" ]; then
    echo "SKIPPED: gdb is not installed"
    exit "$skip"
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$tool" "$arch" > "$dir/target.xml"

"$gdb_bin" -nx -batch \
    -ex "set tdesc filename $dir/target.xml" \
    -ex "show architecture" \
    -ex "maint print remote-registers" \
    -ex "ptype \$eflags" \
    -ex "ptype \$xmm0" \
    -ex "ptype \$mxcsr" > "$dir/out" 2>&1
cat "$dir/out"

fail() { echo "FAIL: $1"; exit 1; }
# gdb warns ("Could not load XML target description; ignoring", "unknown type") and falls
# back to its default when it does not take the description: any warning is a failure.
if grep -qiE "warning|error" "$dir/out"; then fail "gdb complained"; fi

case $arch in
x86-64)
    grep -q 'currently "i386:x86-64"' "$dir/out" || fail "architecture not i386:x86-64"
    for reg in rip eflags st7 fop xmm15 mxcsr fs_base gs_base; do
        grep -qE "^ $reg " "$dir/out" || fail "register $reg missing"
    done
    # The last two columns are the remote register number and the offset in the 'g' packet.
    grep -qE '^ rip .* 16 +128 *$' "$dir/out" || fail "rip is not remote register 16 at g offset 128"
    grep -qE '^ st0 .* 24 +164 *$' "$dir/out" || fail "st0 is not remote register 24 at g offset 164"
    grep -qE '^ gs_base .* 58 +544 *$' "$dir/out" || fail "gs_base is not remote register 58 at g offset 544"
    ;;
i386 | i8086)
    grep -q "currently \"$arch\"" "$dir/out" || fail "architecture not $arch"
    for reg in eax eip eflags st0 xmm7 mxcsr; do
        grep -qE "^ $reg " "$dir/out" || fail "register $reg missing"
    done
    grep -qE '^ eip .* 8 +32 *$' "$dir/out" || fail "eip is not remote register 8 at g offset 32"
    grep -qE '^ mxcsr .* 40 +304 *$' "$dir/out" || fail "mxcsr is not remote register 40 at g offset 304"
    ;;
esac
grep -q 'flag i386_eflags' "$dir/out" || fail "eflags is not the i386_eflags flags type"
grep -q 'v4_float' "$dir/out" || fail "xmm0 is not the vec128 union"
grep -q 'flag i386_mxcsr' "$dir/out" || fail "mxcsr is not the i386_mxcsr flags type"
echo "gdb accepted the $arch description"
