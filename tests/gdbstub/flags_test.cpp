// describe_flags: register values in words from the register tables' own <flags> types.
#include <doctest/doctest.h>

#include <array>

#include "gdbstub/arch/flags.hpp"
#include "gdbstub/arch/x86.hpp"

using namespace hvgdb::gdbstub::arch;

TEST_CASE("x86 flags types name the bits as gdb prints them") {
    const Arch& a = x86_64();
    CHECK(describe_flags(a, "x86_cr0", 0x80000011) == "[ PE ET PG ]");
    CHECK(describe_flags(a, "x86_cr0", 0) == "[ ]");
    CHECK(describe_flags(a, "x86_efer", 0xd01) == "[ SCE LME LMA NXE ]");
    CHECK(describe_flags(a, "x86_cr4", (1ull << 32) | 0x20) == "[ PAE FRED ]");
    // Multi-bit fields always show, as NAME=value.
    CHECK(describe_flags(a, "x86_segment_attr", 0xa09b) == "[ type=11 S DPL=0 P L G ]");
    CHECK(describe_flags(a, "x86_segment_attr", 0x10000) == "[ type=0 DPL=0 unusable ]");
    // The core feature's eflags type, whose unnamed bit 1 is never shown.
    CHECK(describe_flags(a, "i386_eflags", 0x246) == "[ PF ZF IF ]");
    CHECK(describe_flags(i386(), "x86_dr6", 0xffff4ff1) == "[ B0 BS ]");
}

TEST_CASE("rows without a flags type, and unknown names, have no description") {
    CHECK_FALSE(describe_flags(x86_64(), "int64", 1));
    CHECK_FALSE(describe_flags(x86_64(), "x86_cr", 1));  // a prefix of x86_cr0 is not it
    CHECK_FALSE(describe_flags(x86_64(), "", 1));
}

TEST_CASE("malformed fields are skipped, the rest still described") {
    static constexpr std::string_view xml = R"(<flags id="t" size="8">
  <field name="A" start="0" end="0"/>
  <field name="B" start="x" end="1"/>
  <field name="C" start="3" end="2"/>
  <field name="D" start="60" end="64"/>
  <field start="4" end="4"/>
  <field name="WIDE" start="0" end="63"/>
  <field name="E" start="5" end="5"/>
</flags>
<flags id="unterminated" size="4">
  <field name="X" start="0" end="0"/>
)";
    static constexpr std::array types{FeatureTypes{"f", xml}};
    const Arch arch{"test", "test", "", {}, "", types};
    CHECK(describe_flags(arch, "t", 0x31) == "[ A WIDE=49 E ]");
    CHECK_FALSE(describe_flags(arch, "unterminated", 1));
}
