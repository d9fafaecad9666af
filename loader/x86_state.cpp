// x86 start-up state: descriptors, GDT, identity paging and CpuState per mode.  Depends on
// {fmt} for messages.
#include "loader/x86_state.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "loader/bytes.hpp"
#include "loader/errors.hpp"
#include "loader/placement.hpp"

namespace hvgdb::loader {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kEntriesPerTable = 512;
constexpr std::uint64_t kLargePage = 2 * kMiB;

std::unexpected<Error> room_error(std::string_view what, std::uint64_t size,
                                  std::uint64_t ram_size) {
    return invalid(
        "RAM ({}) too small: no free {} for the {} outside the image in 0x500..0x9fc00 or "
        "1 MiB..4 GiB",
        describe_size(ram_size), describe_size(size), what);
}

}  // namespace

Segment real_mode_segment(std::uint16_t selector, bool code) {
    Segment s;
    s.selector = selector;
    s.base = static_cast<std::uint64_t>(selector) << 4;
    s.limit = 0xffff;
    s.type = code ? 0xb : 0x3;
    return s;
}

Segment flat_segment(FlatKind kind) {
    Segment s;
    s.base = 0;
    s.limit = 0xffffffff;
    s.g = true;
    switch (kind) {
        case FlatKind::code32:
            s.selector = kCode32Selector;
            s.type = 0xb;  // execute/read, accessed
            s.db = true;
            break;
        case FlatKind::code64:
            s.selector = kCode64Selector;
            s.type = 0xb;
            s.l = true;  // L = 1 requires D = 0 (SDM 3.4.5)
            break;
        case FlatKind::data:
            s.selector = kDataSelector;
            s.type = 0x3;  // read/write, accessed
            s.db = true;
            break;
    }
    return s;
}

std::uint64_t encode_descriptor(const Segment& s) {
    const std::uint64_t limit = s.g ? (s.limit >> 12) : s.limit;  // 20-bit field
    std::uint64_t d = 0;
    d |= limit & 0xffff;
    d |= (s.base & 0xffffff) << 16;
    d |= static_cast<std::uint64_t>(s.type & 0xf) << 40;
    d |= static_cast<std::uint64_t>(s.s) << 44;
    d |= static_cast<std::uint64_t>(s.dpl & 0x3) << 45;
    d |= static_cast<std::uint64_t>(s.present) << 47;
    d |= ((limit >> 16) & 0xf) << 48;
    d |= static_cast<std::uint64_t>(s.l) << 53;
    d |= static_cast<std::uint64_t>(s.db) << 54;
    d |= static_cast<std::uint64_t>(s.g) << 55;
    d |= ((s.base >> 24) & 0xff) << 56;
    return d;
}

std::vector<std::uint8_t> build_gdt() {
    std::vector<std::uint8_t> gdt(kGdtEntries * 8, 0);
    for (FlatKind kind : {FlatKind::code32, FlatKind::data, FlatKind::code64}) {
        const Segment s = flat_segment(kind);
        write_u64(gdt, s.selector, encode_descriptor(s));  // selector = index * 8 (TI = RPL = 0)
    }
    return gdt;
}

std::uint64_t identity_map_size(std::uint64_t ram_size) {
    const std::uint64_t size = std::max(ram_size, 4 * kGiB);
    return (size + kGiB - 1) / kGiB * kGiB;  // RAM sizes are far below the 2^64 limit
}

std::vector<std::uint8_t> build_identity_page_tables(std::uint64_t base, std::uint64_t map_size) {
    const std::uint64_t pds = map_size / kGiB;  // one PD maps 1 GiB
    const std::uint64_t pdpts = (pds + kEntriesPerTable - 1) / kEntriesPerTable;
    const std::uint64_t pdpt_base = base + kPage;
    const std::uint64_t pd_base = pdpt_base + pdpts * kPage;
    std::vector<std::uint8_t> tables((1 + pdpts + pds) * kPage, 0);

    for (std::uint64_t i = 0; i < pdpts; ++i)
        write_u64(tables, i * 8, (pdpt_base + i * kPage) | kPageTablePresentWrite);
    for (std::uint64_t i = 0; i < pds; ++i)
        write_u64(tables, kPage + i * 8, (pd_base + i * kPage) | kPageTablePresentWrite);
    for (std::uint64_t i = 0; i < pds * kEntriesPerTable; ++i)
        write_u64(tables, (1 + pdpts) * kPage + i * 8,
                  (i * kLargePage) | kPageTablePresentWrite | kPageSize2M);
    return tables;
}

CpuState real_mode_state(std::uint16_t cs, std::uint16_t ip, std::uint16_t ss, std::uint16_t sp) {
    CpuState cpu;
    cpu.mode = CpuMode::real;
    cpu.rip = ip;
    cpu.rsp = sp;
    cpu.cs = real_mode_segment(cs, true);
    cpu.ss = real_mode_segment(ss, false);
    cpu.ds = cpu.es = cpu.fs = cpu.gs = real_mode_segment(0, false);
    return cpu;  // CR0, RFLAGS, GDTR and IDTR keep their reset values (SDM 9.1.1)
}

