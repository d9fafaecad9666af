#include <doctest/doctest.h>

#include "app/register_bindings.hpp"
#include "gdbstub/arch/x86.hpp"

using namespace hvgdb;

TEST_CASE("every row of the x86 register tables has a binding as wide as the row") {
    for (const auto* arch : {&gdbstub::arch::x86_64(), &gdbstub::arch::i386()}) {
        for (const auto& reg : arch->registers) {
            const auto* b = app::find_register_binding(reg.name);
            REQUIRE_MESSAGE(b, reg.name);
            vcpu::VcpuSnapshot s;
            if (b->bytes)
                CHECK(b->bytes(s).size() * 8 >= reg.bitsize);
            else
                CHECK((b->get && b->set && reg.bitsize <= 64));
        }
    }
}

TEST_CASE("bindings read and write their snapshot fields") {
    vcpu::VcpuSnapshot s;
    app::find_register_binding("rip")->set(s, 0x1234);
    CHECK(s.regs.rip == 0x1234);
    CHECK(app::find_register_binding("eip")->get(s) == 0x1234);
    s.sregs.cs.selector = 0x10;
    CHECK(app::find_register_binding("cs")->get(s) == 0x10);
    // Real mode: a selector write moves the base too.
    s.sregs.cr0 = 0;
    app::find_register_binding("ds")->set(s, 0x1000);
    CHECK(s.sregs.ds.base == 0x10000);
    s.fpu.xmm[3][0] = 0xab;
    CHECK(app::find_register_binding("xmm3")->bytes(s)[0] == 0xab);
    CHECK(app::find_register_binding("nosuch") == nullptr);
}
