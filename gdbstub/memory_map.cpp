// The memory map document and region lookups.  See memory_map.hpp.
#include "gdbstub/memory_map.hpp"

#include <fmt/format.h>

#include <iterator>

namespace hvgdb::gdbstub {

namespace {

std::string_view kind_name(MemoryKind kind) {
    return kind == MemoryKind::rom ? "rom" : "ram";
}

bool contains(const MemoryRange& range, std::uint64_t address) {
    // No end address: a range may end at 2^64.
    return address >= range.start && address - range.start < range.length;
}

}  // namespace

std::string memory_map_xml(std::span<const MemoryRange> map) {
    // gdb manual, "Memory Map Format": the document type gdb's parser checks.
    std::string xml =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\" "
        "\"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n"
        "<memory-map>\n";
    auto out = std::back_inserter(xml);
    for (const MemoryRange& range : map)
        fmt::format_to(out, "  <memory type=\"{}\" start=\"{:#x}\" length=\"{:#x}\"/>\n",
                       kind_name(range.kind), range.start, range.length);
    xml += "</memory-map>\n";
    return xml;
}

RegionAt region_at(std::span<const MemoryRange> map, std::uint64_t address) {
    std::uint64_t hole_start = 0;
    for (const MemoryRange& range : map) {
        if (contains(range, address)) return {range.start, range.length, range.kind};
        if (address < range.start) return {hole_start, range.start - hole_start, std::nullopt};
        hole_start = range.start + range.length;
    }
    // Above the last range, up to the top: 2^64 - hole_start bytes, in 64-bit arithmetic.
    return {hole_start, std::uint64_t{0} - hole_start, std::nullopt};
}

}  // namespace hvgdb::gdbstub