Result<RealModeEntry> real_mode_entry(std::uint64_t entry) {
    if (entry >= kExtendedStart)
        return invalid(
            "real-mode entry {:#x} is at or above 1 MiB; use --mode "
            "protected or --mode long",
            entry);
    if (entry < 0x10000) return RealModeEntry{0, static_cast<std::uint16_t>(entry)};
    return RealModeEntry{static_cast<std::uint16_t>(entry >> 4),
                         static_cast<std::uint16_t>(entry & 0xf)};
}

namespace {

Result<ModeSetup> set_up_real_mode(std::uint64_t entry, Placement& placement, std::uint64_t ram) {
    auto start = real_mode_entry(entry);
    if (!start) return std::unexpected(start.error());
    auto stack = placement.allocate(kRealStackSize, 16, true);
    if (!stack)
        return invalid(
            "no free {} for the real-mode stack outside the image in conventional memory "
            "0x500..0x9fc00 (RAM {})",
            describe_size(kRealStackSize), describe_size(ram));
    // SS:SP = (base >> 4):size, so the stack is [base, base + size) within one segment.
    ModeSetup setup;
    setup.cpu = real_mode_state(start->cs, start->ip, static_cast<std::uint16_t>(*stack >> 4),
                                static_cast<std::uint16_t>(kRealStackSize));
    setup.regions.push_back({"stack", *stack, kRealStackSize});
    return setup;
}

}  // namespace

Result<ModeSetup> set_up_mode(CpuMode mode, std::uint64_t entry,
                              std::span<const LoadedImage::Range> occupied, GuestMemory& memory) {
    const std::uint64_t ram = memory.size();
    Placement placement(ram, occupied);
    if (mode == CpuMode::real) return set_up_real_mode(entry, placement, ram);

    const bool long_mode = mode == CpuMode::long64;
    if (long_mode && ram > kEntriesPerTable * kEntriesPerTable * kGiB)
        return invalid("RAM ({}) too large for 4-level identity paging (256 TiB)",
                       describe_size(ram));
    const std::uint64_t map_size = long_mode ? identity_map_size(ram) : 0;
    if (!long_mode && entry >= 4 * kGiB)
        return invalid("protected-mode entry {:#x} is above 4 GiB", entry);
    if (long_mode && entry >= map_size)
        return invalid(
            "long-mode entry {:#x} lies outside the identity-mapped "
            "0..{:#x}; give a physical entry address",
            entry, map_size);

    // Place everything first, then write, so a failure leaves guest memory untouched.
    ModeSetup setup;
    auto stack = placement.allocate(kFlatStackSize, 16);
    if (!stack) return room_error("stack", kFlatStackSize, ram);
    setup.regions.push_back({"stack", *stack, kFlatStackSize});

    const std::vector<std::uint8_t> gdt = build_gdt();
    auto gdt_base = placement.allocate(gdt.size(), 16);
    if (!gdt_base) return room_error("GDT", gdt.size(), ram);
    setup.regions.push_back({"gdt", *gdt_base, gdt.size()});

    std::optional<std::uint64_t> tables_base;
    if (long_mode) {
        const std::uint64_t pds = map_size / kGiB;
        const std::uint64_t pdpts = (pds + kEntriesPerTable - 1) / kEntriesPerTable;
        const std::uint64_t tables_size = (1 + pdpts + pds) * kPage;
        tables_base = placement.allocate(tables_size, kPage);
        if (!tables_base) return room_error("page tables", tables_size, ram);
        setup.regions.push_back({"page tables", *tables_base, tables_size});
    }

    if (auto ok = memory.write(*gdt_base, gdt); !ok) return std::unexpected(ok.error());
    if (tables_base) {
        const auto tables = build_identity_page_tables(*tables_base, map_size);
        if (auto ok = memory.write(*tables_base, tables); !ok) return std::unexpected(ok.error());
    }

    CpuState& cpu = setup.cpu;
    cpu.mode = mode;
    cpu.rip = entry;
    cpu.rsp = *stack + kFlatStackSize;
    cpu.rflags = 0x2;                       // IF = 0: no interrupts until the guest sets up an IDT
    cpu.cr0 = kCr0Pe | kCr0Et | kCr0Ne;     // caching on (CD = NW = 0), WP off
    cpu.cr4 = kCr4Osfxsr | kCr4Osxmmexcpt;  // SSE instructions run without #UD
    cpu.cs = flat_segment(long_mode ? FlatKind::code64 : FlatKind::code32);
    cpu.ds = cpu.es = cpu.fs = cpu.gs = cpu.ss = flat_segment(FlatKind::data);
    cpu.gdt_base = *gdt_base;
    cpu.gdt_limit = static_cast<std::uint16_t>(gdt.size() - 1);
    cpu.idt_base = 0;
    cpu.idt_limit = 0;
    if (long_mode) {
        cpu.cr0 |= kCr0Pg;
        cpu.cr3 = *tables_base;
        cpu.cr4 |= kCr4Pae;
        cpu.efer = kEferLme | kEferLma;  // NXE and SCE off
    }
    return setup;
}

}  // namespace hvgdb::loader
