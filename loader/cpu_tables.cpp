// ACPI and MP tables for the machine's CPUs (see cpu_tables.hpp).  Layouts from ACPI 6.5
// 5.2.5.3 (RSDP), 5.2.6 (table header), 5.2.7 (RSDT), 5.2.12 (MADT) and the MultiProcessor
// Specification 1.4, 4.1 - 4.3.1.  Depends on {fmt}.
//
// No FADT.  ACPI expects one in the RSDT (the RSDT's OEM table ID "must match" the FADT's), but
// an ACPI 1.0 FADT must name PM1 event and control blocks, a PM timer and an SCI interrupt,
// none of which this machine has, and even the hardware-reduced FADT of ACPI 5 points to a
// DSDT, AML this loader does not write.  Kernels read the MADT without it: Linux parses the
// MADT while setting up the CPUs, then finds no DSDT when it starts the ACPI interpreter, says
// "Unable to load the System Description Tables" and runs without ACPI, keeping the CPUs the
// MADT listed.
//
// Neither table lists an I/O APIC or a bus: there are none.  Without an I/O APIC entry Linux
// logs "No IOAPIC entries present" and takes only the CPUs from the MADT.  The MP
// specification has one entry per processor, bus and I/O APIC present and does not ask for a
// bus that is not there.
#include "loader/cpu_tables.hpp"

#include <algorithm>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "loader/bytes.hpp"

