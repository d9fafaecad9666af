// app::init_snapshot: the INIT state the APs wait for SIPI in, from the loader's reset state.
#include <doctest/doctest.h>

#include "app/initial_state.hpp"

using namespace hvgdb;

TEST_CASE("the INIT state is the reset state of SDM vol. 3A, table 9-1") {
    const vcpu::VcpuSnapshot s = app::init_snapshot(0x000806f8);
    CHECK(s.sregs.cs.selector == 0xf000);
    CHECK(s.sregs.cs.base == 0xffff0000);
    CHECK(s.sregs.cs.limit == 0xffff);
    CHECK(s.sregs.cs.type == 0xb);  // execute/read, accessed
    CHECK(s.sregs.cs.present);
    CHECK(s.regs.rip == 0xfff0);
    CHECK(s.regs.rdx == 0x000806f8);  // the processor signature
    CHECK(s.regs.rax == 0);
    CHECK(s.regs.rsp == 0);
    CHECK(s.regs.rflags == 0x2);
    CHECK(s.sregs.cr0 == 0x60000010);
    CHECK(s.sregs.cr3 == 0);
    CHECK(s.sregs.cr4 == 0);
    CHECK(s.sregs.efer == 0);
    for (const auto* seg : {&s.sregs.ds, &s.sregs.es, &s.sregs.fs, &s.sregs.gs, &s.sregs.ss}) {
        CHECK(seg->selector == 0);
        CHECK(seg->base == 0);
        CHECK(seg->limit == 0xffff);
        CHECK(seg->type == 0x3);  // read/write, accessed
    }
    CHECK(s.sregs.gdt == vcpu::x86::DescriptorTable{0, 0xffff});
    CHECK(s.sregs.idt == vcpu::x86::DescriptorTable{0, 0xffff});
    CHECK(s.debug.dr7 == 0x400);
    CHECK(app::init_snapshot(0x600).regs.rdx == 0x600);
}
