// FakeTarget: see fake_target.hpp.
#include "fake_target.hpp"

#include <algorithm>
#include <cerrno>

namespace hvgdb::gdbstub::testing {

namespace {

void store_le(std::vector<std::uint8_t>& bytes, std::uint64_t value) {
    for (std::size_t i = 0; i < bytes.size() && i < 8; ++i)
        bytes[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

}  // namespace

FakeTarget::FakeTarget(std::vector<ThreadId> threads, const arch::Arch& arch)
    : ram(kRamSize), arch_(arch), threads_(std::move(threads)) {
    for (std::size_t i = 0; i < ram.size(); ++i) ram[i] = static_cast<std::uint8_t>(i);
    auto pc = arch::find_generic(arch_, arch::Generic::pc);
    auto sp = arch::find_generic(arch_, arch::Generic::sp);
    auto fp = arch::find_generic(arch_, arch::Generic::fp);
    for (ThreadId t : threads_) {
        for (std::size_t regno = 0; regno < arch_.registers.size(); ++regno) {
            std::vector<std::uint8_t> bytes(arch_.register_bytes(regno));
            std::uint64_t value = regno;
            if (regno == pc) value = kRip;
            if (regno == sp) value = kRsp;
            if (regno == fp) value = kRbp;
            store_le(bytes, value);
            registers_[{t, regno}] = std::move(bytes);
        }
    }
}

std::vector<std::uint8_t>& FakeTarget::register_bytes(ThreadId thread, std::size_t regno) {
    return registers_.at({thread, regno});
}

std::uint64_t FakeTarget::register_value(ThreadId thread, std::size_t regno) const {
    const auto& bytes = registers_.at({thread, regno});
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < bytes.size() && i < 8; ++i)
        value |= std::uint64_t{bytes[i]} << (8 * i);
    return value;
}

Result<void> FakeTarget::read_register(ThreadId thread, std::size_t regno,
                                       std::span<std::uint8_t> out) {
    if (unreadable_register == regno) return make_error(ErrorKind::unsupported, "not readable");
    auto it = registers_.find({thread, regno});
    if (it == registers_.end() || it->second.size() != out.size()) {
        return make_error(ErrorKind::target, "bad register request", EINVAL);
    }
    std::ranges::copy(it->second, out.begin());
    return {};
}

Result<void> FakeTarget::write_register(ThreadId thread, std::size_t regno,
                                        std::span<const std::uint8_t> value) {
    auto it = registers_.find({thread, regno});
    if (it == registers_.end() || it->second.size() != value.size()) {
        return make_error(ErrorKind::target, "bad register request", EINVAL);
    }
    std::ranges::copy(value, it->second.begin());
    return {};
}

Result<std::size_t> FakeTarget::read_memory(std::uint64_t addr, std::span<std::uint8_t> out) {
    last_read_size = out.size();
    ++memory_reads;
    if (memory_everywhere) {
        std::ranges::fill(out, 0xaa);
        return out.size();
    }
    if (addr < kRamBase || addr >= kRamBase + kRamSize)
        return make_error(ErrorKind::target, "unmapped", EFAULT);
    std::size_t count = std::min<std::uint64_t>(out.size(), kRamBase + kRamSize - addr);
    std::copy_n(ram.begin() + static_cast<std::ptrdiff_t>(addr - kRamBase), count, out.begin());
    return count;
}

Result<void> FakeTarget::write_memory(std::uint64_t addr, std::span<const std::uint8_t> data) {
    if (addr < kRamBase || addr + data.size() > kRamBase + kRamSize) {
        return make_error(ErrorKind::target, "unmapped", EFAULT);
    }
    std::ranges::copy(data, ram.begin() + static_cast<std::ptrdiff_t>(addr - kRamBase));
    return {};
}

Result<void> FakeTarget::insert_breakpoint(BreakpointType type, std::uint64_t addr,
                                           std::uint64_t kind) {
    if (breakpoint_error) return std::unexpected(*breakpoint_error);
    breakpoints.push_back({true, type, addr, kind});
    return {};
}

Result<void> FakeTarget::remove_breakpoint(BreakpointType type, std::uint64_t addr,
                                           std::uint64_t kind) {
    if (breakpoint_error) return std::unexpected(*breakpoint_error);
    breakpoints.push_back({false, type, addr, kind});
    return {};
}

Result<void> FakeTarget::resume(std::span<const ThreadAction> actions) {
    if (resume_error) return std::unexpected(*resume_error);
    resumes.emplace_back(actions.begin(), actions.end());
    // The leftmost action naming a thread (or naming none) decides; a stop action leaves the
    // thread running until the test reports its stop.
    for (ThreadId t : threads_) {
        auto action = std::ranges::find_if(
            actions, [t](const ThreadAction& a) { return !a.thread || *a.thread == t; });
        if (action != actions.end() && action->kind != ResumeKind::stop) running.insert(t);
    }
    return {};
}

Result<void> FakeTarget::set_non_stop(bool on) {
    if (non_stop_error) return std::unexpected(*non_stop_error);
    if (on && !non_stop_supported) return Target::set_non_stop(on);
    non_stop = on;
    return {};
}

void FakeTarget::mark_stopped(const StopEvent& event) {
    if (non_stop && event.kind == StopEvent::Kind::stopped) {
        running.erase(event.thread);
    } else {
        running.clear();
    }
}

}  // namespace hvgdb::gdbstub::testing
