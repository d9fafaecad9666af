#!/usr/bin/env bash
# run_negative.sh HVGDB CASE
#
# hvgdb must refuse bad command lines and bad images: exit code 2 and exactly one line on
# stderr that says what is wrong and where (the file, the segment or tag, the numbers),
# within seconds, without waiting for a debugger and without opening KVM: images are checked
# before the machine exists, so none of these cases needs /dev/kvm.  `run_negative.sh --list`
# prints the cases.
#
# Command lines:
#   bad-option bad-format bad-memory no-image   an unknown option, --format wat, --memory lots,
#                                               no IMAGE
#   remote-address host-name unix-no-path       --gdb 0.0.0.0:0 without --allow-remote,
#                                               --gdb with a host name, --gdb unix:
# Files that are no image:
#   missing-image empty-image directory-image device-image unreadable-image
#   huge-sparse-image    a 100 GiB sparse file: refused by its size, not read
# Bytes that are no image or not the forced format:
#   garbage-image bad-bootsector elf-forced-on-bootsector multiboot-forced-on-elf
#   bootsector-forced-on-elf
# ELF, Multiboot 1 and Multiboot2 images broken one way each (built by bad_images.py):
#   elf-cut-header elf-cut-phdrs elf-cut-segment elf-cut-shdrs garbage-elf elf-arm
#   elf-big-endian elf-class elf-rel elf-core elf-overlap elf-outside-ram elf-huge-memsz
#   elf-filesz-over-memsz elf-phnum-xnum elf-phentsize elf-no-load elf-entry-outside
#   mb1-load-end-below mb1-bss-huge mb1-entry-outside mb1-cut-fields mb1-unknown-flag
#   mb2-tag-size-zero mb2-tag-beyond-header mb2-no-end-tag mb2-architecture mb2-entry-outside
# Raw images, firmware and modules:
#   raw-no-load-addr raw-outside-ram raw-larger-than-ram firmware-size firmware-too-large
#   firmware-memory firmware-entry module-missing module-too-large module-on-plain-elf
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
CASES=(bad-option bad-format bad-memory no-image remote-address host-name unix-no-path
    missing-image empty-image directory-image device-image unreadable-image huge-sparse-image
    garbage-image bad-bootsector elf-forced-on-bootsector multiboot-forced-on-elf
    bootsector-forced-on-elf
    elf-cut-header elf-cut-phdrs elf-cut-segment elf-cut-shdrs garbage-elf elf-arm
    elf-big-endian elf-class elf-rel elf-core elf-overlap elf-outside-ram elf-huge-memsz
    elf-filesz-over-memsz elf-phnum-xnum elf-phentsize elf-no-load elf-entry-outside
    mb1-load-end-below mb1-bss-huge mb1-entry-outside mb1-cut-fields mb1-unknown-flag
    mb2-tag-size-zero mb2-tag-beyond-header mb2-no-end-tag mb2-architecture mb2-entry-outside
    raw-no-load-addr raw-outside-ram raw-larger-than-ram firmware-size firmware-too-large
    firmware-memory firmware-entry module-missing module-too-large module-on-plain-elf)

if [ "${1:-}" = --list ]; then
    printf '%s\n' "${CASES[@]}"
    exit 0
fi
if [ $# -ne 2 ]; then
    echo "usage: $0 HVGDB CASE (or --list)" >&2
    exit 1
fi
HVGDB=$1
CASE=$2
[ -f "$HVGDB" ] || { echo "FAILED: $HVGDB does not exist (build the tree first)"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hvgdb-neg.XXXXXX")
trap 'chmod -R u+rwx "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT

common=(--gdb 127.0.0.1:0 --no-wait --serial none)
IMG=$WORK/image.bin
# gen KIND [PATH]: a malformed image from bad_images.py (default PATH: $IMG).
gen() {
    python3 "$HERE/bad_images.py" "$1" "${2:-$IMG}" || { echo "FAILED: bad_images.py $1"; exit 1; }
}
# image ARGS... EXPECT: hvgdb ARGS $IMG, whose error must read "image file '$IMG': EXPECT...".
image() {
    local n=$#
    expect="image file '$IMG': ${!n}"
    args=("${common[@]}" "${@:1:n-1}" "$IMG")
}

expect=""
case $CASE in
bad-option)
    printf 'x' >"$IMG"
    args=(--no-such-option "$IMG")
    ;;
bad-format)
    printf 'x' >"$IMG"
    args=("${common[@]}" --format wat "$IMG")
    ;;
bad-memory)
    printf 'x' >"$IMG"
    args=("${common[@]}" --memory lots "$IMG")
    ;;
no-image)
    args=("${common[@]}")
    ;;
remote-address)
    printf 'x' >"$IMG"
    args=(--gdb 0.0.0.0:0 --no-wait --serial none "$IMG")
    expect="--gdb 0.0.0.0:0: not a loopback address, and whoever can reach it could read and write guest memory and run code in the guest; pass --allow-remote to listen there anyway"
    ;;
