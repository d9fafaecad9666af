// x86 CPU state as the vcpu layer exposes it: plain values, no backend types.
// Depends on the standard library only.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace hvgdb::vcpu::x86 {

struct Registers {
    std::uint64_t rax = 0, rbx = 0, rcx = 0, rdx = 0, rsi = 0, rdi = 0, rbp = 0, rsp = 0;
    std::uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
    std::uint64_t rip = 0, rflags = 0x2;
    bool operator==(const Registers&) const = default;
};

// A segment register with its hidden descriptor cache (Intel SDM vol. 3A, 3.4.3).
struct Segment {
    std::uint64_t base = 0;
    std::uint32_t limit = 0xffff;
    std::uint16_t selector = 0;
    std::uint8_t type = 0;
    bool present = true;
    std::uint8_t dpl = 0;
    bool db = false;
    bool s = true;
    bool l = false;
    bool g = false;
    bool avl = false;
    bool unusable = false;
    bool operator==(const Segment&) const = default;
};

// A segment's attributes packed as VMX's access-rights field (SDM vol. 3C, 24.4.1): type 0-3,
// S 4, DPL 5-6, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16.  Other bits are reserved.
inline std::uint32_t access_rights(const Segment& s) {
    return (s.type & 0xfu) | (std::uint32_t{s.s} << 4) | ((s.dpl & 3u) << 5) |
           (std::uint32_t{s.present} << 7) | (std::uint32_t{s.avl} << 12) |
           (std::uint32_t{s.l} << 13) | (std::uint32_t{s.db} << 14) | (std::uint32_t{s.g} << 15) |
           (std::uint32_t{s.unusable} << 16);
}

// Sets the attributes from an access-rights value; reserved bits are ignored.
inline void set_access_rights(Segment& s, std::uint32_t ar) {
    auto bit = [ar](unsigned n) { return ((ar >> n) & 1) != 0; };
    s.type = ar & 0xf;
    s.s = bit(4);
    s.dpl = (ar >> 5) & 3;
    s.present = bit(7);
    s.avl = bit(12);
    s.l = bit(13);
    s.db = bit(14);
    s.g = bit(15);
    s.unusable = bit(16);
}

struct DescriptorTable {
    std::uint64_t base = 0;
    std::uint16_t limit = 0xffff;
    bool operator==(const DescriptorTable&) const = default;
};

struct SystemRegisters {
    Segment cs, ds, es, fs, gs, ss, tr, ldt;
    DescriptorTable gdt, idt;
    std::uint64_t cr0 = 0x60000010, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0;
    std::uint64_t efer = 0;
    std::uint64_t apic_base = 0xfee00900;
    bool operator==(const SystemRegisters&) const = default;
};

// The guest's own debug registers, as its MOV from DRn reads them (SDM vol. 3B, 17.2).  The
// debugger's hardware breakpoints are kept apart from these (see DebugControl).
struct DebugRegisters {
    std::array<std::uint64_t, 4> dr{};  // DR0-DR3: breakpoint linear addresses
    std::uint64_t dr6 = 0xffff0ff0;     // status; the reset value has only the fixed bits
    std::uint64_t dr7 = 0x400;          // control; bit 10 is fixed to 1
    bool operator==(const DebugRegisters&) const = default;
};

// Model-specific registers a system debugger wants to see (SDM vol. 4, 2.1), beyond EFER and
// IA32_APIC_BASE, which the system registers carry.
struct ModelSpecificRegisters {
    std::uint64_t kernel_gs_base = 0;                          // swapped with GS.base by SWAPGS
    std::uint64_t star = 0, lstar = 0, cstar = 0, sfmask = 0;  // SYSCALL targets and mask
    std::uint64_t sysenter_cs = 0, sysenter_esp = 0, sysenter_eip = 0;
    std::uint64_t pat = 0x0007040600070406;  // the power-on value (SDM vol. 3A, "PAT")
    std::uint64_t tsc = 0;                   // the time-stamp counter when the vCPU stopped
    bool operator==(const ModelSpecificRegisters&) const = default;
};

