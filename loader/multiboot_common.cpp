// What the Multiboot 1 and Multiboot2 loaders share: the kernel's placement from address
// fields or ELF, module placement, the memory map, and the final placement, CPU state and
// writes.  Depends on {fmt}.
#include <algorithm>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "loader/bytes.hpp"
#include "loader/elf.hpp"
#include "loader/errors.hpp"
#include "loader/multiboot.hpp"
#include "loader/placement.hpp"
#include "loader/x86_state.hpp"

namespace hvgdb::loader {
namespace {

constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t align) {
    return (value + align - 1) & ~(align - 1);  // values here stay far below 2^64
}

// Multiboot hands the kernel 32-bit addresses, so everything it is told about lies below 4 GiB.
std::uint64_t addressable_limit(std::uint64_t ram_size) {
    return std::min(ram_size, 4 * kGiB);
}

bool inside_kernel(const KernelImage& kernel, std::uint64_t address) {
    return std::any_of(kernel.segments.begin(), kernel.segments.end(), [&](const auto& s) {
        return address >= s.gpa && address - s.gpa < s.memsz;
    });
}

// "0x100000..0x101200, 0x200000..0x200400", the first few of them.
std::string describe_segments(const KernelImage& kernel) {
    constexpr std::size_t kShown = 4;
    std::string text;
    for (std::size_t i = 0; i < kernel.segments.size() && i < kShown; ++i) {
        const auto& s = kernel.segments[i];
        text += fmt::format("{}{:#x}..{:#x}", i ? ", " : "", s.gpa, s.gpa + s.memsz);
    }
    if (kernel.segments.size() > kShown) text += ", ...";
    return text;
}

}  // namespace

Result<KernelImage> kernel_from_addresses(std::span<const std::uint8_t> image,
                                          std::size_t header_offset, const KludgeAddresses& a,
                                          std::uint64_t ram_size) {
    // Multiboot 3.1.3: header_addr is where the header's magic lands, so the file offset that
    // lands at load_addr is header_offset - (header_addr - load_addr).
    if (a.header_addr < a.load_addr)
        return invalid("Multiboot header_addr {:#x} is below load_addr {:#x}", a.header_addr,
                       a.load_addr);
    const std::uint64_t before_header = a.header_addr - a.load_addr;
    if (before_header > header_offset)
        return invalid(
            "Multiboot load_addr {:#x} lies {:#x} bytes before header_addr {:#x}, but the "
            "header is at file offset {:#x}: the load would start before the file",
            a.load_addr, before_header, a.header_addr, header_offset);
    KernelSegment s;
    s.offset = header_offset - before_header;
    s.gpa = a.load_addr;
    if (a.load_end_addr == 0) {
        s.filesz = image.size() - s.offset;  // 0: the rest of the file
    } else {
        if (a.load_end_addr < a.load_addr)
            return invalid("Multiboot load_end_addr {:#x} is below load_addr {:#x}",
                           a.load_end_addr, a.load_addr);
        s.filesz = a.load_end_addr - a.load_addr;
        if (!fits_below(s.offset, s.filesz, image.size()))
            return invalid(
                "Multiboot load_addr {:#x}..load_end_addr {:#x} needs {:#x} bytes from file "
                "offset {:#x}, but the image has only {} bytes",
                a.load_addr, a.load_end_addr, s.filesz, s.offset, image.size());
    }
    const std::uint64_t load_end = a.load_addr + s.filesz;
    s.memsz = s.filesz;
    if (a.bss_end_addr != 0) {
        if (a.bss_end_addr < load_end)
            return invalid(
                "Multiboot bss_end_addr {:#x} is below the end of the loaded bytes {:#x}",
                a.bss_end_addr, load_end);
        s.memsz = a.bss_end_addr - a.load_addr;
    }
    if (s.memsz == 0)
        return invalid("Multiboot address fields load nothing (load_addr {:#x}, {} file bytes)",
                       a.load_addr, s.filesz);
    if (!fits_below(s.gpa, s.memsz, addressable_limit(ram_size)))
        return invalid("Multiboot kernel at {:#x}..{:#x} ends beyond RAM ({}) or 4 GiB", s.gpa,
                       s.gpa + s.memsz, describe_size(ram_size));

    KernelImage kernel;
    kernel.kind = "a.out kludge";
    kernel.segments.push_back(s);
    kernel.entry = a.entry_addr;
    kernel.entry_field = "entry_addr";
    return kernel;
}