namespace hvgdb::loader {
namespace {

constexpr std::string_view kOemId = "HVGDB ";              // ACPI: 6 bytes
constexpr std::string_view kOemTableId = "HVGDB   ";       // ACPI: 8 bytes
constexpr std::string_view kCreatorId = "HVGD";            // ACPI: 4 bytes
constexpr std::string_view kMpOemId = "HVGDB   ";          // MP: 8 bytes
constexpr std::string_view kMpProductId = "HVGDB       ";  // MP: 12 bytes
constexpr std::uint32_t kOemRevision = 1;
constexpr std::uint32_t kCreatorRevision = 1;

// The ACPI block.  Tables sit on 16-byte boundaries after the RSDP.
constexpr std::size_t kHeaderSize = 36;  // the system description table header
constexpr std::size_t kChecksumOffset = 9;
constexpr std::size_t kRsdtOffset = 0x20;
constexpr std::size_t kRsdtSize = kHeaderSize + 4;  // one entry: the MADT
constexpr std::size_t kMadtOffset = 0x50;
constexpr std::size_t kMadtFixedSize = kHeaderSize + 8;  // + local APIC address, flags
constexpr std::size_t kLocalApicSize = 8;                // MADT type 0 structure
constexpr std::uint8_t kRsdtRevision = 1;
constexpr std::uint8_t kMadtRevision = 1;  // the ACPI 1.0 MADT
constexpr std::uint32_t kMadtFlags = 0;    // no PCAT_COMPAT: there is no 8259 pair
constexpr std::uint32_t kLocalApicEnabled = 1u << 0;

// The MP block: the 16-byte floating pointer, then the configuration table.
constexpr std::size_t kMpPointerSize = 16;
constexpr std::size_t kMpConfigOffset = kMpPointerSize;
constexpr std::size_t kMpConfigHeaderSize = 44;
constexpr std::size_t kMpProcessorSize = 20;
constexpr std::uint8_t kMpSpecRevision = 4;  // 1.4
constexpr std::uint8_t kApicVersion = 0x14;  // an integrated xAPIC
constexpr std::uint8_t kCpuEnabled = 1u << 0, kCpuBootstrap = 1u << 1;
constexpr std::uint32_t kSignatureMask = 0xfff;  // stepping, model, family: the fields MP 1.4 has
// CPUID.1:EDX as the entries report it: FPU (bit 0) and APIC (bit 9), which every CPU this
// machine offers has.  Linux only prints them.
constexpr std::uint32_t kFeatureFlags = (1u << 0) | (1u << 9);

constexpr std::uint64_t kAlign = 16;

std::size_t acpi_tables_size(unsigned cpus) {
    return kMadtOffset + kMadtFixedSize + cpus * kLocalApicSize;
}

std::size_t mp_tables_size(unsigned cpus) {
    return kMpConfigOffset + kMpConfigHeaderSize + cpus * kMpProcessorSize;
}

void put_text(std::span<std::uint8_t> bytes, std::size_t offset, std::string_view text) {
    std::copy(text.begin(), text.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset));
}

// Sets bytes[at] so that all of `bytes` sums to 0 mod 256 (bytes[at] must be 0 before).
void set_checksum(std::span<std::uint8_t> bytes, std::size_t at) {
    std::uint8_t sum = 0;
    for (std::uint8_t b : bytes) sum = static_cast<std::uint8_t>(sum + b);
    bytes[at] = static_cast<std::uint8_t>(0x100 - sum);
}

// ACPI 5.2.6: signature, length, revision, checksum (set last), OEM ID, OEM table ID, OEM
// revision, creator ID, creator revision.
void put_table_header(std::span<std::uint8_t> table, std::string_view signature,
                      std::uint8_t revision) {
    put_text(table, 0, signature);
    write_u32(table, 4, static_cast<std::uint32_t>(table.size()));
    table[8] = revision;
    put_text(table, 10, kOemId);
    put_text(table, 16, kOemTableId);
    write_u32(table, 24, kOemRevision);
    put_text(table, 28, kCreatorId);
    write_u32(table, 32, kCreatorRevision);
}

// The lowest `size`-byte slot on a 16-byte boundary in [start, end) that overlaps nothing in
// `used`.  A free slot starts at `start` or right after a used range, aligned up.
std::optional<std::uint64_t> lowest_free_slot(std::uint64_t start, std::uint64_t end,
                                              std::uint64_t size,
                                              std::span<const LoadedImage::Range> used) {
    std::vector<std::uint64_t> candidates{start};
    for (const auto& u : used) {
        const std::uint64_t after = (u.gpa + u.size + kAlign - 1) & ~(kAlign - 1);
        if (after > start && after < end) candidates.push_back(after);
    }
    std::sort(candidates.begin(), candidates.end());
    for (std::uint64_t base : candidates) {
        if (!fits_below(base, size, end)) break;
        const bool is_free = std::none_of(used.begin(), used.end(), [&](const auto& u) {
            return overlaps(base, size, u.gpa, u.size);
        });
        if (is_free) return base;
    }
    return std::nullopt;
}

// ", ACPI and MP tables for 4 CPUs"; ", ACPI tables at 0xe1000 and MP tables at 0xf0000 for
// 1 CPU"; ", ACPI tables at 0xe0000 for 1 CPU, no MP tables (no free room in
// 0xf0000..0xfffff)".  Nothing for one CPU with both blocks where they usually are.
std::string describe(const CpuTables& t) {
    const std::string cpus = fmt::format("{} CPU{}", t.cpus, t.cpus == 1 ? "" : "s");
    if (t.acpi == kAcpiSearchStart && t.mp == kMpSearchStart)
        return t.cpus == 1 ? "" : fmt::format(", ACPI and MP tables for {}", cpus);
    std::string placed;
    if (t.acpi) placed = fmt::format("ACPI tables at {:#x}", *t.acpi);
    if (t.mp) placed += fmt::format("{}MP tables at {:#x}", t.acpi ? " and " : "", *t.mp);
    std::string text = placed.empty() ? "" : fmt::format(", {} for {}", placed, cpus);
    if (!t.acpi || !t.mp) {
        const char* which = t.acpi ? "MP" : t.mp ? "ACPI" : "ACPI or MP";
        const std::uint64_t from = t.acpi ? kMpSearchStart : kAcpiSearchStart;
        text += fmt::format(", no {} tables (no free room in {:#x}..{:#x})", which, from,
                            kTableSearchEnd - 1);
    }
    return text;
}

}  // namespace

CpuTables place_cpu_tables(unsigned cpus, std::uint64_t ram_size,
                           std::span<const LoadedImage::Range> occupied) {
    std::vector<LoadedImage::Range> used;
    for (const auto& r : occupied)
        if (r.size != 0) used.push_back(r);
    const std::uint64_t end = std::min(ram_size, kTableSearchEnd);
    CpuTables tables;
    tables.cpus = cpus;
    // The MP block first: its range is the narrower one.
    tables.mp = lowest_free_slot(kMpSearchStart, end, mp_tables_size(cpus), used);
    if (tables.mp) used.push_back({*tables.mp, mp_tables_size(cpus)});
    tables.acpi = lowest_free_slot(kAcpiSearchStart, end, acpi_tables_size(cpus), used);
    return tables;
}

std::vector<std::uint8_t> build_rsdp(std::uint64_t base) {
    // ACPI 5.2.5.3, revision 0: signature, checksum of the 20 bytes, OEM ID, revision, RSDT.
    std::vector<std::uint8_t> rsdp(kRsdpSize, 0);
    put_text(rsdp, 0, "RSD PTR ");
    put_text(rsdp, 9, kOemId);
    write_u32(rsdp, 16, static_cast<std::uint32_t>(base + kRsdtOffset));
    set_checksum(rsdp, 8);
    return rsdp;
}

