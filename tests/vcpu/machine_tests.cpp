// Machine on the real KVM: run control, stops and debug traps on tiny real-mode guests.
// Needs /dev/kvm; the test binary says SKIPPED (exit 77) when it is not there.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/kvm_skip.hpp"
#include "tests/vcpu/machine_harness.hpp"
#include "vcpu/machine.hpp"
#include "vcpu/probe.hpp"

using namespace hvgdb::vcpu;

namespace {

using testing::code;
using testing::Harness;
using vcpu_regs_view = hvgdb::vcpu::x86::Registers;

// mov dx,0xe9; mov al,'A'; out dx,al; mov al,'B'; out dx,al; mov al,5; out 0xf4,al
const std::vector<std::uint8_t> prints_and_exits = {0xba, 0xe9, 0x00, 0xb0, 'A',  0xee, 0xb0,
                                                    'B',  0xee, 0xb0, 0x05, 0xe6, 0xf4};
// jmp $
const std::vector<std::uint8_t> spins = {0xeb, 0xfe};
// inc word [0x500]; jmp short -6
const std::vector<std::uint8_t> counts = {0xff, 0x06, 0x00, 0x05, 0xeb, 0xfa};

}  // namespace

TEST_CASE("the guest prints and exits through the exit port") {
    Harness h(prints_and_exits);
    auto s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 11);
    CHECK(h.console == "AB");
}

TEST_CASE("the guest's own int3 goes to the guest's handler") {
    // int3 at 0x7c00; IVT vector 3 -> 0000:7c40, which exits with value 9.
    std::vector<std::uint8_t> program(0x44, 0x90);
    program[0] = 0xcc;
    program[0x40] = 0xb0;  // mov al, 9
    program[0x41] = 0x09;
    program[0x42] = 0xe6;  // out 0xf4, al
    program[0x43] = 0xf4;
    Harness h(program);
    const std::uint8_t vector3[] = {0x40, 0x7c, 0x00, 0x00};
    REQUIRE(h.machine->write_physical(3 * 4, vector3));
    auto s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 19);
}

TEST_CASE("single step advances one instruction and publishes registers") {
    Harness h(prints_and_exits);
    auto s = h.run(RunMode::step);
    CHECK(s.cause == StopCause::step);
    CHECK(h.machine->snapshot(0).regs.rip == code + 3);
    CHECK(h.machine->snapshot(0).regs.rdx == 0xe9);
}

TEST_CASE("every general register written while stopped reaches the vCPU unchanged") {
    Harness h(spins);
    auto snap = h.machine->snapshot(0);
    std::uint64_t* fields[] = {&snap.regs.rax, &snap.regs.rbx, &snap.regs.rcx, &snap.regs.rdx,
                               &snap.regs.rsi, &snap.regs.rdi, &snap.regs.rbp, &snap.regs.rsp,
                               &snap.regs.r8,  &snap.regs.r9,  &snap.regs.r10, &snap.regs.r11,
                               &snap.regs.r12, &snap.regs.r13, &snap.regs.r14, &snap.regs.r15};
    std::uint64_t value = 0x1111;
    for (auto* f : fields) *f = value++;
    REQUIRE(h.machine->write_snapshot(0, snap));
    auto s = h.run(RunMode::step);  // jmp $ changes none of them
    CHECK(s.cause == StopCause::step);
    auto after = h.machine->snapshot(0);
    CHECK(after.regs.rbp == snap.regs.rbp);
    CHECK(after.regs.rsp == snap.regs.rsp);
    CHECK(std::memcmp(&after.regs, &snap.regs, offsetof(vcpu_regs_view, rip)) == 0);
}

TEST_CASE("a software breakpoint stops at its address and hides its byte") {
    Harness h(prints_and_exits);
    REQUIRE(h.machine->sw_breakpoints().insert(code + 9, code + 9));
    std::uint8_t byte = 0;
    REQUIRE(h.machine->read_physical(code + 9, {&byte, 1}));
    CHECK(byte == 0xb0);
    auto s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::sw_breakpoint);
    CHECK(s.address == code + 9);
    CHECK(h.machine->snapshot(0).regs.rip == code + 9);
    CHECK(h.console == "AB");
    REQUIRE(h.machine->sw_breakpoints().remove(code + 9, code + 9));
    s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::exited);
}

