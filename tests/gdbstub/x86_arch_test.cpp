// arch/x86: the register tables follow gdb's amd64 and i386 layouts.
#include "gdbstub/arch/x86.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace hvgdb::gdbstub::arch;

namespace {

std::vector<std::string> names(const Arch& arch) {
    std::vector<std::string> out;
    for (const RegisterInfo& reg : arch.registers) out.emplace_back(reg.name);
    return out;
}

std::size_t total_bytes(const Arch& arch) {
    std::size_t total = 0;
    for (std::size_t i = 0; i < arch.registers.size(); ++i) total += arch.register_bytes(i);
    return total;
}

// Every feature's rows are contiguous, so target.xml has one <feature> per name.
bool features_contiguous(const Arch& arch) {
    std::vector<std::string_view> seen;
    for (std::size_t i = 0; i < arch.registers.size(); ++i) {
        std::string_view feature = arch.registers[i].feature;
        if (i > 0 && feature == arch.registers[i - 1].feature) continue;
        for (std::string_view s : seen) {
            if (s == feature) return false;
        }
        seen.push_back(feature);
    }
    return true;
}

// The system feature's rows, the same at the end of every x86 table.
const std::vector<std::string> system_names{
    "cs_base",  "cs_limit", "cs_attr", "ss_base",   "ss_limit",    "ss_attr",      "ds_base",
    "ds_limit", "ds_attr",  "es_base", "es_limit",  "es_attr",     "fs_limit",     "fs_attr",
    "gs_limit", "gs_attr",  "ldtr",    "ldtr_base", "ldtr_limit",  "ldtr_attr",    "tr",
    "tr_base",  "tr_limit", "tr_attr", "gdtr_base", "gdtr_limit",  "idtr_base",    "idtr_limit",
    "cr0",      "cr2",      "cr3",     "cr4",       "cr8",         "efer",         "dr0",
    "dr1",      "dr2",      "dr3",     "dr6",       "dr7",         "k_gs_base",    "apic_base",
    "star",     "lstar",    "cstar",   "sfmask",    "sysenter_cs", "sysenter_esp", "sysenter_eip",
    "pat",      "tsc"};
// 6 bases and 8 limits and attributes, ldtr and tr, gdtr/idtr (8 + 2 each), cr2-cr4 and cr8
// (8) with cr0 and efer (4), dr0-dr3 (8) with dr6 and dr7 (4), 11 MSRs.
constexpr std::size_t system_bytes =
    6 * 8 + 8 * 4 * 2 + 2 * 4 + 2 * 10 + (4 * 8 + 2 * 4) + (4 * 8 + 2 * 4) + 11 * 8;

std::vector<std::string> with_system_rows(std::vector<std::string> names) {
    names.insert(names.end(), system_names.begin(), system_names.end());
    return names;
}

}  // namespace

