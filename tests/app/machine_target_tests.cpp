#include <doctest/doctest.h>

#include "app/machine_target.hpp"

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

    s.cause = vcpu::StopCause::watchpoint;
    s.access = vcpu::VcpuStop::Access::write;
    s.address = 0x5000;
    e = app::MachineTarget::to_stop_event(s);
    CHECK(e.reason == StopReason::watch);
    CHECK(e.data_address == 0x5000);

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
