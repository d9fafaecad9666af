// Watchpoints by page protection.  The guest-physical pages that hold watched bytes are made
// read-only (write watches) or inaccessible (read and access watches) with Vm::protect, so the
// guest's accesses to them exit as MMIO; hvgdb completes each such access on guest memory
// itself and says whether it touched watched bytes.  Any number of watches, of any length up
// to max_length, at the price of one exit per guest access to a page that holds watched bytes.
// Depends on std, common/, vm.hpp, exit.hpp, physical_memory.hpp and breakpoints.hpp.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "common/error.hpp"
#include "vcpu/breakpoints.hpp"
#include "vcpu/exit.hpp"
#include "vcpu/physical_memory.hpp"
#include "vcpu/vm.hpp"

namespace hvgdb::vcpu {

enum class WatchKind : std::uint8_t { write, read, access };

// Guest-physical bytes [gpa, gpa + size).
struct PhysicalRange {
    std::uint64_t gpa = 0;
    std::uint64_t size = 0;
    bool operator==(const PhysicalRange&) const = default;
};

struct PageWatch {
    WatchKind kind = WatchKind::write;
    std::uint64_t linear = 0;  // the address the debugger asked for
    std::uint64_t length = 0;
    // Where the watched bytes are in guest-physical memory, in order (a range that crosses a
    // page may go on elsewhere); they add up to `length`.
    std::vector<PhysicalRange> pieces;
    // False for a watch the debug registers hold: it protects no page and is listed for the
    // accesses the hypervisor emulates on pages protected for other watches, which data
    // breakpoints do not see (KVM checks only instruction breakpoints when it emulates).
    bool protects = true;
};

// A guest access that touched the watched bytes of `linear`'s watch.
struct WatchHit {
    WatchKind kind;  // the watch's kind
    std::uint64_t linear;
};

class PageWatches {
  public:
    static constexpr std::uint64_t page_size = 4096;
    // Longer watches are refused: every page they cover costs an exit per access.
    static constexpr std::uint64_t max_length = 4 * page_size;
    static constexpr std::size_t max_watches = 1024;

    // All three must outlive the table; `memory` must not change while watches are set.
    PageWatches(Vm& vm, const PhysicalMemory& memory, SwBreakpoints& breakpoints)
        : vm_(vm), memory_(memory), breakpoints_(breakpoints) {}

    // Protects the pages of `watch`.  Inserting the same watch again is one watch.
    // ErrorKind::target for a bad length, pieces outside guest memory, or when the hypervisor
    // has no memory slots left for the protection (nothing changes then).
    Result<void> insert(const PageWatch& watch);
    // Removes the watch of that kind, address and length; its pages get their permissions
    // back at the next apply() when no watch needs them then (gdb removes its watches at each
    // stop and inserts them again to resume).  ErrorKind::target when there is no such watch.
    Result<void> remove(WatchKind kind, std::uint64_t linear, std::uint64_t length);
    // Gives the pages of removed watches their permissions back.
    void apply();
    // Every watch removed and every page restored at once.
    void clear();
    bool contains(WatchKind kind, std::uint64_t linear, std::uint64_t length) const;
    bool empty() const;
    std::size_t size() const;             // watches
    std::size_t protected_pages() const;  // pages not at their region's permissions
    // How many times page permissions have changed; waits for a change under way.
    std::uint64_t layout_changes() const;

    // vCPU threads.  Completes a guest access that exited as MMIO: guest memory (RAM and ROM)
    // is read through the software breakpoint table, so patched bytes read as the originals;
    // a write to RAM goes through it too (a breakpoint under it keeps its patch and takes the
    // new original); a write to ROM is dropped, and outside memory reads see 0xff.  Returns
    // the watch whose bytes the access touched, if any, for reads and writes as it watches.
    std::optional<WatchHit> complete_access(const MmioAccess& access);

    // The pages among `pages` (page-aligned guest-physical addresses) that watches keep the
    // guest from accessing, made readable (and so executable) until close(), for an
    // instruction fetched from one of them; writes still exit.  Only the first such page is
    // opened; empty when none is one.
    std::vector<std::uint64_t> open(std::span<const std::uint64_t> pages);
    Result<void> close(std::span<const std::uint64_t> pages);

  private:
    // Under mutex_.
    MemoryPermissions wanted(std::uint64_t page) const;
    MemoryPermissions applied(std::uint64_t page) const;
    // Gives each of `pages` the permissions wanted() says, all or none.
    Result<void> update(const std::set<std::uint64_t>& pages);
    std::set<std::uint64_t> pages_of(const PageWatch& watch) const;

    Vm& vm_;
    const PhysicalMemory& memory_;
    SwBreakpoints& breakpoints_;
    mutable std::mutex mutex_;
    std::vector<PageWatch> watches_;
    std::map<std::uint64_t, MemoryPermissions> applied_;  // pages not as their region has them
    std::map<std::uint64_t, unsigned> opened_;            // open(): page -> how many times
    std::set<std::uint64_t> removed_;                     // pages of removed watches
    std::uint64_t layout_changes_ = 0;
};

}  // namespace hvgdb::vcpu