// Each ModelSpecificRegisters field with its MSR number.  A read-only MSR is read but never
// written back: writing the TSC would move the guest's clock, not show a value.
struct MsrField {
    std::uint32_t index;
    std::uint64_t ModelSpecificRegisters::*field;
    bool writable = true;
};
inline constexpr MsrField msr_fields[] = {
    {0xc0000102, &ModelSpecificRegisters::kernel_gs_base},  // IA32_KERNEL_GS_BASE
    {0xc0000081, &ModelSpecificRegisters::star},            // IA32_STAR
    {0xc0000082, &ModelSpecificRegisters::lstar},           // IA32_LSTAR
    {0xc0000083, &ModelSpecificRegisters::cstar},           // IA32_CSTAR
    {0xc0000084, &ModelSpecificRegisters::sfmask},          // IA32_FMASK
    {0x174, &ModelSpecificRegisters::sysenter_cs},          // IA32_SYSENTER_CS
    {0x175, &ModelSpecificRegisters::sysenter_esp},         // IA32_SYSENTER_ESP
    {0x176, &ModelSpecificRegisters::sysenter_eip},         // IA32_SYSENTER_EIP
    {0x277, &ModelSpecificRegisters::pat},                  // IA32_PAT
    {0x10, &ModelSpecificRegisters::tsc, false},            // IA32_TIME_STAMP_COUNTER
};

// One MSR by number and value, for reading or writing a list of them at once.
struct MsrEntry {
    std::uint32_t index = 0;
    std::uint64_t value = 0;
};

// x87 and SSE state in the FXSAVE layout's terms (Intel SDM vol. 1, 10.5.1).
struct FpuState {
    std::array<std::array<std::uint8_t, 10>, 8> st{};  // ST(0)..ST(7), 80-bit each
    std::uint16_t fcw = 0x37f, fsw = 0;
    std::uint16_t ftw = 0;  // full tag word (2 bits per register, as gdb shows it)
    std::uint16_t fop = 0;
    std::uint64_t fip = 0, fdp = 0;
    std::uint16_t fcs = 0, fds = 0;
    std::array<std::array<std::uint8_t, 16>, 16> xmm{};
    std::uint32_t mxcsr = 0x1f80;
    bool operator==(const FpuState&) const = default;
};

enum class CpuMode { real, protected16, protected32, long64 };

// What mode the CPU executes in, from CR0.PE, EFER.LMA, CS.L and CS.D (SDM vol. 3A, 2.2).
inline CpuMode cpu_mode(const SystemRegisters& s) {
    if ((s.cr0 & 1) == 0) return CpuMode::real;
    if ((s.efer & (1u << 10)) && s.cs.l) return CpuMode::long64;
    return s.cs.db ? CpuMode::protected32 : CpuMode::protected16;
}

// The mode in words, for logs and monitor output: "real mode", "16-bit protected mode",
// "32-bit protected mode", "64-bit long mode", or "compatibility mode, 32-bit code" (and
// 16-bit) when long mode is active and CS is not a 64-bit segment.
inline std::string_view mode_name(const SystemRegisters& s) {
    const bool long_mode_active = (s.efer & (1u << 10)) != 0;
    switch (cpu_mode(s)) {
        case CpuMode::real:
            return "real mode";
        case CpuMode::protected16:
            return long_mode_active ? "compatibility mode, 16-bit code" : "16-bit protected mode";
        case CpuMode::protected32:
            return long_mode_active ? "compatibility mode, 32-bit code" : "32-bit protected mode";
        case CpuMode::long64:
            return "64-bit long mode";
    }
    return "?";
}

}  // namespace hvgdb::vcpu::x86

namespace hvgdb::vcpu::x86 {

// Linear address of CS:offset as the CPU forms it in the current mode (SDM vol. 3A, 3.4 and
// 20.1.1): 64-bit code ignores the CS base; real and 16-bit code use a 16-bit offset.
inline std::uint64_t code_linear_address(const SystemRegisters& s, std::uint64_t offset) {
    switch (cpu_mode(s)) {
        case CpuMode::long64:
            return offset;
        case CpuMode::protected32:
            return (s.cs.base + (offset & 0xffffffffu)) & 0xffffffffu;
        default:
            return (s.cs.base + (offset & 0xffffu)) & 0xffffffffu;
    }
}

}  // namespace hvgdb::vcpu::x86