TEST_CASE("write watchpoints stop the store, or are refused where the host cannot report them") {
    Harness h(counts);
    auto inserted = h.machine->insert_hw_breakpoint({HwKind::write, 0x500, 2});
    if (!h.data_breakpoints) {
        // kvm_pvm: the probe found that data breakpoints never trap.
        REQUIRE_FALSE(inserted);
        CHECK(inserted.error().kind == hvgdb::ErrorKind::unsupported);
        return;
    }
    REQUIRE(inserted);
    auto s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::watchpoint);
    CHECK(s.address == 0x500);
    CHECK(s.access == VcpuStop::Access::write);
}

TEST_CASE("hardware breakpoints use the debug registers") {
    Harness h(counts);
    REQUIRE(h.machine->insert_hw_breakpoint({HwKind::execute, code + 4, 1}));
    auto s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::hw_breakpoint);
    CHECK(h.machine->snapshot(0).regs.rip == code + 4);
    std::uint16_t counter = 0;
    REQUIRE(h.machine->read_physical(0x500, {reinterpret_cast<std::uint8_t*>(&counter), 2}));
    CHECK(counter == 1);
    s = h.run(RunMode::cont);  // once around the loop
    CHECK(s.cause == StopCause::hw_breakpoint);
    REQUIRE(h.machine->read_physical(0x500, {reinterpret_cast<std::uint8_t*>(&counter), 2}));
    CHECK(counter == 2);
    REQUIRE(h.machine->remove_hw_breakpoint({HwKind::execute, code + 4, 1}));
    CHECK_FALSE(h.machine->remove_hw_breakpoint({HwKind::execute, code + 4, 1}));
}

TEST_CASE("a hardware breakpoint removed while the guest runs is gone at once") {
    // Spin until [0x600] != 0, then exit with 3; the breakpoint sits on the exit path.
    const std::vector<std::uint8_t> waits = {0x80, 0x3e, 0x00, 0x06, 0x00,  // cmp byte [0x600], 0
                                             0x74, 0xf9,                    // je 0x7c00
                                             0xb0, 0x03, 0xe6, 0xf4};       // mov al,3; out 0xf4,al
    Harness h(waits);
    REQUIRE(h.machine->insert_hw_breakpoint({HwKind::execute, code + 7, 1}));
    VcpuAction a{0, RunMode::cont};
    h.machine->resume({&a, 1});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    h.machine->clear_breakpoints();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::uint8_t go = 1;
    REQUIRE(h.machine->write_physical(0x600, {&go, 1}));
    auto s = h.wait();
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 7);
}

TEST_CASE("only four debug registers") {
    Harness h(spins);
    for (std::uint64_t i = 0; i < 4; ++i)
        REQUIRE(h.machine->insert_hw_breakpoint({HwKind::execute, 0x1000 + i, 1}));
    auto fifth = h.machine->insert_hw_breakpoint({HwKind::execute, 0x2000, 1});
    REQUIRE_FALSE(fifth);
    CHECK(fifth.error().kind == hvgdb::ErrorKind::target);
}

TEST_CASE("request_stop interrupts a spinning guest and a halted one") {
    Harness h(spins);
    VcpuAction a{0, RunMode::cont};
    h.machine->resume({&a, 1});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(h.machine->running());
    h.machine->request_stop();
    auto s = h.wait();
    CHECK(s.cause == StopCause::interrupted);
    CHECK_FALSE(h.machine->running());

    // A register write reaches the vCPU before the next run: jump to a hlt.
    h.machine->ram()[0x9000] = 0xf4;
    auto snap = h.machine->snapshot(0);
    snap.regs.rip = 0x9000;
    REQUIRE(h.machine->write_snapshot(0, snap));
    h.stop.reset();
    h.machine->resume({&a, 1});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    h.machine->request_stop();
    s = h.wait();
    CHECK(s.cause == StopCause::interrupted);
    CHECK(h.machine->snapshot(0).regs.rip == 0x9001);
}

