// Page-protection watchpoints: which pages need which permissions, and the guest accesses
// that exit because of them.
#include "vcpu/page_watches.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace hvgdb::vcpu {

namespace {

// What a watch of this kind needs its pages to be: a write watch lets the guest read (and
// fetch) and traps its writes; read and access watches trap every access.
MemoryPermissions needs(WatchKind kind) {
    return kind == WatchKind::write ? MemoryPermissions::read_execute : MemoryPermissions::none;
}

// MemoryPermissions are ordered from most to least allowed.
MemoryPermissions stricter(MemoryPermissions a, MemoryPermissions b) {
    return std::max(a, b);
}

bool overlaps(const PhysicalRange& r, std::uint64_t gpa, std::uint64_t size) {
    return r.gpa < gpa + size && gpa < r.gpa + r.size;
}

bool is(const PageWatch& w, WatchKind kind, std::uint64_t linear, std::uint64_t length) {
    return w.kind == kind && w.linear == linear && w.length == length;
}

bool watches(WatchKind watch, bool is_write) {
    return watch == WatchKind::access || (watch == WatchKind::write) == is_write;
}

}  // namespace

std::set<std::uint64_t> PageWatches::pages_of(const PageWatch& watch) const {
    std::set<std::uint64_t> pages;
    for (const auto& p : watch.pieces)
        for (std::uint64_t page = p.gpa & ~(page_size - 1); page < p.gpa + p.size;
             page += page_size)
            pages.insert(page);
    return pages;
}

MemoryPermissions PageWatches::wanted(std::uint64_t page) const {
    const MemoryRegion* region = memory_.region_at(page);
    MemoryPermissions p = region ? region->guest : MemoryPermissions::read_write_execute;
    for (const auto& w : watches_)
        for (const auto& piece : w.pieces)
            if (w.protects && overlaps(piece, page, page_size)) p = stricter(p, needs(w.kind));
    // Opened for a fetch: readable, and writes still trap.
    if (opened_.contains(page)) p = std::min(p, MemoryPermissions::read_execute);
    return p;
}

MemoryPermissions PageWatches::applied(std::uint64_t page) const {
    if (auto it = applied_.find(page); it != applied_.end()) return it->second;
    const MemoryRegion* region = memory_.region_at(page);
    return region ? region->guest : MemoryPermissions::read_write_execute;
}

Result<void> PageWatches::update(const std::set<std::uint64_t>& pages) {
    // Adjacent pages that change to the same permissions go in one protect() call, so the
    // hypervisor sees (and coalesces) them as one range.
    struct Run {
        std::uint64_t gpa, size;
        MemoryPermissions to;
    };
    std::vector<Run> runs;
    std::vector<std::pair<std::uint64_t, MemoryPermissions>> before;
    for (std::uint64_t page : pages) {
        const MemoryPermissions to = wanted(page);
        if (to == applied(page)) continue;
        before.emplace_back(page, applied(page));
        if (!runs.empty() && runs.back().gpa + runs.back().size == page && runs.back().to == to)
            runs.back().size += page_size;
        else
            runs.push_back({page, page_size, to});
    }
    if (!runs.empty()) ++layout_changes_;
    for (const Run& run : runs) {
        if (auto r = vm_.protect(run.gpa, run.size, run.to); !r) {
            for (const auto& [page, was] : before)  // the runs done so far lie below this one
                if (page < run.gpa) (void)vm_.protect(page, page_size, was);
            return r;
        }
    }
    for (const auto& [page, was] : before) {
        const MemoryRegion* region = memory_.region_at(page);
        const MemoryPermissions now = wanted(page);
        if (region && now == region->guest)
            applied_.erase(page);
        else
            applied_[page] = now;
    }
    return {};
}

