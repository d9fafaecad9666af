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
    CHECK(names(arch) == expected);
    // 16*8 + 8 + 4 + 6*4 + 8*10 + 8*4 + 16*16 + 4 + 2*8
    CHECK(total_bytes(arch) == 552);
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
    CHECK(names(arch) == expected);
    CHECK(total_bytes(arch) == 16 * 4 + 8 * 10 + 8 * 4 + 8 * 16 + 4);
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

TEST_CASE("every row has a whole number of bytes and a feature with its types") {
    for (const Arch* arch : {&x86_64(), &i386()}) {
        for (const RegisterInfo& reg : arch->registers) {
            INFO(reg.name);
            CHECK(reg.bitsize % 8 == 0);
            CHECK_FALSE(reg.feature.empty());
            CHECK_FALSE(reg.type.empty());
        }
    }
}