host-name)
    printf 'x' >"$IMG"
    args=(--gdb example.com:1234 --allow-remote --no-wait --serial none "$IMG")
    expect="'example.com:1234': 'example.com' is not an IPv4 address"
    ;;
unix-no-path)
    printf 'x' >"$IMG"
    args=(--gdb unix: --no-wait --serial none "$IMG")
    expect="--gdb unix: needs a socket path, as in unix:PATH"
    ;;
missing-image)
    IMG=$WORK/does-not-exist.bin
    image "cannot open: No such file or directory"
    ;;
empty-image)
    : >"$IMG"
    image "is empty"
    ;;
directory-image)
    IMG=$WORK/dir
    mkdir "$IMG"
    image "is a directory"
    ;;
device-image)
    IMG=/dev/zero
    image "is a character device, not a file"
    ;;
unreadable-image)
    if [ "$(id -u)" -eq 0 ]; then
        # root reads any file: /proc/self/mem is a "regular file" whose offset 0 is unmapped.
        IMG=/proc/self/mem
        image "cannot read: Input/output error"
    else
        gen plain-elf
        chmod 000 "$IMG"
        image "cannot open: Permission denied"
    fi
    ;;
huge-sparse-image)
    truncate -s 100G "$IMG"
    image "100 GiB is more than the 1 GiB limit for an image file"
    ;;
garbage-image)
    gen garbage
    image "cannot tell the image format of 1000 bytes: not ELF, no boot signature; use --format raw --load-addr ADDR"
    ;;
bad-bootsector)
    head -c 600 /dev/zero >"$IMG"
    image --format bootsector "not a boot sector: bytes 510-511 are 00 00, not 55 AA"
    ;;
elf-forced-on-bootsector)
    gen boot-sector
    image --format elf "not an ELF image: it does not start with the magic 7f 45 4c 46"
    ;;
multiboot-forced-on-elf)
    gen plain-elf
    image --format multiboot "no Multiboot header in the image of 376 bytes"
    ;;
bootsector-forced-on-elf)
    gen plain-elf
    image --format bootsector "a boot sector needs 512 bytes ending in 55 AA; the image has 376 bytes"
    ;;
elf-cut-header)
    gen "$CASE"
    image "ELF64 header truncated: the image has 40 bytes, the header needs 64"
    ;;
elf-cut-phdrs)
    gen "$CASE"
    image "ELF program headers (2 entries of 56 bytes at offset 0x40) extend beyond the image of 100 bytes"
    ;;
elf-cut-segment)
    gen "$CASE"
    image "ELF segment 0: file bytes at offset 0x78 size 0x100 extend beyond the image of 375 bytes"
    ;;
elf-cut-shdrs)
    gen "$CASE"
    image "ELF section headers (3 entries of 64 bytes at offset 0x1c0) extend beyond the image of 639 bytes: the file is cut short"
    ;;
garbage-elf)
    { printf '\177ELF\002\001\001'; head -c 200 /dev/zero | tr '\0' '\377'; } >"$IMG"
    image "ELF type 65535 is not an executable; need ET_EXEC (2) or ET_DYN (3)"
    ;;
elf-arm)
    gen "$CASE"
    image "ELF32 image is for machine 40 (EM_ARM), expected 3 (EM_386)"
    ;;
elf-big-endian)
    gen "$CASE"
    image "ELF image is big-endian (EI_DATA 2); x86 images are little-endian"
    ;;
elf-class)
    gen "$CASE"
    image "ELF class 3 is neither ELFCLASS32 (1) nor ELFCLASS64 (2)"
    ;;
elf-rel)
    gen "$CASE"
    image "ELF type 1 (ET_REL, a relocatable object file) is not an executable"
    ;;
elf-core)
    gen "$CASE"
    image "ELF type 4 (ET_CORE, a core dump) is not an executable"
    ;;
elf-overlap)
    gen "$CASE"
    image "ELF segments 0 and 1 overlap: 0x100000..0x100100 and 0x1000ff..0x1001ff"
    ;;
elf-outside-ram)
    gen "$CASE"
    image --memory 16M "ELF segment 1 at 0x10000000 size 0x100 ends beyond RAM (16 MiB)"
    ;;
elf-huge-memsz)
    gen "$CASE"
    image "ELF segment 1 at 0x200000 size 0xffffffffffffffff wraps around the address space"
    ;;
elf-filesz-over-memsz)
    gen "$CASE"
    image "ELF segment 1: p_filesz 0x10 is larger than p_memsz 0x8"
    ;;
elf-phnum-xnum)
    gen "$CASE"
    image "ELF image uses extended program header numbering (e_phnum 0xffff), which is not supported"
    ;;
elf-phentsize)
    gen "$CASE"
    image "ELF64 e_phentsize 32 is smaller than a 56-byte program header"
    ;;
elf-no-load)
    gen "$CASE"
    image "ELF image has no loadable segments (no PT_LOAD with p_memsz > 0)"
    ;;
elf-entry-outside)
    gen "$CASE"
    image "ELF entry 0x300000 is not inside any PT_LOAD segment"
    ;;
