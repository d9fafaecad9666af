// Guest-physical regions: lookup by address and RAM with overlays cut out of it.
#include "vcpu/physical_memory.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace hvgdb::vcpu {

PhysicalMemory::PhysicalMemory(std::span<std::uint8_t> ram) {
    if (!ram.empty()) regions_.push_back({0, ram, MemoryPermissions::read_write_execute});
}

Result<void> PhysicalMemory::add(const MemoryRegion& region) {
    if (region.host.empty())
        return make_error(ErrorKind::invalid,
                          fmt::format("empty memory region at {:#x}", region.gpa));
    if (region.end() <= region.gpa)  // end() is exclusive: reaching 2^64 wraps it to 0
        return make_error(ErrorKind::invalid,
                          fmt::format("memory region of {:#x} bytes at {:#x} reaches past 2^64",
                                      region.host.size(), region.gpa));
    auto next = std::find_if(regions_.begin(), regions_.end(),
                             [&](const MemoryRegion& r) { return r.gpa >= region.gpa; });
    bool hits_next = next != regions_.end() && next->gpa < region.end();
    bool hits_prev = next != regions_.begin() && std::prev(next)->end() > region.gpa;
    if (hits_next || hits_prev) {
        const MemoryRegion& other = hits_next ? *next : *std::prev(next);
        return make_error(ErrorKind::invalid,
                          fmt::format("memory at {:#x}..{:#x} overlaps memory at {:#x}..{:#x}",
                                      region.gpa, region.end() - 1, other.gpa, other.end() - 1));
    }
    regions_.insert(next, region);
    return {};
}

const MemoryRegion* PhysicalMemory::region_at(std::uint64_t gpa) const {
    // The last region starting at or below gpa is the only one that can hold it.
    auto after = std::upper_bound(regions_.begin(), regions_.end(), gpa,
                                  [](std::uint64_t a, const MemoryRegion& r) { return a < r.gpa; });
    if (after == regions_.begin()) return nullptr;
    const MemoryRegion& r = *std::prev(after);
    return gpa - r.gpa < r.host.size() ? &r : nullptr;
}

std::span<std::uint8_t> PhysicalMemory::host_from(std::uint64_t gpa) const {
    const MemoryRegion* r = region_at(gpa);
    if (!r) return {};
    return r->host.subspan(gpa - r->gpa);
}

bool PhysicalMemory::covers(std::uint64_t gpa, std::uint64_t size) const {
    // No region reaches 2^64 (add() refuses it), so gpa + n below never wraps.
    while (size > 0) {
        auto host = host_from(gpa);
        if (host.empty()) return false;
        std::uint64_t n = std::min<std::uint64_t>(host.size(), size);
        size -= n;
        gpa += n;
    }
    return true;
}

bool PhysicalMemory::read_raw(std::uint64_t gpa, std::span<std::uint8_t> out) const {
    std::size_t done = 0;
    while (done < out.size()) {
        auto host = host_from(gpa + done);
        if (host.empty()) return false;
        const std::size_t n = std::min<std::uint64_t>(host.size(), out.size() - done);
        std::memcpy(out.data() + done, host.data(), n);
        done += n;
    }
    return true;
}

Result<PhysicalMemory> overlay_ram(std::span<std::uint8_t> ram,
                                   std::span<const MemoryRegion> overlays) {
    PhysicalMemory memory;
    for (const auto& o : overlays)
        if (auto r = memory.add(o); !r) return std::unexpected(r.error());
    // What is left of RAM: the gaps between the overlays below its end.
    std::uint64_t at = 0;
    std::vector<MemoryRegion> pieces;
    for (const auto& o : memory.regions()) {
        if (o.gpa >= ram.size()) break;
        if (o.gpa > at) pieces.push_back({at, ram.subspan(at, o.gpa - at)});
        at = std::max(at, o.end());
    }
    if (at < ram.size()) pieces.push_back({at, ram.subspan(at)});
    for (const auto& p : pieces)
        if (auto r = memory.add(p); !r) return std::unexpected(r.error());
    return memory;
}

}  // namespace hvgdb::vcpu