Result<void> PageWatches::insert(const PageWatch& watch) {
    if (watch.length == 0 || watch.length > max_length)
        return make_error(
            ErrorKind::target,
            fmt::format("a watch of {} bytes (1 to {} can be watched)", watch.length, max_length));
    std::uint64_t total = 0;
    for (const auto& p : watch.pieces) {
        if (!memory_.covers(p.gpa, p.size))
            return make_error(ErrorKind::target,
                              fmt::format("cannot watch {:#x}: guest-physical {:#x} is not in "
                                          "guest memory",
                                          watch.linear, p.gpa));
        total += p.size;
    }
    if (total != watch.length)
        return make_error(ErrorKind::target,
                          fmt::format("watch at {:#x}: its pieces hold {} of its {} bytes",
                                      watch.linear, total, watch.length));
    std::lock_guard lock(mutex_);
    if (std::ranges::any_of(watches_, [&](const PageWatch& w) {
            return is(w, watch.kind, watch.linear, watch.length);
        }))
        return {};  // gdb may send the same Z packet again
    if (watches_.size() >= max_watches)
        return make_error(ErrorKind::target,
                          fmt::format("too many watchpoints (the limit is {})", max_watches));
    watches_.push_back(watch);
    if (auto r = update(pages_of(watch)); !r) {
        watches_.pop_back();
        return r;
    }
    return {};
}

Result<void> PageWatches::remove(WatchKind kind, std::uint64_t linear, std::uint64_t length) {
    std::lock_guard lock(mutex_);
    auto it = std::ranges::find_if(watches_,
                                   [&](const PageWatch& w) { return is(w, kind, linear, length); });
    if (it == watches_.end())
        return make_error(ErrorKind::target, fmt::format("no watchpoint at {:#x}", linear));
    removed_.merge(pages_of(*it));
    watches_.erase(it);
    return {};
}

void PageWatches::apply() {
    std::lock_guard lock(mutex_);
    // A page that fails keeps its protection: its accesses still complete, without stops.
    (void)update(removed_);
    removed_.clear();
}

void PageWatches::clear() {
    std::lock_guard lock(mutex_);
    watches_.clear();
    removed_.clear();
    std::set<std::uint64_t> pages;
    for (const auto& [page, permissions] : applied_) pages.insert(page);
    (void)update(pages);
}

bool PageWatches::contains(WatchKind kind, std::uint64_t linear, std::uint64_t length) const {
    std::lock_guard lock(mutex_);
    return std::ranges::any_of(watches_,
                               [&](const PageWatch& w) { return is(w, kind, linear, length); });
}

std::uint64_t PageWatches::layout_changes() const {
    std::lock_guard lock(mutex_);
    return layout_changes_;
}

bool PageWatches::empty() const {
    std::lock_guard lock(mutex_);
    return watches_.empty();
}

std::size_t PageWatches::size() const {
    std::lock_guard lock(mutex_);
    return watches_.size();
}

std::size_t PageWatches::protected_pages() const {
    std::lock_guard lock(mutex_);
    return applied_.size();
}

std::optional<WatchHit> PageWatches::complete_access(const MmioAccess& access) {
    const MemoryRegion* region = memory_.region_at(access.gpa);
    if (access.is_write) {
        // Through the breakpoint table: a breakpoint under the write keeps its patch.
        if (region && !region->rom()) (void)breakpoints_.write(access.gpa, access.data);
    } else {
        auto n = region ? breakpoints_.read(access.gpa, access.data) : Result<std::size_t>(0);
        std::fill(access.data.begin() + static_cast<std::ptrdiff_t>(n ? *n : 0), access.data.end(),
                  0xff);  // an empty bus where there is no memory
    }
    if (!region) return std::nullopt;
    std::lock_guard lock(mutex_);
    for (const auto& w : watches_) {
        if (!watches(w.kind, access.is_write)) continue;
        for (const auto& piece : w.pieces)
            if (overlaps(piece, access.gpa, access.data.size())) return WatchHit{w.kind, w.linear};
    }
    return std::nullopt;
}

std::vector<std::uint64_t> PageWatches::open(std::span<const std::uint64_t> pages) {
    std::lock_guard lock(mutex_);
    for (std::uint64_t page : pages) {
        if (auto it = opened_.find(page); it != opened_.end()) {  // another vCPU opened it
            ++it->second;
            return {page};
        }
        if (applied(page) != MemoryPermissions::none) continue;
        opened_[page] = 1;
        if (update({page})) return {page};
        opened_.erase(page);
        return {};
    }
    return {};
}

Result<void> PageWatches::close(std::span<const std::uint64_t> pages) {
    std::lock_guard lock(mutex_);
    std::set<std::uint64_t> changed;
    for (std::uint64_t page : pages) {
        auto it = opened_.find(page);
        if (it == opened_.end()) continue;
        if (--it->second == 0) {
            opened_.erase(it);
            changed.insert(page);
        }
    }
    return update(changed);
}

}  // namespace hvgdb::vcpu
