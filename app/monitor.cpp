// MachineTarget's 'monitor' commands (qRcmd): the CPU mode, which register view the debugger
// gets, and how memory addresses are translated; the commands about the machine's state are
// in monitor_machine.cpp.  Output is plain text for the user; the first line of `view` and
// `view NAME|auto` has a fixed form, which tools/hvgdb.py reads.
#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

#include "app/machine_target.hpp"
#include "app/monitor_reports.hpp"
#include "app/options.hpp"
#include "gdbstub/arch/target_xml.hpp"
#include "gdbstub/arch/x86.hpp"
#include "vcpu/x86/paging.hpp"

namespace hvgdb::app {

namespace {

constexpr std::string_view kHelp =
    "hvgdb monitor commands:\n"
    "  help            this list\n"
    "  mode            the CPU mode of the vCPU that stopped last, and the register view\n"
    "  view            the register view gdb has now, and the one the CPU mode suits\n"
    "  view NAME       switch the view: x86-64, i386 or i8086; gdb then needs the new\n"
    "                  description ('monitor tdesc' into a file, 'set tdesc filename FILE')\n"
    "  view auto       switch to the view that suits the CPU mode (unless --arch forced one)\n"
    "  tdesc           the target description (XML) of the current view\n"
    "  phys [on|off]   memory addresses are guest-physical (on) or linear, through the\n"
    "                  guest's page tables (off, the default)\n"
    "  root [ADDR|cr3] translate with the paging structures at guest-physical ADDR instead\n"
    "                  of CR3's (another address space); 'cr3' goes back to CR3\n"
    "  translate ADDR  walk the page tables for linear ADDR: physical address, page size,\n"
    "                  access rights, or why it is not mapped\n"
    "  walk ADDR       the same walk entry by entry: each table's entry (where, its value,\n"
    "                  its flags, where it leads), then the result or why the walk stops\n"
    "  regs, sysregs   the system state of gdb's current thread's vCPU: run state, mode,\n"
    "                  control registers, EFER, segments, descriptor tables, debug\n"
    "                  registers and MSRs, their bits decoded\n"
    "  xp ADDR [LEN]   LEN bytes (default 64, at most 4096) of guest-physical memory at ADDR\n"
    "                  as a hex dump, whatever 'phys' says\n"
    "  devices         the port devices (COM1 UART, debug console, exit port), guest RAM and\n"
    "                  ROM, and each vCPU's run state and xAPIC registers\n"
    "  reset           reset the guest: RAM cleared and the image loaded again, every vCPU\n"
    "                  in its initial state, devices reset; breakpoints stay.  gdb then\n"
    "                  needs 'maint flush register-cache' (hvgdb.py does it by itself)\n"
    "  quit            end the guest and hvgdb (exit code 0), as 'kill' does\n"
    "  console [forward on|off]\n"
    "                  where the guest's console output goes; forward it to the debugger\n"
    "                  while it waits for the guest to stop (on), or not (off)\n"
    "  (regs, walk and translate need gdb's current thread stopped, reset every thread)\n";

// The words of a command line.
std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (at < line.size()) {
        std::size_t start = line.find_first_not_of(" \t\r\n", at);
        if (start == std::string_view::npos) break;
        std::size_t end = line.find_first_of(" \t\r\n", start);
        if (end == std::string_view::npos) end = line.size();
        out.push_back(line.substr(start, end - start));
        at = end;
    }
    return out;
}

std::string describe_mode(const vcpu::x86::SystemRegisters& s) {
    return fmt::format("{} (CS={:04x} base {:#x}), {}", vcpu::x86::mode_name(s), s.cs.selector,
                       s.cs.base,
                       vcpu::x86::to_string(vcpu::x86::paging_mode(vcpu::x86::paging_control(s))));
}

}  // namespace

std::string MachineTarget::thread_description(gdbstub::ThreadId tid) const {
    auto id = vcpu_of(tid);
    if (!id) return {};
    if (machine_.waiting_for_sipi(*id)) return fmt::format("vCPU {}, waiting for SIPI", *id);
    return fmt::format(
        "vCPU {}, {}", *id,
        vcpu::x86::mode_name(machine_.snapshot(*id, vcpu::SnapshotParts::cpu).sregs));
}

