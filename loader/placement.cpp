// Placement: highest free slot per window, conventional memory first (see placement.hpp).
#include "loader/placement.hpp"

#include <algorithm>

#include "loader/bytes.hpp"

namespace hvgdb::loader {

Placement::Placement(std::uint64_t ram_size, std::span<const LoadedImage::Range> occupied)
    : used_(occupied.begin(), occupied.end()) {
    const std::uint64_t conventional_end = std::min(ram_size, kConventionalEnd);
    if (conventional_end > kConventionalStart)
        windows_.push_back({kConventionalStart, conventional_end - kConventionalStart});
    const std::uint64_t extended_end = std::min(ram_size, 4 * kGiB);
    if (extended_end > kExtendedStart)
        windows_.push_back({kExtendedStart, extended_end - kExtendedStart});
}

std::optional<std::uint64_t> Placement::allocate(std::uint64_t size, std::uint64_t align,
                                                 bool conventional_only) {
    for (const auto& window : windows_) {
        if (conventional_only && window.gpa != kConventionalStart) continue;
        if (auto base = highest_slot(window, size, align)) {
            used_.push_back({*base, size});
            return base;
        }
    }
    return std::nullopt;
}

// The highest free slot ends either at the window's end or at the start of a used range (or
// just below one of those, by alignment), so those ends are the only candidates to try.
std::optional<std::uint64_t> Placement::highest_slot(LoadedImage::Range window, std::uint64_t size,
                                                     std::uint64_t align) const {
    const std::uint64_t window_end = window.gpa + window.size;
    std::vector<std::uint64_t> ends{window_end};
    for (const auto& u : used_)
        if (u.gpa > window.gpa && u.gpa < window_end) ends.push_back(u.gpa);

    std::optional<std::uint64_t> best;
    for (std::uint64_t end : ends) {
        if (end - window.gpa < size) continue;
        const std::uint64_t base = align_down(end - size, align);
        if (base < window.gpa) continue;
        const bool is_free = std::none_of(used_.begin(), used_.end(), [&](const auto& u) {
            return u.size != 0 && overlaps(base, size, u.gpa, u.size);
        });
        if (is_free && (!best || base > *best)) best = base;
    }
    return best;
}

}  // namespace hvgdb::loader
