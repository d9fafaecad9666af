// PhysicalMemory and overlay_ram: lookups, overlaps, RAM split around ROM windows, and the
// breakpoint table over ROM seen through two windows.
#include <doctest/doctest.h>

#include <vector>

#include "vcpu/breakpoints.hpp"
#include "vcpu/physical_memory.hpp"

using namespace hvgdb::vcpu;

namespace {
constexpr auto rom_access = MemoryPermissions::read_execute;
}

TEST_CASE("regions are found by address and must not overlap") {
    std::vector<std::uint8_t> a(0x100, 1), b(0x100, 2);
    PhysicalMemory memory;
    REQUIRE(memory.add({0x1000, a}));
    REQUIRE(memory.add({0x1100, b, rom_access}));  // adjacent is fine
    CHECK(memory.regions().size() == 2);
    CHECK(memory.host_from(0x1000).size() == 0x100);
    CHECK(memory.host_from(0x10ff).data() == a.data() + 0xff);
    CHECK(memory.host_from(0x1100).data() == b.data());
    CHECK(memory.host_from(0x11ff).size() == 1);
    CHECK(memory.host_from(0x1200).empty());
    CHECK(memory.host_from(0xfff).empty());
    CHECK(memory.host_from(~0ull).empty());
    REQUIRE(memory.region_at(0x11ff));
    CHECK(memory.region_at(0x11ff)->guest == rom_access);
    CHECK(memory.region_at(0x1000)->gpa == 0x1000);
    CHECK(memory.region_at(0x1200) == nullptr);
    CHECK(memory.region_at(0xfff) == nullptr);

    CHECK(memory.covers(0x1000, 0x200));  // across the seam
    CHECK(memory.covers(0x1234, 0));
    CHECK_FALSE(memory.covers(0x1000, 0x201));
    CHECK_FALSE(memory.covers(0xfff, 2));
    CHECK_FALSE(memory.covers(~0ull, 2));

    std::vector<std::uint8_t> c(0x10);
    auto overlap = memory.add({0x10f8, c});
    REQUIRE_FALSE(overlap);
    CHECK(overlap.error().kind == hvgdb::ErrorKind::invalid);
    CHECK_FALSE(memory.add({0xff8, c}));   // ends inside the first region
    CHECK_FALSE(memory.add({0x1080, c}));  // wholly inside
    CHECK_FALSE(memory.add({0x2000, {}}));
    CHECK_FALSE(memory.add({~0ull - 7, c}));    // reaches past 2^64
    CHECK_FALSE(memory.add({~0ull - 0xf, c}));  // ends exactly at 2^64
    CHECK(memory.regions().size() == 2);
}

TEST_CASE("overlays hide the RAM under them; RAM is split around them") {
    std::vector<std::uint8_t> ram(0x200000, 0);
    std::vector<std::uint8_t> rom(0x20000, 0xaa);
    const MemoryRegion windows[] = {
        {0xfffe0000, rom, rom_access},  // above RAM: nothing to hide
        {0xe0000, rom, rom_access},     // below 1 MiB: cuts RAM in two
    };
    auto memory = overlay_ram(ram, windows);
    REQUIRE(memory);
    auto regions = memory->regions();
    REQUIRE(regions.size() == 4);
    CHECK(regions[0].gpa == 0);
    CHECK(regions[0].host.size() == 0xe0000);
    CHECK(regions[0].guest == MemoryPermissions::read_write_execute);
    CHECK(regions[1].gpa == 0xe0000);
    CHECK(regions[1].guest == rom_access);
    CHECK(regions[2].gpa == 0x100000);
    CHECK(regions[2].host.data() == ram.data() + 0x100000);
    CHECK(regions[2].host.size() == 0x100000);
    CHECK(regions[3].gpa == 0xfffe0000);
    // Both windows show the same host bytes.
    CHECK(memory->host_from(0xffff0).data() == memory->host_from(0xfffffff0).data());

    // Overlapping overlays are refused; an overlay at 0 and one over the end of RAM leave
    // only the RAM between them.
    const MemoryRegion clash[] = {{0xe0000, rom, rom_access}, {0xf0000, rom, rom_access}};
    CHECK_FALSE(overlay_ram(ram, clash));
    const MemoryRegion ends[] = {{0, rom, rom_access}, {0x1f0000, rom, rom_access}};
    auto cut = overlay_ram(ram, ends);
    REQUIRE(cut);
    REQUIRE(cut->regions().size() == 3);
    CHECK(cut->regions()[1].gpa == 0x20000);
    CHECK(cut->regions()[1].end() == 0x1f0000);

    auto plain = overlay_ram(ram, {});
    REQUIRE(plain);
    REQUIRE(plain->regions().size() == 1);
    CHECK(plain->regions()[0].host.size() == ram.size());
}

