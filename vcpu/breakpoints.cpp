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

namespace {
std::uintptr_t key_of(const std::uint8_t* byte) {
    return reinterpret_cast<std::uintptr_t>(byte);  // a map key only, never dereferenced
}
}  // namespace

std::uint8_t* SwBreakpoints::byte_at(std::uint64_t gpa) const {
    auto host = memory_.host_from(gpa);
    return host.empty() ? nullptr : host.data();
}

Result<void> SwBreakpoints::insert(std::uint64_t linear, std::uint64_t gpa) {
    std::lock_guard lock(mutex_);
    std::uint8_t* byte = byte_at(gpa);
    if (!byte)
        return make_error(ErrorKind::target,
                          fmt::format("breakpoint at {:#x}: not in guest memory", gpa));
    const std::uintptr_t key = key_of(byte);
    auto old = by_linear_.find(linear);
    if (old != by_linear_.end() && old->second == key)
        return {};  // the same breakpoint twice is one (gdb may resend Z0)
    auto shared = by_host_.find(key);
    // Both counts: many linear addresses can share one byte (a guest's aliased mappings).
    if ((shared == by_host_.end() && by_host_.size() >= max_breakpoints) ||
        (old == by_linear_.end() && by_linear_.size() >= max_breakpoints))
        return make_error(
            ErrorKind::target,
            fmt::format("too many software breakpoints (the limit is {})", max_breakpoints));
    if (old != by_linear_.end()) {  // the address now leads to another byte
        release(old->second);
        by_linear_.erase(old);
    }
    removed_host_.erase(key);
    if (shared != by_host_.end()) {
        ++shared->second.users;
    } else {
        by_host_.emplace(key, Entry{byte, *byte, 1});
        *byte = breakpoint_opcode(mechanism_);
    }
    by_linear_[linear] = key;
    removed_linear_.erase(linear);
    return {};
}

Result<void> SwBreakpoints::remove(std::uint64_t linear, std::uint64_t) {
    std::lock_guard lock(mutex_);
    // By the linear address alone: the byte patched at insert() is the one to restore, even
    // if the guest has since mapped the address elsewhere.
    auto it = by_linear_.find(linear);
    if (it == by_linear_.end())
        return make_error(ErrorKind::target, fmt::format("no breakpoint at {:#x}", linear));
    const std::uintptr_t key = it->second;
    release(key);
    by_linear_.erase(it);
    remember_removed(linear, key);
    return {};
}

void SwBreakpoints::release(std::uintptr_t key) {
    auto it = by_host_.find(key);
    if (it == by_host_.end() || --it->second.users > 0) return;
    // A byte the guest has overwritten since keeps the guest's value.
    if (*it->second.byte == breakpoint_opcode(mechanism_)) *it->second.byte = it->second.original;
    by_host_.erase(it);
}

void SwBreakpoints::restore_originals() {
    // A byte the guest has overwritten since keeps the guest's value.
    const std::uint8_t opcode = breakpoint_opcode(mechanism_);
    for (const auto& [key, entry] : by_host_)
        if (*entry.byte == opcode) *entry.byte = entry.original;
}

void SwBreakpoints::remove_all() {
    std::lock_guard lock(mutex_);
    restore_originals();
    for (const auto& [linear, key] : by_linear_) remember_removed(linear, key);
    by_host_.clear();
    by_linear_.clear();
}

Result<void> SwBreakpoints::rewrite(const std::function<Result<void>()>& rewrite) {
    std::lock_guard lock(mutex_);
    restore_originals();  // first, so that bytes `rewrite` leaves alone keep theirs
    Result<void> result = rewrite();
    for (auto& [key, entry] : by_host_) {
        entry.original = *entry.byte;
        *entry.byte = breakpoint_opcode(mechanism_);
    }
    removed_linear_.clear();
    removed_host_.clear();
    return result;
}

void SwBreakpoints::remember_removed(std::uint64_t linear, std::uintptr_t key) {
    // Bounded like the table itself; a trap on a removed breakpoint follows its removal
    // within microseconds, so forgetting old removals costs nothing.
    if (removed_linear_.size() >= max_breakpoints) removed_linear_.clear();
    if (removed_host_.size() >= max_breakpoints) removed_host_.clear();
    removed_linear_.insert(linear);
    if (!by_host_.contains(key)) removed_host_.insert(key);
}

