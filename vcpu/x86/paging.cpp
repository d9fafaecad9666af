// The page walk: one loop over a table of levels per paging mode (SDM vol. 3A, 4.3 to 4.5).
#include "vcpu/x86/paging.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include <fmt/format.h>

namespace hvgdb::vcpu::x86 {

namespace {

constexpr std::uint64_t bit(unsigned n) {
    return std::uint64_t{1} << n;
}
// Bits lo..hi, both included; none when lo > hi.
constexpr std::uint64_t bits(unsigned lo, unsigned hi) {
    if (lo > hi) return 0;
    std::uint64_t up_to_hi = hi == 63 ? ~std::uint64_t{0} : bit(hi + 1) - 1;
    return up_to_hi & ~(bit(lo) - 1);
}

// Control bits (SDM vol. 3A, 2.5 and 2.2.1).
constexpr std::uint64_t cr0_pe = bit(0), cr0_pg = bit(31);
constexpr std::uint64_t cr4_pse = bit(4), cr4_pae = bit(5), cr4_la57 = bit(12);
constexpr std::uint64_t efer_lma = bit(10), efer_nxe = bit(11);

// Paging-structure entry bits common to every mode (SDM vol. 3A, 4.3 to 4.5).
constexpr std::uint64_t entry_present = bit(0), entry_writable = bit(1), entry_user = bit(2),
                        entry_page_size = bit(7), entry_execute_disable = bit(63);

struct Level {
    std::string_view table;
    unsigned shift;  // the linear-address bits that index this table start here
    unsigned index_bits;
    bool maps_pages;               // an entry with PS = 1 maps a page of 1 << shift bytes
    std::uint64_t reserved;        // reserved bits of an entry that points to a table
    std::uint64_t reserved_large;  // ... and of one that maps a page
};

// 4-level paging is 5-level paging without the PML5 (SDM vol. 3A, 4.5).
constexpr Level wide_levels[] = {
    {"PML5", 48, 9, false, entry_page_size, 0},
    {"PML4", 39, 9, false, entry_page_size, 0},
    {"page-directory-pointer table", 30, 9, true, 0, bits(13, 29)},
    {"page directory", 21, 9, true, 0, bits(13, 20)},
    {"page table", 12, 9, false, 0, 0},
};
// PDPTEs have no R/W, U/S or XD bits (SDM vol. 3A, table 4-8).
constexpr Level pae_levels[] = {
    {"page-directory-pointer table", 30, 2, false, bits(1, 2) | bits(5, 8) | bit(63), 0},
    {"page directory", 21, 9, true, 0, bits(13, 20)},
    {"page table", 12, 9, false, 0, 0},
};
// A 4 MiB page's reserved bits depend on MAXPHYADDR (PSE-36): see pse36_* below.
constexpr Level bits32_levels[] = {
    {"page directory", 22, 10, true, 0, 0},
    {"page table", 12, 10, false, 0, 0},
};

struct Mode {
    std::span<const Level> levels;
    unsigned entry_bytes;
    unsigned linear_bits;     // width of a linear address
    bool sign_extended;       // bits above it copy its top bit (canonical) rather than being 0
    unsigned reserved_top;    // entry bits MAXPHYADDR..reserved_top are reserved; 0: no such bits
    bool execute_disable;     // bit 63 is XD with EFER.NXE = 1, reserved without it
    std::uint64_t root_mask;  // the CR3 bits that hold the root table's address
};

const Mode& mode_info(PagingMode mode) {
    static const Mode bits32{bits32_levels, 4, 32, false, 0, false, bits(12, 31)};
    static const Mode pae{pae_levels, 8, 32, false, 62, true, bits(5, 31)};
    static const Mode level4{
        std::span(wide_levels).subspan(1), 8, 48, true, 51, true, bits(12, 51)};
    static const Mode level5{wide_levels, 8, 57, true, 51, true, bits(12, 51)};
    switch (mode) {
        case PagingMode::bits32:
            return bits32;
        case PagingMode::pae:
            return pae;
        case PagingMode::level4:
            return level4;
        default:
            return level5;
    }
}

bool canonical(const Mode& mode, std::uint64_t linear) {
    if (!mode.sign_extended) return linear >> mode.linear_bits == 0;
    unsigned unused = 64 - mode.linear_bits;
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(linear << unused) >> unused) ==
           linear;
}

// 32-bit paging with 4 MiB pages: PDE bits 13 and up hold physical-address bits 32 and up,
// as many as MAXPHYADDR allows and at most 40 (SDM vol. 3A, 4.3 and table 4-4).
unsigned pse36_high_bits(unsigned physical_bits) {
    return std::min(physical_bits, 40u) - 32;
}
std::uint64_t pse36_frame(std::uint64_t pde, unsigned physical_bits) {
    std::uint64_t high = (pde >> 13) & (bit(pse36_high_bits(physical_bits)) - 1);
    return (pde & bits(22, 31)) | (high << 32);
}

}  // namespace

