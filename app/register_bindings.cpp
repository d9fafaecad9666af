// The name -> snapshot-field table for x86 registers (gdb's names for amd64 and i386).
#include "app/register_bindings.hpp"

#include <algorithm>
#include <array>

namespace hvgdb::app {

namespace {

using S = vcpu::VcpuSnapshot;
using vcpu::x86::Registers;
using vcpu::x86::Segment;
using vcpu::x86::SystemRegisters;

template <std::uint64_t Registers::*M>
constexpr RegisterBinding gpr(std::string_view name) {
    return {name, [](const S& s) { return s.regs.*M; },
            [](S& s, std::uint64_t v) { s.regs.*M = v; }, nullptr};
}

// Writing a selector in real mode also sets the base, as a real-mode load would (SDM vol.
// 3A, 20.1.1); in protected mode only the selector changes until the guest reloads it.
template <Segment SystemRegisters::*M>
constexpr RegisterBinding selector(std::string_view name) {
    return {name, [](const S& s) -> std::uint64_t { return (s.sregs.*M).selector; },
            [](S& s, std::uint64_t v) {
                Segment& seg = s.sregs.*M;
                seg.selector = static_cast<std::uint16_t>(v);
                if ((s.sregs.cr0 & 1) == 0) seg.base = std::uint64_t{seg.selector} << 4;
            },
            nullptr};
}

template <Segment SystemRegisters::*M>
constexpr RegisterBinding segment_base(std::string_view name) {
    return {name, [](const S& s) { return (s.sregs.*M).base; },
            [](S& s, std::uint64_t v) { (s.sregs.*M).base = v; }, nullptr};
}

template <std::uint64_t SystemRegisters::*M>
constexpr RegisterBinding system(std::string_view name) {
    return {name, [](const S& s) { return s.sregs.*M; },
            [](S& s, std::uint64_t v) { s.sregs.*M = v; }, nullptr};
}

template <typename T, T vcpu::x86::FpuState::*M>
constexpr RegisterBinding fpu(std::string_view name) {
    return {name, [](const S& s) -> std::uint64_t { return s.fpu.*M; },
            [](S& s, std::uint64_t v) { s.fpu.*M = static_cast<T>(v); }, nullptr};
}

template <std::size_t I>
constexpr RegisterBinding st(std::string_view name) {
    return {name, nullptr, nullptr, [](S& s) { return std::span<std::uint8_t>(s.fpu.st[I]); }};
}

template <std::size_t I>
constexpr RegisterBinding xmm(std::string_view name) {
    return {name, nullptr, nullptr, [](S& s) { return std::span<std::uint8_t>(s.fpu.xmm[I]); }};
}

// gdb's fiseg/foseg are the x87 code and data selectors; fioff/fooff their offsets.
constexpr RegisterBinding fpu_offset(std::string_view name, bool data) {
    if (data)
        return {name, [](const S& s) -> std::uint64_t { return s.fpu.fdp & 0xffffffff; },
                [](S& s, std::uint64_t v) { s.fpu.fdp = v; }, nullptr};
    return {name, [](const S& s) -> std::uint64_t { return s.fpu.fip & 0xffffffff; },
            [](S& s, std::uint64_t v) { s.fpu.fip = v; }, nullptr};
}

constexpr RegisterBinding table[] = {
    gpr<&Registers::rax>("rax"),
    gpr<&Registers::rbx>("rbx"),
    gpr<&Registers::rcx>("rcx"),
    gpr<&Registers::rdx>("rdx"),
    gpr<&Registers::rsi>("rsi"),
    gpr<&Registers::rdi>("rdi"),
    gpr<&Registers::rbp>("rbp"),
    gpr<&Registers::rsp>("rsp"),
    gpr<&Registers::r8>("r8"),
    gpr<&Registers::r9>("r9"),
    gpr<&Registers::r10>("r10"),
    gpr<&Registers::r11>("r11"),
    gpr<&Registers::r12>("r12"),
    gpr<&Registers::r13>("r13"),
    gpr<&Registers::r14>("r14"),
    gpr<&Registers::r15>("r15"),
    gpr<&Registers::rip>("rip"),
    // 32-bit names: the low halves (the adapter merges narrower writes).
    gpr<&Registers::rax>("eax"),
    gpr<&Registers::rbx>("ebx"),
    gpr<&Registers::rcx>("ecx"),
    gpr<&Registers::rdx>("edx"),
    gpr<&Registers::rsi>("esi"),
    gpr<&Registers::rdi>("edi"),
    gpr<&Registers::rbp>("ebp"),
    gpr<&Registers::rsp>("esp"),
    gpr<&Registers::rip>("eip"),
    gpr<&Registers::rflags>("eflags"),
    selector<&SystemRegisters::cs>("cs"),
    selector<&SystemRegisters::ss>("ss"),
    selector<&SystemRegisters::ds>("ds"),
    selector<&SystemRegisters::es>("es"),
    selector<&SystemRegisters::fs>("fs"),
    selector<&SystemRegisters::gs>("gs"),
    segment_base<&SystemRegisters::fs>("fs_base"),
    segment_base<&SystemRegisters::gs>("gs_base"),
    system<&SystemRegisters::kernel_gs_base>("k_gs_base"),
    system<&SystemRegisters::cr0>("cr0"),
    system<&SystemRegisters::cr2>("cr2"),
    system<&SystemRegisters::cr3>("cr3"),
    system<&SystemRegisters::cr4>("cr4"),
    system<&SystemRegisters::cr8>("cr8"),
    system<&SystemRegisters::efer>("efer"),
    st<0>("st0"),
    st<1>("st1"),
    st<2>("st2"),
    st<3>("st3"),
    st<4>("st4"),
    st<5>("st5"),
    st<6>("st6"),
    st<7>("st7"),
    fpu<std::uint16_t, &vcpu::x86::FpuState::fcw>("fctrl"),
    fpu<std::uint16_t, &vcpu::x86::FpuState::fsw>("fstat"),
    fpu<std::uint16_t, &vcpu::x86::FpuState::ftw>("ftag"),
    fpu<std::uint16_t, &vcpu::x86::FpuState::fcs>("fiseg"),
    fpu_offset("fioff", false),
    fpu<std::uint16_t, &vcpu::x86::FpuState::fds>("foseg"),
    fpu_offset("fooff", true),
    fpu<std::uint16_t, &vcpu::x86::FpuState::fop>("fop"),
    xmm<0>("xmm0"),
    xmm<1>("xmm1"),
    xmm<2>("xmm2"),
    xmm<3>("xmm3"),
    xmm<4>("xmm4"),
    xmm<5>("xmm5"),
    xmm<6>("xmm6"),
    xmm<7>("xmm7"),
    xmm<8>("xmm8"),
    xmm<9>("xmm9"),
    xmm<10>("xmm10"),
    xmm<11>("xmm11"),
    xmm<12>("xmm12"),
    xmm<13>("xmm13"),
    xmm<14>("xmm14"),
    xmm<15>("xmm15"),
    fpu<std::uint32_t, &vcpu::x86::FpuState::mxcsr>("mxcsr"),
};

}  // namespace

const RegisterBinding* find_register_binding(std::string_view name) {
    auto it = std::find_if(std::begin(table), std::end(table),
                           [&](const RegisterBinding& b) { return b.name == name; });
    return it == std::end(table) ? nullptr : &*it;
}

}  // namespace hvgdb::app
