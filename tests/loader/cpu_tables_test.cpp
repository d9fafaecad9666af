// ACPI and MP tables: exact bytes, checksums, the tables found the way a kernel finds them,
// their placement beside images that use 0xe0000..0xfffff, the Multiboot views of them, and
// the CPU count's limits.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "image_builder.hpp"
#include "loader/cpu_tables.hpp"
#include "loader/loader.hpp"
#include "test_memory.hpp"

namespace hvgdb::loader::test {
namespace {

constexpr std::uint64_t kRam = 16 << 20;

// "52 53 44 ..." -> bytes; spaces are ignored, so adjacent literals may split anywhere
// between pairs.
Bytes hex(std::string_view text) {
    Bytes bytes;
    std::string pair;
    for (char c : text) {
        if (c == ' ') continue;
        pair += c;
        if (pair.size() == 2) {
            bytes.push_back(static_cast<std::uint8_t>(std::stoul(pair, nullptr, 16)));
            pair.clear();
        }
    }
    REQUIRE(pair.empty());
    return bytes;
}

std::uint32_t le(const VectorMemory& memory, std::uint64_t gpa, int size) {
    std::uint32_t value = 0;
    for (int i = size - 1; i >= 0; --i) value = (value << 8) | memory.at(gpa + i);
    return value;
}

std::string text(const VectorMemory& memory, std::uint64_t gpa, std::size_t size) {
    const Bytes bytes = memory.read(gpa, size);
    return {bytes.begin(), bytes.end()};
}

std::uint8_t byte_sum(const VectorMemory& memory, std::uint64_t gpa, std::size_t size) {
    std::uint8_t sum = 0;
    for (std::uint8_t b : memory.read(gpa, size)) sum = static_cast<std::uint8_t>(sum + b);
    return sum;
}

// The first 16-byte boundary in [start, end) where `signature` starts a structure whose first
// `length(gpa)` bytes sum to 0, as kernels scan for the RSDP and the MP floating pointer.
template <typename Length>
std::optional<std::uint64_t> scan(const VectorMemory& memory, std::uint64_t start,
                                  std::uint64_t end, std::string_view signature, Length length) {
    for (std::uint64_t at = start; at + 16 <= end; at += 16)
        if (text(memory, at, signature.size()) == signature &&
            byte_sum(memory, at, length(at)) == 0)
            return at;
    return std::nullopt;
}

// ACPI 5.2.5.1 on a PC without EFI: the EBDA's first KiB (none here: 40:0E holds 0), then
// 0xe0000..0xfffff.  The ACPI 1.0 RSDP's checksum covers 20 bytes.
std::optional<std::uint64_t> find_rsdp(const VectorMemory& memory) {
    return scan(memory, 0xe0000, 0x100000, "RSD PTR ", [](std::uint64_t) { return 20; });
}

// MP 1.4 chapter 4: the EBDA's first KiB, the last KiB of base memory, then 0xf0000..0xfffff.
// The checksum covers the length byte's 16-byte units.
std::optional<std::uint64_t> find_mp(const VectorMemory& memory) {
    const auto length = [&](std::uint64_t at) { return memory.at(at + 8) * 16u; };
    const std::uint64_t ebda = le(memory, 0x40e, 2) << 4;
    if (ebda != 0)
        if (auto at = scan(memory, ebda, ebda + 1024, "_MP_", length)) return at;
    if (auto at = scan(memory, 0x9fc00, 0xa0000, "_MP_", length)) return at;
    return scan(memory, 0xf0000, 0x100000, "_MP_", length);
}

// RSDP -> RSDT -> the table with `signature`; each header's length and checksum checked.
std::optional<std::uint64_t> find_acpi_table(const VectorMemory& memory, std::string_view sig) {
    const auto rsdp = find_rsdp(memory);
    if (!rsdp) return std::nullopt;
    CHECK(memory.at(*rsdp + 15) == 0);  // revision 0: ACPI 1.0
    CHECK(text(memory, *rsdp + 9, 6) == "HVGDB ");
    const std::uint64_t rsdt = le(memory, *rsdp + 16, 4);
    REQUIRE(text(memory, rsdt, 4) == "RSDT");
    const std::uint32_t rsdt_length = le(memory, rsdt + 4, 4);
    CHECK(byte_sum(memory, rsdt, rsdt_length) == 0);
    for (std::uint64_t e = rsdt + 36; e + 4 <= rsdt + rsdt_length; e += 4) {
        const std::uint64_t table = le(memory, e, 4);
        CHECK(byte_sum(memory, table, le(memory, table + 4, 4)) == 0);
        if (text(memory, table, 4) == sig) return table;
    }
    return std::nullopt;
}

struct LocalApic {
    unsigned processor_id, apic_id, flags;
};

// The MADT's Processor Local APIC structures, walked by their length bytes.
std::vector<LocalApic> madt_local_apics(const VectorMemory& memory) {
    const auto madt = find_acpi_table(memory, "APIC");
    REQUIRE(madt.has_value());
    CHECK(le(memory, *madt + 36, 4) == 0xfee00000);
    CHECK(le(memory, *madt + 40, 4) == 0);  // no PCAT_COMPAT
    std::vector<LocalApic> cpus;
    const std::uint64_t end = *madt + le(memory, *madt + 4, 4);
    for (std::uint64_t e = *madt + 44; e < end; e += memory.at(e + 1)) {
        REQUIRE(memory.at(e + 1) >= 2);
        REQUIRE(memory.at(e) == 0);  // nothing but processors
        cpus.push_back({memory.at(e + 2), memory.at(e + 3), le(memory, e + 4, 4)});
    }
    return cpus;
}

struct MpProcessor {
    unsigned apic_id, version, flags;
    std::uint32_t signature;
};

// The MP configuration table's processor entries, after its checksums are checked.
std::vector<MpProcessor> mp_processors(const VectorMemory& memory) {
    const auto pointer = find_mp(memory);
    REQUIRE(pointer.has_value());
    CHECK(memory.at(*pointer + 9) == 4);   // MP 1.4
    CHECK(memory.at(*pointer + 11) == 0);  // a configuration table follows
    const std::uint64_t config = le(memory, *pointer + 4, 4);
    REQUIRE(text(memory, config, 4) == "PCMP");
    const std::uint32_t length = le(memory, config + 4, 2);
    CHECK(byte_sum(memory, config, length) == 0);
    CHECK(le(memory, config + 36, 4) == 0xfee00000);
    CHECK(le(memory, config + 40, 2) == 0);  // no extended entries
    std::vector<MpProcessor> cpus;
    std::uint64_t e = config + 44;
    for (unsigned i = 0; i < le(memory, config + 34, 2); ++i) {
        REQUIRE(memory.at(e) == 0);  // nothing but processors
        cpus.push_back(
            {memory.at(e + 1), memory.at(e + 2), memory.at(e + 3), le(memory, e + 4, 4)});
        CHECK(le(memory, e + 8, 4) == 0x201);
        e += 20;
    }
    CHECK(e == config + length);
    return cpus;
}

LoadOptions with_cpus(unsigned cpus) {
    LoadOptions options;
    options.cpus = cpus;
    return options;
}

LoadOptions raw_at(std::uint64_t addr) {
    LoadOptions options;
    options.format = Format::raw;
    options.load_addr = addr;
    return options;
}

// Loads `image` raw (real mode) at `addr` and checks that the CPU tables left all of it alone.
LoadedImage load_raw_intact(VectorMemory& memory, const Bytes& image, std::uint64_t addr) {
    auto loaded = load(image, memory, raw_at(addr));
    REQUIRE(loaded.has_value());
    CHECK(memory.read(addr, image.size()) == image);
    return std::move(*loaded);
}

bool has_region(const LoadedImage& loaded, std::string_view what) {
    for (const auto& r : loaded.setup)
        if (r.what == what) return true;
    return false;
}

}  // namespace

TEST_CASE("CPU tables: exact bytes for 1 CPU") {
    CHECK(build_acpi_tables(0xe0000, 1) ==
          hex("52 53 44 20 50 54 52 20 28 48 56 47 44 42 20 00"  // RSDP, checksum 0x28
              "20 00 0e 00 00 00 00 00 00 00 00 00 00 00 00 00"  // -> RSDT at 0xe0020
              "52 53 44 54 28 00 00 00 01 bb 48 56 47 44 42 20"  // RSDT, 40 bytes
              "48 56 47 44 42 20 20 20 01 00 00 00 48 56 47 44"
              "01 00 00 00 50 00 0e 00 00 00 00 00 00 00 00 00"  // -> MADT at 0xe0050
              "41 50 49 43 34 00 00 00 01 46 48 56 47 44 42 20"  // MADT, 52 bytes
              "48 56 47 44 42 20 20 20 01 00 00 00 48 56 47 44"
              "01 00 00 00 00 00 e0 fe 00 00 00 00 00 08 00 00"  // APIC at 0xfee00000, flags 0
              "01 00 00 00"));                                   // CPU 0 enabled
    CHECK(build_mp_tables(0xf0000, 1, 0x600) ==
          hex("5f 4d 50 5f 10 00 0f 00 01 04 81 00 00 00 00 00"  // _MP_ -> 0xf0010
              "50 43 4d 50 40 00 04 77 48 56 47 44 42 20 20 20"  // PCMP, 64 bytes
              "48 56 47 44 42 20 20 20 20 20 20 20 00 00 00 00"
              "00 00 01 00 00 00 e0 fe 00 00 00 00 00 00 14 03"  // 1 entry; APIC 0, BSP
              "00 06 00 00 01 02 00 00 00 00 00 00 00 00 00 00"));
    const Bytes acpi = build_acpi_tables(0xe0000, 1);
    CHECK(build_rsdp(0xe0000) == Bytes(acpi.begin(), acpi.begin() + kRsdpSize));
}

TEST_CASE("CPU tables: exact bytes for 4 CPUs; the MP entries keep family, model, stepping") {
    CHECK(build_acpi_tables(0xe0000, 4) ==
          hex("52 53 44 20 50 54 52 20 28 48 56 47 44 42 20 00"
              "20 00 0e 00 00 00 00 00 00 00 00 00 00 00 00 00"
              "52 53 44 54 28 00 00 00 01 bb 48 56 47 44 42 20"
              "48 56 47 44 42 20 20 20 01 00 00 00 48 56 47 44"
              "01 00 00 00 50 00 0e 00 00 00 00 00 00 00 00 00"
              "41 50 49 43 4c 00 00 00 01 07 48 56 47 44 42 20"  // MADT, 76 bytes
              "48 56 47 44 42 20 20 20 01 00 00 00 48 56 47 44"
              "01 00 00 00 00 00 e0 fe 00 00 00 00 00 08 00 00"
              "01 00 00 00 00 08 01 01 01 00 00 00 00 08 02 02"
              "01 00 00 00 00 08 03 03 01 00 00 00"));
    // Signature 0x906ea (extended model 9): the entries hold 0x6ea.
    CHECK(build_mp_tables(0xf0000, 4, 0x906ea) ==
          hex("5f 4d 50 5f 10 00 0f 00 01 04 81 00 00 00 00 00"
              "50 43 4d 50 7c 00 04 30 48 56 47 44 42 20 20 20"  // PCMP, 124 bytes
              "48 56 47 44 42 20 20 20 20 20 20 20 00 00 00 00"
              "00 00 04 00 00 00 e0 fe 00 00 00 00 00 00 14 03"
              "ea 06 00 00 01 02 00 00 00 00 00 00 00 00 00 00"
              "00 01 14 01 ea 06 00 00 01 02 00 00 00 00 00 00"  // APIC 1, enabled, not BSP
              "00 00 00 00 00 02 14 01 ea 06 00 00 01 02 00 00"
              "00 00 00 00 00 00 00 00 00 03 14 01 ea 06 00 00"
              "01 02 00 00 00 00 00 00 00 00 00 00"));
}

TEST_CASE("CPU tables: a boot sector's kernel finds 1 CPU through ACPI and MP") {
    VectorMemory memory(kRam);
    auto loaded = load(boot_sector(), memory, {});
    REQUIRE(loaded.has_value());
    CHECK(find_rsdp(memory) == 0xe0000);
    CHECK(find_mp(memory) == 0xf0000);
    const auto acpi = madt_local_apics(memory);
    REQUIRE(acpi.size() == 1);
    CHECK(acpi[0].processor_id == 0);
    CHECK(acpi[0].apic_id == 0);
    CHECK(acpi[0].flags == 1);
    const auto mp = mp_processors(memory);
    REQUIRE(mp.size() == 1);
    CHECK(mp[0].apic_id == 0);
    CHECK(mp[0].version == 0x14);
    CHECK(mp[0].flags == 3);  // enabled, bootstrap processor
    CHECK(mp[0].signature == 0x600);
    CHECK(loaded->description == "boot sector, 512 bytes at 0x7c00, real mode 0000:7c00");
    CHECK_FALSE(find_acpi_table(memory, "FACP").has_value());  // no FADT: see cpu_tables.cpp
}

TEST_CASE("CPU tables: 4 CPUs for an ELF kernel, found by scanning; 255 still fit") {
    VectorMemory memory(kRam);
    ElfSpec spec;
    spec.segments.push_back({0x100000, 0x100000, pattern(0x40, 1), 0});
    LoadOptions options = with_cpus(4);
    options.processor_signature = 0x806f8;
    auto loaded = load(build_elf(spec), memory, options);
    REQUIRE(loaded.has_value());
    CHECK(loaded->description ==
          "ELF64 x86-64, 1 PT_LOAD segment, entry 0x100000, ACPI and MP "
          "tables for 4 CPUs");
    const auto acpi = madt_local_apics(memory);
    const auto mp = mp_processors(memory);
    REQUIRE(acpi.size() == 4);
    REQUIRE(mp.size() == 4);
    for (unsigned i = 0; i < 4; ++i) {
        CAPTURE(i);
        CHECK(acpi[i].processor_id == i);
        CHECK(acpi[i].apic_id == i);
        CHECK(acpi[i].flags == 1);
        CHECK(mp[i].apic_id == i);
        CHECK(mp[i].flags == (i == 0 ? 3u : 1u));
        CHECK(mp[i].signature == 0x6f8);
    }
    REQUIRE(has_region(*loaded, "ACPI tables"));
    CHECK(loaded->setup[loaded->setup.size() - 2].gpa == 0xe0000);
    CHECK(loaded->setup[loaded->setup.size() - 2].size == 0x50 + 44 + 4 * 8);
    CHECK(loaded->setup.back().what == "MP tables");
    CHECK(loaded->setup.back().gpa == 0xf0000);
    CHECK(loaded->setup.back().size == 16 + 44 + 4 * 20);

    VectorMemory most(kRam);
    loaded = load(boot_sector(), most, with_cpus(255));
    REQUIRE(loaded.has_value());
    const auto many = madt_local_apics(most);
    REQUIRE(many.size() == 255);
    CHECK(many.back().apic_id == 254);
    CHECK(mp_processors(most).size() == 255);
    CHECK(le(most, 0xf0010 + 4, 2) == 44 + 255 * 20);
}

TEST_CASE("CPU tables: 0 and 256 CPUs are refused before anything is written") {
    for (Format format : {Format::automatic, Format::firmware}) {
        LoadOptions options = with_cpus(0);
        options.format = format;
        VectorMemory memory(kRam);
        auto loaded = load(boot_sector(4096), memory, options);
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().kind == ErrorKind::invalid);
        CHECK(loaded.error().message() == "--cpus 0: the machine needs at least 1 CPU");
        options.cpus = 256;
        loaded = load(boot_sector(4096), memory, options);
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().kind == ErrorKind::invalid);
        CHECK(loaded.error().message() ==
              "--cpus 256: at most 255 CPUs, as xAPIC IDs are 8 bits and ID 0xff addresses "
              "them all");
        CHECK(memory.writes == 0);
    }
}