PagingControl paging_control(const SystemRegisters& s) {
    return PagingControl{s.cr0, s.cr3, s.cr4, s.efer};
}

PagingMode paging_mode(const PagingControl& c) {
    if (!(c.cr0 & cr0_pg) || !(c.cr0 & cr0_pe)) return PagingMode::off;
    if (!(c.cr4 & cr4_pae)) return PagingMode::bits32;
    if (!(c.efer & efer_lma)) return PagingMode::pae;
    return c.cr4 & cr4_la57 ? PagingMode::level5 : PagingMode::level4;
}

std::string_view to_string(PagingMode mode) {
    switch (mode) {
        case PagingMode::off:
            return "paging off";
        case PagingMode::bits32:
            return "32-bit paging";
        case PagingMode::pae:
            return "PAE paging";
        case PagingMode::level4:
            return "4-level paging";
        case PagingMode::level5:
            return "5-level paging";
    }
    return "?";
}

Translation identity_translation(std::uint64_t address) {
    Translation t;
    t.physical = address;
    // The rest of the address space, which is 2^64 - address bytes; 2^64 does not fit.
    t.bytes_left = address == 0 ? std::numeric_limits<std::uint64_t>::max() : 0 - address;
    return t;
}

std::string describe(std::uint64_t linear, const TranslationError& e) {
    switch (e.fault) {
        case TranslationFault::not_present:
            return fmt::format("{:#x} is not mapped: {} entry at {:#x} is not present ({:#x})",
                               linear, e.table, e.entry_address, e.entry);
        case TranslationFault::reserved_bits:
            return fmt::format("{:#x} is not mapped: {} entry at {:#x} sets reserved bits ({:#x})",
                               linear, e.table, e.entry_address, e.entry);
        case TranslationFault::non_canonical:
            return fmt::format("{:#x} is not a linear address in this paging mode", linear);
        case TranslationFault::table_outside_memory:
            return fmt::format("{:#x} is not mapped: its {} entry at {:#x} is outside guest memory",
                               linear, e.table, e.entry_address);
    }
    return fmt::format("{:#x} is not mapped", linear);
}