TEST_CASE("x86-64 rows in gdb's amd64 order") {
    const Arch& arch = x86_64();
    CHECK(arch.gdb_arch == "i386:x86-64");
    std::vector<std::string> expected{
        "rax",   "rbx",   "rcx",   "rdx",   "rsi",   "rdi",   "rbp",   "rsp",     "r8",     "r9",
        "r10",   "r11",   "r12",   "r13",   "r14",   "r15",   "rip",   "eflags",  "cs",     "ss",
        "ds",    "es",    "fs",    "gs",    "st0",   "st1",   "st2",   "st3",     "st4",    "st5",
        "st6",   "st7",   "fctrl", "fstat", "ftag",  "fiseg", "fioff", "foseg",   "fooff",  "fop",
        "xmm0",  "xmm1",  "xmm2",  "xmm3",  "xmm4",  "xmm5",  "xmm6",  "xmm7",    "xmm8",   "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "mxcsr", "fs_base", "gs_base"};
    CHECK(names(arch) == with_system_rows(expected));
    // 16*8 + 8 + 4 + 6*4 + 8*10 + 8*4 + 16*16 + 4 + 2*8, then the system rows
    CHECK(system_bytes == 308);
    CHECK(total_bytes(arch) == 552 + system_bytes);
    CHECK(features_contiguous(arch));
    CHECK(arch.registers[16].type == "code_ptr");
    CHECK(arch.registers[17].type == "i386_eflags");
    CHECK(arch.registers[24].type == "i387_ext");
    CHECK(arch.registers[24].bitsize == 80);
    CHECK(arch.registers[40].type == "vec128");
    CHECK(arch.registers[56].type == "i386_mxcsr");
    CHECK(arch.registers[57].feature == "org.gnu.gdb.i386.segments");
}

TEST_CASE("x86-64 generic roles and DWARF numbers") {
    const Arch& arch = x86_64();
    CHECK(find_generic(arch, Generic::pc) == 16u);
    CHECK(find_generic(arch, Generic::sp) == 7u);
    CHECK(find_generic(arch, Generic::fp) == 6u);
    CHECK(find_generic(arch, Generic::flags) == 17u);
    // psABI: rax 0, rdx 1, rcx 2, rbx 3, rip 16, xmm0 17, st0 33, rflags 49, es 50, fs_base 58.
    CHECK(arch.registers[0].dwarf == 0);
    CHECK(arch.registers[1].dwarf == 3);
    CHECK(arch.registers[3].dwarf == 1);
    CHECK(arch.registers[16].dwarf == 16);
    CHECK(arch.registers[40].dwarf == 17);
    CHECK(arch.registers[55].dwarf == 32);
    CHECK(arch.registers[24].dwarf == 33);
    CHECK(arch.registers[17].dwarf == 49);
    CHECK(arch.registers[21].dwarf == 50);
    CHECK(arch.registers[56].dwarf == 64);
    CHECK(arch.registers[57].dwarf == 58);
}

TEST_CASE("i386 rows in gdb's i386 order") {
    const Arch& arch = i386();
    CHECK(arch.gdb_arch == "i386");
    std::vector<std::string> expected{"eax",   "ecx",   "edx",    "ebx",   "esp",   "ebp",  "esi",
                                      "edi",   "eip",   "eflags", "cs",    "ss",    "ds",   "es",
                                      "fs",    "gs",    "st0",    "st1",   "st2",   "st3",  "st4",
                                      "st5",   "st6",   "st7",    "fctrl", "fstat", "ftag", "fiseg",
                                      "fioff", "foseg", "fooff",  "fop",   "xmm0",  "xmm1", "xmm2",
                                      "xmm3",  "xmm4",  "xmm5",   "xmm6",  "xmm7",  "mxcsr"};
    expected.insert(expected.end(), {"fs_base", "gs_base"});  // first in the system feature
    CHECK(names(arch) == with_system_rows(expected));
    CHECK(total_bytes(arch) == 16 * 4 + 8 * 10 + 8 * 4 + 8 * 16 + 4 + 2 * 8 + system_bytes);
    CHECK(features_contiguous(arch));
    CHECK(find_generic(arch, Generic::pc) == 8u);
    CHECK(find_generic(arch, Generic::sp) == 4u);
    CHECK(find_generic(arch, Generic::fp) == 5u);
    CHECK(find_generic(arch, Generic::flags) == 9u);
    CHECK(arch.registers[8].dwarf == 8);
    CHECK(arch.registers[16].dwarf == 11);
    CHECK(arch.registers[32].dwarf == 21);
    CHECK(arch.registers[40].dwarf == 39);
}

TEST_CASE("i8086 is the i386 table under gdb's i8086 architecture") {
    CHECK(i8086().gdb_arch == "i8086");
    CHECK(names(i8086()) == names(i386()));
    CHECK(total_bytes(i8086()) == total_bytes(i386()));
}

TEST_CASE("the system rows are alike in every view and name types their feature defines") {
    for (const Arch* arch : {&x86_64(), &i386(), &i8086()}) {
        INFO(arch->name);
        const std::size_t first = arch->registers.size() - system_names.size();
        std::string defined;
        for (const FeatureTypes& types : arch->feature_types)
            if (types.feature == "org.hvgdb.x86.system") defined += types.xml;
        for (std::size_t i = first; i < arch->registers.size(); ++i) {
            const RegisterInfo& reg = arch->registers[i];
            INFO(reg.name);
            CHECK(reg.feature == "org.hvgdb.x86.system");
            CHECK(reg.group == "system");
            CHECK(reg.bitsize ==
                  x86_64()
                      .registers[x86_64().registers.size() - system_names.size() + (i - first)]
                      .bitsize);
            if (reg.type.starts_with("x86_"))
                CHECK(defined.find("id=\"" + std::string(reg.type) + "\"") != std::string::npos);
        }
    }
    const Arch& arch = x86_64();
    auto row = [&](std::string_view name) -> const RegisterInfo& {
        for (const RegisterInfo& reg : arch.registers)
            if (reg.name == name) return reg;
        FAIL("no row " << name);
        return arch.registers[0];
    };
    CHECK(row("cr0").type == "x86_cr0");
    CHECK(row("cr4").type == "x86_cr4");
    CHECK(row("efer").type == "x86_efer");
    CHECK(row("cs_attr").type == "x86_segment_attr");
    CHECK(row("dr7").type == "x86_dr7");
    CHECK(row("cr0").bitsize == 32);  // nothing defined above bit 31
    CHECK(row("cr4").bitsize == 64);  // FRED is bit 32
    CHECK(row("efer").bitsize == 32);
    CHECK(row("dr7").bitsize == 32);
    CHECK(row("cs_base").bitsize == 64);
    CHECK(row("gdtr_limit").bitsize == 16);
}

TEST_CASE("every row has a whole number of bytes and a feature with its types") {
    for (const Arch* arch : {&x86_64(), &i386(), &i8086()}) {
        for (const RegisterInfo& reg : arch->registers) {
            INFO(reg.name);
            CHECK(reg.bitsize % 8 == 0);
            CHECK_FALSE(reg.feature.empty());
            CHECK_FALSE(reg.type.empty());
        }
    }
}