TEST_CASE("CPU tables: firmware brings its own, so nothing is written for it") {
    VectorMemory memory(2 << 20);
    auto loaded = load(Bytes(64 * 1024, 0x90), memory, [] {
        LoadOptions options = with_cpus(4);
        options.format = Format::firmware;
        return options;
    }());
    REQUIRE(loaded.has_value());
    CHECK(memory.writes == 0);
    CHECK(loaded->setup.empty());
    CHECK_FALSE(find_rsdp(memory).has_value());
    CHECK_FALSE(find_mp(memory).has_value());
}

TEST_CASE("CPU tables: moved beside an image in their range, or left out with a note") {
    // An image at the start of the ACPI range: the ACPI tables follow it.
    VectorMemory memory(kRam);
    LoadedImage loaded = load_raw_intact(memory, pattern(0x104, 3), 0xe0000);
    CHECK(loaded.description ==
          "raw, 260 bytes at 0xe0000, real mode e000:0000, stack 9bc0:4000, ACPI tables at "
          "0xe0110 and MP tables at 0xf0000 for 1 CPU");
    CHECK(find_rsdp(memory) == 0xe0110);
    CHECK(madt_local_apics(memory).size() == 1);
    CHECK(mp_processors(memory).size() == 1);

    // An ELF segment at the start of the MP range: the MP tables follow it.
    ElfSpec spec;
    spec.is64 = false;
    spec.entry = 0xf0000;
    spec.segments.push_back({0xf0000, 0xf0000, pattern(0x20, 1), 0x800});
    VectorMemory elf(kRam);
    REQUIRE(load(build_elf(spec), elf, with_cpus(2)).has_value());
    CHECK(find_rsdp(elf) == 0xe0000);
    CHECK(find_mp(elf) == 0xf0800);
    CHECK(mp_processors(elf).size() == 2);

    // The MP range full: no MP tables, the ACPI tables where they usually are.
    VectorMemory full(kRam);
    loaded = load_raw_intact(full, pattern(0x10000, 5), 0xf0000);
    CHECK(loaded.description ==
          "raw, 65536 bytes at 0xf0000, real mode f000:0000, stack 9bc0:4000, ACPI tables at "
          "0xe0000 for 1 CPU, no MP tables (no free room in 0xf0000..0xfffff)");
    CHECK(find_rsdp(full) == 0xe0000);
    CHECK_FALSE(find_mp(full).has_value());
    CHECK_FALSE(has_region(loaded, "MP tables"));

    // Both ranges full: neither.
    VectorMemory none(kRam);
    loaded = load_raw_intact(none, pattern(0x20000, 7), 0xe0000);
    CHECK(loaded.description ==
          "raw, 131072 bytes at 0xe0000, real mode e000:0000, stack 9bc0:4000, no ACPI or MP "
          "tables (no free room in 0xe0000..0xfffff)");
    CHECK(loaded.setup.size() == 1);  // the stack only
}

