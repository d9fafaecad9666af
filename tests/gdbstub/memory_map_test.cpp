// gdbstub/memory_map: the memory-map document, byte for byte, and the range that holds an
// address (a map range or the hole around it).
#include "gdbstub/memory_map.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace hvgdb::gdbstub;

namespace {

constexpr std::uint64_t kTop = 0xff00000000000000;  // 2^64 - 2^56

// A firmware guest's map as hvgdb's physical mode gives it: RAM, the ROM's low window, RAM
// above 1 MiB, the ROM below 4 GiB.
const std::vector<MemoryRange> kPhysical{
    {0, 0xe0000, MemoryKind::ram},
    {0xe0000, 0x20000, MemoryKind::rom},
    {0x100000, 0x7f00000, MemoryKind::ram},
    {0xffff0000, 0x10000, MemoryKind::rom},
};

// The same in paged mode: a last range that ends at the top of the address space.
const std::vector<MemoryRange> kPaged{
    {0, 0x100000000000000, MemoryKind::ram},
    {kTop, 0x100000000000000, MemoryKind::ram},
};

}  // namespace

TEST_CASE("the memory-map document: DOCTYPE, one element per range, hex attributes") {
    CHECK(memory_map_xml(kPhysical) ==
          "<?xml version=\"1.0\"?>\n"
          "<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\" "
          "\"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n"
          "<memory-map>\n"
          "  <memory type=\"ram\" start=\"0x0\" length=\"0xe0000\"/>\n"
          "  <memory type=\"rom\" start=\"0xe0000\" length=\"0x20000\"/>\n"
          "  <memory type=\"ram\" start=\"0x100000\" length=\"0x7f00000\"/>\n"
          "  <memory type=\"rom\" start=\"0xffff0000\" length=\"0x10000\"/>\n"
          "</memory-map>\n");
    std::string paged = memory_map_xml(kPaged);
    CHECK(paged.find("  <memory type=\"ram\" start=\"0xff00000000000000\" "
                     "length=\"0x100000000000000\"/>\n</memory-map>\n") != std::string::npos);
}

TEST_CASE("region_at: inside a range, its bounds and kind") {
    CHECK(region_at(kPhysical, 0) == RegionAt{0, 0xe0000, MemoryKind::ram});
    CHECK(region_at(kPhysical, 0xdffff) == RegionAt{0, 0xe0000, MemoryKind::ram});
    CHECK(region_at(kPhysical, 0xe0000) == RegionAt{0xe0000, 0x20000, MemoryKind::rom});
    CHECK(region_at(kPhysical, 0x100000) == RegionAt{0x100000, 0x7f00000, MemoryKind::ram});
    CHECK(region_at(kPhysical, 0xfffffff0) == RegionAt{0xffff0000, 0x10000, MemoryKind::rom});
    CHECK(region_at(kPaged, 0xffffffff80000000) ==
          RegionAt{kTop, 0x100000000000000, MemoryKind::ram});
    CHECK(region_at(kPaged, UINT64_MAX) == RegionAt{kTop, 0x100000000000000, MemoryKind::ram});
}

TEST_CASE("region_at: in a hole, the hole from the range below to the range above") {
    // Between RAM's end (128 MiB) and the ROM.
    CHECK(region_at(kPhysical, 0x8000000) == RegionAt{0x8000000, 0xffff0000 - 0x8000000, {}});
    CHECK(region_at(kPhysical, 0xfee00000) == RegionAt{0x8000000, 0xffff0000 - 0x8000000, {}});
    // Above the last range: up to the top of the address space.
    CHECK(region_at(kPhysical, 0x100000000) == RegionAt{0x100000000, 0xffffffff00000000, {}});
    CHECK(region_at(kPhysical, UINT64_MAX) == RegionAt{0x100000000, 0xffffffff00000000, {}});
    // The non-canonical hole of the paged map.
    CHECK(region_at(kPaged, 0x100000000000000) ==
          RegionAt{0x100000000000000, kTop - 0x100000000000000, {}});
    // A map that starts above 0: the hole below it starts at 0.
    const std::vector<MemoryRange> high{{0x1000, 0x1000, MemoryKind::ram}};
    CHECK(region_at(high, 0) == RegionAt{0, 0x1000, {}});
    CHECK(region_at(high, 0x2000) == RegionAt{0x2000, 0 - std::uint64_t{0x2000}, {}});
}
