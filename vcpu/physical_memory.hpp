// Guest-physical memory as the host holds it: host memory placed at guest-physical addresses
// (RAM, ROM, and windows that show the same host bytes at a second address).  Depends on std,
// common/ and vcpu/vm.hpp (for MemoryPermissions).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/error.hpp"
#include "vcpu/vm.hpp"

namespace hvgdb::vcpu {

struct MemoryRegion {
    std::uint64_t gpa = 0;
    std::span<std::uint8_t> host;
    // What the guest may do there.  The host (the debugger) may always write.
    MemoryPermissions guest = MemoryPermissions::read_write_execute;

    std::uint64_t end() const { return gpa + host.size(); }
    // ROM: memory the guest may not write (firmware and its alias); the rest is RAM.
    bool rom() const { return guest != MemoryPermissions::read_write_execute; }
};

// A set of regions that do not overlap, sorted by address.  Built before the vCPUs start and
// not changed afterwards, so any thread may read it without a lock.
class PhysicalMemory {
  public:
    PhysicalMemory() = default;
    // RAM at guest-physical 0.
    explicit PhysicalMemory(std::span<std::uint8_t> ram);

    // ErrorKind::invalid when the region is empty, reaches 2^64, or overlaps another.
    Result<void> add(const MemoryRegion& region);

    std::span<const MemoryRegion> regions() const { return regions_; }

    // The host bytes from `gpa` to the end of the region holding it; empty when no region
    // holds `gpa`.
    std::span<std::uint8_t> host_from(std::uint64_t gpa) const;
    // The region holding `gpa`, nullptr when none does.
    const MemoryRegion* region_at(std::uint64_t gpa) const;
    // Whether every byte of [gpa, gpa + size) lies in some region (adjacent regions count as
    // one range).  An empty range is covered.
    bool covers(std::uint64_t gpa, std::uint64_t size) const;
    // Copies [gpa, gpa + out.size()) into `out` as the host memory holds it (software
    // breakpoints included); false, with `out` partly filled, when not all of it is memory.
    bool read_raw(std::uint64_t gpa, std::span<std::uint8_t> out) const;

  private:
    std::vector<MemoryRegion> regions_;
};

// The memory a machine's guest sees: RAM at guest-physical 0 with `overlays` placed over it.
// An overlay hides the RAM it covers (the RAM region is split around it), as a PC maps its
// firmware over the top of conventional memory; overlays must not overlap each other.
Result<PhysicalMemory> overlay_ram(std::span<std::uint8_t> ram,
                                   std::span<const MemoryRegion> overlays);

}  // namespace hvgdb::vcpu