TEST_CASE("CPU tables: placement in RAM that ends below 1 MiB") {
    // RAM ends inside the MP range: both still fit.
    VectorMemory short_ram(0xf1000);
    auto loaded = load(boot_sector(), short_ram, with_cpus(8));
    REQUIRE(loaded.has_value());
    CHECK(find_rsdp(short_ram) == 0xe0000);
    CHECK(find_mp(short_ram) == 0xf0000);
    CHECK(mp_processors(short_ram).size() == 8);

    // RAM ends below the ACPI range: no tables, and the description says so.
    VectorMemory small(0xa0000);
    loaded = load(boot_sector(), small, {});
    REQUIRE(loaded.has_value());
    CHECK(loaded->description ==
          "boot sector, 512 bytes at 0x7c00, real mode 0000:7c00, no ACPI or MP tables (no free "
          "room in 0xe0000..0xfffff)");
    CHECK(loaded->setup.empty());
}

TEST_CASE("CPU tables: place_cpu_tables takes the lowest free 16-byte boundary") {
    const LoadedImage::Range ranges[] = {
        {0xe0000, 0x21}, {0xe0031, 0x0}, {0xf0000, 0x10}, {0xf0010, 0xf}};
    const CpuTables t = place_cpu_tables(3, kRam, ranges);
    CHECK(t.cpus == 3);
    CHECK(t.acpi == 0xe0030);  // the empty range at 0xe0031 is ignored
    CHECK(t.mp == 0xf0020);

    // Exactly the room the MP block needs (16 + 44 + 20 bytes) at the end of the range.
    const LoadedImage::Range tight[] = {{0xe0000, 0x1ffb0}};
    const CpuTables fits = place_cpu_tables(1, kRam, tight);
    CHECK(fits.mp == 0xfffb0);
    CHECK_FALSE(fits.acpi.has_value());
    const LoadedImage::Range tighter[] = {{0xe0000, 0x1ffc0}};
    CHECK_FALSE(place_cpu_tables(1, kRam, tighter).mp.has_value());
}