TEST_CASE("the snapshot holds the system, debug and model-specific registers") {
    Harness h(spins);
    auto s = h.machine->snapshot(0);
    CHECK((s.sregs.cr0 & 1) == 0);  // real mode
    CHECK(s.sregs.cs.type == 0xb);
    CHECK(s.sregs.ldt.type == 2);
    CHECK((s.sregs.apic_base & 0xfffff000) == 0xfee00000);
    CHECK(s.debug.dr7 == 0x400);  // KVM's reset values
    CHECK((s.debug.dr6 & 0xffff0ff0) == 0xffff0ff0);
    CHECK(s.msrs.pat == 0x0007040600070406);
    CHECK(s.msrs.tsc != 0);
    auto first_tsc = s.msrs.tsc;
    h.run(RunMode::step);
    CHECK(h.machine->snapshot(0).msrs.tsc > first_tsc);  // read again at each stop
}

TEST_CASE("a stop reads the general and system registers; the rest when first asked for") {
    // mov ecx, 0x174 (IA32_SYSENTER_CS); mov eax, 0x10; xor edx, edx; wrmsr; jmp $
    Harness h({0x66, 0xb9, 0x74, 0x01, 0x00, 0x00, 0x66, 0xb8, 0x10, 0x00, 0x00, 0x00, 0x66, 0x31,
               0xd2, 0x0f, 0x30, 0xeb, 0xfe});
    const auto before = h.machine->snapshot(0);
    for (int i = 0; i < 4; ++i) REQUIRE(h.run(RunMode::step).cause == StopCause::step);
    const auto cpu = h.machine->snapshot(0, SnapshotParts::cpu);
    CHECK(cpu.regs.rip == code + 17);
    CHECK(cpu.regs.rcx == 0x174);
    CHECK(cpu.msrs == before.msrs);  // not read by the stops
    const auto all = h.machine->snapshot(0);
    CHECK(all.regs == cpu.regs);
    CHECK(all.sregs == cpu.sregs);
    CHECK(all.msrs.sysenter_cs == 0x10);
    CHECK(all.msrs.tsc > before.msrs.tsc);
    CHECK(h.machine->snapshot(0, SnapshotParts::cpu) == all);  // kept until the next run
    CHECK(h.machine->snapshot(0) == all);                      // read once per stop

    // A write starts from the whole snapshot and keeps what it does not change.
    auto changed = all;
    changed.regs.rax = 0x1234;
    REQUIRE(h.machine->write_snapshot(0, changed));
    CHECK(h.machine->snapshot(0).regs.rax == 0x1234);
    CHECK(h.machine->snapshot(0).msrs.sysenter_cs == 0x10);
    CHECK(h.run(RunMode::step).cause == StopCause::step);
    CHECK(h.machine->snapshot(0).msrs.sysenter_cs == 0x10);
}

