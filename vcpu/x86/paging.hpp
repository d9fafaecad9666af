// Linear to guest-physical translation through the guest's own paging structures, the way the
// CPU walks them (Intel SDM vol. 3A, chapter 4), for a debugger: nothing is cached and no
// accessed or dirty bit is set.  Pure: the control registers and a reader of guest-physical
// memory in, an address or the reason there is none out.  Depends on std and state.hpp.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vcpu/x86/state.hpp"

namespace hvgdb::vcpu::x86 {

// The state that decides how linear addresses become physical (SDM vol. 3A, 4.1).
struct PagingControl {
    std::uint64_t cr0 = 0, cr3 = 0, cr4 = 0, efer = 0;
    // MAXPHYADDR (CPUID 0x80000008 EAX[7:0]); entry bits from here to 51 are reserved.  The
    // default, the architectural maximum, checks the fewest bits: an entry the CPU would
    // refuse for a smaller MAXPHYADDR then points outside guest memory instead.
    unsigned physical_address_bits = 52;
};

PagingControl paging_control(const SystemRegisters&);

// SDM vol. 3A, 4.1.1, table 4-1.
enum class PagingMode { off, bits32, pae, level4, level5 };

PagingMode paging_mode(const PagingControl&);
std::string_view to_string(PagingMode);

struct Translation {
    std::uint64_t physical = 0;
    // Bytes from `physical` to the end of its page (at least 1): an access longer than this
    // continues in a page that needs its own translation.
    std::uint64_t bytes_left = 0;
    std::uint64_t page_size = 0;  // 0 when paging is off: no pages, physical == linear
    PagingMode mode = PagingMode::off;
    // The access rights the entries grant together (SDM vol. 3A, 4.6); a debugger may write
    // a read-only page, these only describe it.
    bool writable = true, user = true, executable = true;
};

// The address as it is, for paging off or a debugger that asks for physical addresses.
Translation identity_translation(std::uint64_t address);

enum class TranslationFault {
    not_present,           // an entry with P = 0
    reserved_bits,         // an entry with a reserved bit set: the CPU would #PF with RSVD
    non_canonical,         // not a linear address in this mode (SDM vol. 3A, 3.3.7.1)
    table_outside_memory,  // a paging structure that is not in guest memory
};

struct TranslationError {
    TranslationFault fault = TranslationFault::not_present;
    unsigned depth = 0;               // 0: the table the root points to, 1: the next, ...
    std::string_view table;           // the SDM's name for that table, "" for non_canonical
    std::uint64_t entry_address = 0;  // guest-physical address of the entry
    std::uint64_t entry = 0;          // its value (0 when it could not be read)
};

// One line: "0x... is not mapped: PML4 entry 0x... at 0x... is not present".
std::string describe(std::uint64_t linear, const TranslationError&);

// Fills `out` with guest-physical memory at `gpa`; false when any of it is outside memory.
using PhysicalReader = std::function<bool(std::uint64_t gpa, std::span<std::uint8_t> out)>;

// Walks the paging structures for `linear`.  `root` replaces the table address in CR3 (a
// page directory, PAE page-directory-pointer table, PML4 or PML5 as the mode needs) for
// looking at another address space than the current one; it is aligned as CR3's would be.
//
// PAE paging reads the four PDPTEs from memory; the CPU uses the copies it loaded with CR3
// (SDM vol. 3A, 4.4.1), which differ only if the guest changed them without reloading CR3.
std::expected<Translation, TranslationError> translate(
    const PagingControl&, std::uint64_t linear, const PhysicalReader& read_physical,
    std::optional<std::uint64_t> root = std::nullopt);

// One paging-structure entry a walk read.
struct WalkLevel {
    std::string_view table;           // the SDM's name for the table
    unsigned index = 0;               // the entry's index in it
    std::uint64_t entry_address = 0;  // guest-physical
    std::uint64_t entry = 0;          // its value
    unsigned entry_bytes = 8;         // 4 with 32-bit paging
    // A present, valid entry: the page it maps (page_size > 0, at `next`) or the next table
    // (at `next`).  Both 0 for an entry the walk stops at (not present, reserved bits).
    std::uint64_t page_size = 0;
    std::uint64_t next = 0;
    // The entry's flags by the SDM's names, the set ones: "[ P RW US A PS ]" (bit 7 is PS
    // where it can map a page, PAT in a page-table entry; D and G only where it maps one).
    std::string flags;
};

// translate() with the entries it read: what a person debugging page tables wants to see.
struct PageWalk {
    PagingMode mode = PagingMode::off;
    std::vector<WalkLevel> levels;  // the root's table first; none with paging off
    std::expected<Translation, TranslationError> result;
};
PageWalk walk(const PagingControl&, std::uint64_t linear, const PhysicalReader& read_physical,
              std::optional<std::uint64_t> root = std::nullopt);

}  // namespace hvgdb::vcpu::x86
