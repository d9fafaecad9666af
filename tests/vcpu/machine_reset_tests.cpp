// Machine::reset on the real KVM: RAM cleared and the program loaded again, every vCPU back in
// the state it started in (APs waiting for SIPI again), the devices and xAPICs reset, and
// software breakpoints kept, patched over the new bytes with those as their originals.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "tests/vcpu/machine_harness.hpp"
#include "tests/vcpu/smp_guest.hpp"
#include "vcpu/machine.hpp"

using namespace hvgdb::vcpu;

namespace {

using testing::code;
using testing::Harness;

constexpr std::uint64_t flag = 0x600;
constexpr std::uint64_t nop_at = code + 5;
// mov byte [0x600], 0x77; nop; mov dx, 0x3ff; mov al, 0x5a; out dx, al (COM1's scratch
// register); mov al, 7; out 0xf4, al (exit code 15)
const std::vector<std::uint8_t> program = {0xc6, 0x06, 0x00, 0x06, 0x77, 0x90, 0xba, 0xff,
                                           0x03, 0xb0, 0x5a, 0xee, 0xb0, 0x07, 0xe6, 0xf4};

hvgdb::Result<void> load(Machine& m, const std::vector<std::uint8_t>& bytes, std::uint64_t at) {
    std::memcpy(m.ram().data() + at, bytes.data(), bytes.size());
    return {};
}

std::uint32_t com1(Machine& m, std::string_view name) {
    auto devices = m.devices();
    REQUIRE(devices);
    for (const auto& d : *devices)
        for (const auto& r : d.registers)
            if (r.name == name) return r.value;
    FAIL("no COM1 register ", name);
    return 0;
}

}  // namespace

TEST_CASE("reset: memory loaded again, the vCPU in its initial state, breakpoints kept") {
    Harness h(program);
    Machine& m = *h.machine;
    const VcpuSnapshot initial = m.snapshot(0);
    REQUIRE(m.sw_breakpoints().insert(nop_at, nop_at));
    const std::uint8_t opcode = breakpoint_opcode(m.sw_breakpoints().mechanism());

    VcpuStop s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::sw_breakpoint);
    CHECK(s.address == nop_at);
    CHECK(m.ram()[flag] == 0x77);
    // The debugger changes the byte under the breakpoint and some RAM the image does not hold.
    const std::uint8_t garbage[] = {0x0f};
    REQUIRE(m.write_physical(nop_at, garbage));
    m.ram()[0x12345] = 0xee;

    REQUIRE(m.reset([&] { return load(m, program, code); }));
    CHECK(m.ram()[flag] == 0);         // cleared, and the program does not set it
    CHECK(m.ram()[0x12345] == 0);      // RAM the image does not cover is zero again
    CHECK(m.ram()[nop_at] == opcode);  // the breakpoint is patched again...
    std::uint8_t original = 0;
    REQUIRE(m.read_physical(nop_at, {&original, 1}));
    CHECK(original == 0x90);  // ...over the program's nop, which is its original now
    const VcpuSnapshot after = m.snapshot(0);
    CHECK(after.regs == initial.regs);
    CHECK(after.sregs == initial.sregs);
    CHECK(after.debug == initial.debug);

    s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::sw_breakpoint);  // hit again, in the reloaded program
    CHECK(s.address == nop_at);
    CHECK(m.ram()[flag] == 0x77);
    REQUIRE(m.sw_breakpoints().remove(nop_at, nop_at));
    CHECK(m.ram()[nop_at] == 0x90);  // removal restores the new original
    s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 15);
    CHECK(com1(m, "SCR") == 0x5a);

    // After the exit: a reset makes the machine run the program again, the UART reset too.
    REQUIRE(m.reset([&] { return load(m, program, code); }));
    CHECK(com1(m, "SCR") == 0);
    s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 15);
}