TEST_CASE("system state written while stopped reaches the vCPU and survives a run") {
    Harness h(spins);
    auto snap = h.machine->snapshot(0);
    snap.sregs.cr2 = 0x12345678;
    snap.sregs.gdt = {0x9000, 0x27};
    snap.sregs.idt = {0xa000, 0x3ff};
    snap.sregs.es.base = 0x20000;
    snap.sregs.es.limit = 0xfffff;
    snap.debug.dr[0] = 0x5000;  // never executed: the guest spins at 0x7c00
    snap.debug.dr[3] = 0x6000;
    snap.debug.dr7 = 0x401;  // L0, an execute breakpoint of the guest's own
    snap.msrs.kernel_gs_base = 0xffff888000001000;
    snap.msrs.lstar = 0xffffffff81000000;
    snap.msrs.star = 0x0023001000000000;
    snap.msrs.sfmask = 0x47700;
    snap.msrs.sysenter_cs = 0x10;
    snap.msrs.sysenter_esp = 0x8000;
    snap.msrs.sysenter_eip = 0x7e00;
    snap.msrs.pat = 0x0007010600070106;
    REQUIRE(h.machine->write_snapshot(0, snap));
    auto s = h.run(RunMode::step);
    CHECK(s.cause == StopCause::step);
    auto after = h.machine->snapshot(0);  // read back from KVM at the stop
    CHECK(after.sregs.cr2 == 0x12345678);
    CHECK(after.sregs.gdt == snap.sregs.gdt);
    CHECK(after.sregs.idt == snap.sregs.idt);
    CHECK(after.sregs.es.base == 0x20000);
    CHECK(after.sregs.es.limit == 0xfffff);
    CHECK(after.debug.dr[0] == 0x5000);
    CHECK(after.debug.dr[3] == 0x6000);
    CHECK(after.debug.dr7 == 0x401);
    snap.msrs.tsc = after.msrs.tsc;  // the one that moves on its own
    CHECK(after.msrs == snap.msrs);

    // hvgdb's own hardware breakpoints use the debug registers meanwhile; the guest's
    // values are still what it reads afterwards.
    REQUIRE(h.machine->insert_hw_breakpoint({HwKind::execute, code, 1}));
    s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::hw_breakpoint);
    CHECK(h.machine->snapshot(0).debug.dr[0] == 0x5000);
    CHECK(h.machine->snapshot(0).debug.dr7 == 0x401);
}

TEST_CASE("a write the hypervisor refuses is an error and changes nothing") {
    Harness h(counts);
    const auto before = h.machine->snapshot(0);

    auto bad = before;
    bad.sregs.cr0 |= 0x80000000;  // paging without protected mode (SDM vol. 3A, 2.5)
    auto r = h.machine->write_snapshot(0, bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == hvgdb::ErrorKind::target);
    CHECK(h.machine->snapshot(0).sregs == before.sregs);

    bad = before;
    bad.debug.dr7 = 0x1'00000400;  // DR7's upper half is reserved
    CHECK_FALSE(h.machine->write_snapshot(0, bad));
    CHECK(h.machine->snapshot(0).debug == before.debug);

    bad = before;
    bad.msrs.tsc += 1000;  // read-only
    r = h.machine->write_snapshot(0, bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == hvgdb::ErrorKind::target);

    // Several parts at once: the MSR is refused (LSTAR takes canonical addresses only, SDM
    // vol. 1, 3.3.7.1), so the registers written before it are put back.  KernelGSbase is
    // written before LSTAR in the same call and goes back too.
    bad = before;
    bad.sregs.cr2 = 0xdead000;
    bad.regs.rax = 0x1234;
    bad.msrs.kernel_gs_base = 0xffff888000001000;
    bad.msrs.lstar = 0x8000000000000000;
    CHECK_FALSE(h.machine->write_snapshot(0, bad));
    auto now = h.machine->snapshot(0);
    CHECK(now.sregs.cr2 == before.sregs.cr2);
    CHECK(now.regs.rax == before.regs.rax);
    CHECK(now.msrs.kernel_gs_base == before.msrs.kernel_gs_base);
    CHECK(now.msrs.lstar == before.msrs.lstar);

    // The vCPU runs on as before: two trips round the counting loop.
    REQUIRE(h.machine->insert_hw_breakpoint({HwKind::execute, code + 4, 1}));
    CHECK(h.run(RunMode::cont).cause == StopCause::hw_breakpoint);
    CHECK(h.run(RunMode::cont).cause == StopCause::hw_breakpoint);
    std::uint16_t counter = 0;
    REQUIRE(h.machine->read_physical(0x500, {reinterpret_cast<std::uint8_t*>(&counter), 2}));
    CHECK(counter == 2);
}

TEST_CASE("a register write while the vCPU runs is refused") {
    Harness h(spins);
    auto snap = h.machine->snapshot(0);
    VcpuAction a{0, RunMode::cont};
    h.machine->resume({&a, 1});
    snap.regs.rax = 1;
    auto r = h.machine->write_snapshot(0, snap);
    CHECK_FALSE(r);
    h.machine->request_stop();
    CHECK(h.wait().cause == StopCause::interrupted);
}

int main(int argc, char** argv) {
    return hvgdb::test::run_tests_if_kvm(argc, argv);
}
