// `monitor regs`: a vCPU's system state in words.  Rows are named as in the register tables
// (gdbstub/arch/x86_system.hpp), read through the register bindings and decoded by the rows'
// flags types, so this shows what `info registers` would, in one place.
#include <fmt/format.h>

#include <array>
#include <iterator>

#include "app/monitor_reports.hpp"
#include "app/register_bindings.hpp"
#include "gdbstub/arch/flags.hpp"
#include "gdbstub/arch/x86.hpp"

namespace hvgdb::app {

namespace {

// One line of the report: a label and the rows it shows.  A row named as the label is the
// line's main value (a selector); the others are shown by the rest of their name ("base").
struct ReportLine {
    std::string_view label;
    std::array<std::string_view, 4> rows;
};
struct Section {
    std::string_view heading;
    std::span<const ReportLine> lines;
};

constexpr ReportLine control_lines[] = {
    {"cr0", {"cr0"}}, {"cr2", {"cr2"}}, {"cr3", {"cr3"}},
    {"cr4", {"cr4"}}, {"cr8", {"cr8"}}, {"efer", {"efer"}},
};
constexpr ReportLine segment_lines[] = {
    {"cs", {"cs", "cs_base", "cs_limit", "cs_attr"}},
    {"ss", {"ss", "ss_base", "ss_limit", "ss_attr"}},
    {"ds", {"ds", "ds_base", "ds_limit", "ds_attr"}},
    {"es", {"es", "es_base", "es_limit", "es_attr"}},
    {"fs", {"fs", "fs_base", "fs_limit", "fs_attr"}},
    {"gs", {"gs", "gs_base", "gs_limit", "gs_attr"}},
    {"ldtr", {"ldtr", "ldtr_base", "ldtr_limit", "ldtr_attr"}},
    {"tr", {"tr", "tr_base", "tr_limit", "tr_attr"}},
    {"gdtr", {"gdtr_base", "gdtr_limit"}},
    {"idtr", {"idtr_base", "idtr_limit"}},
};
constexpr ReportLine debug_lines[] = {
    {"dr0", {"dr0"}}, {"dr1", {"dr1"}}, {"dr2", {"dr2"}},
    {"dr3", {"dr3"}}, {"dr6", {"dr6"}}, {"dr7", {"dr7"}},
};
constexpr ReportLine msr_lines[] = {
    {"apic_base", {"apic_base"}},
    {"k_gs_base", {"k_gs_base"}},
    {"star", {"star"}},
    {"lstar", {"lstar"}},
    {"cstar", {"cstar"}},
    {"sfmask", {"sfmask"}},
    {"sysenter_cs", {"sysenter_cs"}},
    {"sysenter_esp", {"sysenter_esp"}},
    {"sysenter_eip", {"sysenter_eip"}},
    {"pat", {"pat"}},
    {"tsc", {"tsc"}},
};
constexpr Section sections[] = {
    {"control registers", control_lines},
    {"segments and descriptor tables", segment_lines},
    {"debug registers (the guest's own)", debug_lines},
    {"model-specific registers", msr_lines},
};

constexpr std::string_view segment_attr_type = "x86_segment_attr";

// The x86-64 table has every row the report names (the views share the system rows).
const gdbstub::arch::RegisterInfo* row_info(std::string_view name) {
    for (const auto& r : gdbstub::arch::x86_64().registers)
        if (r.name == name) return &r;
    return nullptr;
}

// "0x1f [ PE ET ]": the value, and its bits where the row has a flags type.
std::string row_value(std::string_view name, const vcpu::VcpuSnapshot& s, bool long_mode) {
    const RegisterBinding* binding = find_register_binding(name);
    const gdbstub::arch::RegisterInfo* info = row_info(name);
    if (!binding || !binding->get || !info) return "?";
    const std::uint64_t value = binding->get(s);
    std::string out = fmt::format("{:#x}", value);
    if (auto bits = gdbstub::arch::describe_flags(gdbstub::arch::x86_64(), info->type, value))
        out += " " + *bits;
    if (info->type == segment_attr_type) {
        vcpu::x86::Segment segment;
        vcpu::x86::set_access_rights(segment, static_cast<std::uint32_t>(value));
        out += " " + segment_type(segment, long_mode);
    }
    return out;
}

void append_line(std::string& out, const ReportLine& line, const vcpu::VcpuSnapshot& s,
                 bool long_mode) {
    std::string text = fmt::format("  {:<12} ", line.label);  // the longest label and a space
    for (std::string_view row : line.rows) {
        if (row.empty()) break;
        std::string_view part = row;
        if (row != line.label && row.starts_with(line.label) && row.size() > line.label.size())
            part.remove_prefix(line.label.size() + 1);  // "cs_base" -> "base"
        if (row == line.label)
            text += row_value(row, s, long_mode);
        else
            text += fmt::format("  {} {}", part, row_value(row, s, long_mode));
    }
    out += text + "\n";
}

}  // namespace

std::string segment_type(const vcpu::x86::Segment& s, bool long_mode) {
    if (s.unusable) return "(unusable)";
    if (s.s) {
        const bool code = (s.type & 8) != 0;
        std::string out = code ? ((s.type & 2) ? "code, execute/read" : "code, execute-only")
                               : ((s.type & 2) ? "data, read/write" : "data, read-only");
        if (s.type & 4) out += code ? ", conforming" : ", expand-down";
        if (s.type & 1) out += ", accessed";
        return out;
    }
    // System descriptors, by type: 32-bit (legacy) and IA-32e mode meanings.
    static constexpr std::array<std::string_view, 16> legacy = {
        "reserved system type",   "16-bit TSS (available)", "LDT",
        "16-bit TSS (busy)",      "16-bit call gate",       "task gate",
        "16-bit interrupt gate",  "16-bit trap gate",       "reserved system type",
        "32-bit TSS (available)", "reserved system type",   "32-bit TSS (busy)",
        "32-bit call gate",       "reserved system type",   "32-bit interrupt gate",
        "32-bit trap gate"};
    static constexpr std::array<std::string_view, 16> ia32e = {
        "reserved system type",   "reserved system type", "LDT",
        "reserved system type",   "reserved system type", "reserved system type",
        "reserved system type",   "reserved system type", "reserved system type",
        "64-bit TSS (available)", "reserved system type", "64-bit TSS (busy)",
        "64-bit call gate",       "reserved system type", "64-bit interrupt gate",
        "64-bit trap gate"};
    return std::string((long_mode ? ia32e : legacy)[s.type & 0xf]);
}

std::string system_state_report(unsigned vcpu, std::string_view run_state,
                                const vcpu::VcpuSnapshot& s) {
    const bool long_mode = (s.sregs.efer & (1u << 10)) != 0;  // EFER.LMA
    std::string out = fmt::format(
        "vCPU {} (thread {}), {}: {}, {}\n", vcpu, vcpu + 1, run_state,
        vcpu::x86::mode_name(s.sregs),
        vcpu::x86::to_string(vcpu::x86::paging_mode(vcpu::x86::paging_control(s.sregs))));
    out += fmt::format("  rip {:#x} (linear {:#x})  rsp {:#x}  rflags {}\n", s.regs.rip,
                       vcpu::x86::code_linear_address(s.sregs, s.regs.rip), s.regs.rsp,
                       row_value("eflags", s, long_mode));
    for (const Section& section : sections) {
        out += fmt::format("{}:\n", section.heading);
        for (const ReportLine& line : section.lines) append_line(out, line, s, long_mode);
    }
    return out;
}

}  // namespace hvgdb::app
