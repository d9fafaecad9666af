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
    -ex "ptype \$mxcsr" \
    -ex "ptype \$cs_attr" \
    -ex "ptype \$cr0" \
    -ex "ptype \$cr4" \
    -ex "ptype \$efer" \
    -ex "ptype \$dr7" \
    -ex "maint print reggroups" \
    -ex "maint print register-groups" > "$dir/out" 2>&1
cat "$dir/out"

fail() { echo "FAIL: $1"; exit 1; }
# at REG NR OFFSET: gdb took REG as remote register NR at OFFSET in the 'g' packet (the last
# two columns of `maint print remote-registers`).
at() {
    grep -qE "^ $1 .* $2 +$3 *\$" "$dir/out" || fail "$1 is not remote register $2 at g offset $3"
}
# gdb warns ("Could not load XML target description; ignoring", "unknown type") and falls
# back to its default when it does not take the description: any warning is a failure.
if grep -qiE "warning|error" "$dir/out"; then fail "gdb complained"; fi

case $arch in
x86-64)
    grep -q 'currently "i386:x86-64"' "$dir/out" || fail "architecture not i386:x86-64"
    for reg in rip eflags st7 fop xmm15 mxcsr fs_base gs_base; do
        grep -qE "^ $reg " "$dir/out" || fail "register $reg missing"
    done
    at rip 16 128
    at st0 24 164
    at gs_base 58 544
    # The system feature follows gdb's rows.
    at cs_base 59 552
    at cr0 87 692
    at efer 92 728
    at dr7 98 768
    at tsc 109 852
    ;;
i386 | i8086)
    grep -q "currently \"$arch\"" "$dir/out" || fail "architecture not $arch"
    for reg in eax eip eflags st0 xmm7 mxcsr; do
        grep -qE "^ $reg " "$dir/out" || fail "register $reg missing"
    done
    at eip 8 32
    at mxcsr 40 304
    # fs_base and gs_base open the system feature here (gdb's i386 code cannot take its
    # segments feature), then the same system rows as x86-64's.
    at fs_base 41 308
    at cs_base 43 324
    at cr0 71 464
    at efer 76 500
    at dr7 82 540
    at tsc 93 624
    ;;
esac
for reg in cs_base cs_limit cs_attr ldtr tr_attr gdtr_base idtr_limit cr2 cr3 cr8 dr0 dr6 \
    k_gs_base apic_base lstar sysenter_eip pat; do
    grep -qE "^ $reg " "$dir/out" || fail "register $reg missing"
done
# The flags types, as gdb parsed them.
grep -q 'flag x86_segment_attr' "$dir/out" || fail "cs_attr is not the x86_segment_attr flags type"
grep -qE 'uint32_t DPL @5-6;' "$dir/out" || fail "x86_segment_attr has no two-bit DPL field"
grep -q 'flag x86_cr0' "$dir/out" || fail "cr0 is not the x86_cr0 flags type"
grep -qE 'bool PG @31;' "$dir/out" || fail "x86_cr0 has no PG bit"
grep -qE 'bool OSFXSR @9;' "$dir/out" || fail "x86_cr4 has no OSFXSR bit"
grep -qE 'bool LMA @10;' "$dir/out" || fail "x86_efer has no LMA bit"
grep -qE 'LEN3 @30-31;' "$dir/out" || fail "x86_dr7 has no LEN3 field"
# The description puts them in the "system" group; gdb's x86 code assigns groups itself and
# lists them with the general registers (so `info registers` shows them).
grep -q '<reg name="cr0" bitsize="32" type="x86_cr0" regnum="[0-9]*" group="system"/>' \
    "$dir/target.xml" || fail "cr0 is not described in the system group"
grep -qE '^ cr0 .*[ ,]general' "$dir/out" || fail "gdb does not list cr0 with the registers"
grep -q 'flag i386_eflags' "$dir/out" || fail "eflags is not the i386_eflags flags type"
grep -q 'v4_float' "$dir/out" || fail "xmm0 is not the vec128 union"
grep -q 'flag i386_mxcsr' "$dir/out" || fail "mxcsr is not the i386_mxcsr flags type"
echo "gdb accepted the $arch description"