bool SwBreakpoints::contains_linear(std::uint64_t linear) const {
    std::lock_guard lock(mutex_);
    return by_linear_.contains(linear);
}

std::size_t SwBreakpoints::size() const {
    std::lock_guard lock(mutex_);
    return by_linear_.size();
}

SwBreakpoints::Trap SwBreakpoints::classify(std::uint64_t linear,
                                            std::optional<std::uint64_t> gpa) const {
    std::lock_guard lock(mutex_);
    const std::uint8_t* byte = gpa ? byte_at(*gpa) : nullptr;
    if (!byte) {  // untranslatable: the linear address is all there is to go by
        if (by_linear_.contains(linear)) return Trap::breakpoint;
        return removed_linear_.contains(linear) ? Trap::removed : Trap::guest;
    }
    const std::uintptr_t key = key_of(byte);
    if (by_host_.contains(key)) {
        auto it = by_linear_.find(linear);
        return it != by_linear_.end() && it->second == key ? Trap::breakpoint : Trap::alias;
    }
    // A breakpoint removed while the vCPU ran into it: the opcode is gone from its byte.  An
    // opcode still there is the guest's own.
    if ((removed_host_.contains(key) || removed_linear_.contains(linear)) &&
        *byte != breakpoint_opcode(mechanism_))
        return Trap::removed;
    return Trap::guest;
}

void SwBreakpoints::with_original(std::uint64_t gpa, const std::function<void()>& run) {
    std::uint8_t* byte = nullptr;
    {
        std::lock_guard lock(mutex_);
        byte = byte_at(gpa);
        auto it = byte ? by_host_.find(key_of(byte)) : by_host_.end();
        if (it != by_host_.end() && *byte == breakpoint_opcode(mechanism_))
            *byte = it->second.original;
        else
            byte = nullptr;
    }
    run();  // without the lock: it may trap again and ask classify()
    if (!byte) return;
    std::lock_guard lock(mutex_);
    auto it = by_host_.find(key_of(byte));
    if (it != by_host_.end() && *byte == it->second.original) *byte = breakpoint_opcode(mechanism_);
}

Result<std::size_t> SwBreakpoints::read(std::uint64_t gpa, std::span<std::uint8_t> out) const {
    std::lock_guard lock(mutex_);
    std::size_t done = 0;
    while (done < out.size()) {
        auto host = memory_.host_from(gpa + done);  // no region reaches 2^64: no wrap here
        if (host.empty()) break;
        const std::size_t n = std::min<std::uint64_t>(host.size(), out.size() - done);
        std::memcpy(out.data() + done, host.data(), n);
        const std::uintptr_t first = key_of(host.data());
        const std::uint8_t opcode = breakpoint_opcode(mechanism_);
        for (auto it = by_host_.lower_bound(first); it != by_host_.end() && it->first < first + n;
             ++it)
            if (*it->second.byte == opcode) out[done + (it->first - first)] = it->second.original;
        done += n;
    }
    if (done == 0 && !out.empty())
        return make_error(ErrorKind::target,
                          fmt::format("address {:#x} is not in guest memory", gpa));
    return done;
}

Result<void> SwBreakpoints::write(std::uint64_t gpa, std::span<const std::uint8_t> in) {
    if (!memory_.covers(gpa, in.size()))
        return make_error(
            ErrorKind::target,
            fmt::format("write of {} bytes at {:#x} leaves guest memory", in.size(), gpa));
    std::lock_guard lock(mutex_);
    const std::uint8_t opcode = breakpoint_opcode(mechanism_);
    std::size_t done = 0;
    while (done < in.size()) {
        auto host = memory_.host_from(gpa + done);
        const std::size_t n = std::min<std::uint64_t>(host.size(), in.size() - done);
        std::memcpy(host.data(), in.data() + done, n);
        const std::uintptr_t first = key_of(host.data());
        for (auto it = by_host_.lower_bound(first); it != by_host_.end() && it->first < first + n;
             ++it) {
            it->second.original = in[done + (it->first - first)];
            *it->second.byte = opcode;
        }
        done += n;
    }
    return {};
}

}  // namespace hvgdb::vcpu