mb1-load-end-below)
    gen "$CASE"
    image "Multiboot load_end_addr 0x1000 is below load_addr 0x100000"
    ;;
mb1-bss-huge)
    gen "$CASE"
    image "Multiboot kernel at 0x100000..0xffffffff ends beyond RAM (128 MiB) or 4 GiB"
    ;;
mb1-entry-outside)
    gen "$CASE"
    image "Multiboot entry_addr 0x200000 is outside the kernel (0x100000..0x101000)"
    ;;
mb1-cut-fields)
    gen "$CASE"
    image "Multiboot header at offset 0x0 sets flags bit 16 but the image ends before its address fields (28 bytes, need 32)"
    ;;
mb1-unknown-flag)
    gen "$CASE"
    image "Multiboot header at offset 0x0 (flags 0x00010008) requires flags bit 3, which hvgdb cannot honour"
    ;;
mb2-tag-size-zero)
    gen "$CASE"
    image "Multiboot2 header tag at offset 0x10 (type 42) has size 0, which is below 8 or extends beyond the header's 32 bytes"
    ;;
mb2-tag-beyond-header)
    gen "$CASE"
    image "Multiboot2 header tag at offset 0x10 (type 42) has size 4096, which is below 8 or extends beyond the header's 32 bytes"
    ;;
mb2-no-end-tag)
    gen "$CASE"
    image "Multiboot2 header at offset 0x0 has header_length 16, which does not fit a header with an end tag"
    ;;
mb2-architecture)
    gen "$CASE"
    image "Multiboot2 header at offset 0x0 is for architecture 4, not i386 (0)"
    ;;
mb2-entry-outside)
    gen "$CASE"
    image "Multiboot entry address tag 0x100400 is outside the kernel (0x100000..0x100400)"
    ;;
raw-no-load-addr)
    gen garbage
    image --format raw "a raw image of 1000 bytes needs a load address (--load-addr ADDR)"
    ;;
raw-outside-ram)
    gen garbage
    image --memory 16M --load-addr 0xfffff0 "raw image of 1000 bytes at 0xfffff0 ends beyond RAM (16 MiB)"
    ;;
raw-larger-than-ram)
    truncate -s 2M "$IMG"
    image --memory 1M --format raw --load-addr 0 "2 MiB is more than the guest's RAM (1 MiB), which a raw image must fit in"
    ;;
firmware-size)
    head -c 1000 /dev/zero >"$IMG"
    image --format firmware "a firmware image is a whole number of 4 KiB pages"
    ;;
firmware-too-large)
    truncate -s 32M "$IMG"
    image --format firmware "32 MiB is more than the 16 MiB limit for a firmware ROM"
    ;;
firmware-memory)
    head -c 65536 /dev/zero >"$IMG"
    image --format firmware --memory 4G "RAM (4 GiB) reaches into the firmware at 0xffff0000..0xffffffff"
    ;;
firmware-entry)
    head -c 65536 /dev/zero >"$IMG"
    image --format firmware --entry 0xf0000 "--entry does not apply to a firmware image"
    ;;
module-missing)
    gen plain-elf
    args=("${common[@]}" --module "$WORK/no-such-module" "$IMG")
    expect="module file '$WORK/no-such-module': cannot open: No such file or directory"
    ;;
module-too-large)
    gen plain-elf
    truncate -s 2G "$WORK/big-module"
    args=("${common[@]}" --memory 16M --module "$WORK/big-module" "$IMG")
    expect="module file '$WORK/big-module': 2 GiB is more than the guest's RAM (16 MiB), which a module must fit in"
    ;;
module-on-plain-elf)
    gen plain-elf
    printf 'module' >"$WORK/module"
    image --module "$WORK/module" "--cmdline and --module apply to Multiboot kernels only, and this is an ELF image"
    ;;
*)
    echo "usage: unknown case $CASE" >&2
    exit 1
    ;;
esac

echo "running: $HVGDB ${args[*]}"
start=$(date +%s)
timeout -k 2 10 "$HVGDB" "${args[@]}" </dev/null >"$WORK/stdout" 2>"$WORK/stderr"
rc=$?
seconds=$(($(date +%s) - start))
lines=$(grep -c . "$WORK/stderr")
echo "exit code $rc after ${seconds}s; stderr ($lines non-empty lines):"
cat "$WORK/stderr"

failed=0
[ $rc -eq 124 ] && { echo "FAILED: hvgdb did not exit within 10s"; failed=1; }
[ $rc -ne 2 ] && { echo "FAILED: exit code $rc, expected 2"; failed=1; }
[ "$lines" -ne 1 ] && { echo "FAILED: $lines lines on stderr, expected exactly 1"; failed=1; }
# A bad image must be refused at once, not after reading gigabytes.
[ "$seconds" -gt 3 ] && { echo "FAILED: took ${seconds}s, expected at most 3"; failed=1; }
if [ -n "$expect" ] && ! grep -qF -- "hvgdb: $expect" "$WORK/stderr"; then
    echo "FAILED: stderr does not contain: hvgdb: $expect"
    failed=1
fi
[ $failed -eq 0 ] && echo "PASSED"
exit $failed
