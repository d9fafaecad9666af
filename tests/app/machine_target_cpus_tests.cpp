// A started Machine with APs, as the debugger sees it through MachineTarget: vCPU 1 waits for
// SIPI in the INIT state app::init_snapshot builds, and says so in its thread description.
// And 'g' through MachineTarget: every row from one snapshot.
// Needs /dev/kvm (SKIPPED, exit 77, without it).
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "app/initial_state.hpp"
#include "app/machine_target.hpp"
#include "gdbstub/arch/x86.hpp"
#include "tests/kvm_skip.hpp"

using namespace hvgdb;

TEST_CASE("an AP waiting for SIPI is a thread in the INIT state") {
    vcpu::MachineConfig config;
    config.ram_bytes = 1 << 20;
    config.cpus = 3;
    auto m = vcpu::Machine::create(config);
    REQUIRE(m);
    vcpu::Machine& machine = **m;
    const std::uint32_t signature = machine.capabilities().processor_signature;
    machine.set_initial_state(0, app::init_snapshot(signature));
    machine.set_init_state(app::init_snapshot(signature));
    auto target = app::MachineTarget::create(machine);
    REQUIRE(target);
    REQUIRE(machine.start());

    CHECK((*target)->threads().size() == 3);
    CHECK((*target)->thread_description(1) == "vCPU 0, real mode");
    CHECK((*target)->thread_description(2) == "vCPU 1, waiting for SIPI");
    CHECK((*target)->thread_description(3) == "vCPU 2, waiting for SIPI");
    CHECK_FALSE(machine.waiting_for_sipi(0));
    CHECK(machine.waiting_for_sipi(2));

    // What KVM holds after loading the INIT state (SDM vol. 3A, table 9-1).
    const vcpu::VcpuSnapshot ap = machine.snapshot(2);
    CHECK(ap.sregs.cs.selector == 0xf000);
    CHECK(ap.sregs.cs.base == 0xffff0000);
    CHECK(ap.regs.rip == 0xfff0);
    CHECK(ap.regs.rdx == signature);
    CHECK(ap.regs.rflags == 0x2);
    CHECK(ap.sregs.cr0 == 0x60000010);
    CHECK(ap.sregs.ds.base == 0);
    CHECK(ap.sregs.ds.limit == 0xffff);
    CHECK(ap.sregs.gdt.limit == 0xffff);
    CHECK(ap.sregs.idt.limit == 0xffff);
    CHECK(ap.sregs.apic_base == 0xfee00800);  // enabled, not the BSP
    CHECK(machine.snapshot(0).sregs.apic_base == 0xfee00900);
    machine.shutdown();
}

TEST_CASE("'g' reads every row from one snapshot: the bytes of each row read alone") {
    vcpu::MachineConfig config;
    config.ram_bytes = 1 << 20;
    auto m = vcpu::Machine::create(config);
    REQUIRE(m);
    vcpu::Machine& machine = **m;
    vcpu::VcpuSnapshot state = app::init_snapshot(machine.capabilities().processor_signature);
    state.regs.rax = 0x1122334455667788;
    state.fpu.xmm[3][0] = 0xab;
    state.msrs.sysenter_eip = 0x7e00;
    machine.set_initial_state(0, state);
    REQUIRE(machine.start());
    for (const auto* view : gdbstub::arch::x86_views()) {
        CAPTURE(view->name);
        auto target = app::MachineTarget::create(machine, view);
        REQUIRE(target);
        std::vector<std::uint8_t> all(view->all_register_bytes());
        std::vector<std::size_t> unavailable;
        REQUIRE((*target)->read_registers(1, all, unavailable));
        CHECK(unavailable.empty());
        std::vector<std::uint8_t> rows;
        for (std::size_t regno = 0; regno < view->registers.size(); ++regno) {
            std::vector<std::uint8_t> row(view->register_bytes(regno));
            REQUIRE((*target)->read_register(1, regno, row));
            rows.insert(rows.end(), row.begin(), row.end());
        }
        CHECK(all == rows);
        CHECK(all[0] == 0x88);  // rax (eax) first, little-endian
        std::vector<std::uint8_t> short_buffer(all.size() - 1);
        CHECK_FALSE((*target)->read_registers(1, short_buffer, unavailable));
    }
    machine.shutdown();
}

int main(int argc, char** argv) {
    return test::run_tests_if_kvm(argc, argv);
}
