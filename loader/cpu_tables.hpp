// The tables that tell a guest kernel which CPUs it has: ACPI (an ACPI 1.0 RSDP, the RSDT and
// the MADT) for current kernels, and the MultiProcessor Specification 1.4 floating pointer and
// configuration table for older ones.  Both describe vCPU i as local APIC ID i at 0xfee00000,
// vCPU 0 the bootstrap processor.  Internal to loader/; depends on loader.hpp.
//
// Where: a kernel with no firmware interface scans for the RSDP on 16-byte boundaries in
// 0xe0000..0xfffff (ACPI 6.5, 5.2.5.1) and for the MP floating pointer in 0xf0000..0xfffff
// (MP 1.4, 4.0; its other two places, the EBDA and the last KiB of base memory, belong to a
// BIOS).  Each block goes at the lowest free 16-byte boundary of its range, so with nothing
// else there the ACPI tables start at 0xe0000 and the MP tables at 0xf0000.  A block that finds
// no room beside the image is left out, and the load description says so.  The Multiboot
// memory maps mark 0x9fc00..1 MiB reserved, which covers both ranges.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "loader/loader.hpp"

namespace hvgdb::loader {

// xAPIC IDs are 8 bits and 0xff addresses every CPU, so IDs 0..254 name CPUs.
inline constexpr unsigned kMaxCpus = 255;
inline constexpr std::uint32_t kLocalApicAddress = 0xfee00000;

inline constexpr std::uint64_t kAcpiSearchStart = 0xe0000;
inline constexpr std::uint64_t kMpSearchStart = 0xf0000;
inline constexpr std::uint64_t kTableSearchEnd = 0x100000;

inline constexpr std::size_t kRsdpSize = 20;  // the ACPI 1.0 RSDP (revision 0)

// Where the two blocks go; nothing for a block that has no room.
struct CpuTables {
    unsigned cpus = 1;
    std::optional<std::uint64_t> acpi;  // the RSDP, then the RSDT and the MADT
    std::optional<std::uint64_t> mp;    // the floating pointer, then the configuration table
};

// The lowest free 16-byte aligned slots for both blocks in RAM below min(ram_size, 1 MiB),
// clear of `occupied` (ranges must not wrap; empty ones are ignored).
CpuTables place_cpu_tables(unsigned cpus, std::uint64_t ram_size,
                           std::span<const LoadedImage::Range> occupied);

// The ACPI block as it must read at `base` (below 1 MiB): RSDP at +0, RSDT at +0x20, MADT at
// +0x50.  build_rsdp() is its first kRsdpSize bytes, for the Multiboot2 ACPI old RSDP tag.
std::vector<std::uint8_t> build_acpi_tables(std::uint64_t base, unsigned cpus);
std::vector<std::uint8_t> build_rsdp(std::uint64_t base);

// The MP block as it must read at `base` (below 1 MiB): floating pointer at +0, configuration
// table at +0x10.  `processor_signature` is CPUID leaf 1 EAX; the entries keep its family,
// model and stepping.
std::vector<std::uint8_t> build_mp_tables(std::uint64_t base, unsigned cpus,
                                          std::uint32_t processor_signature);

// Writes the placed blocks, adds them to loaded.setup, and appends to loaded.description what
// a reader needs to know: the CPU count when above 1, addresses that are not the usual ones,
// and blocks left out.
Result<void> write_cpu_tables(const CpuTables& tables, std::uint32_t processor_signature,
                              GuestMemory& memory, LoadedImage& loaded);

}  // namespace hvgdb::loader
