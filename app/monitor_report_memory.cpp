// `monitor translate`, `walk` and `xp`: where a linear address leads, entry by entry, and
// guest-physical bytes as a hex dump.
#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "app/monitor_reports.hpp"

namespace hvgdb::app {

std::string size_text(std::uint64_t bytes) {
    constexpr std::string_view units[] = {"GiB", "MiB", "KiB"};
    for (unsigned i = 0; i < std::size(units); ++i) {
        const unsigned shift = 30 - 10 * i;
        const std::uint64_t unit = std::uint64_t{1} << shift;
        if (bytes >= unit && bytes % unit == 0)
            return fmt::format("{} {}", bytes >> shift, units[i]);
    }
    return fmt::format("{} bytes", bytes);
}

std::string translation_report(std::uint64_t linear, const vcpu::x86::Translation& t) {
    if (t.page_size == 0)
        return fmt::format("{:#x}: paging is off, physical {:#x}\n", linear, t.physical);
    return fmt::format("{:#x} -> physical {:#x} ({} page, {}, {}, {})\n", linear, t.physical,
                       size_text(t.page_size), t.writable ? "writable" : "read-only",
                       t.user ? "user" : "supervisor", t.executable ? "executable" : "no-execute");
}

std::string page_walk_report(std::uint64_t linear, const vcpu::x86::PageWalk& walk) {
    std::string out;
    auto it = std::back_inserter(out);
    for (std::size_t i = 0; i < walk.levels.size(); ++i) {
        const vcpu::x86::WalkLevel& level = walk.levels[i];
        const bool read =
            i + 1 < walk.levels.size() || walk.result ||
            walk.result.error().fault != vcpu::x86::TranslationFault::table_outside_memory;
        fmt::format_to(it, "  {} entry {} at {:#x}: ", level.table, level.index,
                       level.entry_address);
        if (!read) {
            out += "outside guest memory\n";
            continue;
        }
        fmt::format_to(it, "{:#0{}x} {}", level.entry, level.entry_bytes * 2 + 2, level.flags);
        if (level.page_size)
            fmt::format_to(it, " -> {} page at {:#x}", size_text(level.page_size), level.next);
        else if (i + 1 < walk.levels.size())
            fmt::format_to(it, " -> {} at {:#x}", walk.levels[i + 1].table, level.next);
        out += "\n";
    }
    if (walk.result) return out + translation_report(linear, *walk.result);
    return out + vcpu::x86::describe(linear, walk.result.error()) + "\n";
}

std::string hex_dump(std::uint64_t address, std::span<const std::uint8_t> bytes) {
    constexpr std::size_t per_line = 16;
    const bool wide = address + bytes.size() > 0x100000000ull;
    std::string out;
    auto it = std::back_inserter(out);
    for (std::size_t at = 0; at < bytes.size(); at += per_line) {
        const auto line = bytes.subspan(at, std::min(per_line, bytes.size() - at));
        fmt::format_to(it, "{:0{}x}:", address + at, wide ? 16 : 8);
        for (std::size_t i = 0; i < per_line; ++i) {
            if (i == per_line / 2) out += ' ';
            if (i < line.size())
                fmt::format_to(it, " {:02x}", line[i]);
            else
                out += "   ";
        }
        out += "  |";
        for (std::uint8_t b : line) out += b >= 0x20 && b < 0x7f ? static_cast<char>(b) : '.';
        out += "|\n";
    }
    return out;
}

std::string memory_regions_report(std::span<const vcpu::MemoryRegion> regions) {
    std::string out = "guest memory:\n";
    for (const auto& r : regions) {
        fmt::format_to(std::back_inserter(out), "  {:#012x}-{:#012x}  {}, {}\n", r.gpa, r.end() - 1,
                       r.rom() ? "ROM (read-only to the guest)" : "RAM", size_text(r.host.size()));
    }
    return out;
}

}  // namespace hvgdb::app
