// Multiboot2 kernels (Multiboot2 Specification 2.0): the header and its tags (3.1), the
// machine state (3.3) and the boot information (3.6).  Depends on {fmt}.
#include <algorithm>
#include <iterator>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "loader/bytes.hpp"
#include "loader/elf.hpp"
#include "loader/errors.hpp"
#include "loader/multiboot.hpp"

namespace hvgdb::loader {
namespace {

constexpr std::uint32_t kArchitectureI386 = 0;
constexpr std::size_t kHeaderFixedSize = 16;  // magic, architecture, header_length, checksum
constexpr std::size_t kTagHeaderSize = 8;     // type u16, flags u16, size u32
constexpr std::uint16_t kTagOptional = 1;     // flags bit 0

// Header tag types (3.1.3 - 3.1.13) and the smallest size each may have.
enum HeaderTag : std::uint16_t {
    kTagEnd = 0,
    kTagInformationRequest = 1,
    kTagAddress = 2,
    kTagEntryAddress = 3,
    kTagConsoleFlags = 4,
    kTagFramebuffer = 5,
    kTagModuleAlignment = 6,
    kTagEfiBootServices = 7,
    kTagEfiI386Entry = 8,
    kTagEfiAmd64Entry = 9,
    kTagRelocatable = 10,
};
struct TagRule {
    std::uint16_t type;
    std::uint32_t min_size;
};
constexpr TagRule kTagRules[] = {
    {kTagEnd, 8},
    {kTagInformationRequest, 8},
    {kTagAddress, 24},
    {kTagEntryAddress, 12},
    {kTagConsoleFlags, 12},
    {kTagFramebuffer, 20},
    {kTagModuleAlignment, 8},
    {kTagEfiBootServices, 8},
    {kTagEfiI386Entry, 12},
    {kTagEfiAmd64Entry, 12},
    {kTagRelocatable, 24},
};

// Boot information tag types (3.6) that hvgdb provides.
enum InfoTag : std::uint32_t {
    kInfoEnd = 0,
    kInfoCmdline = 1,
    kInfoBootLoaderName = 2,
    kInfoModule = 3,
    kInfoBasicMemory = 4,
    kInfoMemoryMap = 6,
    kInfoAcpiOldRsdp = 14,  // when there is room for the ACPI tables
};
constexpr std::uint32_t kProvidedInfo[] = {kInfoCmdline,     kInfoBootLoaderName, kInfoModule,
                                           kInfoBasicMemory, kInfoMemoryMap,      kInfoAcpiOldRsdp};
constexpr std::uint32_t kMmapEntrySize = 24;  // base_addr, length, type, reserved

constexpr std::size_t align8(std::size_t value) {
    return (value + 7) / 8 * 8;
}

// What the header's tags ask for.
struct HeaderRequests {
    std::optional<KludgeAddresses> addresses;  // address tag; entry_addr from the entry tag
    std::optional<std::uint32_t> entry;        // entry address tag
    bool framebuffer = false;                  // a framebuffer tag (ignored)
    bool acpi_rsdp_required = false;           // a non-optional request for tag 14
};

std::unexpected<Error> unknown_tag(std::size_t at, std::uint16_t type) {
    return invalid(
        "Multiboot2 header tag at offset {:#x} has type {}, which hvgdb does not know, and it "
        "is not marked optional",
        at, type);
}

// Walks the tags from after the fixed part to the end tag; every tag inside header_length.
Result<HeaderRequests> parse_tags(std::span<const std::uint8_t> image,
                                  const Multiboot2Header& header) {
    HeaderRequests requests;
    const std::size_t end = header.offset + header.length;
    std::size_t at = header.offset + kHeaderFixedSize;
    while (true) {
        if (end - at < kTagHeaderSize)
            return invalid(
                "Multiboot2 header tags run to offset {:#x}, the end of header_length {}, "
                "without an end tag",
                at, header.length);
        const std::uint16_t type = read_u16(image, at);
        const std::uint16_t flags = read_u16(image, at + 2);
        const std::uint32_t size = read_u32(image, at + 4);
        if (size < kTagHeaderSize || size > end - at)
            return invalid(
                "Multiboot2 header tag at offset {:#x} (type {}) has size {}, which is below 8 "
                "or extends beyond the header's {} bytes",
                at, type, size, header.length);
        const TagRule* rule = nullptr;
        for (const auto& r : kTagRules)
            if (r.type == type) rule = &r;
        if (!rule) {
            if (!(flags & kTagOptional)) return unknown_tag(at, type);
        } else if (size < rule->min_size) {
            return invalid("Multiboot2 header tag at offset {:#x} (type {}) has size {}, below {}",
                           at, type, size, rule->min_size);
        }
        const auto field = [&](std::size_t n) { return read_u32(image, at + n); };
        switch (type) {
            case kTagEnd:
                return requests;
            case kTagInformationRequest:
                for (std::size_t n = kTagHeaderSize; n + 4 <= size; n += 4) {
                    const std::uint32_t wanted = field(n);
                    const bool provided =
                        std::find(std::begin(kProvidedInfo), std::end(kProvidedInfo), wanted) !=
                        std::end(kProvidedInfo);
                    if (!provided && !(flags & kTagOptional))
                        return invalid(
                            "Multiboot2 header at offset {:#x} requires boot information tag "
                            "type {}, which hvgdb does not provide (it provides 1, 2, 3, 4, 6 "
                            "and 14)",
                            header.offset, wanted);
                    if (wanted == kInfoAcpiOldRsdp && !(flags & kTagOptional))
                        requests.acpi_rsdp_required = true;
                }
                break;
            case kTagAddress:
                requests.addresses = KludgeAddresses{field(8), field(12), field(16), field(20), 0};
                break;
            case kTagEntryAddress:
                requests.entry = field(8);
                break;
            case kTagFramebuffer:
                requests.framebuffer = true;
                break;
            default:
                // Console flags, module alignment (modules are always page-aligned), EFI tags
                // (this is not an EFI boot) and relocatable (loading at the link address is
                // allowed): nothing to do.
                break;
        }
        at += align8(size);
        if (at > end) at = end;  // the last tag's padding may fall outside header_length
    }
}

Result<KernelImage> place_kernel(std::span<const std::uint8_t> image,
                                 const Multiboot2Header& header, const HeaderRequests& requests,
                                 std::uint64_t ram) {
    if (requests.addresses) {
        KludgeAddresses a = *requests.addresses;
        // 3.1.5: load_addr -1 means the file loads from its first byte.
        if (a.load_addr == 0xffffffff) {
            if (a.header_addr < header.offset)
                return invalid(
                    "Multiboot2 header_addr {:#x} is below the header's file offset {:#x}, so "
                    "load_addr -1 (load from the file's start) cannot hold",
                    a.header_addr, header.offset);
            a.load_addr = a.header_addr - header.offset;
        }
        a.entry_addr = requests.entry.value_or(0);
        auto kernel = kernel_from_addresses(image, header.offset, a, ram);
        if (kernel && !requests.entry)
            return invalid(
                "Multiboot2 header at offset {:#x} has an address tag but no entry address tag",
                header.offset);
        if (kernel) {
            kernel->kind = "address tag";
            kernel->entry_field = "entry address tag";
        }
        return kernel;
    }
    if (!has_elf_magic(image))
        return invalid(
            "Multiboot2 header at offset {:#x} has no address tag, so the kernel must be an ELF "
            "file, and this image does not start with the ELF magic",
            header.offset);
    auto kernel = kernel_from_elf(image, ram);
    if (kernel && requests.entry) {
        kernel->entry = *requests.entry;
        kernel->entry_field = "entry address tag";
    }
    return kernel;
}

class InfoWriter {
  public:
    void u32(std::uint64_t value) { put(value, 4); }
    void u64(std::uint64_t value) { put(value, 8); }
    void string(const std::string& text) {
        bytes_.insert(bytes_.end(), text.begin(), text.end());
        bytes_.push_back(0);
    }
    void bytes(std::span<const std::uint8_t> data) {
        bytes_.insert(bytes_.end(), data.begin(), data.end());
    }
    void pad() { bytes_.resize(align8(bytes_.size()), 0); }
    std::size_t size() const { return bytes_.size(); }
    void patch_u32(std::size_t offset, std::uint64_t value) {
        for (int i = 0; i < 4; ++i)
            bytes_[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
    std::vector<std::uint8_t> take() { return std::move(bytes_); }

  private:
    void put(std::uint64_t value, int size) {
        for (int i = 0; i < size; ++i)
            bytes_.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    }
    std::vector<std::uint8_t> bytes_;
};

// Starts a tag of `type` and returns where its size field is, for finish_tag().
std::size_t start_tag(InfoWriter& w, std::uint32_t type) {
    w.pad();
    const std::size_t start = w.size();
    w.u32(type);
    w.u32(0);
    return start;
}
void finish_tag(InfoWriter& w, std::size_t start) {
    w.patch_u32(start + 4, w.size() - start);
}

// 3.6: total_size, reserved, then the tags, each 8-byte aligned, ending with the end tag.
// Module addresses are absolute, so the blob does not depend on where it lies.
InfoBlob build_info(std::uint64_t ram_size, const LoadOptions& options,
                    const std::vector<std::uint64_t>& module_bases, const CpuTables& tables) {
    InfoWriter w;
    w.u32(0);  // total_size, patched below
    w.u32(0);

    std::size_t tag = start_tag(w, kInfoCmdline);
    w.string(options.cmdline);
    finish_tag(w, tag);
    tag = start_tag(w, kInfoBootLoaderName);
    w.string(kBootLoaderName);
    finish_tag(w, tag);
    for (std::size_t i = 0; i < options.modules.size(); ++i) {
        tag = start_tag(w, kInfoModule);
        w.u32(module_bases[i]);
        w.u32(module_bases[i] + options.modules[i].bytes.size());  // one past the end
        w.string(options.modules[i].name_and_args);
        finish_tag(w, tag);
    }
    tag = start_tag(w, kInfoBasicMemory);
    w.u32(lower_memory_kib(ram_size));
    w.u32(upper_memory_kib(ram_size));
    finish_tag(w, tag);
    tag = start_tag(w, kInfoMemoryMap);
    w.u32(kMmapEntrySize);
    w.u32(0);  // entry_version
    for (const auto& region : multiboot_memory_map(ram_size)) {
        w.u64(region.base);
        w.u64(region.length);
        w.u32(static_cast<std::uint32_t>(region.type));
        w.u32(0);
    }
    finish_tag(w, tag);
    if (tables.acpi) {  // 3.6.14: a copy of the ACPI 1.0 RSDP
        tag = start_tag(w, kInfoAcpiOldRsdp);
        w.bytes(build_rsdp(*tables.acpi));
        finish_tag(w, tag);
    }
    tag = start_tag(w, kInfoEnd);
    finish_tag(w, tag);
    w.patch_u32(0, w.size());
    return {w.take(), 8};
}

}  // namespace

std::optional<Multiboot2Header> find_multiboot2_header(std::span<const std::uint8_t> image) {
    const std::size_t end = std::min(image.size(), kMultiboot2SearchLimit);
    for (std::size_t offset = 0; offset + kHeaderFixedSize <= end; offset += 8) {
        const std::uint32_t magic = read_u32(image, offset);
        if (magic != kMultiboot2HeaderMagic) continue;
        const std::uint32_t architecture = read_u32(image, offset + 4);
        const std::uint32_t length = read_u32(image, offset + 8);
        const std::uint32_t checksum = read_u32(image, offset + 12);
        if (static_cast<std::uint32_t>(magic + architecture + length + checksum) == 0)
            return Multiboot2Header{offset, length};
    }
    return std::nullopt;
}

Result<LoadedImage> load_multiboot2(std::span<const std::uint8_t> image,
                                    const Multiboot2Header& header, GuestMemory& memory,
                                    const LoadOptions& options) {
    const std::uint32_t architecture = read_u32(image, header.offset + 4);
    if (architecture != kArchitectureI386)
        return invalid("Multiboot2 header at offset {:#x} is for architecture {}, not i386 (0)",
                       header.offset, architecture);
    if (header.length < kHeaderFixedSize + kTagHeaderSize ||
        !fits_below(header.offset, header.length, image.size()))
        return invalid(
            "Multiboot2 header at offset {:#x} has header_length {}, which does not fit a "
            "header with an end tag inside the image of {} bytes",
            header.offset, header.length, image.size());
    auto requests = parse_tags(image, header);
    if (!requests) return std::unexpected(requests.error());

    const std::uint64_t ram = memory.size();
    auto kernel = place_kernel(image, header, *requests, ram);
    if (!kernel) return std::unexpected(kernel.error());
    auto module_bases = place_modules(options.modules, kernel_ranges(*kernel), ram);
    if (!module_bases) return std::unexpected(module_bases.error());

    const CpuTables tables = place_cpu_tables(
        options.cpus, ram, kernel_and_module_ranges(*kernel, *module_bases, options.modules));
    if (requests->acpi_rsdp_required && !tables.acpi)
        return invalid(
            "Multiboot2 header at offset {:#x} requires the ACPI RSDP (boot information tag 14), "
            "but the kernel and modules leave no room for the ACPI tables in 0xe0000..0xfffff",
            header.offset);

    std::string description = fmt::format("Multiboot2 kernel ({})", kernel->kind);
    if (requests->framebuffer) description += ", framebuffer request ignored";
    const InfoBlob info = build_info(ram, options, *module_bases, tables);
    return finish_multiboot_load(
        image, *kernel, *module_bases, tables, kMultiboot2BootMagic,
        [&](std::uint64_t) { return info; }, std::move(description), memory, options);
}

}  // namespace hvgdb::loader