Result<KernelImage> kernel_from_elf(std::span<const std::uint8_t> image, std::uint64_t ram_size) {
    auto elf = parse_elf(image, ram_size);
    if (!elf) return std::unexpected(elf.error());
    KernelImage kernel;
    kernel.kind = elf->is64 ? "ELF64" : "ELF32";
    for (const auto& s : elf->loads) {
        if (!fits_below(s.paddr, s.memsz, 4 * kGiB))
            return invalid(
                "ELF segment {} at {:#x} size {:#x} ends beyond 4 GiB, out of reach of a "
                "Multiboot kernel's 32-bit start",
                s.index, s.paddr, s.memsz);
        kernel.segments.push_back({s.offset, s.paddr, s.filesz, s.memsz});
    }
    kernel.entry = elf->entry;
    if (!kernel.entry) kernel.unresolved_entry = elf->e_entry;
    return kernel;
}

std::vector<LoadedImage::Range> kernel_ranges(const KernelImage& kernel) {
    std::vector<LoadedImage::Range> ranges;
    for (const auto& s : kernel.segments) ranges.push_back({s.gpa, s.memsz});
    return ranges;
}

std::vector<LoadedImage::Range> kernel_and_module_ranges(
    const KernelImage& kernel, const std::vector<std::uint64_t>& module_bases,
    std::span<const Module> modules) {
    std::vector<LoadedImage::Range> ranges = kernel_ranges(kernel);
    for (std::size_t i = 0; i < module_bases.size(); ++i)
        if (!modules[i].bytes.empty()) ranges.push_back({module_bases[i], modules[i].bytes.size()});
    return ranges;
}

Result<std::vector<std::uint64_t>> place_modules(std::span<const Module> modules,
                                                 std::span<const LoadedImage::Range> kernel,
                                                 std::uint64_t ram_size) {
    std::uint64_t next = 0;
    for (const auto& r : kernel) next = std::max(next, r.gpa + r.size);
    const std::uint64_t limit = addressable_limit(ram_size);
    std::vector<std::uint64_t> bases;
    for (std::size_t i = 0; i < modules.size(); ++i) {
        const std::uint64_t size = modules[i].bytes.size();
        std::uint64_t base = align_up(next, kPageSize);
        if (base < kExtendedStart && base + size > kConventionalEnd) base = kExtendedStart;
        if (!fits_below(base, size, limit))
            return invalid(
                "Multiboot module {} ('{}', {} bytes) does not fit at {:#x} after the kernel "
                "and earlier modules: usable memory ends at {:#x} (RAM {})",
                i + 1, modules[i].name_and_args, size, base, limit, describe_size(ram_size));
        bases.push_back(base);
        next = base + size;
    }
    return bases;
}

std::vector<MemoryRegion> multiboot_memory_map(std::uint64_t ram_size) {
    std::vector<MemoryRegion> map;
    if (ram_size == 0) return map;
    map.push_back({0, std::min(ram_size, kConventionalEnd), MemoryType::available});
    if (ram_size > kConventionalEnd)
        map.push_back({kConventionalEnd, std::min(ram_size, kExtendedStart) - kConventionalEnd,
                       MemoryType::reserved});
    if (ram_size > kExtendedStart)
        map.push_back({kExtendedStart, ram_size - kExtendedStart, MemoryType::available});
    return map;
}

std::uint32_t lower_memory_kib(std::uint64_t ram_size) {
    return static_cast<std::uint32_t>(std::min(ram_size, kConventionalEnd) / kKiB);
}

std::uint32_t upper_memory_kib(std::uint64_t ram_size) {
    if (ram_size <= kExtendedStart) return 0;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(
        (ram_size - kExtendedStart) / kKiB, std::numeric_limits<std::uint32_t>::max()));
}

