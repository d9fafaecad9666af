#!/usr/bin/env python3
"""bad_images.py KIND PATH: writes one malformed guest image of KIND to PATH.

The images for run_negative.sh: truncated files, wrong machine, class, byte order and type,
overlapping or absurd segments, and broken Multiboot 1 and 2 headers.  Each starts from a
small valid image and breaks one thing, so the error hvgdb gives names exactly that thing.
Facts from the System V gABI (ELF header, program header) and the Multiboot 0.6.96 and
Multiboot2 2.0 specifications.  `bad_images.py --list` prints the kinds.
"""
import struct
import sys

ELF64_HEADER, ELF64_PHDR = 64, 56
ELF32_HEADER, ELF32_PHDR = 52, 32
PT_LOAD, PT_NOTE = 1, 4
ET_REL, ET_EXEC, ET_CORE = 1, 2, 4
EM_386, EM_ARM, EM_X86_64 = 3, 40, 62

MB1_MAGIC = 0x1BADB002
MB2_MAGIC = 0xE85250D6


def elf(segments, is64=True, entry=0x100000, e_type=ET_EXEC, machine=None, shdrs=0):
    """An executable: header, program headers, then each segment's bytes.  A segment is
    (paddr, data, memsz) or (paddr, data, memsz, p_type).  `shdrs` section headers (all zero)
    go at the end of the file, where linkers put them."""
    header, phdr = (ELF64_HEADER, ELF64_PHDR) if is64 else (ELF32_HEADER, ELF32_PHDR)
    machine = machine if machine is not None else (EM_X86_64 if is64 else EM_386)
    offset = header + len(segments) * phdr
    table, data = b"", b""
    for seg in segments:
        paddr, payload, memsz = seg[:3]
        p_type = seg[3] if len(seg) > 3 else PT_LOAD
        if is64:
            table += struct.pack("<IIQQQQQQ", p_type, 7, offset, paddr, paddr, len(payload),
                                 memsz, 0x1000)
        else:
            table += struct.pack("<IIIIIIII", p_type, offset, paddr, paddr, len(payload), memsz,
                                 7, 0x1000)
        offset += len(payload)
        data += payload
    shentsize = 64 if is64 else 40
    shoff = offset if shdrs else 0
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 1, 1]) + bytes(9)
    if is64:
        fields = struct.pack("<HHIQQQIHHHHHH", e_type, machine, 1, entry, header, shoff, 0,
                             header, phdr, len(segments), shentsize, shdrs, 0)
    else:
        fields = struct.pack("<HHIIIIIHHHHHH", e_type, machine, 1, entry, header, shoff, 0,
                             header, phdr, len(segments), shentsize, shdrs, 0)
    return ident + fields + table + data + bytes(shdrs * shentsize)


def two_segments(**kwargs):
    """The base ELF: code at 1 MiB, data with BSS at 2 MiB, and section headers."""
    return elf([(0x100000, b"\xf4" * 0x100, 0x100), (0x200000, b"\x11" * 0x10, 0x100)],
               shdrs=3, **kwargs)


def patch(image, offset, fmt, value):
    image = bytearray(image)
    struct.pack_into(fmt, image, offset, value)
    return bytes(image)


def phdr_field(index, field_offset):
    return ELF64_HEADER + index * ELF64_PHDR + field_offset


P_PADDR, P_FILESZ, P_MEMSZ = 24, 32, 40


def multiboot1(fields, size=0x300, flags=0x10003):
    """A flat a.out-kludge kernel: header at offset 0 with the five address fields
    (header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr)."""
    image = bytearray(b"\xf4" * size)
    struct.pack_into("<III", image, 0, MB1_MAGIC, flags, (-(MB1_MAGIC + flags)) & 0xFFFFFFFF)
    struct.pack_into("<5I", image, 12, *fields)
    return bytes(image)


def multiboot2(tags, size=0x300, architecture=0, length=None):
    """A Multiboot2 header at offset 0: the tags as (type, flags, size, payload) with the size
    written as given (so it can lie), each padded to 8 bytes, then an end tag."""
    body = b""
    for tag_type, flags, tag_size, payload in tags:
        tag = struct.pack("<HHI", tag_type, flags, tag_size) + payload
        body += tag + bytes(-len(tag) % 8)
    body += struct.pack("<HHI", 0, 0, 8)
    length = 16 + len(body) if length is None else length
    checksum = (-(MB2_MAGIC + architecture + length)) & 0xFFFFFFFF
    header = struct.pack("<IIII", MB2_MAGIC, architecture, length, checksum) + body
    return header + b"\xf4" * (size - len(header))