TEST_CASE("CPU tables: Multiboot 1 memory map reserves them; a kernel in the range moves them") {
    // An a.out kernel at 0xe0000..0xe1200 (0x200 bytes and 0x1000 of BSS).
    VectorMemory memory(kRam);
    auto loaded = load(multiboot1_aout(0xe0000), memory, with_cpus(2));
    REQUIRE(loaded.has_value());
    CHECK(loaded->description ==
          "Multiboot 1 kernel (a.out kludge), 0 modules, entry 0xe0020, ACPI tables at 0xe1200 "
          "and MP tables at 0xf0000 for 2 CPUs");
    CHECK(find_rsdp(memory) == 0xe1200);
    CHECK(madt_local_apics(memory).size() == 2);
    CHECK(mp_processors(memory).size() == 2);

    // Every table byte lies in a reserved (type 2) entry of the memory map.
    const std::uint64_t info = loaded->cpu.rbx;
    const std::uint64_t map = le(memory, info + 48, 4);
    const std::uint32_t map_length = le(memory, info + 44, 4);
    for (const auto& r : loaded->setup) {
        if (r.what != "ACPI tables" && r.what != "MP tables") continue;
        bool reserved = false;
        for (std::uint64_t e = map; e < map + map_length; e += le(memory, e, 4) + 4) {
            const std::uint64_t base = memory.u64(e + 4), length = memory.u64(e + 12);
            if (le(memory, e + 20, 4) == 2 && base <= r.gpa && r.gpa + r.size <= base + length)
                reserved = true;
        }
        CHECK(reserved);
    }
}

