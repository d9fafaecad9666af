// Builds test images byte by byte: ELF64/ELF32 executables with chosen program headers, boot
// sectors, raw blobs and Multiboot kernels, plus little-endian patch helpers for the malformed
// cases.
#pragma once

#include <cstdint>
#include <vector>

namespace hvgdb::loader::test {

using Bytes = std::vector<std::uint8_t>;

inline void put(Bytes& image, std::size_t offset, std::uint64_t value, int size) {
    for (int i = 0; i < size; ++i)
        image.at(offset + i) = static_cast<std::uint8_t>(value >> (8 * i));
}

struct TestSegment {
    std::uint64_t vaddr = 0, paddr = 0;
    Bytes data;               // file bytes (p_filesz = data.size())
    std::uint64_t memsz = 0;  // 0: same as data.size()
    std::uint32_t type = 1;   // PT_LOAD
};

struct ElfSpec {
    bool is64 = true;
    std::uint64_t entry = 0x100000;
    std::vector<TestSegment> segments;
    std::uint16_t type = 2;  // ET_EXEC
};

// ELF64 header 64 bytes, program header 56; ELF32 header 52, program header 32.
inline std::size_t elf_header_size(bool is64) {
    return is64 ? 64 : 52;
}
inline std::size_t elf_phdr_size(bool is64) {
    return is64 ? 56 : 32;
}
inline std::size_t elf_phdr_offset(bool is64, std::size_t index) {
    return elf_header_size(is64) + index * elf_phdr_size(is64);
}

// Header, program headers right after it, then each segment's bytes in order.
inline Bytes build_elf(const ElfSpec& spec) {
    const bool w = spec.is64;
    const int a = w ? 8 : 4;  // address size
    std::size_t data_offset = elf_phdr_offset(w, spec.segments.size());
    std::size_t total = data_offset;
    for (const auto& s : spec.segments) total += s.data.size();
    Bytes image(total, 0);

    image[0] = 0x7f, image[1] = 'E', image[2] = 'L', image[3] = 'F';
    image[4] = w ? 2 : 1;  // EI_CLASS
    image[5] = 1;          // EI_DATA: little-endian
    image[6] = 1;          // EI_VERSION
    put(image, 16, spec.type, 2);
    put(image, 18, w ? 62 : 3, 2);  // e_machine
    put(image, 20, 1, 4);           // e_version
    put(image, 24, spec.entry, a);
    put(image, w ? 32 : 28, elf_header_size(w), a);  // e_phoff
    put(image, w ? 52 : 40, elf_header_size(w), 2);  // e_ehsize
    put(image, w ? 54 : 42, elf_phdr_size(w), 2);    // e_phentsize
    put(image, w ? 56 : 44, spec.segments.size(), 2);

    for (std::size_t i = 0; i < spec.segments.size(); ++i) {
        const auto& s = spec.segments[i];
        const std::size_t ph = elf_phdr_offset(w, i);
        const std::uint64_t memsz = s.memsz ? s.memsz : s.data.size();
        put(image, ph, s.type, 4);
        put(image, ph + (w ? 8 : 4), data_offset, a);      // p_offset
        put(image, ph + (w ? 16 : 8), s.vaddr, a);         // p_vaddr
        put(image, ph + (w ? 24 : 12), s.paddr, a);        // p_paddr
        put(image, ph + (w ? 32 : 16), s.data.size(), a);  // p_filesz
        put(image, ph + (w ? 40 : 20), memsz, a);          // p_memsz
        for (std::size_t j = 0; j < s.data.size(); ++j) image[data_offset + j] = s.data[j];
        data_offset += s.data.size();
    }
    return image;
}

// Program header field offsets, for patching.
struct PhdrField {
    std::size_t offset64, offset32;
};
inline constexpr PhdrField kPType{0, 0}, kPOffset{8, 4}, kPVaddr{16, 8}, kPPaddr{24, 12},
    kPFilesz{32, 16}, kPMemsz{40, 20};

inline void patch_phdr(Bytes& image, bool is64, std::size_t index, PhdrField field,
                       std::uint64_t value) {
    const bool is_type = field.offset64 == 0;  // p_type is 4 bytes in both classes
    put(image, elf_phdr_offset(is64, index) + (is64 ? field.offset64 : field.offset32), value,
        is64 && !is_type ? 8 : 4);
}

inline Bytes pattern(std::size_t size, std::uint8_t seed) {
    Bytes bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(seed + i * 7);
    return bytes;
}

inline Bytes boot_sector(std::size_t size = 512) {
    Bytes bytes = pattern(size, 0x11);
    bytes[510] = 0x55;
    bytes[511] = 0xaa;
    return bytes;
}

// Multiboot 1 header (spec 3.1.1) at `offset`: magic, flags, checksum, and with flags bit 16
// the address fields header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr.
struct Multiboot1Addresses {
    std::uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};
inline void put_multiboot1_header(Bytes& image, std::size_t offset, std::uint32_t flags,
                                  const Multiboot1Addresses& a = {}) {
    constexpr std::uint32_t kMagic = 0x1badb002;
    put(image, offset, kMagic, 4);
    put(image, offset + 4, flags, 4);
    put(image, offset + 8, static_cast<std::uint32_t>(0u - kMagic - flags), 4);
    if (flags & (1u << 16)) {
        put(image, offset + 12, a.header_addr, 4);
        put(image, offset + 16, a.load_addr, 4);
        put(image, offset + 20, a.load_end_addr, 4);
        put(image, offset + 24, a.bss_end_addr, 4);
        put(image, offset + 28, a.entry_addr, 4);
    }
}

// A flat a.out-kludge kernel: `size` pattern bytes with the header at offset 0, loaded at
// `load_addr` with `bss` zero bytes after the file and the entry 0x20 bytes in.
inline Bytes multiboot1_aout(std::uint32_t load_addr = 0x100000, std::size_t size = 0x200,
                             std::uint32_t bss = 0x1000, std::uint32_t flags = 0x10003) {
    Bytes image = pattern(size, 0x21);
    const auto end = static_cast<std::uint32_t>(load_addr + size);
    put_multiboot1_header(image, 0, flags,
                          {load_addr, load_addr, end, end + bss, load_addr + 0x20});
    return image;
}

// Multiboot2 header (spec 3.1.1) at `offset`: the fixed part, the tags (each padded to 8
// bytes) and an end tag; header_length counts all of it.  Returns header_length.
struct Multiboot2Tag {
    std::uint16_t type, flags = 0;
    std::vector<std::uint32_t> fields;
};
inline std::uint32_t put_multiboot2_header(Bytes& image, std::size_t offset,
                                           const std::vector<Multiboot2Tag>& tags,
                                           std::uint32_t architecture = 0) {
    constexpr std::uint32_t kMagic = 0xe85250d6;
    std::size_t at = offset + 16;
    for (const auto& tag : tags) {
        const std::size_t size = 8 + 4 * tag.fields.size();
        put(image, at, tag.type, 2);
        put(image, at + 2, tag.flags, 2);
        put(image, at + 4, size, 4);
        for (std::size_t i = 0; i < tag.fields.size(); ++i)
            put(image, at + 8 + 4 * i, tag.fields[i], 4);
        at += (size + 7) / 8 * 8;
    }
    put(image, at, 0, 4);  // end tag: type 0, flags 0
    put(image, at + 4, 8, 4);
    const auto length = static_cast<std::uint32_t>(at + 8 - offset);
    put(image, offset, kMagic, 4);
    put(image, offset + 4, architecture, 4);
    put(image, offset + 8, length, 4);
    put(image, offset + 12, static_cast<std::uint32_t>(0u - kMagic - architecture - length), 4);
    return length;
}

// A flat Multiboot2 kernel: `size` pattern bytes with the header at offset 0, an address tag
// loading the file at `load_addr` plus `bss` zero bytes, and an entry tag 0x40 bytes in.
inline Bytes multiboot2_flat(std::uint32_t load_addr = 0x100000, std::size_t size = 0x300,
                             std::uint32_t bss = 0x1000,
                             std::vector<Multiboot2Tag> extra_tags = {}) {
    Bytes image = pattern(size, 0x31);
    const auto end = static_cast<std::uint32_t>(load_addr + size);
    std::vector<Multiboot2Tag> tags{{2, 0, {load_addr, load_addr, end, end + bss}},
                                    {3, 0, {load_addr + 0x40}}};
    tags.insert(tags.end(), extra_tags.begin(), extra_tags.end());
    put_multiboot2_header(image, 0, tags);
    return image;
}

}  // namespace hvgdb::loader::test