Result<std::string> MachineTarget::monitor(std::string_view command) {
    auto argv = words(command);
    if (argv.empty() || argv[0] == "help") return std::string(kHelp);
    std::string_view name = argv[0];
    if (name == "mode" && argv.size() == 1) {
        vcpu::VcpuSnapshot s = reporting_snapshot();
        return fmt::format("vCPU {}: {}\nregister view: {} ({})\n", last_stopped_vcpu_.load(),
                           describe_mode(s.sregs), view_->arch->name,
                           forced_view_ ? "forced by --arch" : "follows the mode at each attach");
    }
    if (name == "view" && argv.size() <= 2) {
        following_ = true;  // a client that asks about views needs no stop notices
        if (argv.size() == 1)
            return fmt::format("view {} ({}the CPU mode suits {})\n", view_->arch->name,
                               forced_view_ ? "forced by --arch; " : "",
                               natural_view(reporting_snapshot().sregs).name);
        return monitor_view(argv[1]);
    }
    if (name == "tdesc" && argv.size() == 1) return gdbstub::arch::target_xml(*view_->arch);
    if (name == "phys" && argv.size() <= 2) {
        if (argv.size() == 2) {
            if (argv[1] != "on" && argv[1] != "off")
                return make_error(ErrorKind::invalid, "usage: monitor phys [on|off]");
            set_physical_memory(argv[1] == "on");
        }
        return fmt::format("memory addresses are {}\n", physical_memory()
                                                            ? "guest-physical"
                                                            : "linear (through the page tables)");
    }
    if (name == "root" && argv.size() <= 2) {
        if (argv.size() == 2) {
            if (argv[1] == "cr3") {
                set_page_table_root(std::nullopt);
            } else {
                auto root = parse_address(argv[1]);
                if (!root) return std::unexpected(root.error());
                set_page_table_root(*root);
            }
        }
        auto root = page_table_root();
        return root ? fmt::format("page-table root {:#x} (not CR3)\n", *root)
                    : fmt::format("page-table root: CR3 ({:#x})\n", machine_.snapshot(0).sregs.cr3);
    }
    if (name == "translate" && argv.size() == 2) {
        auto linear = parse_address(argv[1]);
        if (!linear) return std::unexpected(linear.error());
        if (auto r = require_stopped("translate"); !r) return std::unexpected(r.error());
        auto t = translate(*linear);
        if (!t) return t.error().message() + "\n";  // an answer, not a failed command
        return translation_report(*linear, *t);
    }
    const auto arguments = std::span(argv).subspan(1);
    if ((name == "regs" || name == "sysregs") && arguments.empty()) return monitor_regs();
    if (name == "walk") return monitor_walk(arguments);
    if (name == "xp") return monitor_xp(arguments);
    if (name == "devices" && arguments.empty()) return monitor_devices();
    if (name == "reset" && arguments.empty()) return monitor_reset();
    if (name == "quit" && arguments.empty()) return monitor_quit();
    if (name == "console") return monitor_console(std::span(argv).subspan(1));
    return make_error(ErrorKind::invalid,
                      fmt::format("unknown monitor command '{}'; try 'monitor help'", command));
}

Result<std::string> MachineTarget::monitor_console(std::span<const std::string_view> arguments) {
    if (!console_) return std::string("guest console: not known to the debugger\n");
    if (arguments.size() == 2 && arguments[0] == "forward" &&
        (arguments[1] == "on" || arguments[1] == "off")) {
        console_->set_forwarding(arguments[1] == "on");
    } else if (!arguments.empty()) {
        return make_error(ErrorKind::invalid, "usage: monitor console [forward on|off]");
    }
    return console_->describe();
}

std::string MachineTarget::stop_notice(const gdbstub::StopEvent& event) {
    if (forced_view_ || following_ || event.kind != gdbstub::StopEvent::Kind::stopped) return {};
    vcpu::VcpuSnapshot s = reporting_snapshot();
    const gdbstub::arch::Arch& natural = natural_view(s.sregs);
    if (&natural == view_->arch || &natural == noticed_) return {};
    noticed_ = &natural;  // said once per change
    return fmt::format(
        "hvgdb: the vCPU is now in {}; gdb's register view is still {}, this mode's is {}.\n"
        "hvgdb: source hvgdb.py in gdb to follow mode changes (see 'monitor help').\n",
        describe_mode(s.sregs), view_->arch->name, natural.name);
}

Result<std::string> MachineTarget::monitor_view(std::string_view argument) {
    const View* wanted = nullptr;
    if (argument == "auto") {
        if (forced_view_) return fmt::format("view {} (forced)\n", view_->arch->name);
        wanted = &view_of(natural_view(reporting_snapshot().sregs));
    } else {
        for (const View& v : views_)
            if (v.arch->name == argument) wanted = &v;
        if (!wanted)
            return make_error(ErrorKind::invalid,
                              fmt::format("no view '{}': x86-64, i386, i8086 or auto", argument));
    }
    bool changed = wanted != view_;
    view_ = wanted;
    return fmt::format("view {} ({})\n", view_->arch->name, changed ? "changed" : "unchanged");
}

}  // namespace hvgdb::app
