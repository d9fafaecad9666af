// app/memory_map: the debugger's memory map in each --memory-map mode, from guest layouts
// built as the machine builds them (RAM with ROM windows laid over it).
#include "app/memory_map.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace hvgdb;
using namespace hvgdb::app;
using gdbstub::MemoryKind;
using gdbstub::MemoryRange;

namespace {

constexpr std::uint64_t kLowHalfEnd = 0x100000000000000;  // 2^56
constexpr std::uint64_t kHighHalf = 0xff00000000000000;   // 2^64 - 2^56
constexpr std::uint64_t kRam = 2 << 20;                   // 2 MiB

// A firmware guest: 2 MiB of RAM, a 128 KiB ROM at the top of 4 GiB and its last 128 KiB
// again below 1 MiB (as loader/firmware.cpp places a ROM image).
struct FirmwareGuest {
    std::vector<std::uint8_t> ram = std::vector<std::uint8_t>(kRam);
    std::vector<std::uint8_t> rom = std::vector<std::uint8_t>(0x20000);
    vcpu::PhysicalMemory memory;
    FirmwareGuest() {
        const auto ro = vcpu::MemoryPermissions::read_execute;
        std::vector<vcpu::MemoryRegion> windows{{0x100000000 - rom.size(), rom, ro},
                                                {0x100000 - rom.size(), rom, ro}};
        auto layout = vcpu::overlay_ram(ram, windows);
        REQUIRE(layout);
        memory = std::move(*layout);
    }
};

}  // namespace

TEST_CASE("paged: ROM as rom, everything else paging reaches as ram") {
    FirmwareGuest guest;
    CHECK(debugger_memory_map(guest.memory.regions(), MemoryMapMode::paged) ==
          std::vector<MemoryRange>{
              {0, 0xe0000, MemoryKind::ram},
              {0xe0000, 0x20000, MemoryKind::rom},
              {0x100000, 0xfffe0000 - 0x100000, MemoryKind::ram},  // RAM, then the hole
              {0xfffe0000, 0x20000, MemoryKind::rom},
              {0x100000000, kLowHalfEnd - 0x100000000, MemoryKind::ram},
              {kHighHalf, 0 - kHighHalf, MemoryKind::ram},
          });
}

TEST_CASE("paged without ROM: two ranges around the non-canonical hole") {
    std::vector<std::uint8_t> ram(kRam);
    vcpu::PhysicalMemory memory(ram);
    auto map = debugger_memory_map(memory.regions(), MemoryMapMode::paged);
    CHECK(map == std::vector<MemoryRange>{{0, kLowHalfEnd, MemoryKind::ram},
                                          {kHighHalf, kLowHalfEnd, MemoryKind::ram}});
    // A higher-half kernel's addresses and a 32-bit kernel's are in the map.
    for (std::uint64_t linear : {0xffffffff80000000ull, 0xc0000000ull, 0xfffff000ull}) {
        bool inside = false;
        for (const MemoryRange& r : map) inside |= linear - r.start < r.length;
        CHECK_MESSAGE(inside, linear);
    }
}

TEST_CASE("physical: RAM and ROM as they are, holes left out") {
    FirmwareGuest guest;
    CHECK(debugger_memory_map(guest.memory.regions(), MemoryMapMode::physical) ==
          std::vector<MemoryRange>{
              {0, 0xe0000, MemoryKind::ram},
              {0xe0000, 0x20000, MemoryKind::rom},
              {0x100000, kRam - 0x100000, MemoryKind::ram},
              {0xfffe0000, 0x20000, MemoryKind::rom},
          });
    std::vector<std::uint8_t> ram(kRam);
    vcpu::PhysicalMemory plain(ram);
    CHECK(debugger_memory_map(plain.regions(), MemoryMapMode::physical) ==
          std::vector<MemoryRange>{{0, kRam, MemoryKind::ram}});
}

TEST_CASE("off: no map") {
    FirmwareGuest guest;
    CHECK(debugger_memory_map(guest.memory.regions(), MemoryMapMode::off).empty());
}
