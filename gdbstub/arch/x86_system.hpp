// The system rows every x86 table ends with (feature kSystem, group "system"): segment
// descriptor caches, descriptor-table registers, control, debug and model-specific registers.
// The same rows, the same widths, in the x86-64, i386 and i8086 views; values that can be 64
// bits wide (bases, CR2-CR4, MSRs) are 64 bits in all three.  CR0, EFER, DR6 and DR7 define
// no bit above 31 and are 32 bits wide (see x86_features.hpp).  Internal to arch/; depends on
// x86_features.hpp.
#pragma once

#include <array>
#include <cstddef>

#include "gdbstub/arch/x86_features.hpp"

namespace hvgdb::gdbstub::arch::x86 {

// `a` then `b`, for building a table from the rows its views share.
template <std::size_t N, std::size_t M>
constexpr std::array<RegisterInfo, N + M> concat(const std::array<RegisterInfo, N>& a,
                                                 const std::array<RegisterInfo, M>& b) {
    std::array<RegisterInfo, N + M> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = a[i];
    for (std::size_t i = 0; i < M; ++i) out[N + i] = b[i];
    return out;
}

namespace system_rows {
constexpr RegisterInfo row(std::string_view name, unsigned bits, std::string_view type) {
    return {name, bits, type, "system", kSystem, Generic::none, -1};
}
constexpr RegisterInfo base(std::string_view name) {
    return row(name, 64, "uint64");
}
constexpr RegisterInfo limit(std::string_view name) {
    return row(name, 32, "uint32");
}
constexpr RegisterInfo attr(std::string_view name) {
    return row(name, 32, "x86_segment_attr");
}
constexpr RegisterInfo reg64(std::string_view name) {
    return row(name, 64, "uint64");
}
}  // namespace system_rows

// A segment's hidden part is <seg>_base, <seg>_limit (in bytes, granularity applied, as the
// CPU checks offsets against it) and <seg>_attr (x86_segment_attr).  fs_base and gs_base
// are in gdb's own segments feature, ahead of these rows.  ldtr and tr are the LDT and task
// register selectors.
inline constexpr std::array kSystemRows{
    system_rows::base("cs_base"),
    system_rows::limit("cs_limit"),
    system_rows::attr("cs_attr"),
    system_rows::base("ss_base"),
    system_rows::limit("ss_limit"),
    system_rows::attr("ss_attr"),
    system_rows::base("ds_base"),
    system_rows::limit("ds_limit"),
    system_rows::attr("ds_attr"),
    system_rows::base("es_base"),
    system_rows::limit("es_limit"),
    system_rows::attr("es_attr"),
    system_rows::limit("fs_limit"),
    system_rows::attr("fs_attr"),
    system_rows::limit("gs_limit"),
    system_rows::attr("gs_attr"),
    system_rows::row("ldtr", 32, "int32"),
    system_rows::base("ldtr_base"),
    system_rows::limit("ldtr_limit"),
    system_rows::attr("ldtr_attr"),
    system_rows::row("tr", 32, "int32"),
    system_rows::base("tr_base"),
    system_rows::limit("tr_limit"),
    system_rows::attr("tr_attr"),
    system_rows::base("gdtr_base"),
    system_rows::row("gdtr_limit", 16, "uint16"),
    system_rows::base("idtr_base"),
    system_rows::row("idtr_limit", 16, "uint16"),
    system_rows::row("cr0", 32, "x86_cr0"),
    system_rows::reg64("cr2"),
    system_rows::reg64("cr3"),
    system_rows::row("cr4", 64, "x86_cr4"),
    system_rows::reg64("cr8"),
    system_rows::row("efer", 32, "x86_efer"),
    // The guest's own debug registers; hvgdb's hardware breakpoints are not among them.
    system_rows::reg64("dr0"),
    system_rows::reg64("dr1"),
    system_rows::reg64("dr2"),
    system_rows::reg64("dr3"),
    system_rows::row("dr6", 32, "x86_dr6"),
    system_rows::row("dr7", 32, "x86_dr7"),
    // MSRs: IA32_KERNEL_GS_BASE, IA32_APIC_BASE, the SYSCALL and SYSENTER MSRs, IA32_PAT, and
    // the TSC (read-only).
    system_rows::reg64("k_gs_base"),
    system_rows::reg64("apic_base"),
    system_rows::reg64("star"),
    system_rows::reg64("lstar"),
    system_rows::reg64("cstar"),
    system_rows::reg64("sfmask"),
    system_rows::reg64("sysenter_cs"),
    system_rows::reg64("sysenter_esp"),
    system_rows::reg64("sysenter_eip"),
    system_rows::reg64("pat"),
    system_rows::reg64("tsc"),
};

}  // namespace hvgdb::gdbstub::arch::x86
