#include <doctest/doctest.h>

#include "app/machine_target.hpp"
#include "gdbstub/arch/x86.hpp"

using namespace hvgdb;
using gdbstub::StopReason;

TEST_CASE("vCPU stops become gdb stop events") {
    vcpu::VcpuStop s;
    s.vcpu = 1;
    s.cause = vcpu::StopCause::sw_breakpoint;
    auto e = app::MachineTarget::to_stop_event(s);
    CHECK(e.thread == 2);
    CHECK(e.signal == 5);
    CHECK(e.reason == StopReason::sw_break);

    s.cause = vcpu::StopCause::interrupted;
    CHECK(app::MachineTarget::to_stop_event(s).signal == 2);
    // Stopped alone by the debugger (vCont's t in non-stop mode): no signal.
    s.cause = vcpu::StopCause::requested;
    e = app::MachineTarget::to_stop_event(s);
    CHECK(e.signal == 0);
    CHECK(e.reason == StopReason::none);
    CHECK(e.thread == 2);

    s.cause = vcpu::StopCause::watchpoint;
    s.access = vcpu::VcpuStop::Access::write;
    s.address = 0x5000;
    e = app::MachineTarget::to_stop_event(s);
    CHECK(e.reason == StopReason::watch);
    CHECK(e.data_address == 0x5000);
    s.access = vcpu::VcpuStop::Access::read;
    CHECK(app::MachineTarget::to_stop_event(s).reason == StopReason::rwatch);
    s.access = vcpu::VcpuStop::Access::access;
    CHECK(app::MachineTarget::to_stop_event(s).reason == StopReason::awatch);

    s.cause = vcpu::StopCause::exited;
    s.exit_code = 7;
    e = app::MachineTarget::to_stop_event(s);
    CHECK(e.kind == gdbstub::StopEvent::Kind::exited);
    CHECK(e.exit_code == 7);

    s.cause = vcpu::StopCause::fault;
    s.fault = vcpu::FaultKind::triple_fault;
    CHECK(app::MachineTarget::to_stop_event(s).signal == 11);
    s.fault = vcpu::FaultKind::internal_error;
    CHECK(app::MachineTarget::to_stop_event(s).signal == 4);
}

TEST_CASE("the PC gdb sees is the linear address of the next instruction") {
    vcpu::VcpuSnapshot s;  // real mode
    s.sregs.cr0 = 0x60000010;
    s.sregs.cs.selector = 0x07c0;
    s.sregs.cs.base = 0x7c00;
    s.regs.rip = 0x0005;
    CHECK(app::MachineTarget::linear_pc(s) == 0x7c05);

    // Inside the current segment only IP moves.
    CHECK(app::MachineTarget::set_linear_pc(s, 0x7d00));
    CHECK(s.sregs.cs.selector == 0x07c0);
    CHECK(s.regs.rip == 0x100);
    // Outside it, CS:IP becomes (linear >> 4):(linear & 0xf).
    CHECK(app::MachineTarget::set_linear_pc(s, 0x17bff));  // the window's last byte
    CHECK(s.sregs.cs.selector == 0x07c0);
    CHECK(s.regs.rip == 0xffff);
    CHECK(app::MachineTarget::set_linear_pc(s, 0x23456));
    CHECK(s.sregs.cs.selector == 0x2345);
    CHECK(s.sregs.cs.base == 0x23450);
    CHECK(s.regs.rip == 0x6);
    CHECK(app::MachineTarget::linear_pc(s) == 0x23456);
    // The highest real-mode address, FFFF:FFFF; beyond it nothing changes.
    CHECK(app::MachineTarget::set_linear_pc(s, 0x10ffef));
    CHECK(s.sregs.cs.selector == 0xffff);
    CHECK(s.regs.rip == 0xffff);
    CHECK_FALSE(app::MachineTarget::set_linear_pc(s, 0x10fff0));
    CHECK_FALSE(app::MachineTarget::set_linear_pc(s, 0xfffffff0));
    CHECK(app::MachineTarget::linear_pc(s) == 0x10ffef);
    CHECK(app::MachineTarget::set_linear_pc(s, 0x23456));

    // 16-bit protected mode: only the 64 KiB above CS.base.
    s.sregs.cr0 |= 1;
    s.sregs.cs.base = 0x10000;
    CHECK(app::MachineTarget::set_linear_pc(s, 0x1fffe));
    CHECK(s.regs.rip == 0xfffe);
    CHECK_FALSE(app::MachineTarget::set_linear_pc(s, 0x20000));
    CHECK_FALSE(app::MachineTarget::set_linear_pc(s, 0xfff0));
    CHECK(s.regs.rip == 0xfffe);

    // 32-bit protected mode with a based code segment.
    s.sregs.cr0 |= 1;
    s.sregs.cs.db = true;
    s.sregs.cs.base = 0x1000;
    s.regs.rip = 0x20;
    CHECK(app::MachineTarget::linear_pc(s) == 0x1020);
    CHECK(app::MachineTarget::set_linear_pc(s, 0x1100));
    CHECK(s.regs.rip == 0x100);

    // Long mode ignores the CS base.
    s.sregs.efer = 0x500;
    s.sregs.cs.l = true;
    s.regs.rip = 0xffffffff80001000;
    CHECK(app::MachineTarget::linear_pc(s) == 0xffffffff80001000);
    CHECK(app::MachineTarget::set_linear_pc(s, 0x200000));
    CHECK(s.regs.rip == 0x200000);
}

TEST_CASE("the register view that suits each CPU mode") {
    using app::MachineTarget;
    vcpu::x86::SystemRegisters s;  // real mode
    CHECK(&MachineTarget::natural_view(s) == &gdbstub::arch::i8086());
    s.cr0 |= 1;  // CR0.PE just set, CS still a 16-bit segment
    CHECK(&MachineTarget::natural_view(s) == &gdbstub::arch::i8086());
    s.cs.db = true;  // 32-bit protected mode
    CHECK(&MachineTarget::natural_view(s) == &gdbstub::arch::i386());
    s.efer = 0x500;  // long mode active, CS.L clear: compatibility mode
    CHECK(&MachineTarget::natural_view(s) == &gdbstub::arch::i386());
    s.cs.db = false;
    s.cs.l = true;  // 64-bit code
    CHECK(&MachineTarget::natural_view(s) == &gdbstub::arch::x86_64());
    s.efer = 0;  // CS.L means nothing outside long mode
    CHECK(&MachineTarget::natural_view(s) == &gdbstub::arch::i8086());
}
