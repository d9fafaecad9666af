// What a single step needs to know about the instruction at the PC (the encodings of Intel
// SDM vol. 2), and where the CPU enters a software interrupt's handler (vol. 3A, chapter 6
// for the IDT, 20.1.4 for real mode's IVT).  Pure: bytes and register values in, guest memory
// through a reader.  Depends on std and state.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "vcpu/x86/state.hpp"

namespace hvgdb::vcpu::x86 {

struct InstructionClass {
    enum class Kind {
        other,
        software_interrupt,  // INT n, INT3, INTO: the CPU enters a handler through the IDT
        repeated_string,     // a string instruction with a REP, REPE or REPNE prefix
    };
    Kind kind = Kind::other;
    std::uint8_t vector = 0;     // software_interrupt: n, 3 for INT3, 4 for INTO
    unsigned address_bits = 16;  // repeated_string: the count is this wide a part of RCX
    bool operator==(const InstructionClass&) const = default;
};

// Classifies the instruction whose bytes start `bytes` (up to 15; fewer is fine), executed in
// `mode`.  Legacy prefixes and, in 64-bit mode, REX are skipped; INTO in 64-bit mode (#UD) and
// INT1 (ICEBP, a #DB the debugger would see as its own) are `other`.
InstructionClass classify_instruction(std::span<const std::uint8_t> bytes, CpuMode mode);

// The count register of a repeated string instruction, as wide as its address size.
inline std::uint64_t string_count(std::uint64_t rcx, unsigned address_bits) {
    return address_bits >= 64 ? rcx : rcx & ((std::uint64_t{1} << address_bits) - 1);
}

// Where a software interrupt enters the guest's handler.
struct InterruptEntry {
    std::uint64_t handler = 0;  // linear address of the handler's first instruction
    unsigned slot_bytes = 2;    // the size of each item the CPU pushes (IP, CS, FLAGS, ...)
    bool operator==(const InterruptEntry&) const = default;
};

// Reads guest memory at a linear address; false when any of it cannot be read.
using LinearReader = std::function<bool(std::uint64_t linear, std::span<std::uint8_t> out)>;

// The handler `vector` leads to, from the IVT in real mode and the IDT (and the GDT or LDT for
// the gate's code segment) in protected and long mode.  nullopt where the CPU would not go
// straight to a handler: an entry past the table's limit, a gate that is not present, a task
// gate, a null or unreadable code segment, virtual-8086 mode (RFLAGS.VM), unreadable tables.
// Privilege checks that would raise #GP instead are not made.
std::optional<InterruptEntry> interrupt_entry(const SystemRegisters&, std::uint64_t rflags,
                                              std::uint8_t vector, const LinearReader&);

// The linear address of the FLAGS image an interrupt pushed, with `sregs` and `rsp` as the
// handler starts with them: the third slot from the top of the stack (SDM vol. 3A, 6.12.1).
std::uint64_t pushed_flags_address(const SystemRegisters& sregs, std::uint64_t rsp,
                                   unsigned slot_bytes);

}  // namespace hvgdb::vcpu::x86