TEST_CASE("reset is refused while a vCPU runs; a failed reload is reported") {
    const std::vector<std::uint8_t> spin = {0xeb, 0xfe};  // jmp $
    Harness h(spin);
    Machine& m = *h.machine;
    VcpuAction a{0, RunMode::cont};
    m.resume({&a, 1});
    auto refused = m.reset([&] { return load(m, spin, code); });
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == hvgdb::ErrorKind::target);
    m.request_stop();
    CHECK(h.wait().cause == StopCause::interrupted);

    auto failed = m.reset([] {
        return hvgdb::Result<void>(hvgdb::make_error(hvgdb::ErrorKind::invalid, "bad image"));
    });
    REQUIRE_FALSE(failed);
    CHECK(failed.error().message() == "bad image");
    CHECK(m.snapshot(0).regs.rip == code);  // the vCPUs were reset all the same
}

TEST_CASE("reset: an AP the guest started waits for SIPI again, its xAPIC reset") {
    using namespace testing;
    constexpr std::uint64_t ap_code = 0x8000, marker = 0x6001;
    // The AP (SIPI vector 8: 0800:0000) sets its marker and halts.
    const std::vector<std::uint8_t> ap = {0xc6, 0x06, 0x01, 0x60, 0xa5, 0xfa, 0xf4, 0xeb, 0xfc};
    std::vector<std::uint8_t> bsp;
    store32(bsp, 0xfee000f0, 0x1ff);  // software-enable the BSP's xAPIC
    send_ipi(bsp, 0x4500, 1);         // INIT
    send_ipi(bsp, 0x4608, 1);         // SIPI, vector 8
    wait_for_byte(bsp, static_cast<std::uint16_t>(marker), 0xa5);
    exit_guest(bsp);
    Smp m(2, bsp, [&](Smp& smp) { smp.put(ap_code, ap); });
    Machine& machine = *m.h.machine;
    const VcpuSnapshot ap_initial = machine.snapshot(1);
    auto reload = [&]() -> hvgdb::Result<void> {
        m.put(bsp_code, bsp);
        m.put(ap_code, ap);
        return {};
    };

    for (int round = 0; round < 2; ++round) {
        CAPTURE(round);
        CHECK(machine.waiting_for_sipi(1));
        CHECK(m.byte(marker) == 0);
        CHECK_FALSE(machine.lapic(0).software_enabled());  // SVR as after reset
        auto s = m.run_all();
        CHECK(s.cause == StopCause::exited);
        CHECK(s.exit_code == 3);
        CHECK(m.byte(marker) == 0xa5);
        CHECK_FALSE(machine.waiting_for_sipi(1));
        CHECK(machine.lapic(0).software_enabled());
        REQUIRE(machine.reset(reload));
        CHECK(machine.snapshot(1).regs == ap_initial.regs);
        CHECK(machine.snapshot(1).sregs == ap_initial.sregs);
    }
}

TEST_CASE("reset: a ROM gets its contents back, breakpoints in it kept") {
    Harness rig(Harness::unstarted);
    std::vector<std::uint8_t> rom(0x1000, 0x90);
    rom[0x10] = 0xab;
    const RomWindow windows[] = {{0xfffff000, 0, 0x1000}};
    REQUIRE(rig.machine->add_rom(rom, windows));
    rig.start(testing::real_mode(0, 0, code));
    Machine& m = *rig.machine;
    REQUIRE(m.sw_breakpoints().insert(0xfffff020, 0xfffff020));
    const std::uint8_t changed[] = {0x11, 0x22};
    REQUIRE(m.write_physical(0xfffff010, changed));  // the debugger may write ROM
    REQUIRE(m.write_physical(0xfffff020, changed));  // also under the breakpoint

    REQUIRE(m.reset([] { return hvgdb::Result<void>(); }));
    std::uint8_t now[0x30] = {};
    REQUIRE(m.read_physical(0xfffff000, now));
    CHECK(now[0x10] == 0xab);
    CHECK(now[0x11] == 0x90);
    CHECK(now[0x20] == 0x90);  // the breakpoint's original is the ROM's byte again
    CHECK(now[0x21] == 0x90);
    CHECK(m.sw_breakpoints().contains_linear(0xfffff020));
    REQUIRE(m.sw_breakpoints().remove(0xfffff020, 0xfffff020));
    REQUIRE(m.read_physical(0xfffff020, {now, 1}));
    CHECK(now[0] == 0x90);
}
