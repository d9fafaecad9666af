// The text of the monitor commands that show machine state, from hand-made state: exact lines
// where a person reads them, decoded bits where gdb's flags types name them.
#include <doctest/doctest.h>

#include <numeric>
#include <vector>

#include "app/monitor_reports.hpp"

using namespace hvgdb;
using namespace hvgdb::app;

namespace {

vcpu::VcpuSnapshot long_mode_snapshot() {
    vcpu::VcpuSnapshot s;
    s.regs.rip = 0x100000;
    s.regs.rsp = 0x9fc00;
    s.regs.rflags = 0x246;
    s.sregs.cr0 = 0x80000011;
    s.sregs.cr3 = 0x9d000;
    s.sregs.cr4 = 0x20;
    s.sregs.efer = 0x500;
    s.sregs.cs = {.base = 0,
                  .limit = 0xffffffff,
                  .selector = 0x18,
                  .type = 0xb,
                  .dpl = 0,
                  .db = false,
                  .s = true,
                  .l = true,
                  .g = true};
    s.sregs.ss = {
        .base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 0x3, .db = true, .g = true};
    s.sregs.tr = {.limit = 0x67, .type = 0xb, .s = false};
    s.sregs.ldt.unusable = true;
    s.sregs.gdt = {0x9e000, 0x1f};
    s.debug.dr[2] = 0x1234;
    s.msrs.lstar = 0xffffffff81000000;
    return s;
}

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

}  // namespace

TEST_CASE("regs: mode, control registers and segments with their bits in words") {
    const std::string r = system_state_report(0, "stopped", long_mode_snapshot());
    CAPTURE(r);
    CHECK(r.starts_with("vCPU 0 (thread 1), stopped: 64-bit long mode, 4-level paging\n"));
    CHECK(has_line(r, "  rip 0x100000 (linear 0x100000)  rsp 0x9fc00  rflags 0x246 [ PF ZF IF ]"));
    CHECK(has_line(r, "control registers:"));
    CHECK(has_line(r, "  cr0          0x80000011 [ PE ET PG ]"));
    CHECK(has_line(r, "  cr3          0x9d000"));
    CHECK(has_line(r, "  cr4          0x20 [ PAE ]"));
    CHECK(has_line(r, "  efer         0x500 [ LME LMA ]"));
    CHECK(has_line(r,
                   "  cs           0x18  base 0x0  limit 0xffffffff  attr 0xa09b "
                   "[ type=11 S DPL=0 P L G ] code, execute/read, accessed"));
    CHECK(has_line(r,
                   "  ss           0x10  base 0x0  limit 0xffffffff  attr 0xc093 "
                   "[ type=3 S DPL=0 P DB G ] data, read/write, accessed"));
    CHECK(has_line(r,
                   "  tr           0x0  base 0x0  limit 0x67  attr 0x8b "
                   "[ type=11 DPL=0 P ] 64-bit TSS (busy)"));
    CHECK(r.find("  ldtr         0x0  base 0x0  limit 0xffff  attr 0x10") != std::string::npos);
    CHECK(r.find("unusable ] (unusable)") != std::string::npos);
    CHECK(has_line(r, "  gdtr           base 0x9e000  limit 0x1f"));
    CHECK(has_line(r, "  dr2          0x1234"));
    CHECK(has_line(r,
                   "  dr7          0x400 [ RW0=0 LEN0=0 RW1=0 LEN1=0 RW2=0 LEN2=0 RW3=0 LEN3=0 ]"));
    CHECK(has_line(r, "  lstar        0xffffffff81000000"));
    CHECK(has_line(r, "  apic_base    0xfee00900"));
    CHECK(has_line(r, "  sysenter_esp 0x0"));  // the longest label keeps a space
    CHECK(r.find("  tsc ") != std::string::npos);

    vcpu::VcpuSnapshot real;  // the reset state: real mode at F000:FFF0
    real.sregs.cs.selector = 0xf000;
    real.sregs.cs.base = 0xffff0000;
    real.sregs.cs.type = 0xb;
    real.regs.rip = 0xfff0;
    const std::string w = system_state_report(2, "stopped, waiting for SIPI", real);
    CHECK(w.starts_with("vCPU 2 (thread 3), stopped, waiting for SIPI: real mode, paging off\n"));
    CHECK(has_line(w, "  rip 0xfff0 (linear 0xfffffff0)  rsp 0x0  rflags 0x2 [ ]"));
    CHECK(has_line(w, "  cr0          0x60000010 [ ET NW CD ]"));
}

