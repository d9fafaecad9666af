// The debugger's memory map from the guest's memory regions.  See memory_map.hpp.
#include "app/memory_map.hpp"

#include <algorithm>

namespace hvgdb::app {

namespace {

using gdbstub::MemoryKind;
using gdbstub::MemoryRange;

// x86-64 linear addresses are canonical: bits 63..47 (4-level paging) or 63..56 (5-level)
// equal (Intel SDM vol. 1, 3.3.7.1).  No paging mode reaches [2^56, 2^64 - 2^56), and every
// address outside it is canonical under 5-level paging, so the map leaves out that range
// alone.  32-bit modes address 4 GiB, which lies below it.
constexpr std::uint64_t kLowHalfEnd = std::uint64_t{1} << 56;
constexpr std::uint64_t kHighHalfStart = std::uint64_t{0} - kLowHalfEnd;

MemoryKind kind_of(const vcpu::MemoryRegion& region) {
    return region.rom() ? MemoryKind::rom : MemoryKind::ram;
}

// Appends [start, start + length) of `kind`, joined to the last range when they touch.
void append(std::vector<MemoryRange>& map, std::uint64_t start, std::uint64_t length,
            MemoryKind kind) {
    if (length == 0) return;
    if (!map.empty() && map.back().kind == kind && map.back().start + map.back().length == start) {
        map.back().length += length;
        return;
    }
    map.push_back({start, length, kind});
}

}  // namespace

std::vector<MemoryRange> debugger_memory_map(std::span<const vcpu::MemoryRegion> guest,
                                             MemoryMapMode mode) {
    std::vector<MemoryRange> map;
    switch (mode) {
        case MemoryMapMode::off:
            break;
        case MemoryMapMode::physical:
            for (const vcpu::MemoryRegion& region : guest)
                append(map, region.gpa, region.host.size(), kind_of(region));
            break;
        case MemoryMapMode::paged: {
            std::uint64_t at = 0;
            for (const vcpu::MemoryRegion& region : guest) {
                if (kind_of(region) != MemoryKind::rom || region.gpa >= kLowHalfEnd) continue;
                append(map, at, region.gpa - at, MemoryKind::ram);
                const std::uint64_t end = std::min(region.end(), kLowHalfEnd);
                append(map, region.gpa, end - region.gpa, MemoryKind::rom);
                at = end;
            }
            append(map, at, kLowHalfEnd - at, MemoryKind::ram);
            append(map, kHighHalfStart, std::uint64_t{0} - kHighHalfStart, MemoryKind::ram);
            break;
        }
    }
    return map;
}

}  // namespace hvgdb::app