std::vector<std::uint8_t> build_acpi_tables(std::uint64_t base, unsigned cpus) {
    std::vector<std::uint8_t> bytes(acpi_tables_size(cpus), 0);
    const std::vector<std::uint8_t> rsdp = build_rsdp(base);
    std::copy(rsdp.begin(), rsdp.end(), bytes.begin());

    const std::span<std::uint8_t> rsdt = std::span(bytes).subspan(kRsdtOffset, kRsdtSize);
    put_table_header(rsdt, "RSDT", kRsdtRevision);
    write_u32(rsdt, kHeaderSize, static_cast<std::uint32_t>(base + kMadtOffset));
    set_checksum(rsdt, kChecksumOffset);

    // MADT (5.2.12): local APIC address, flags, then a Processor Local APIC structure (type 0,
    // length 8, ACPI processor ID, APIC ID, flags) per CPU.
    const std::span<std::uint8_t> madt = std::span(bytes).subspan(kMadtOffset);
    put_table_header(madt, "APIC", kMadtRevision);
    write_u32(madt, kHeaderSize, kLocalApicAddress);
    write_u32(madt, kHeaderSize + 4, kMadtFlags);
    for (unsigned i = 0; i < cpus; ++i) {
        const std::size_t e = kMadtFixedSize + i * kLocalApicSize;
        madt[e] = 0;
        madt[e + 1] = kLocalApicSize;
        madt[e + 2] = static_cast<std::uint8_t>(i);
        madt[e + 3] = static_cast<std::uint8_t>(i);
        write_u32(madt, e + 4, kLocalApicEnabled);
    }
    set_checksum(madt, kChecksumOffset);
    return bytes;
}

std::vector<std::uint8_t> build_mp_tables(std::uint64_t base, unsigned cpus,
                                          std::uint32_t processor_signature) {
    std::vector<std::uint8_t> bytes(mp_tables_size(cpus), 0);

    // 4.1: signature, configuration table address, length in 16-byte units, revision,
    // checksum, feature byte 1 = 0 (a configuration table follows), feature byte 2 bit 7
    // (IMCRP) clear: no PIC mode, and bytes 3-5 reserved.
    const std::span<std::uint8_t> pointer = std::span(bytes).first(kMpPointerSize);
    put_text(pointer, 0, "_MP_");
    write_u32(pointer, 4, static_cast<std::uint32_t>(base + kMpConfigOffset));
    pointer[8] = kMpPointerSize / 16;
    pointer[9] = kMpSpecRevision;
    set_checksum(pointer, 10);

    // 4.2: the header; no OEM table and no extended entries.
    const std::span<std::uint8_t> config = std::span(bytes).subspan(kMpConfigOffset);
    put_text(config, 0, "PCMP");
    write_u16(config, 4, static_cast<std::uint16_t>(config.size()));
    config[6] = kMpSpecRevision;
    put_text(config, 8, kMpOemId);
    put_text(config, 16, kMpProductId);
    write_u16(config, 34, static_cast<std::uint16_t>(cpus));
    write_u32(config, 36, kLocalApicAddress);

    // 4.3.1: one processor entry per CPU, vCPU 0 the bootstrap processor.
    for (unsigned i = 0; i < cpus; ++i) {
        const std::size_t e = kMpConfigHeaderSize + i * kMpProcessorSize;
        config[e] = 0;
        config[e + 1] = static_cast<std::uint8_t>(i);
        config[e + 2] = kApicVersion;
        config[e + 3] = static_cast<std::uint8_t>(kCpuEnabled | (i == 0 ? kCpuBootstrap : 0));
        write_u32(config, e + 4, processor_signature & kSignatureMask);
        write_u32(config, e + 8, kFeatureFlags);
    }
    set_checksum(config, 7);
    return bytes;
}

Result<void> write_cpu_tables(const CpuTables& tables, std::uint32_t processor_signature,
                              GuestMemory& memory, LoadedImage& loaded) {
    if (tables.acpi) {
        const auto bytes = build_acpi_tables(*tables.acpi, tables.cpus);
        if (auto ok = memory.write(*tables.acpi, bytes); !ok) return ok;
        loaded.setup.push_back({"ACPI tables", *tables.acpi, bytes.size()});
    }
    if (tables.mp) {
        const auto bytes = build_mp_tables(*tables.mp, tables.cpus, processor_signature);
        if (auto ok = memory.write(*tables.mp, bytes); !ok) return ok;
        loaded.setup.push_back({"MP tables", *tables.mp, bytes.size()});
    }
    loaded.description += describe(tables);
    return {};
}

}  // namespace hvgdb::loader