TEST_CASE("segment types in words, code, data and system, legacy and IA-32e") {
    vcpu::x86::Segment s;
    s.type = 0x8;
    CHECK(segment_type(s, false) == "code, execute-only");
    s.type = 0xe;
    CHECK(segment_type(s, false) == "code, execute/read, conforming");
    s.type = 0x0;
    CHECK(segment_type(s, false) == "data, read-only");
    s.type = 0x7;
    CHECK(segment_type(s, false) == "data, read/write, expand-down, accessed");
    s.s = false;
    s.type = 0x2;
    CHECK(segment_type(s, true) == "LDT");
    s.type = 0x9;
    CHECK(segment_type(s, false) == "32-bit TSS (available)");
    CHECK(segment_type(s, true) == "64-bit TSS (available)");
    s.type = 0x3;
    CHECK(segment_type(s, false) == "16-bit TSS (busy)");
    CHECK(segment_type(s, true) == "reserved system type");
    s.unusable = true;
    CHECK(segment_type(s, false) == "(unusable)");
}

TEST_CASE("sizes, translations and page walks") {
    CHECK(size_text(0x1000) == "4 KiB");
    CHECK(size_text(0x200000) == "2 MiB");
    CHECK(size_text(0x40000000) == "1 GiB");
    CHECK(size_text(0x1800) == "6 KiB");
    CHECK(size_text(100) == "100 bytes");
    CHECK(size_text(0) == "0 bytes");

    vcpu::x86::Translation t;
    t.physical = 0x201040;
    t.page_size = 0x1000;
    t.writable = false;
    t.executable = false;
    t.user = false;
    CHECK(translation_report(0xffffffff80001040, t) ==
          "0xffffffff80001040 -> physical 0x201040 (4 KiB page, read-only, supervisor, "
          "no-execute)\n");
    CHECK(translation_report(0x1234, vcpu::x86::identity_translation(0x1234)) ==
          "0x1234: paging is off, physical 0x1234\n");

    vcpu::x86::PageWalk w;
    w.mode = vcpu::x86::PagingMode::level4;
    w.levels = {{"PML4", 0, 0x1000, 0x2003, 8, 0, 0x2000, "[ P RW ]"},
                {"page-directory-pointer table", 0, 0x2000, 0x3003, 8, 0, 0x3000, "[ P RW ]"},
                {"page directory", 1, 0x3008, 0x200083, 8, 0x200000, 0x200000, "[ P RW PS ]"}};
    vcpu::x86::Translation big;
    big.physical = 0x200123;
    big.page_size = 0x200000;
    w.result = big;
    CHECK(page_walk_report(0x200123, w) ==
          "  PML4 entry 0 at 0x1000: 0x0000000000002003 [ P RW ] -> page-directory-pointer "
          "table at 0x2000\n"
          "  page-directory-pointer table entry 0 at 0x2000: 0x0000000000003003 [ P RW ] -> "
          "page directory at 0x3000\n"
          "  page directory entry 1 at 0x3008: 0x0000000000200083 [ P RW PS ] -> 2 MiB page at "
          "0x200000\n"
          "0x200123 -> physical 0x200123 (2 MiB page, writable, user, executable)\n");

    // A walk that stops: not present, and a table outside memory (its entry never read).
    w.levels.resize(2);
    w.levels[1] = {"page-directory-pointer table", 0, 0x2000, 0, 8, 0, 0, "[ ]"};
    w.result = std::unexpected(vcpu::x86::TranslationError{
        vcpu::x86::TranslationFault::not_present, 1, "page-directory-pointer table", 0x2000, 0});
    CHECK(page_walk_report(0x200123, w) ==
          "  PML4 entry 0 at 0x1000: 0x0000000000002003 [ P RW ] -> page-directory-pointer "
          "table at 0x2000\n"
          "  page-directory-pointer table entry 0 at 0x2000: 0x0000000000000000 [ ]\n"
          "0x200123 is not mapped: page-directory-pointer table entry at 0x2000 is not present "
          "(0x0)\n");
    w.levels[1] = {"page-directory-pointer table", 0, 0x80000000, 0, 8, 0, 0, ""};
    w.result = std::unexpected(
        vcpu::x86::TranslationError{vcpu::x86::TranslationFault::table_outside_memory, 1,
                                    "page-directory-pointer table", 0x80000000, 0});
    const std::string outside = page_walk_report(0x200123, w);
    CHECK(outside.find("  page-directory-pointer table entry 0 at 0x80000000: outside guest "
                       "memory\n") != std::string::npos);
    // 32-bit entries print 8 hex digits.
    vcpu::x86::PageWalk w32;
    w32.levels = {{"page directory", 0, 0x1000, 0x2007, 4, 0, 0x2000, "[ P RW US ]"},
                  {"page table", 5, 0x2014, 0x3001, 4, 0x1000, 0x3000, "[ P ]"}};
    vcpu::x86::Translation small;
    small.physical = 0x3123;
    small.page_size = 0x1000;
    w32.result = small;
    CHECK(page_walk_report(0x5123, w32)
              .starts_with(
                  "  page directory entry 0 at 0x1000: 0x00002007 [ P RW US ] -> page table at "
                  "0x2000\n"
                  "  page table entry 5 at 0x2014: 0x00003001 [ P ] -> 4 KiB page at 0x3000\n"));
}

