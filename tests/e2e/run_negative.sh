#!/usr/bin/env bash
# run_negative.sh HVGDB CASE
#
# hvgdb must refuse bad command lines and bad images: exit code 2 and exactly one line on
# stderr, without waiting for a debugger.  CASE picks the input:
#   bad-option     an unknown option                  (needs no /dev/kvm)
#   bad-format     --format with an unknown value     (needs no /dev/kvm)
#   bad-memory     --memory with a non-size           (needs no /dev/kvm)
#   no-image       no IMAGE argument                  (needs no /dev/kvm)
#   missing-image  an IMAGE path that does not exist
#   empty-image    an empty file
#   garbage-elf    an ELF magic followed by garbage
#   bad-bootsector --format bootsector on 300 bytes without the 0x55AA signature
#   firmware-size  --format firmware on 1000 bytes (not whole 4 KiB pages)
#   firmware-memory --format firmware with RAM that reaches into the ROM below 4 GiB
#   firmware-entry --format firmware with --entry (the CPU starts at the reset vector)
# The image cases may need /dev/kvm if hvgdb opens it before reading the image: without it
# they are SKIPPED (77) unless hvgdb already gives the expected answer.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 HVGDB CASE" >&2
    exit 1
fi
HVGDB=$1
CASE=$2
[ -f "$HVGDB" ] || { echo "FAILED: $HVGDB does not exist (build the tree first)"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hvgdb-neg.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

needs_kvm=1
common=(--gdb 127.0.0.1:0 --no-wait --serial none)
case $CASE in
bad-option)
    printf 'x' >"$WORK/image.bin"
    args=(--no-such-option "$WORK/image.bin")
    needs_kvm=0
    ;;
bad-format)
    printf 'x' >"$WORK/image.bin"
    args=("${common[@]}" --format wat "$WORK/image.bin")
    needs_kvm=0
    ;;
bad-memory)
    printf 'x' >"$WORK/image.bin"
    args=("${common[@]}" --memory lots "$WORK/image.bin")
    needs_kvm=0
    ;;
no-image)
    args=("${common[@]}")
    needs_kvm=0
    ;;
missing-image)
    args=("${common[@]}" "$WORK/does-not-exist.bin")
    ;;
empty-image)
    : >"$WORK/empty.bin"
    args=("${common[@]}" "$WORK/empty.bin")
    ;;
garbage-elf)
    { printf '\177ELF\002\001\001'; head -c 200 /dev/zero | tr '\0' '\377'; } >"$WORK/garbage.elf"
    args=("${common[@]}" "$WORK/garbage.elf")
    ;;
bad-bootsector)
    head -c 300 /dev/zero >"$WORK/sector.bin"
    args=("${common[@]}" --format bootsector "$WORK/sector.bin")
    ;;
firmware-size)
    head -c 1000 /dev/zero >"$WORK/rom.bin"
    args=("${common[@]}" --format firmware "$WORK/rom.bin")
    ;;
firmware-memory)
    head -c 65536 /dev/zero >"$WORK/rom.bin"
    args=("${common[@]}" --format firmware --memory 4G "$WORK/rom.bin")
    ;;
firmware-entry)
    head -c 65536 /dev/zero >"$WORK/rom.bin"
    args=("${common[@]}" --format firmware --entry 0xf0000 "$WORK/rom.bin")
    ;;
*)
    echo "usage: unknown case $CASE" >&2
    exit 1
    ;;
esac

echo "running: $HVGDB ${args[*]}"
timeout -k 2 10 "$HVGDB" "${args[@]}" </dev/null >"$WORK/stdout" 2>"$WORK/stderr"
rc=$?
lines=$(grep -c . "$WORK/stderr")
echo "exit code $rc; stderr ($lines non-empty lines):"
cat "$WORK/stderr"

if [ $rc -eq 2 ] && [ "$lines" -eq 1 ]; then
    echo "PASSED"
    exit 0
fi
if [ $needs_kvm -eq 1 ] && { [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; }; then
    echo "SKIPPED: /dev/kvm is not available and hvgdb did not reject the image without it"
    exit 77
fi
[ $rc -eq 124 ] && echo "FAILED: hvgdb did not exit within 10s"
[ $rc -ne 2 ] && echo "FAILED: exit code $rc, expected 2"
[ "$lines" -ne 1 ] && echo "FAILED: $lines lines on stderr, expected exactly 1"
exit 1
