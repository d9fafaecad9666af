// Multiboot 1 kernels (Multiboot Specification 0.6.96): the header (3.1), the machine state
// (3.2) and the boot information (3.3).  Depends on {fmt}.
#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "loader/bytes.hpp"
#include "loader/elf.hpp"
#include "loader/errors.hpp"
#include "loader/multiboot.hpp"

namespace hvgdb::loader {
namespace {

// Header flags (3.1.2).  Bits 0-15 are requirements: a loader that cannot honour one must
// refuse the kernel.
constexpr std::uint32_t kFlagPageAlignModules = 1u << 0;  // always honoured: modules go on pages
constexpr std::uint32_t kFlagMemoryInfo = 1u << 1;        // always honoured: mem_* and mmap_*
constexpr std::uint32_t kFlagVideoMode = 1u << 2;         // ignored: hvgdb has no display
constexpr std::uint32_t kFlagAddressFields = 1u << 16;
constexpr std::uint32_t kRequiredMask = 0xffff;
constexpr std::uint32_t kHonouredRequired =
    kFlagPageAlignModules | kFlagMemoryInfo | kFlagVideoMode;

constexpr std::size_t kHeaderSize = 12;               // magic, flags, checksum
constexpr std::size_t kHeaderWithAddressesSize = 32;  // + the five address fields

// Boot information layout (3.3): field offsets and flags bits.
constexpr std::size_t kInfoSize = 116;  // through color_info, the last field of 0.6.96
constexpr std::size_t kInfoFlags = 0, kInfoMemLower = 4, kInfoMemUpper = 8, kInfoCmdline = 16,
                      kInfoModsCount = 20, kInfoModsAddr = 24, kInfoMmapLength = 44,
                      kInfoMmapAddr = 48, kInfoBootLoaderName = 64;
constexpr std::uint32_t kInfoHasMemory = 1u << 0, kInfoHasCmdline = 1u << 2,
                        kInfoHasModules = 1u << 3, kInfoHasMmap = 1u << 6,
                        kInfoHasBootLoaderName = 1u << 9;
constexpr std::size_t kModuleEntrySize = 16;       // mod_start, mod_end, string, reserved
constexpr std::size_t kMmapEntrySize = 24;         // size, base_addr, length, type
constexpr std::uint32_t kMmapEntrySizeField = 20;  // excludes the size field itself

class InfoWriter {
  public:
    explicit InfoWriter(std::size_t size) : bytes_(size, 0) {}
    void u32(std::size_t offset, std::uint64_t value) { put(offset, value, 4); }
    void u64(std::size_t offset, std::uint64_t value) { put(offset, value, 8); }
    void string(std::size_t offset, const std::string& text) {
        std::copy(text.begin(), text.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(offset));
        bytes_[offset + text.size()] = 0;
    }
    std::vector<std::uint8_t> take() { return std::move(bytes_); }

