// Software breakpoints as the host allows them: which one-byte instruction is patched into
// guest memory, and the table of original bytes that memory reads and writes go through.
// Depends on std, common/ and vcpu/physical_memory.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string_view>

#include "common/error.hpp"
#include "vcpu/physical_memory.hpp"

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

// Inserted breakpoints keyed by the host byte they patch (so a breakpoint shows through every
// guest-physical window onto that byte, e.g. both addresses of a firmware ROM), with the byte
// they replaced and the linear addresses the debugger asked for.  Read-only memory is patched
// too: the guest cannot write it, hvgdb can.
class SwBreakpoints {
  public:
    // More than this many is refused: each costs a table entry and gdb never needs so many.
    static constexpr std::size_t max_breakpoints = 65536;

    // `memory` must outlive the table and not change while breakpoints are inserted.
    SwBreakpoints(const PhysicalMemory& memory, SwBreakpointMechanism mechanism)
        : memory_(memory), mechanism_(mechanism) {}
    SwBreakpoints(PhysicalMemory&&, SwBreakpointMechanism) = delete;

    SwBreakpointMechanism mechanism() const { return mechanism_; }

    // A breakpoint at `linear`, which the guest reaches at `gpa`.  Two linear addresses on
    // one byte share its patch; inserting a linear address again moves it to `gpa`.
    Result<void> insert(std::uint64_t linear, std::uint64_t gpa);
    // Removes the breakpoint at `linear`: the byte it patched gets its original back when no
    // other breakpoint shares it.  `gpa` is not needed (kept for symmetry with insert).
    Result<void> remove(std::uint64_t linear, std::uint64_t gpa);
    void remove_all();  // original bytes restored
    // Runs `rewrite`, which writes memory under the breakpoints anew (a reset loading the
    // image again) without going through this table, then makes each patched byte's new
    // contents its original and patches it again: the breakpoints stay inserted over the new
    // bytes.  Breakpoints removed before are forgotten (nothing runs into them any more).
    // Returns what `rewrite` returned; the table is patched again either way.
    Result<void> rewrite(const std::function<Result<void>()>& rewrite);
    bool contains_linear(std::uint64_t linear) const;
    std::size_t size() const;  // inserted breakpoints (linear addresses)

    // What a trap (int3's #BP, or the exit after hlt) on the byte at `gpa`, reached at
    // `linear`, came from.  `gpa` is nullopt when the address could not be translated.
    enum class Trap {
        breakpoint,  // a breakpoint the debugger set at this linear address
        alias,       // a breakpoint's byte reached through another linear address (a second
                     // mapping, a ROM window): not the debugger's, the original should run
        removed,     // a breakpoint removed while the vCPU was executing it: run the original
        guest,       // the guest's own instruction
    };
    Trap classify(std::uint64_t linear, std::optional<std::uint64_t> gpa) const;

    // Runs `run` with the original byte at `gpa` back in place, then patches it again if a
    // breakpoint still wants it: how a vCPU executes the instruction under an alias.  Other
    // vCPUs running meanwhile do not see the breakpoint there.
    void with_original(std::uint64_t gpa, const std::function<void()>& run);

    // Memory as the guest wrote it: breakpoint bytes read as the originals, and writes
    // over a breakpoint update the original while the breakpoint stays inserted.  A byte the
    // guest itself has overwritten since the patch reads (and is left) as the guest wrote it.  A
    // read goes on across adjacent regions and stops short at a gap (an error when it starts in
    // one); a write must lie wholly in memory, ROM included.
    Result<std::size_t> read(std::uint64_t gpa, std::span<std::uint8_t> out) const;
    Result<void> write(std::uint64_t gpa, std::span<const std::uint8_t> in);

  private:
    // Under mutex_.
    void remember_removed(std::uint64_t linear, std::uintptr_t key);
    void release(std::uintptr_t key);  // one breakpoint less on that byte
    void restore_originals();          // every patched byte back to its original
    std::uint8_t* byte_at(std::uint64_t gpa) const;

    struct Entry {
        std::uint8_t* byte;  // the patched host byte
        std::uint8_t original;
        unsigned users;  // linear addresses that share the patch
    };
    const PhysicalMemory& memory_;
    SwBreakpointMechanism mechanism_;
    std::map<std::uintptr_t, Entry> by_host_;            // keyed by the host byte's address
    std::map<std::uint64_t, std::uintptr_t> by_linear_;  // trap address -> entry
    std::set<std::uint64_t> removed_linear_;             // removed, possibly still being trapped on
    std::set<std::uintptr_t> removed_host_;              // the bytes those patched
    mutable std::mutex mutex_;
};

}  // namespace hvgdb::vcpu