def address_tag(header_addr, load_addr, load_end, bss_end):
    return (2, 0, 24, struct.pack("<4I", header_addr, load_addr, load_end, bss_end))


def entry_tag(entry):
    return (3, 0, 12, struct.pack("<I", entry))


KINDS = {
    # ELF: truncated at each layer.
    "elf-cut-header": lambda: two_segments()[:40],
    "elf-cut-phdrs": lambda: two_segments()[:100],
    "elf-cut-segment": lambda: elf([(0x100000, b"\xf4" * 0x100, 0x100)])[:-1],
    "elf-cut-shdrs": lambda: two_segments()[:-1],
    # ELF: another machine, class, byte order or type.
    "elf-arm": lambda: two_segments(is64=False, machine=EM_ARM),
    "elf-big-endian": lambda: patch(two_segments(), 5, "<B", 2),
    "elf-class": lambda: patch(two_segments(), 4, "<B", 3),
    "elf-rel": lambda: two_segments(e_type=ET_REL),
    "elf-core": lambda: two_segments(e_type=ET_CORE),
    # ELF: segments that cannot be loaded.
    "elf-overlap": lambda: patch(two_segments(), phdr_field(1, P_PADDR), "<Q", 0x1000FF),
    "elf-outside-ram": lambda: patch(two_segments(), phdr_field(1, P_PADDR), "<Q", 0x10000000),
    "elf-huge-memsz": lambda: patch(two_segments(), phdr_field(1, P_MEMSZ), "<Q", 2**64 - 1),
    "elf-filesz-over-memsz": lambda: patch(two_segments(), phdr_field(1, P_MEMSZ), "<Q", 8),
    "elf-phnum-xnum": lambda: patch(two_segments(), 56, "<H", 0xFFFF),
    "elf-phentsize": lambda: patch(two_segments(), 54, "<H", 32),
    "elf-no-load": lambda: elf([(0, b"note", 4, PT_NOTE)]),
    "elf-entry-outside": lambda: two_segments(entry=0x300000),
    # Multiboot 1 a.out kludge address fields.
    "mb1-load-end-below": lambda: multiboot1([0x100000, 0x100000, 0x1000, 0, 0x100020]),
    "mb1-bss-huge": lambda: multiboot1([0x100000, 0x100000, 0x100300, 0xFFFFFFFF, 0x100020]),
    "mb1-entry-outside": lambda: multiboot1([0x100000, 0x100000, 0x100300, 0x101000, 0x200000]),
    "mb1-cut-fields": lambda: multiboot1([0x100000, 0x100000, 0, 0, 0x100020])[:28],
    "mb1-unknown-flag": lambda: multiboot1([0x100000, 0x100000, 0, 0, 0x100020],
                                           flags=0x10000 | 0x8),
    # Multiboot2 header tags.
    "mb2-tag-size-zero": lambda: multiboot2([(42, 1, 0, b"")]),
    "mb2-tag-beyond-header": lambda: multiboot2([(42, 1, 0x1000, b"")]),
    "mb2-no-end-tag": lambda: multiboot2([], length=16),
    "mb2-architecture": lambda: multiboot2([], architecture=4),
    "mb2-entry-outside": lambda: multiboot2(
        [address_tag(0x100000, 0x100000, 0x100300, 0x100400), entry_tag(0x100400)]),
    # No format at all.
    "garbage": lambda: bytes((i * 37 + 11) & 0xFF for i in range(1000)),
    "boot-sector": lambda: b"\xf4" * 510 + b"\x55\xaa",
    "plain-elf": lambda: elf([(0x100000, b"\xf4" * 0x100, 0x100)]),
}


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(KINDS))
        return 0
    if len(sys.argv) != 3 or sys.argv[1] not in KINDS:
        print(f"usage: {sys.argv[0]} KIND PATH (KIND one of: {' '.join(KINDS)})",
              file=sys.stderr)
        return 1
    with open(sys.argv[2], "wb") as out:
        out.write(KINDS[sys.argv[1]]())
    return 0


if __name__ == "__main__":
    sys.exit(main())