TEST_CASE("CPU tables: Multiboot2 ACPI old RSDP tag and memory map") {
    // The kernel at 0xe0000 moves the ACPI tables; the tag copies the RSDP from there.
    VectorMemory memory(kRam);
    auto loaded = load(multiboot2_flat(0xe0000), memory, with_cpus(3));
    REQUIRE(loaded.has_value());
    const auto rsdp = find_rsdp(memory);
    REQUIRE(rsdp.has_value());
    CHECK(*rsdp == 0xe1300);
    const std::uint64_t info = loaded->cpu.rbx;
    const std::uint64_t end = info + le(memory, info, 4);
    std::optional<std::uint64_t> rsdp_tag;
    bool reserved = false;
    for (std::uint64_t tag = info + 8; tag < end; tag += (le(memory, tag + 4, 4) + 7) / 8 * 8) {
        const std::uint32_t type = le(memory, tag, 4);
        if (type == 14) rsdp_tag = tag;
        if (type == 6)  // memory map: 24-byte entries from tag + 16
            for (std::uint64_t e = tag + 16; e < tag + le(memory, tag + 4, 4); e += 24)
                if (le(memory, e + 16, 4) == 2 && memory.u64(e) <= 0xe0000 &&
                    memory.u64(e) + memory.u64(e + 8) >= 0x100000)
                    reserved = true;
        if (type == 0) break;
    }
    CHECK(reserved);
    REQUIRE(rsdp_tag.has_value());
    CHECK(le(memory, *rsdp_tag + 4, 4) == 8 + 20);
    CHECK(memory.read(*rsdp_tag + 8, 20) == memory.read(*rsdp, 20));
    CHECK(madt_local_apics(memory).size() == 3);

    // A kernel filling the range: no tag, unless the kernel requires one.
    Bytes big = multiboot2_flat(0xe0000, 0x300, 0x1fd00);
    VectorMemory full(kRam);
    loaded = load(big, full, {});
    REQUIRE(loaded.has_value());
    CHECK_FALSE(find_rsdp(full).has_value());
    const std::uint64_t full_info = loaded->cpu.rbx;
    CHECK(le(full, full_info, 4) == 152);      // the tags without the RSDP copy
    CHECK(le(full, full_info + 144, 4) == 0);  // end tag after the memory map

    VectorMemory refused(kRam);
    auto error = load(multiboot2_flat(0xe0000, 0x300, 0x1fd00, {{1, 0, {14}}}), refused, {});
    REQUIRE_FALSE(error.has_value());
    CHECK(error.error().message() ==
          "Multiboot2 header at offset 0x0 requires the ACPI RSDP (boot information tag 14), but "
          "the kernel and modules leave no room for the ACPI tables in 0xe0000..0xfffff");
    CHECK(refused.writes == 0);
    CHECK(load(multiboot2_flat(0xe0000, 0x300, 0x1fd00, {{1, 1, {14}}}), refused, {})
              .has_value());  // an optional request is no requirement
}

}  // namespace hvgdb::loader::test