namespace {

// Entry bits by name (SDM vol. 3A, tables 4-4 to 4-20).  Bit 7 is PS in an entry that can map
// a page and PAT in a page-table entry; D and G are ignored in an entry that points to a
// table; PAT of a large page is bit 12.
struct EntryBit {
    unsigned bit;
    std::string_view name;
    enum class Where { any, table_level, page_table, page, large_page } where;
};
constexpr EntryBit entry_bits[] = {
    {0, "P", EntryBit::Where::any},           {1, "RW", EntryBit::Where::any},
    {2, "US", EntryBit::Where::any},          {3, "PWT", EntryBit::Where::any},
    {4, "PCD", EntryBit::Where::any},         {5, "A", EntryBit::Where::any},
    {6, "D", EntryBit::Where::page},          {7, "PS", EntryBit::Where::table_level},
    {7, "PAT", EntryBit::Where::page_table},  {8, "G", EntryBit::Where::page},
    {12, "PAT", EntryBit::Where::large_page}, {63, "XD", EntryBit::Where::any},
};

std::string entry_flags(const Level& level, std::uint64_t entry, bool maps_page, bool large,
                        bool last) {
    std::string out = "[";
    for (const EntryBit& b : entry_bits) {
        if (!(entry & bit(b.bit)) || (!large && (level.reserved & bit(b.bit)))) continue;
        bool applies = true;
        switch (b.where) {
            case EntryBit::Where::any:
                break;
            case EntryBit::Where::table_level:
                applies = level.maps_pages;
                break;
            case EntryBit::Where::page_table:
                applies = last;
                break;
            case EntryBit::Where::page:
                applies = maps_page;
                break;
            case EntryBit::Where::large_page:
                applies = large;
                break;
        }
        if (applies) out += " " + std::string(b.name);
    }
    return out + " ]";
}

// The walk of translate() and walk(): `levels`, when given, receives each entry read.
std::expected<Translation, TranslationError> walk_tables(const PagingControl& control,
                                                         std::uint64_t linear,
                                                         const PhysicalReader& read_physical,
                                                         std::optional<std::uint64_t> root,
                                                         std::vector<WalkLevel>* levels) {
    const PagingMode pm = paging_mode(control);
    if (pm == PagingMode::off) return identity_translation(linear);
    const Mode& mode = mode_info(pm);
    if (!canonical(mode, linear)) {
        TranslationError error;
        error.fault = TranslationFault::non_canonical;
        return std::unexpected(error);
    }

    const unsigned maxphys = std::clamp(control.physical_address_bits, 32u, 52u);
    const bool nxe = mode.execute_disable && (control.efer & efer_nxe);
    std::uint64_t reserved_everywhere = mode.reserved_top ? bits(maxphys, mode.reserved_top) : 0;
    if (mode.execute_disable && !nxe) reserved_everywhere |= entry_execute_disable;
    const std::uint64_t address_mask = bits(12, maxphys - 1);
    const bool large_pages = pm != PagingMode::bits32 || (control.cr4 & cr4_pse);

    Translation t;
    t.mode = pm;
    std::uint64_t table = root.value_or(control.cr3) & mode.root_mask & bits(0, maxphys - 1);
    for (unsigned depth = 0; depth < mode.levels.size(); ++depth) {
        const Level& level = mode.levels[depth];
        const bool last = depth + 1 == mode.levels.size();
        const std::uint64_t index = (linear >> level.shift) & (bit(level.index_bits) - 1);
        const std::uint64_t at = table + index * mode.entry_bytes;
        TranslationError error{TranslationFault::table_outside_memory, depth, level.table, at};
        WalkLevel* seen = nullptr;
        if (levels) {
            levels->push_back(
                {level.table, static_cast<unsigned>(index), at, 0, mode.entry_bytes, 0, 0, {}});
            seen = &levels->back();
        }

        std::array<std::uint8_t, 8> raw{};
        if (!read_physical(at, std::span(raw).first(mode.entry_bytes)))
            return std::unexpected(error);
        std::uint64_t entry = 0;
        std::memcpy(&entry, raw.data(), raw.size());  // x86 and host: little-endian
        error.entry = entry;

        const bool large = level.maps_pages && large_pages && (entry & entry_page_size);
        if (seen) {
            seen->entry = entry;
            seen->flags = entry_flags(level, entry, large || last, large, last);
        }
        if (!(entry & entry_present)) {
            error.fault = TranslationFault::not_present;
            return std::unexpected(error);
        }
        std::uint64_t reserved =
            reserved_everywhere | (large ? level.reserved_large : level.reserved);
        if (large && pm == PagingMode::bits32) reserved |= bits(13 + pse36_high_bits(maxphys), 21);
        if (entry & reserved) {
            error.fault = TranslationFault::reserved_bits;
            return std::unexpected(error);
        }
        // A bit that is reserved at this level (R/W and U/S of a PAE PDPTE) restricts nothing.
        t.writable = t.writable && ((entry | level.reserved) & entry_writable);
        t.user = t.user && ((entry | level.reserved) & entry_user);
        if (nxe && (entry & entry_execute_disable)) t.executable = false;

        if (large || last) {
            t.page_size = bit(level.shift);
            const std::uint64_t offset = linear & (t.page_size - 1);
            std::uint64_t frame = 0;
            if (pm == PagingMode::bits32)
                frame = large ? pse36_frame(entry, maxphys) : entry & bits(12, 31);
            else
                frame = entry & address_mask & ~(t.page_size - 1);
            t.physical = frame + offset;
            t.bytes_left = t.page_size - offset;
            if (seen) {
                seen->page_size = t.page_size;
                seen->next = frame;
            }
            return t;
        }
        table = pm == PagingMode::bits32 ? entry & bits(12, 31) : entry & address_mask;
        if (seen) seen->next = table;
    }
    return std::unexpected(TranslationError{});  // not reached: the last level maps a page
}

}  // namespace

std::expected<Translation, TranslationError> translate(const PagingControl& control,
                                                       std::uint64_t linear,
                                                       const PhysicalReader& read_physical,
                                                       std::optional<std::uint64_t> root) {
    return walk_tables(control, linear, read_physical, root, nullptr);
}

PageWalk walk(const PagingControl& control, std::uint64_t linear,
              const PhysicalReader& read_physical, std::optional<std::uint64_t> root) {
    PageWalk w;
    w.mode = paging_mode(control);
    w.result = walk_tables(control, linear, read_physical, root, &w.levels);
    return w;
}

}  // namespace hvgdb::vcpu::x86
