// Software breakpoints as the host allows them: which one-byte instruction is patched into
// guest memory, and the table of original bytes that memory reads and writes go through.
// Depends on std and common/.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string_view>

#include "common/error.hpp"

namespace hvgdb::vcpu {

// How a software breakpoint traps to the host.
enum class SwBreakpointMechanism {
    // int3 (0xCC) with #BP trapped to the host: hardware VMX/SVM KVM.
    int3,
    // hlt (0xF4), which exits to user space when there is no in-kernel irqchip: for hosts
    // where a trapped int3 does not reach user space (e.g. kvm_pvm, where it ends in an
    // emulation failure).  The exit leaves RIP after the hlt.
    hlt,
};

std::string_view to_string(SwBreakpointMechanism);
std::uint8_t breakpoint_opcode(SwBreakpointMechanism);

// Inserted breakpoints keyed by guest-physical address, with the byte they replaced and the
// linear address the debugger asked for.  Guest RAM is [ram.data(), +size) at GPA 0.
class SwBreakpoints {
  public:
    // More than this many is refused: each costs a table entry and gdb never needs so many.
    static constexpr std::size_t max_breakpoints = 65536;

    SwBreakpoints(std::span<std::uint8_t> ram, SwBreakpointMechanism mechanism)
        : ram_(ram), mechanism_(mechanism) {}

    SwBreakpointMechanism mechanism() const { return mechanism_; }

    Result<void> insert(std::uint64_t linear, std::uint64_t gpa);
    Result<void> remove(std::uint64_t linear, std::uint64_t gpa);
    void remove_all();  // original bytes restored
    bool contains_linear(std::uint64_t linear) const;
    // True when a breakpoint at `linear` was removed (and not inserted again) and guest RAM
    // no longer holds the opcode there: a trap at such an address came from a breakpoint
    // removed while the vCPU was executing it, and the guest should simply run the original
    // instruction.  Addresses that never held a breakpoint are never taken for one.
    bool removed_meanwhile(std::uint64_t linear, std::uint64_t gpa) const;

    // Memory as the guest wrote it: breakpoint bytes read as the originals, and writes
    // over a breakpoint update the original while the breakpoint stays inserted.
    Result<std::size_t> read(std::uint64_t gpa, std::span<std::uint8_t> out) const;
    Result<void> write(std::uint64_t gpa, std::span<const std::uint8_t> in);

  private:
    void remember_removed(std::uint64_t linear);  // under mutex_
    struct Entry {
        std::uint8_t original;
        std::uint64_t linear;
    };
    std::span<std::uint8_t> ram_;
    SwBreakpointMechanism mechanism_;
    std::map<std::uint64_t, Entry> by_gpa_;
    std::map<std::uint64_t, std::uint64_t> gpa_by_linear_;  // trap address -> entry
    std::set<std::uint64_t> removed_linear_;  // removed, possibly still being trapped on
    mutable std::mutex mutex_;
};

}  // namespace hvgdb::vcpu
