// Multiboot kernels (Multiboot Specification 0.6.96 and Multiboot2 Specification 2.0): header
// detection, the kernel's placement, boot modules, the memory map and the boot information.
// Internal to loader/; depends on loader.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loader/cpu_tables.hpp"
#include "loader/loader.hpp"

namespace hvgdb::loader {

// Multiboot 1 (spec 3.1.1, 3.2).
inline constexpr std::uint32_t kMultiboot1HeaderMagic = 0x1badb002;
inline constexpr std::uint32_t kMultiboot1BootMagic = 0x2badb002;
inline constexpr std::size_t kMultiboot1SearchLimit = 8192;

// Multiboot2 (spec 3.1.1, 3.2).
inline constexpr std::uint32_t kMultiboot2HeaderMagic = 0xe85250d6;
inline constexpr std::uint32_t kMultiboot2BootMagic = 0x36d76289;
inline constexpr std::size_t kMultiboot2SearchLimit = 32768;

inline constexpr std::uint64_t kPageSize = 4096;
inline constexpr char kBootLoaderName[] = "hvgdb";

struct Multiboot1Header {
    std::size_t offset = 0;  // file offset of the magic
    std::uint32_t flags = 0;
};

struct Multiboot2Header {
    std::size_t offset = 0;  // file offset of the magic
    std::uint32_t length = 0;
};

// The first 4-byte aligned magic 0x1BADB002 wholly within the first 8192 bytes whose
// magic + flags + checksum is 0 mod 2^32; nothing when there is none.
std::optional<Multiboot1Header> find_multiboot1_header(std::span<const std::uint8_t> image);

// The first 8-byte aligned magic 0xE85250D6 within the first 32768 bytes whose magic +
// architecture + header_length + checksum is 0 mod 2^32; nothing when there is none.
std::optional<Multiboot2Header> find_multiboot2_header(std::span<const std::uint8_t> image);

inline bool has_multiboot_header(std::span<const std::uint8_t> image) {
    return find_multiboot1_header(image) || find_multiboot2_header(image);
}

// A Multiboot 1 or 2 kernel (Multiboot 1 when it carries both headers) in flat 32-bit
// protected mode with the boot information in EBX.
Result<LoadedImage> load_multiboot(std::span<const std::uint8_t> image, GuestMemory& memory,
                                   const LoadOptions& options);
Result<LoadedImage> load_multiboot1(std::span<const std::uint8_t> image,
                                    const Multiboot1Header& header, GuestMemory& memory,
                                    const LoadOptions& options);
Result<LoadedImage> load_multiboot2(std::span<const std::uint8_t> image,
                                    const Multiboot2Header& header, GuestMemory& memory,
                                    const LoadOptions& options);

// ---- Shared by both versions (multiboot_common.cpp) ----

// One piece of the kernel: file bytes [offset, offset + filesz) at gpa, then zeroes up to memsz.
struct KernelSegment {
    std::uint64_t offset = 0, gpa = 0, filesz = 0, memsz = 0;
};

struct KernelImage {
    std::string kind;  // "ELF32", "a.out kludge", ...
    std::vector<KernelSegment> segments;
    std::optional<std::uint64_t> entry;  // physical; nothing when an ELF entry has no segment
    std::uint64_t unresolved_entry = 0;  // the ELF e_entry then, for the message
    // Where the entry comes from when a header field gives it ("entry_addr", "entry address
    // tag"), which must then lie inside a segment; empty for an ELF entry (found in one).
    std::string_view entry_field;
};

// Where the kernel's bytes go, from the a.out-kludge style address fields (both versions
// describe them the same way).  All addresses are physical; load_end 0 means "to the end of
// the file", bss_end 0 means "no BSS".
struct KludgeAddresses {
    std::uint64_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};
Result<KernelImage> kernel_from_addresses(std::span<const std::uint8_t> image,
                                          std::size_t header_offset, const KludgeAddresses& a,
                                          std::uint64_t ram_size);

// The ELF image's PT_LOAD segments at their physical addresses; ELF32 or ELF64 (whose entry
// code must still be 32-bit), everything below 4 GiB.
Result<KernelImage> kernel_from_elf(std::span<const std::uint8_t> image, std::uint64_t ram_size);

// The kernel's ranges, for overlap checks and LoadedImage::loaded.
std::vector<LoadedImage::Range> kernel_ranges(const KernelImage& kernel);
// The kernel's and the non-empty modules' ranges: LoadedImage::loaded, and what the CPU tables
// and the boot information must stay clear of.
std::vector<LoadedImage::Range> kernel_and_module_ranges(
    const KernelImage& kernel, const std::vector<std::uint64_t>& module_bases,
    std::span<const Module> modules);

// Module bases: each module page-aligned after the kernel and the previous module, moved to
// 1 MiB rather than straddle the 0x9fc00..1 MiB hole, all below min(RAM, 4 GiB).
Result<std::vector<std::uint64_t>> place_modules(std::span<const Module> modules,
                                                 std::span<const LoadedImage::Range> kernel,
                                                 std::uint64_t ram_size);

enum class MemoryType : std::uint32_t { available = 1, reserved = 2 };
struct MemoryRegion {
    std::uint64_t base, length;
    MemoryType type;
};
// Available 0..0x9fc00, reserved 0x9fc00..1 MiB (EBDA, video memory, ROMs; here the ACPI and
// MP tables), available 1 MiB..RAM end; cut short when RAM is smaller.
std::vector<MemoryRegion> multiboot_memory_map(std::uint64_t ram_size);
// KiB of RAM below 640 KiB (mem_lower) and from 1 MiB to the first hole (mem_upper), as
// 32-bit values.
std::uint32_t lower_memory_kib(std::uint64_t ram_size);
std::uint32_t upper_memory_kib(std::uint64_t ram_size);

// The boot information as it must read at a given guest-physical address.
struct InfoBlob {
    std::vector<std::uint8_t> bytes;
    std::uint64_t align;
};
// Everything the Multiboot loaders do once the kernel, modules and CPU tables are placed:
// places the boot information outside them, sets up flat protected mode with EAX = magic and
// EBX = the information's address, and writes the kernel, the modules, the information and the
// tables.  `build_info(base)` returns the blob for address `base`; its size must not depend on
// `base`.  `description` gets the module count, entry and the tables' note appended.
Result<LoadedImage> finish_multiboot_load(
    std::span<const std::uint8_t> image, const KernelImage& kernel,
    const std::vector<std::uint64_t>& module_bases, const CpuTables& tables, std::uint32_t magic,
    const std::function<InfoBlob(std::uint64_t base)>& build_info, std::string description,
    GuestMemory& memory, const LoadOptions& options);

}  // namespace hvgdb::loader
