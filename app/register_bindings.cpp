// The name -> snapshot-field table for x86 registers: gdb's names for amd64 and i386, and
// the system rows hvgdb adds to both (gdbstub/arch/x86_system.hpp).
#include "app/register_bindings.hpp"

#include <algorithm>
#include <array>
#include <type_traits>

namespace hvgdb::app {

namespace {

using S = vcpu::VcpuSnapshot;
using vcpu::x86::DescriptorTable;
using vcpu::x86::ModelSpecificRegisters;
using vcpu::x86::Registers;
using vcpu::x86::Segment;
using vcpu::x86::SystemRegisters;

// The member at the end of a path: at<&S::sregs, &SystemRegisters::gdt>(s) is s.sregs.gdt.
template <auto... Path, typename T>
constexpr auto& at(T& s) {
    // clang-format off
    return (s .* ... .* Path);
    // clang-format on
}

constexpr auto cpu = vcpu::SnapshotParts::cpu;  // rows in `regs` and `sregs`
constexpr auto all = vcpu::SnapshotParts::all;

// The integer at the end of a member path into the snapshot.
template <auto... Path>
constexpr RegisterBinding field(std::string_view name, vcpu::SnapshotParts parts) {
    return {name, [](const S& s) -> std::uint64_t { return at<Path...>(s); },
            [](S& s, std::uint64_t v) {
                auto& f = at<Path...>(s);
                f = static_cast<std::remove_reference_t<decltype(f)>>(v);
            },
            nullptr, parts};
}

template <auto... Path>
constexpr RegisterBinding gpr(std::string_view name) {
    return field<&S::regs, Path...>(name, cpu);
}
template <auto... Path>
constexpr RegisterBinding sreg(std::string_view name) {
    return field<&S::sregs, Path...>(name, cpu);
}
template <auto... Path>
constexpr RegisterBinding fpu(std::string_view name) {
    return field<&S::fpu, Path...>(name, all);
}
template <auto... Path>
constexpr RegisterBinding debug(std::string_view name) {
    return field<&S::debug, Path...>(name, all);
}
// A read-only MSR (the TSC) binds like the others: the machine refuses a write that changes
// it, so the error reaches the debugger from the one place that knows.
template <auto... Path>
constexpr RegisterBinding msr(std::string_view name) {
    return field<&S::msrs, Path...>(name, all);
}

// Writing a new selector in real mode also sets the base, as a real-mode load would (SDM vol.
// 3A, 20.1.1); in protected mode only the selector changes until the guest reloads it.  LDTR
// and TR cannot be loaded in real mode, so theirs only ever change the selector.
template <Segment SystemRegisters::*M, bool RealModeBase = true>
constexpr RegisterBinding selector(std::string_view name) {
    return {name, [](const S& s) -> std::uint64_t { return (s.sregs.*M).selector; },
            [](S& s, std::uint64_t v) {
                Segment& seg = s.sregs.*M;
                const auto value = static_cast<std::uint16_t>(v);
                // Writing back the same selector (gdb's 'G' writes every row) keeps the base:
                // at reset CS is F000 with base FFFF0000, not F0000.
                if (value == seg.selector) return;
                seg.selector = value;
                if (RealModeBase && (s.sregs.cr0 & 1) == 0)
                    seg.base = std::uint64_t{seg.selector} << 4;
            },
            nullptr, cpu};
}

// The attributes in VMX's access-rights layout (the x86_segment_attr flags type of the row).
template <Segment SystemRegisters::*M>
constexpr RegisterBinding segment_attr(std::string_view name) {
    return {name, [](const S& s) -> std::uint64_t { return vcpu::x86::access_rights(s.sregs.*M); },
            [](S& s, std::uint64_t v) {
                vcpu::x86::set_access_rights(s.sregs.*M, static_cast<std::uint32_t>(v));
            },
            nullptr, cpu};
}

// The guest's own DR0-DR3, by index.
template <std::size_t I>
constexpr RegisterBinding dr(std::string_view name) {
    return {name, [](const S& s) { return s.debug.dr[I]; },
            [](S& s, std::uint64_t v) { s.debug.dr[I] = v; }, nullptr, all};
}

template <std::size_t I>
constexpr RegisterBinding st(std::string_view name) {
    return {name, nullptr, nullptr, [](S& s) { return std::span<std::uint8_t>(s.fpu.st[I]); }, all};
}

template <std::size_t I>
constexpr RegisterBinding xmm(std::string_view name) {
    return {name, nullptr, nullptr, [](S& s) { return std::span<std::uint8_t>(s.fpu.xmm[I]); },
            all};
}

// gdb's fiseg/foseg are the x87 code and data selectors; fioff/fooff their offsets.
constexpr RegisterBinding fpu_offset(std::string_view name, bool data) {
    if (data)
        return {name, [](const S& s) -> std::uint64_t { return s.fpu.fdp & 0xffffffff; },
                [](S& s, std::uint64_t v) { s.fpu.fdp = v; }, nullptr, all};
    return {name, [](const S& s) -> std::uint64_t { return s.fpu.fip & 0xffffffff; },
            [](S& s, std::uint64_t v) { s.fpu.fip = v; }, nullptr, all};
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
    sreg<&SystemRegisters::fs, &Segment::base>("fs_base"),
    sreg<&SystemRegisters::gs, &Segment::base>("gs_base"),
    sreg<&SystemRegisters::cs, &Segment::base>("cs_base"),
    sreg<&SystemRegisters::ss, &Segment::base>("ss_base"),
    sreg<&SystemRegisters::ds, &Segment::base>("ds_base"),
    sreg<&SystemRegisters::es, &Segment::base>("es_base"),
    sreg<&SystemRegisters::ldt, &Segment::base>("ldtr_base"),
    sreg<&SystemRegisters::tr, &Segment::base>("tr_base"),
    sreg<&SystemRegisters::cs, &Segment::limit>("cs_limit"),
    sreg<&SystemRegisters::ss, &Segment::limit>("ss_limit"),
    sreg<&SystemRegisters::ds, &Segment::limit>("ds_limit"),
    sreg<&SystemRegisters::es, &Segment::limit>("es_limit"),
    sreg<&SystemRegisters::fs, &Segment::limit>("fs_limit"),
    sreg<&SystemRegisters::gs, &Segment::limit>("gs_limit"),
    sreg<&SystemRegisters::ldt, &Segment::limit>("ldtr_limit"),
    sreg<&SystemRegisters::tr, &Segment::limit>("tr_limit"),
    segment_attr<&SystemRegisters::cs>("cs_attr"),
    segment_attr<&SystemRegisters::ss>("ss_attr"),
    segment_attr<&SystemRegisters::ds>("ds_attr"),
    segment_attr<&SystemRegisters::es>("es_attr"),
    segment_attr<&SystemRegisters::fs>("fs_attr"),
    segment_attr<&SystemRegisters::gs>("gs_attr"),
    segment_attr<&SystemRegisters::ldt>("ldtr_attr"),
    segment_attr<&SystemRegisters::tr>("tr_attr"),
    selector<&SystemRegisters::ldt, false>("ldtr"),
    selector<&SystemRegisters::tr, false>("tr"),
    sreg<&SystemRegisters::gdt, &DescriptorTable::base>("gdtr_base"),
    sreg<&SystemRegisters::gdt, &DescriptorTable::limit>("gdtr_limit"),
    sreg<&SystemRegisters::idt, &DescriptorTable::base>("idtr_base"),
    sreg<&SystemRegisters::idt, &DescriptorTable::limit>("idtr_limit"),
    sreg<&SystemRegisters::cr0>("cr0"),
    sreg<&SystemRegisters::cr2>("cr2"),
    sreg<&SystemRegisters::cr3>("cr3"),
    sreg<&SystemRegisters::cr4>("cr4"),
    sreg<&SystemRegisters::cr8>("cr8"),
    sreg<&SystemRegisters::efer>("efer"),
    sreg<&SystemRegisters::apic_base>("apic_base"),
    dr<0>("dr0"),
    dr<1>("dr1"),
    dr<2>("dr2"),
    dr<3>("dr3"),
    debug<&vcpu::x86::DebugRegisters::dr6>("dr6"),
    debug<&vcpu::x86::DebugRegisters::dr7>("dr7"),
    msr<&ModelSpecificRegisters::kernel_gs_base>("k_gs_base"),
    msr<&ModelSpecificRegisters::star>("star"),
    msr<&ModelSpecificRegisters::lstar>("lstar"),
    msr<&ModelSpecificRegisters::cstar>("cstar"),
    msr<&ModelSpecificRegisters::sfmask>("sfmask"),
    msr<&ModelSpecificRegisters::sysenter_cs>("sysenter_cs"),
    msr<&ModelSpecificRegisters::sysenter_esp>("sysenter_esp"),
    msr<&ModelSpecificRegisters::sysenter_eip>("sysenter_eip"),
    msr<&ModelSpecificRegisters::pat>("pat"),
    msr<&ModelSpecificRegisters::tsc>("tsc"),
    st<0>("st0"),
    st<1>("st1"),
    st<2>("st2"),
    st<3>("st3"),
    st<4>("st4"),
    st<5>("st5"),
    st<6>("st6"),
    st<7>("st7"),
    fpu<&vcpu::x86::FpuState::fcw>("fctrl"),
    fpu<&vcpu::x86::FpuState::fsw>("fstat"),
    fpu<&vcpu::x86::FpuState::ftw>("ftag"),
    fpu<&vcpu::x86::FpuState::fcs>("fiseg"),
    fpu_offset("fioff", false),
    fpu<&vcpu::x86::FpuState::fds>("foseg"),
    fpu_offset("fooff", true),
    fpu<&vcpu::x86::FpuState::fop>("fop"),
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
    fpu<&vcpu::x86::FpuState::mxcsr>("mxcsr"),
};

}  // namespace

const RegisterBinding* find_register_binding(std::string_view name) {
    auto it = std::find_if(std::begin(table), std::end(table),
                           [&](const RegisterBinding& b) { return b.name == name; });
    return it == std::end(table) ? nullptr : &*it;
}

}  // namespace hvgdb::app