  private:
    void put(std::size_t offset, std::uint64_t value, int size) {
        for (int i = 0; i < size; ++i)
            bytes_[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
    std::vector<std::uint8_t> bytes_;
};

// The information structure, then the memory map, the module list and the strings, all in one
// block at `base`.  Addresses fit in 32 bits: everything lies below 4 GiB.
InfoBlob build_info(std::uint64_t base, std::uint64_t ram_size, const LoadOptions& options,
                    const std::vector<std::uint64_t>& module_bases) {
    const auto map = multiboot_memory_map(ram_size);
    const std::size_t mmap_offset = (kInfoSize + 7) / 8 * 8;
    const std::size_t modules_offset = mmap_offset + map.size() * kMmapEntrySize;
    const std::size_t cmdline_offset = modules_offset + options.modules.size() * kModuleEntrySize;
    const std::size_t name_offset = cmdline_offset + options.cmdline.size() + 1;
    std::size_t size = name_offset + sizeof(kBootLoaderName);
    for (const auto& m : options.modules) size += m.name_and_args.size() + 1;

    InfoWriter w(size);
    w.u32(kInfoFlags, kInfoHasMemory | kInfoHasCmdline | kInfoHasModules | kInfoHasMmap |
                          kInfoHasBootLoaderName);
    w.u32(kInfoMemLower, lower_memory_kib(ram_size));
    w.u32(kInfoMemUpper, upper_memory_kib(ram_size));
    w.u32(kInfoCmdline, base + cmdline_offset);
    w.string(cmdline_offset, options.cmdline);
    w.u32(kInfoBootLoaderName, base + name_offset);
    w.string(name_offset, kBootLoaderName);

    w.u32(kInfoMmapLength, map.size() * kMmapEntrySize);
    w.u32(kInfoMmapAddr, base + mmap_offset);
    for (std::size_t i = 0; i < map.size(); ++i) {
        const std::size_t e = mmap_offset + i * kMmapEntrySize;
        w.u32(e, kMmapEntrySizeField);
        w.u64(e + 4, map[i].base);
        w.u64(e + 12, map[i].length);
        w.u32(e + 20, static_cast<std::uint32_t>(map[i].type));
    }

    w.u32(kInfoModsCount, options.modules.size());
    w.u32(kInfoModsAddr, base + modules_offset);
    std::size_t string_offset = name_offset + sizeof(kBootLoaderName);
    for (std::size_t i = 0; i < options.modules.size(); ++i) {
        const std::size_t e = modules_offset + i * kModuleEntrySize;
        w.u32(e, module_bases[i]);
        w.u32(e + 4, module_bases[i] + options.modules[i].bytes.size());  // one past the end
        w.u32(e + 8, base + string_offset);
        w.string(string_offset, options.modules[i].name_and_args);
        string_offset += options.modules[i].name_and_args.size() + 1;
    }
    return {w.take(), 8};
}

std::string flag_bits(std::uint32_t bits) {
    std::string text;
    for (int i = 0; i < 32; ++i)
        if (bits & (1u << i)) text += fmt::format("{}{}", text.empty() ? "" : ", ", i);
    return text;
}

}  // namespace

std::optional<Multiboot1Header> find_multiboot1_header(std::span<const std::uint8_t> image) {
    const std::size_t end = std::min(image.size(), kMultiboot1SearchLimit);
    for (std::size_t offset = 0; offset + kHeaderSize <= end; offset += 4) {
        const std::uint32_t magic = read_u32(image, offset);
        if (magic != kMultiboot1HeaderMagic) continue;
        const std::uint32_t flags = read_u32(image, offset + 4);
        const std::uint32_t checksum = read_u32(image, offset + 8);
        if (static_cast<std::uint32_t>(magic + flags + checksum) == 0)
            return Multiboot1Header{offset, flags};
    }
    return std::nullopt;
}

Result<LoadedImage> load_multiboot1(std::span<const std::uint8_t> image,
                                    const Multiboot1Header& header, GuestMemory& memory,
                                    const LoadOptions& options) {
    const std::uint64_t ram = memory.size();
    const std::uint32_t unknown = header.flags & kRequiredMask & ~kHonouredRequired;
    if (unknown != 0)
        return invalid(
            "Multiboot header at offset {:#x} (flags {:#010x}) requires flags bit{} {}, which "
            "hvgdb cannot honour (it honours bits 0 and 1 and ignores bit 2)",
            header.offset, header.flags, (unknown & (unknown - 1)) ? "s" : "", flag_bits(unknown));

    Result<KernelImage> kernel;
    if (header.flags & kFlagAddressFields) {
        if (image.size() - header.offset < kHeaderWithAddressesSize)
            return invalid(
                "Multiboot header at offset {:#x} sets flags bit 16 but the image ends before "
                "its address fields ({} bytes, need {})",
                header.offset, image.size(), header.offset + kHeaderWithAddressesSize);
        const auto field = [&](std::size_t n) { return read_u32(image, header.offset + n); };
        kernel = kernel_from_addresses(
            image, header.offset, {field(12), field(16), field(20), field(24), field(28)}, ram);
    } else if (!has_elf_magic(image)) {
        return invalid(
            "Multiboot header at offset {:#x} has no address fields (flags bit 16 clear), so "
            "the kernel must be an ELF file, and this image does not start with the ELF magic",
            header.offset);
    } else {
        kernel = kernel_from_elf(image, ram);
    }
    if (!kernel) return std::unexpected(kernel.error());

    const auto ranges = kernel_ranges(*kernel);
    auto module_bases = place_modules(options.modules, ranges, ram);
    if (!module_bases) return std::unexpected(module_bases.error());

    std::string description = fmt::format("Multiboot 1 kernel ({})", kernel->kind);
    if (header.flags & kFlagVideoMode) description += ", video mode request ignored";
    const CpuTables tables = place_cpu_tables(
        options.cpus, ram, kernel_and_module_ranges(*kernel, *module_bases, options.modules));
    return finish_multiboot_load(
        image, *kernel, *module_bases, tables, kMultiboot1BootMagic,
        [&](std::uint64_t base) { return build_info(base, ram, options, *module_bases); },
        std::move(description), memory, options);
}

}  // namespace hvgdb::loader
