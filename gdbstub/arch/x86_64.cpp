// The i386:x86-64 register table.  Row order is gdb's amd64 register numbering, which gdb
// checks by name when it validates the description (amd64 core, sse, segments features).
// Then hvgdb's system rows (x86_system.hpp).
#include <array>

#include "gdbstub/arch/x86.hpp"
#include "gdbstub/arch/x86_features.hpp"
#include "gdbstub/arch/x86_system.hpp"

namespace hvgdb::gdbstub::arch {

namespace {

using G = Generic;
using namespace x86;

// DWARF numbers: SysV x86-64 psABI, "DWARF Register Number Mapping" (0-16 GPRs and the
// return address, 17-32 xmm, 33-40 st, 49 rflags, 50-55 es cs ss ds fs gs, 58-59 fs/gs
// base, 64 mxcsr, 65 fcw, 66 fsw).
constexpr std::array kGdbRows{
    RegisterInfo{"rax", 64, "int64", "general", kCore, G::none, 0},
    RegisterInfo{"rbx", 64, "int64", "general", kCore, G::none, 3},
    RegisterInfo{"rcx", 64, "int64", "general", kCore, G::none, 2},
    RegisterInfo{"rdx", 64, "int64", "general", kCore, G::none, 1},
    RegisterInfo{"rsi", 64, "int64", "general", kCore, G::none, 4},
    RegisterInfo{"rdi", 64, "int64", "general", kCore, G::none, 5},
    RegisterInfo{"rbp", 64, "data_ptr", "general", kCore, G::fp, 6},
    RegisterInfo{"rsp", 64, "data_ptr", "general", kCore, G::sp, 7},
    RegisterInfo{"r8", 64, "int64", "general", kCore, G::none, 8},
    RegisterInfo{"r9", 64, "int64", "general", kCore, G::none, 9},
    RegisterInfo{"r10", 64, "int64", "general", kCore, G::none, 10},
    RegisterInfo{"r11", 64, "int64", "general", kCore, G::none, 11},
    RegisterInfo{"r12", 64, "int64", "general", kCore, G::none, 12},
    RegisterInfo{"r13", 64, "int64", "general", kCore, G::none, 13},
    RegisterInfo{"r14", 64, "int64", "general", kCore, G::none, 14},
    RegisterInfo{"r15", 64, "int64", "general", kCore, G::none, 15},
    RegisterInfo{"rip", 64, "code_ptr", "general", kCore, G::pc, 16},
    RegisterInfo{"eflags", 32, "i386_eflags", "general", kCore, G::flags, 49},
    RegisterInfo{"cs", 32, "int32", "general", kCore, G::none, 51},
    RegisterInfo{"ss", 32, "int32", "general", kCore, G::none, 52},
    RegisterInfo{"ds", 32, "int32", "general", kCore, G::none, 53},
    RegisterInfo{"es", 32, "int32", "general", kCore, G::none, 50},
    RegisterInfo{"fs", 32, "int32", "general", kCore, G::none, 54},
    RegisterInfo{"gs", 32, "int32", "general", kCore, G::none, 55},
    RegisterInfo{"st0", 80, "i387_ext", "float", kCore, G::none, 33},
    RegisterInfo{"st1", 80, "i387_ext", "float", kCore, G::none, 34},
    RegisterInfo{"st2", 80, "i387_ext", "float", kCore, G::none, 35},
    RegisterInfo{"st3", 80, "i387_ext", "float", kCore, G::none, 36},
    RegisterInfo{"st4", 80, "i387_ext", "float", kCore, G::none, 37},
    RegisterInfo{"st5", 80, "i387_ext", "float", kCore, G::none, 38},
    RegisterInfo{"st6", 80, "i387_ext", "float", kCore, G::none, 39},
    RegisterInfo{"st7", 80, "i387_ext", "float", kCore, G::none, 40},
    RegisterInfo{"fctrl", 32, "int", "float", kCore, G::none, 65},
    RegisterInfo{"fstat", 32, "int", "float", kCore, G::none, 66},
    RegisterInfo{"ftag", 32, "int", "float", kCore, G::none, -1},
    RegisterInfo{"fiseg", 32, "int", "float", kCore, G::none, -1},
    RegisterInfo{"fioff", 32, "int", "float", kCore, G::none, -1},
    RegisterInfo{"foseg", 32, "int", "float", kCore, G::none, -1},
    RegisterInfo{"fooff", 32, "int", "float", kCore, G::none, -1},
    RegisterInfo{"fop", 32, "int", "float", kCore, G::none, -1},
    RegisterInfo{"xmm0", 128, "vec128", "vector", kSse, G::none, 17},
    RegisterInfo{"xmm1", 128, "vec128", "vector", kSse, G::none, 18},
    RegisterInfo{"xmm2", 128, "vec128", "vector", kSse, G::none, 19},
    RegisterInfo{"xmm3", 128, "vec128", "vector", kSse, G::none, 20},
    RegisterInfo{"xmm4", 128, "vec128", "vector", kSse, G::none, 21},
    RegisterInfo{"xmm5", 128, "vec128", "vector", kSse, G::none, 22},
    RegisterInfo{"xmm6", 128, "vec128", "vector", kSse, G::none, 23},
    RegisterInfo{"xmm7", 128, "vec128", "vector", kSse, G::none, 24},
    RegisterInfo{"xmm8", 128, "vec128", "vector", kSse, G::none, 25},
    RegisterInfo{"xmm9", 128, "vec128", "vector", kSse, G::none, 26},
    RegisterInfo{"xmm10", 128, "vec128", "vector", kSse, G::none, 27},
    RegisterInfo{"xmm11", 128, "vec128", "vector", kSse, G::none, 28},
    RegisterInfo{"xmm12", 128, "vec128", "vector", kSse, G::none, 29},
    RegisterInfo{"xmm13", 128, "vec128", "vector", kSse, G::none, 30},
    RegisterInfo{"xmm14", 128, "vec128", "vector", kSse, G::none, 31},
    RegisterInfo{"xmm15", 128, "vec128", "vector", kSse, G::none, 32},
    RegisterInfo{"mxcsr", 32, "i386_mxcsr", "vector", kSse, G::none, 64},
    RegisterInfo{"fs_base", 64, "int", "system", kSegments, G::none, 58},
    RegisterInfo{"gs_base", 64, "int", "system", kSegments, G::none, 59},
};
constexpr auto kRegisters = concat(kGdbRows, kSystemRows);

constexpr Arch kArch{
    .name = "x86-64",
    .gdb_arch = "i386:x86-64",
    .osabi = {},
    .registers = kRegisters,
    .extra_types = {},
    .feature_types = kFeatureTypes,
    .triple = "x86_64-unknown-none",
};

}  // namespace

const Arch& x86_64() {
    return kArch;
}

}  // namespace hvgdb::gdbstub::arch
