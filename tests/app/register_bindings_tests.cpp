#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "app/register_bindings.hpp"
#include "gdbstub/arch/x86.hpp"

using namespace hvgdb;

TEST_CASE("every row of the x86 register tables has a binding as wide as the row") {
    for (const auto* arch : gdbstub::arch::x86_views()) {
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

TEST_CASE("a row marked cpu lives in the general or system registers alone") {
    // Two snapshots that differ in every part but those: a `cpu` row reads the same from
    // both and writes nothing else; every other row reads something else.
    vcpu::VcpuSnapshot a, b;
    for (auto& st : b.fpu.st) st[0] = 1;
    for (auto& xmm : b.fpu.xmm) xmm[0] = 1;
    b.fpu.fcw = b.fpu.fsw = b.fpu.ftw = b.fpu.fop = b.fpu.fcs = b.fpu.fds = 1;
    b.fpu.fip = b.fpu.fdp = b.fpu.mxcsr = 1;
    b.debug.dr = {1, 1, 1, 1};
    b.debug.dr6 = b.debug.dr7 = 1;
    b.msrs.kernel_gs_base = b.msrs.star = b.msrs.lstar = b.msrs.cstar = b.msrs.sfmask = 1;
    b.msrs.sysenter_cs = b.msrs.sysenter_esp = b.msrs.sysenter_eip = b.msrs.pat = 1;
    b.msrs.tsc = 1;
    for (const auto* arch : gdbstub::arch::x86_views()) {
        for (const auto& reg : arch->registers) {
            const auto& row = *app::find_register_binding(reg.name);
            CAPTURE(reg.name);
            auto x = a, y = b;
            const bool same = row.bytes ? std::ranges::equal(row.bytes(x), row.bytes(y))
                                        : row.get(x) == row.get(y);
            CHECK(same == (row.parts == vcpu::SnapshotParts::cpu));
            if (row.parts != vcpu::SnapshotParts::cpu || !row.set) continue;
            row.set(x, 0x1234);
            CHECK(x.fpu == a.fpu);
            CHECK(x.debug == a.debug);
            CHECK(x.msrs == a.msrs);
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
    // Writing the selector it already has keeps the base (CS = F000, base FFFF0000 at reset).
    s.sregs.cs.selector = 0xf000;
    s.sregs.cs.base = 0xffff0000;
    app::find_register_binding("cs")->set(s, 0xf000);
    CHECK(s.sregs.cs.base == 0xffff0000);
    app::find_register_binding("cs")->set(s, 0xf001);
    CHECK(s.sregs.cs.base == 0xf0010);
    s.fpu.xmm[3][0] = 0xab;
    CHECK(app::find_register_binding("xmm3")->bytes(s)[0] == 0xab);
    CHECK(app::find_register_binding("nosuch") == nullptr);
}

namespace {
const app::RegisterBinding& bound(std::string_view name) {
    const auto* b = app::find_register_binding(name);
    REQUIRE_MESSAGE(b, name);
    return *b;
}
}  // namespace

TEST_CASE("segment attributes are VMX access rights, both ways") {
    vcpu::VcpuSnapshot s;
    // A 64-bit code segment: type 0xb (execute/read, accessed), S, DPL 0, P, L, G.
    s.sregs.cs = {.base = 0,
                  .limit = 0xffffffff,
                  .selector = 0x18,
                  .type = 0xb,
                  .present = true,
                  .dpl = 0,
                  .db = false,
                  .s = true,
                  .l = true,
                  .g = true};
    CHECK(bound("cs_attr").get(s) == 0xa09b);
    CHECK(bound("cs_limit").get(s) == 0xffffffff);
    // A DPL 3, 32-bit data segment with AVL, marked unusable; reserved bits 8-11 are dropped.
    bound("ss_attr").set(s, 0x1d0f3 | 0xf00);
    const auto& ss = s.sregs.ss;
    CHECK(ss.type == 3);
    CHECK(ss.s);
    CHECK(ss.dpl == 3);
    CHECK(ss.present);
    CHECK(ss.avl);
    CHECK_FALSE(ss.l);
    CHECK(ss.db);
    CHECK(ss.g);
    CHECK(ss.unusable);
    CHECK(bound("ss_attr").get(s) == 0x1d0f3);
    bound("tr_attr").set(s, 0x8b);  // a busy 32-bit TSS: a system segment (S clear)
    CHECK_FALSE(s.sregs.tr.s);
    CHECK(s.sregs.tr.type == 0xb);
    bound("es_limit").set(s, 0xfffff);
    CHECK(s.sregs.es.limit == 0xfffff);
    bound("ldtr_base").set(s, 0xffff800000001000);
    CHECK(s.sregs.ldt.base == 0xffff800000001000);
}

TEST_CASE("ldtr and tr selectors never move their base, even in real mode") {
    vcpu::VcpuSnapshot s;
    s.sregs.cr0 = 0x10;  // real mode
    s.sregs.tr.base = 0x1000;
    bound("tr").set(s, 0x28);
    CHECK(s.sregs.tr.selector == 0x28);
    CHECK(s.sregs.tr.base == 0x1000);
    bound("ldtr").set(s, 0x30);
    CHECK(bound("ldtr").get(s) == 0x30);
    CHECK(s.sregs.ldt.base == 0);
    bound("es").set(s, 0x30);  // a data segment does, as a real-mode load would
    CHECK(s.sregs.es.base == 0x300);
}

TEST_CASE("descriptor tables, control, debug and model-specific registers") {
    vcpu::VcpuSnapshot s;
    bound("gdtr_base").set(s, 0x8fbe0);
    bound("gdtr_limit").set(s, 0x1f);
    bound("idtr_limit").set(s, 0x10fff);  // the limit is 16 bits
    CHECK(s.sregs.gdt.base == 0x8fbe0);
    CHECK(s.sregs.gdt.limit == 0x1f);
    CHECK(s.sregs.idt.limit == 0x0fff);
    bound("cr3").set(s, 0x89000);
    bound("efer").set(s, 0x500);
    bound("apic_base").set(s, 0xfee00800);
    CHECK(s.sregs.cr3 == 0x89000);
    CHECK(s.sregs.efer == 0x500);
    CHECK(s.sregs.apic_base == 0xfee00800);
    for (unsigned i = 0; i < 4; ++i) {
        std::string name = "dr" + std::to_string(i);
        bound(name).set(s, 0x1000 + i);
        CHECK(s.debug.dr[i] == 0x1000 + i);
    }
    CHECK(bound("dr6").get(s) == 0xffff0ff0);  // the reset values
    CHECK(bound("dr7").get(s) == 0x400);
    bound("dr7").set(s, 0x401);
    CHECK(s.debug.dr7 == 0x401);
    bound("k_gs_base").set(s, 0xffff888000000000);
    bound("lstar").set(s, 0xffffffff81000000);
    bound("sysenter_cs").set(s, 0x10);
    CHECK(s.msrs.kernel_gs_base == 0xffff888000000000);
    CHECK(s.msrs.lstar == 0xffffffff81000000);
    CHECK(s.msrs.sysenter_cs == 0x10);
    CHECK(bound("pat").get(s) == 0x0007040600070406);
    // The TSC binds like any MSR; the machine is what refuses a changed value.
    s.msrs.tsc = 12345;
    CHECK(bound("tsc").get(s) == 12345);
}