TEST_CASE("hex dumps: 16 bytes a line, addresses, printable characters") {
    std::vector<std::uint8_t> bytes(20);
    std::iota(bytes.begin(), bytes.end(), std::uint8_t{0x3e});
    CHECK(hex_dump(0x7c00, bytes) ==
          "00007c00: 3e 3f 40 41 42 43 44 45  46 47 48 49 4a 4b 4c 4d  |>?@ABCDEFGHIJKLM|\n"
          "00007c10: 4e 4f 50 51                                       |NOPQ|\n");
    const std::uint8_t high[] = {0x00, 0x7f, 0xff};
    CHECK(hex_dump(0xfffffff0, high) ==
          "fffffff0: 00 7f ff                                          |...|\n");
    CHECK(hex_dump(0x100000000, high).starts_with("0000000100000000: 00 7f ff"));
    CHECK(hex_dump(0, {}).empty());
}

TEST_CASE("devices, memory regions and an xAPIC") {
    auto bus = vcpu::make_pc_port_bus([](std::string_view) {});
    bus->write(0x3fb, 1, 0x03);
    const std::string d = port_devices_report(*bus->devices());
    CAPTURE(d);
    CHECK(d.starts_with("port devices:\n  0x00e9        debug console"));
    CHECK(d.find("  0x00f4        exit port") != std::string::npos);
    CHECK(has_line(d, "  0x03f8-0x03ff COM1, 16550 UART"));
    CHECK(has_line(d,
                   "                IER 0x00 IIR 0x01 LCR 0x03 MCR 0x00 LSR 0x60 MSR 0xb0 "
                   "SCR 0x00 DLL 0x01 DLM 0x00"));

    std::vector<std::uint8_t> ram(0x100000), rom(0x10000);
    const vcpu::MemoryRegion regions[] = {{0, ram, vcpu::MemoryPermissions::read_write_execute},
                                          {0xffff0000, rom, vcpu::MemoryPermissions::read_execute}};
    CHECK(memory_regions_report(regions) ==
          "guest memory:\n"
          "  0x0000000000-0x00000fffff  RAM, 1 MiB\n"
          "  0x00ffff0000-0x00ffffffff  ROM (read-only to the guest), 64 KiB\n");

    vcpu::x86::Lapic apic(1, vcpu::x86::reset_apic_base(false));
    const std::string a = lapic_report(apic);
    CAPTURE(a);
    CHECK(
        a.starts_with("  xAPIC: IA32_APIC_BASE 0xfee00800 (enabled), software-disabled (SVR "
                      "bit 8 clear)\n"));
    CHECK(has_line(a, "    ID 0x01000000 version 0x00050014 APR 0x00000000 PPR 0x00000000"));
    CHECK(a.find("SVR 0x000000ff") != std::string::npos);
    CHECK(a.find("LVT timer 0x00010000") != std::string::npos);
    CHECK(a.ends_with("    requested (IRR): none; in service (ISR): none\n"));
    apic.write_register(0xf0, 0x1ff);
    REQUIRE(apic.request(0x40));
    REQUIRE(apic.request(0x31));
    CHECK(lapic_report(apic).ends_with("    requested (IRR): 0x31 0x40; in service (ISR): none\n"));
    vcpu::x86::Lapic bsp(0, vcpu::x86::reset_apic_base(true));
    CHECK(lapic_report(bsp).starts_with("  xAPIC: IA32_APIC_BASE 0xfee00900 (enabled, BSP)"));
}