Result<LoadedImage> finish_multiboot_load(
    std::span<const std::uint8_t> image, const KernelImage& kernel,
    const std::vector<std::uint64_t>& module_bases, const CpuTables& tables, std::uint32_t magic,
    const std::function<InfoBlob(std::uint64_t base)>& build_info, std::string description,
    GuestMemory& memory, const LoadOptions& options) {
    const std::uint64_t ram = memory.size();
    if (!options.entry && !kernel.entry)
        return invalid(
            "ELF entry {:#x} is not inside any PT_LOAD segment (virtual or physical range); "
            "give the entry address with --entry ADDR",
            kernel.unresolved_entry);
    const std::uint64_t entry = options.entry.value_or(kernel.entry.value_or(0));
    // An entry the header gives must be code the kernel brings (--entry is the user's choice).
    if (!options.entry && !inside_kernel(kernel, entry))
        return invalid(
            "Multiboot {} {:#x} is outside the kernel ({}); give the entry address with "
            "--entry ADDR",
            kernel.entry_field, entry, describe_segments(kernel));

    LoadedImage loaded;
    loaded.format = Format::multiboot;
    loaded.loaded = kernel_and_module_ranges(kernel, module_bases, options.modules);

    // Place everything first, then write, so a failure leaves guest memory untouched.  The CPU
    // tables lie in 0xe0000..1 MiB, where Placement never puts anything.
    const InfoBlob probe = build_info(0);
    Placement placement(ram, loaded.loaded);
    auto info_base = placement.allocate(probe.bytes.size(), probe.align);
    if (!info_base)
        return invalid(
            "no room for the Multiboot boot information ({} bytes) outside the kernel and "
            "modules in 0x500..0x9fc00 or 1 MiB..{:#x} (RAM {})",
            probe.bytes.size(), std::min(ram, 4 * kGiB), describe_size(ram));
    std::vector<LoadedImage::Range> occupied = loaded.loaded;
    occupied.push_back({*info_base, probe.bytes.size()});

    // Multiboot 3.2: flat 32-bit protected mode, paging off, IF = VM = 0 -- exactly the
    // ELF32 state.  A20 needs nothing: KVM has no A20 gate.
    auto setup = set_up_mode(CpuMode::protected32, entry, occupied, memory);
    if (!setup) return std::unexpected(setup.error());

    for (const auto& s : kernel.segments) {
        // kernel_from_* checked offset + filesz against the image and gpa + memsz against RAM.
        if (auto ok = memory.write(s.gpa, image.subspan(s.offset, s.filesz)); !ok)
            return std::unexpected(ok.error());
        if (s.memsz > s.filesz)
            if (auto ok = memory.fill(s.gpa + s.filesz, 0, s.memsz - s.filesz); !ok)
                return std::unexpected(ok.error());
    }
    for (std::size_t i = 0; i < module_bases.size(); ++i)
        if (auto ok = memory.write(module_bases[i], options.modules[i].bytes); !ok)
            return std::unexpected(ok.error());
    const InfoBlob info = build_info(*info_base);
    if (auto ok = memory.write(*info_base, info.bytes); !ok) return std::unexpected(ok.error());

    loaded.cpu = setup->cpu;
    loaded.cpu.rax = magic;
    loaded.cpu.rbx = *info_base;
    loaded.entry = entry;
    loaded.setup = std::move(setup->regions);
    loaded.setup.push_back({"multiboot info", *info_base, info.bytes.size()});
    const std::size_t n = module_bases.size();
    description += fmt::format(", {} module{}, entry {:#x}", n, n == 1 ? "" : "s", entry);
    if (options.entry) description += " (given)";
    loaded.description = std::move(description);
    if (auto ok = write_cpu_tables(tables, options.processor_signature, memory, loaded); !ok)
        return std::unexpected(ok.error());
    return loaded;
}

// Multiboot 1 first when a kernel carries both headers: either is a valid way to boot it, and
// the Multiboot 1 information is the one with the full set of fields.
Result<LoadedImage> load_multiboot(std::span<const std::uint8_t> image, GuestMemory& memory,
                                   const LoadOptions& options) {
    if (auto header = find_multiboot1_header(image))
        return load_multiboot1(image, *header, memory, options);
    if (auto header = find_multiboot2_header(image))
        return load_multiboot2(image, *header, memory, options);
    return invalid(
        "no Multiboot header in the image of {} bytes: neither the magic 0x1BADB002 with a valid "
        "checksum, 4-byte aligned in the first 8192 bytes, nor the Multiboot2 magic 0xE85250D6 "
        "with a valid checksum, 8-byte aligned in the first 32768 bytes",
        image.size());
}

}  // namespace hvgdb::loader
