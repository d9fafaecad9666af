// The monitor commands about the machine on a started Machine: a raw real-mode program loaded
// the way hvgdb loads images, so that `monitor reset` loads it again.  regs, walk, xp and
// devices show real state; reset keeps breakpoints over the reloaded program; commands that
// need a stopped thread refuse while it runs (non-stop mode); quit asks the session to end.
// Needs /dev/kvm (SKIPPED, exit 77, without it).
#include <doctest/doctest.h>

#include <vector>

#include "tests/app/started_machine.hpp"
#include "tests/kvm_skip.hpp"

using namespace hvgdb;
using gdbstub::BreakpointType;
using gdbstub::StopEvent;

namespace {

constexpr std::uint64_t code = 0x7c00, flag = 0x600, nop_at = code + 5;
// mov byte [0x600], 0x77; nop; mov al, 7; out 0xf4, al (exit code 15)
const std::vector<std::uint8_t> exits = {0xc6, 0x06, 0x00, 0x06, 0x77,
                                         0x90, 0xb0, 0x07, 0xe6, 0xf4};
const std::vector<std::uint8_t> spins = {0xeb, 0xfe};  // jmp $

using Machine = test::StartedMachine;

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("regs, walk, xp and devices show the machine's real state") {
    Machine m(exits);
    const std::string regs = m.ok("regs");
    CAPTURE(regs);
    CHECK(regs.starts_with("vCPU 0 (thread 1), stopped: real mode, paging off\n"));
    CHECK(contains(regs, "  rip 0x7c00 (linear 0x7c00)"));
    CHECK(contains(regs, "  cr0          0x60000010 [ ET NW CD ]\n"));
    CHECK(contains(regs, "  apic_base    0xfee00900\n"));
    CHECK(m.ok("sysregs") == regs);

    CHECK(m.ok("walk 0x7c05") == "vCPU 0: paging off\n0x7c05: paging is off, physical 0x7c05\n");
    CHECK(m.ok("xp 0x7c00 16") ==
          "00007c00: c6 06 00 06 77 90 b0 07  e6 f4 00 00 00 00 00 00  |....w...........|\n");
    CHECK(m.ok("xp 0x7c00").size() == 4 * 79);  // 64 bytes: four lines of 79 characters
    CHECK(m.ok("xp 0xffff8 0x10") ==
          "000ffff8: 00 00 00 00 00 00 00 00                           |........|\n"
          "guest-physical 0x100000 and on is not in guest memory\n");
    CHECK(m.refused("xp 0x100000") ==
          "guest-physical 0x100000 is not in guest memory (0x0-0xfffff RAM)");
    CHECK(contains(m.refused("xp 0 4097"), "1 to 4096 bytes"));
    CHECK(contains(m.refused("xp 0 0"), "1 to 4096 bytes"));
    CHECK(m.refused("xp") == "usage: monitor xp ADDR [LEN]");
    CHECK(contains(m.refused("xp zz"), "'zz' is not a number"));
    CHECK(m.refused("walk") == "usage: monitor walk ADDR");
    CHECK(contains(m.refused("regs now"), "unknown monitor command"));

    // A software breakpoint's byte reads as the guest's in a dump.
    REQUIRE(m.target->insert_breakpoint(BreakpointType::software, nop_at, 1));
    CHECK(m.ok("xp 0x7c05 1").starts_with("00007c05: 90 "));

    const std::string devices = m.ok("devices");
    CAPTURE(devices);
    CHECK(contains(devices, "  0x03f8-0x03ff COM1, 16550 UART\n"));
    CHECK(contains(devices, "guest memory:\n  0x0000000000-0x00000fffff  RAM, 1 MiB\n"));
    CHECK(contains(devices,
                   "vCPU 0 (thread 1), stopped:\n  xAPIC: IA32_APIC_BASE 0xfee00900 "
                   "(enabled, BSP)"));
}

TEST_CASE("reset: the program again, the vCPU at its entry, the breakpoint still hit") {
    Machine m(exits);
    const std::uint8_t opcode = breakpoint_opcode(m.machine->sw_breakpoints().mechanism());
    REQUIRE(m.target->insert_breakpoint(BreakpointType::software, nop_at, 1));
    StopEvent s = m.run();
    CHECK(s.reason == gdbstub::StopReason::sw_break);
    CHECK(m.pc() == nop_at);
    CHECK(m.machine->ram()[flag] == 0x77);

    const std::string text = m.ok("reset");
    CAPTURE(text);
    CHECK(contains(text, "guest RAM cleared and the image loaded again"));
    CHECK(contains(text, "vCPU 0 starts at 0x7c00 in real mode."));
    CHECK(contains(text, "'maint flush register-cache'"));
    CHECK(m.pc() == code);                      // the next register read shows the new state
    CHECK(m.machine->ram()[flag] == 0);         // RAM cleared
    CHECK(m.machine->ram()[nop_at] == opcode);  // the breakpoint is in the fresh program
    std::uint8_t original = 0;
    REQUIRE(m.target->read_memory(nop_at, {&original, 1}));
    CHECK(original == 0x90);

    s = m.run();
    CHECK(s.reason == gdbstub::StopReason::sw_break);
    CHECK(m.pc() == nop_at);
    REQUIRE(m.target->remove_breakpoint(BreakpointType::software, nop_at, 1));
    CHECK(m.machine->ram()[nop_at] == 0x90);
    s = m.run();
    CHECK(s.kind == StopEvent::Kind::exited);
    CHECK(s.exit_code == 15);
}

TEST_CASE("commands that need a stopped thread refuse while it runs, the others answer") {
    Machine m(spins);
    REQUIRE(m.target->set_non_stop(true));
    REQUIRE(m.target->resume(std::array{gdbstub::ThreadAction{}}));
    REQUIRE(m.target->thread_running(1));
    CHECK(m.refused("regs") ==
          "'monitor regs' needs gdb's current thread stopped, and thread 1 "
          "(vCPU 0) is running: interrupt it first");
    CHECK(contains(m.refused("walk 0x7c00"), "'monitor walk' needs gdb's current thread stopped"));
    CHECK(contains(m.refused("translate 0x7c00"), "'monitor translate' needs"));
    CHECK(contains(m.refused("reset"), "needs every thread stopped, and thread 1 is running"));
    CHECK(m.ok("xp 0x7c00 2").starts_with("00007c00: eb fe"));
    CHECK(contains(m.ok("devices"), "vCPU 0 (thread 1), running:"));
    CHECK(contains(m.ok("help"), "  reset "));

    m.target->interrupt();
    m.wait();
    CHECK(m.ok("regs").starts_with("vCPU 0 (thread 1), stopped: real mode"));
    CHECK(contains(m.ok("reset"), "vCPU 0 starts at 0x7c00"));
}

TEST_CASE("quit asks the session to end the target; no image, no reset") {
    Machine m(spins, /*reloadable=*/false);
    CHECK(m.refused("reset") == "this machine has no image to load again");
    CHECK_FALSE(m.target->end_requested());
    CHECK(contains(m.refused("quit now"), "unknown monitor command"));
    CHECK_FALSE(m.target->end_requested());
    CHECK(contains(m.ok("quit"), "hvgdb exits"));
    CHECK(m.target->end_requested());
}

int main(int argc, char** argv) {
    return test::run_tests_if_kvm(argc, argv);
}