TEST_CASE("a breakpoint in ROM shows through both of its windows and hides from reads") {
    std::vector<std::uint8_t> ram(0x1000, 0);
    std::vector<std::uint8_t> rom(0x100, 0x90);
    const MemoryRegion windows[] = {{0x10000, rom, rom_access}, {0x20000, rom, rom_access}};
    auto memory = overlay_ram(ram, windows);
    REQUIRE(memory);
    SwBreakpoints bps(*memory, SwBreakpointMechanism::hlt);

    REQUIRE(bps.insert(0x10010, 0x10010));
    CHECK(rom[0x10] == 0xf4);  // patched although the guest may not write it
    std::uint8_t byte = 0;
    REQUIRE(bps.read(0x20010, {&byte, 1}));
    CHECK(byte == 0x90);  // the other window reads the original too

    // The same byte through the other window: a second breakpoint sharing the patch.
    REQUIRE(bps.insert(0x20010, 0x20010));
    CHECK(bps.contains_linear(0x10010));
    CHECK(bps.contains_linear(0x20010));
    REQUIRE(bps.remove(0x10010, 0x10010));
    CHECK(rom[0x10] == 0xf4);  // still needed by 0x20010
    REQUIRE(bps.remove(0x20010, 0x20010));
    CHECK(rom[0x10] == 0x90);
    CHECK_FALSE(bps.remove(0x20010, 0x20010));

    // The debugger writes ROM; a write over a breakpoint keeps it.
    REQUIRE(bps.insert(0x10020, 0x10020));
    const std::uint8_t data[] = {1, 2, 3};
    REQUIRE(bps.write(0x2001f, data));
    CHECK(rom[0x1f] == 1);
    CHECK(rom[0x20] == 0xf4);
    CHECK(rom[0x21] == 3);
    bps.remove_all();
    CHECK(rom[0x20] == 2);
}

TEST_CASE("reads continue across adjacent regions and stop short at a gap") {
    std::vector<std::uint8_t> ram(0x1000, 1);
    std::vector<std::uint8_t> rom(0x1000, 2);
    const MemoryRegion windows[] = {{0x1000, rom, rom_access}};
    auto memory = overlay_ram(ram, windows);
    REQUIRE(memory);
    SwBreakpoints bps(*memory, SwBreakpointMechanism::int3);
    std::vector<std::uint8_t> out(0x10);
    auto n = bps.read(0xff8, out);
    REQUIRE(n);
    CHECK(*n == 0x10);
    CHECK(out[7] == 1);
    CHECK(out[8] == 2);
    n = bps.read(0x1ff8, out);
    REQUIRE(n);
    CHECK(*n == 8);
    CHECK_FALSE(bps.read(0x2000, out));
    CHECK_FALSE(bps.write(0x1ff8, out));  // would leave memory: nothing written
    CHECK(rom[0xff8] == 2);
    CHECK_FALSE(bps.insert(0x2000, 0x2000));
}

TEST_CASE("a linear address inserted again at another physical byte moves there") {
    std::vector<std::uint8_t> ram(0x100, 0x90);
    PhysicalMemory memory(ram);
    SwBreakpoints bps(memory, SwBreakpointMechanism::int3);
    REQUIRE(bps.insert(0x5000, 0x10));
    CHECK(ram[0x10] == 0xcc);
    REQUIRE(bps.insert(0x5000, 0x20));  // the guest remapped the page
    CHECK(ram[0x10] == 0x90);
    CHECK(ram[0x20] == 0xcc);
    REQUIRE(bps.remove(0x5000, 0x10));  // by the linear address
    CHECK(ram[0x20] == 0x90);
}
