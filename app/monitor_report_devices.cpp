// `monitor devices`: the port devices, and each vCPU's xAPIC.
#include <fmt/format.h>

#include <iterator>

#include "app/monitor_reports.hpp"

namespace hvgdb::app {

namespace {

std::string vector_list(const std::vector<std::uint8_t>& vectors) {
    if (vectors.empty()) return "none";
    std::string out;
    for (std::uint8_t v : vectors) out += fmt::format("{}{:#04x}", out.empty() ? "" : " ", v);
    return out;
}

}  // namespace

std::string port_devices_report(std::span<const vcpu::PortDeviceState> devices) {
    std::string out = "port devices:\n";
    auto it = std::back_inserter(out);
    for (const auto& d : devices) {
        std::string ports = d.count == 1
                                ? fmt::format("{:#06x}", d.first)
                                : fmt::format("{:#06x}-{:#06x}", d.first, d.first + d.count - 1);
        fmt::format_to(it, "  {:<13} {}\n", ports, d.name);
        if (d.registers.empty()) continue;
        out += "               ";
        for (const auto& r : d.registers) fmt::format_to(it, " {} {:#04x}", r.name, r.value);
        out += "\n";
    }
    return out;
}

std::string lapic_report(const vcpu::x86::Lapic& apic) {
    std::string out =
        fmt::format("  xAPIC: IA32_APIC_BASE {:#x} ({}{}), {}\n", apic.base(),
                    apic.enabled() ? "enabled" : "disabled", apic.bsp() ? ", BSP" : "",
                    apic.software_enabled() ? "software-enabled (SVR bit 8)"
                                            : "software-disabled (SVR bit 8 clear)");
    auto it = std::back_inserter(out);
    const auto registers = apic.registers();
    constexpr std::size_t per_line = 4;
    for (std::size_t i = 0; i < registers.size(); ++i) {
        if (i % per_line == 0) out += "   ";
        fmt::format_to(it, " {} {:#010x}", registers[i].name, registers[i].value);
        if (i % per_line == per_line - 1 || i + 1 == registers.size()) out += "\n";
    }
    fmt::format_to(it, "    requested (IRR): {}; in service (ISR): {}\n",
                   vector_list(apic.requested()), vector_list(apic.in_service()));
    return out;
}

}  // namespace hvgdb::app
