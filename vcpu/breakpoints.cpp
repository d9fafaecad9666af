// Software breakpoint table: patching, shadowed reads, writes that keep breakpoints.
#include "vcpu/breakpoints.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace hvgdb::vcpu {

std::string_view to_string(SwBreakpointMechanism m) {
    return m == SwBreakpointMechanism::int3 ? "int3" : "hlt";
}

std::uint8_t breakpoint_opcode(SwBreakpointMechanism m) {
    return m == SwBreakpointMechanism::int3 ? 0xcc : 0xf4;
}

Result<void> SwBreakpoints::insert(std::uint64_t linear, std::uint64_t gpa) {
    std::lock_guard lock(mutex_);
    if (gpa >= ram_.size())
        return make_error(ErrorKind::target, fmt::format("breakpoint at {:#x}: not in RAM", gpa));
    if (by_gpa_.contains(gpa)) return {};  // the same breakpoint twice is one (gdb may resend Z0)
    if (by_gpa_.size() >= max_breakpoints)
        return make_error(
            ErrorKind::target,
            fmt::format("too many software breakpoints (the limit is {})", max_breakpoints));
    by_gpa_.emplace(gpa, Entry{ram_[gpa], linear});
    gpa_by_linear_[linear] = gpa;
    removed_linear_.erase(linear);
    ram_[gpa] = breakpoint_opcode(mechanism_);
    return {};
}

Result<void> SwBreakpoints::remove(std::uint64_t, std::uint64_t gpa) {
    std::lock_guard lock(mutex_);
    auto it = by_gpa_.find(gpa);
    if (it == by_gpa_.end())
        return make_error(ErrorKind::target, fmt::format("no breakpoint at {:#x}", gpa));
    ram_[gpa] = it->second.original;
    remember_removed(it->second.linear);
    gpa_by_linear_.erase(it->second.linear);
    by_gpa_.erase(it);
    return {};
}

void SwBreakpoints::remove_all() {
    std::lock_guard lock(mutex_);
    for (const auto& [gpa, entry] : by_gpa_) {
        ram_[gpa] = entry.original;
        remember_removed(entry.linear);
    }
    by_gpa_.clear();
    gpa_by_linear_.clear();
}

void SwBreakpoints::remember_removed(std::uint64_t linear) {
    // Bounded like the table itself; a trap on a removed breakpoint follows its removal
    // within microseconds, so forgetting old removals costs nothing.
    if (removed_linear_.size() >= max_breakpoints) removed_linear_.clear();
    removed_linear_.insert(linear);
}

bool SwBreakpoints::contains_linear(std::uint64_t linear) const {
    std::lock_guard lock(mutex_);
    return gpa_by_linear_.contains(linear);
}

bool SwBreakpoints::removed_meanwhile(std::uint64_t linear, std::uint64_t gpa) const {
    std::lock_guard lock(mutex_);
    if (!removed_linear_.contains(linear)) return false;
    return gpa < ram_.size() && ram_[gpa] != breakpoint_opcode(mechanism_);
}

Result<std::size_t> SwBreakpoints::read(std::uint64_t gpa, std::span<std::uint8_t> out) const {
    if (gpa >= ram_.size())
        return make_error(ErrorKind::target, fmt::format("address {:#x} is not in RAM", gpa));
    std::size_t n = std::min<std::uint64_t>(out.size(), ram_.size() - gpa);
    std::lock_guard lock(mutex_);
    std::memcpy(out.data(), ram_.data() + gpa, n);
    for (auto it = by_gpa_.lower_bound(gpa); it != by_gpa_.end() && it->first < gpa + n; ++it)
        out[it->first - gpa] = it->second.original;
    return n;
}

Result<void> SwBreakpoints::write(std::uint64_t gpa, std::span<const std::uint8_t> in) {
    if (gpa >= ram_.size() || in.size() > ram_.size() - gpa)
        return make_error(ErrorKind::target,
                          fmt::format("write of {} bytes at {:#x} leaves RAM", in.size(), gpa));
    std::lock_guard lock(mutex_);
    std::memcpy(ram_.data() + gpa, in.data(), in.size());
    std::uint8_t opcode = breakpoint_opcode(mechanism_);
    for (auto it = by_gpa_.lower_bound(gpa); it != by_gpa_.end() && it->first < gpa + in.size();
         ++it) {
        it->second.original = in[it->first - gpa];
        ram_[it->first] = opcode;
    }
    return {};
}

}  // namespace hvgdb::vcpu
