// x86 CPU state as the vcpu layer exposes it: plain values, no backend types.
// Depends on the standard library only.
#pragma once

#include <array>
#include <cstdint>

namespace hvgdb::vcpu::x86 {

struct Registers {
    std::uint64_t rax = 0, rbx = 0, rcx = 0, rdx = 0, rsi = 0, rdi = 0, rbp = 0, rsp = 0;
    std::uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
    std::uint64_t rip = 0, rflags = 0x2;
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
};

struct DescriptorTable {
    std::uint64_t base = 0;
    std::uint16_t limit = 0xffff;
};

struct SystemRegisters {
    Segment cs, ds, es, fs, gs, ss, tr, ldt;
    DescriptorTable gdt, idt;
    std::uint64_t cr0 = 0x60000010, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0;
    std::uint64_t efer = 0;
    std::uint64_t apic_base = 0xfee00900;
    std::uint64_t kernel_gs_base = 0;
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
};

enum class CpuMode { real, protected16, protected32, long64 };

// What mode the CPU executes in, from CR0.PE, EFER.LMA, CS.L and CS.D (SDM vol. 3A, 2.2).
inline CpuMode cpu_mode(const SystemRegisters& s) {
    if ((s.cr0 & 1) == 0) return CpuMode::real;
    if ((s.efer & (1u << 10)) && s.cs.l) return CpuMode::long64;
    return s.cs.db ? CpuMode::protected32 : CpuMode::protected16;
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
