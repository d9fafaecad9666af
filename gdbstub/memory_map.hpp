// The target's memory map as the debugger reads it: the memory-map XML document gdb reads
// with qXfer:memory-map:read (gdb manual, "Memory Map Format") and the range lldb's
// qMemoryRegionInfo asks about, both from the one list of ranges Target::memory_map() gives.
// Depends on target.hpp and fmt.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "gdbstub/target.hpp"

namespace hvgdb::gdbstub {

// The DOCTYPE line, then one <memory type="ram|rom" start="0x.." length="0x.."/> per range.
std::string memory_map_xml(std::span<const MemoryRange> map);

// The range of the address space that holds `address`: one of the map's ranges (kind set),
// or the hole around it, from the end of the range below (or 0) to the start of the range
// above (or the top of the address space), kind unset.  `map` is sorted, disjoint and not
// empty, and does not cover the whole 2^64 bytes.
struct RegionAt {
    std::uint64_t start = 0;
    std::uint64_t size = 0;
    std::optional<MemoryKind> kind;
    bool operator==(const RegionAt&) const = default;
};
RegionAt region_at(std::span<const MemoryRange> map, std::uint64_t address);

}  // namespace hvgdb::gdbstub
