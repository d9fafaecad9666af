// x86 start-up state: segment descriptors, the GDT, identity page tables, and the CpuState for
// real, 32-bit protected and 64-bit long mode.  Internal to loader/; depends on loader.hpp.
// Facts from the Intel SDM vol. 3A: 3.4.5 (segment descriptors), 4.5 (4-level paging),
// 9.1.1 (reset state), 9.8 and 9.8.5 (entering protected and IA-32e mode).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "loader/loader.hpp"

namespace hvgdb::loader {

// The loader's GDT, shared by protected and long mode so one table serves both.
inline constexpr std::uint16_t kCode32Selector = 0x08;
inline constexpr std::uint16_t kDataSelector = 0x10;
inline constexpr std::uint16_t kCode64Selector = 0x18;
inline constexpr std::uint16_t kGdtEntries = 4;  // null, code32, data, code64

inline constexpr std::uint64_t kFlatStackSize = 64 * 1024;
inline constexpr std::uint64_t kRealStackSize = 16 * 1024;

inline constexpr std::uint64_t kCr0Pe = 1ull << 0;
inline constexpr std::uint64_t kCr0Et = 1ull << 4;
inline constexpr std::uint64_t kCr0Ne = 1ull << 5;
inline constexpr std::uint64_t kCr0Pg = 1ull << 31;
inline constexpr std::uint64_t kCr4Pae = 1ull << 5;
inline constexpr std::uint64_t kCr4Osfxsr = 1ull << 9;
inline constexpr std::uint64_t kCr4Osxmmexcpt = 1ull << 10;
inline constexpr std::uint64_t kEferLme = 1ull << 8;
inline constexpr std::uint64_t kEferLma = 1ull << 10;

inline constexpr std::uint64_t kPageTablePresentWrite = 0x3;  // P | R/W
inline constexpr std::uint64_t kPageSize2M = 0x80;            // PS in a PDE

enum class FlatKind { code32, code64, data };

// Real-mode segment: base = selector << 4, 64 KiB limit, accessed data (3) or code (0xb).
Segment real_mode_segment(std::uint16_t selector, bool code);
// Flat 4 GiB segment for the loader's GDT (accessed types, so the CPU never writes the GDT).
Segment flat_segment(FlatKind kind);
// The 8-byte GDT descriptor that loads as `segment`.
std::uint64_t encode_descriptor(const Segment& segment);
// The GDT bytes: null, code32, data, code64.
std::vector<std::uint8_t> build_gdt();

// Bytes identity-mapped in long mode: max(RAM, 4 GiB), rounded up to 1 GiB.
std::uint64_t identity_map_size(std::uint64_t ram_size);
// PML4, then the PDPTs, then the PDs, mapping [0, map_size) with 2 MiB pages, for tables that
// will live at guest-physical `base` (4 KiB aligned).
std::vector<std::uint8_t> build_identity_page_tables(std::uint64_t base, std::uint64_t map_size);

// Real-mode state at CS:IP with SS:SP, DS = ES = FS = GS = 0, CR0 at its reset value.
CpuState real_mode_state(std::uint16_t cs, std::uint16_t ip, std::uint16_t ss, std::uint16_t sp);

struct RealModeEntry {
    std::uint16_t cs, ip;
};
// entry < 0x10000 -> 0000:entry, so boot-sector-style code sees CS = 0; otherwise
// (entry >> 4):(entry & 0xf).  Entries at or above 1 MiB are an error.
Result<RealModeEntry> real_mode_entry(std::uint64_t entry);

struct ModeSetup {
    CpuState cpu;
    std::vector<LoadedImage::SetupRegion> regions;
};

// Places a stack (and for protected/long mode the GDT and page tables) outside `occupied`,
// writes the tables to `memory`, and returns the state that starts at `entry` in `mode`.
// Real mode gets a 16 KiB stack in conventional memory; protected and long mode a 64 KiB
// stack with RSP at its 16-byte aligned top, as the SysV ABI has it at a program's entry.
Result<ModeSetup> set_up_mode(CpuMode mode, std::uint64_t entry,
                              std::span<const LoadedImage::Range> occupied, GuestMemory& memory);

}  // namespace hvgdb::loader
