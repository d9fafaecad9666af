// The i386 (32-bit protected mode) register table.  Row order is gdb's i386 register
// numbering (core then sse feature); note gdb's order eax ecx edx ebx, unlike amd64's.  Then
// hvgdb's system rows (x86_system.hpp), after fs_base and gs_base in the same feature.
#include <array>

#include "gdbstub/arch/x86.hpp"
#include "gdbstub/arch/x86_features.hpp"
#include "gdbstub/arch/x86_system.hpp"

namespace hvgdb::gdbstub::arch {

namespace {

using G = Generic;
using namespace x86;

// DWARF numbers: SysV i386 psABI (0-7 GPRs in this order, 8 eip, 9 eflags, 11-18 st,
// 21-28 xmm, 37 fcw, 38 fsw, 39 mxcsr, 40-45 es cs ss ds fs gs).
constexpr std::array kGdbRows{
    RegisterInfo{"eax", 32, "int32", "general", kCore, G::none, 0},
    RegisterInfo{"ecx", 32, "int32", "general", kCore, G::none, 1},
    RegisterInfo{"edx", 32, "int32", "general", kCore, G::none, 2},
    RegisterInfo{"ebx", 32, "int32", "general", kCore, G::none, 3},
    RegisterInfo{"esp", 32, "data_ptr", "general", kCore, G::sp, 4},
    RegisterInfo{"ebp", 32, "data_ptr", "general", kCore, G::fp, 5},
    RegisterInfo{"esi", 32, "int32", "general", kCore, G::none, 6},
    RegisterInfo{"edi", 32, "int32", "general", kCore, G::none, 7},
    RegisterInfo{"eip", 32, "code_ptr", "general", kCore, G::pc, 8},
    RegisterInfo{"eflags", 32, "i386_eflags", "general", kCore, G::flags, 9},
    RegisterInfo{"cs", 32, "int32", "general", kCore, G::none, 41},
    RegisterInfo{"ss", 32, "int32", "general", kCore, G::none, 42},
    RegisterInfo{"ds", 32, "int32", "general", kCore, G::none, 43},
    RegisterInfo{"es", 32, "int32", "general", kCore, G::none, 40},
    RegisterInfo{"fs", 32, "int32", "general", kCore, G::none, 44},
    RegisterInfo{"gs", 32, "int32", "general", kCore, G::none, 45},
    RegisterInfo{"st0", 80, "i387_ext", "float", kCore, G::none, 11},
    RegisterInfo{"st1", 80, "i387_ext", "float", kCore, G::none, 12},
    RegisterInfo{"st2", 80, "i387_ext", "float", kCore, G::none, 13},
    RegisterInfo{"st3", 80, "i387_ext", "float", kCore, G::none, 14},
    RegisterInfo{"st4", 80, "i387_ext", "float", kCore, G::none, 15},
    RegisterInfo{"st5", 80, "i387_ext", "float", kCore, G::none, 16},
    RegisterInfo{"st6", 80, "i387_ext", "float", kCore, G::none, 17},
    RegisterInfo{"st7", 80, "i387_ext", "float", kCore, G::none, 18},
    RegisterInfo{"fctrl", 32, "int", "float", kCore, G::none, 37},
    RegisterInfo{"fstat", 32, "int", "float", kCore, G::none, 38},
    RegisterInfo{"ftag", 32, "int", "float", kCore, G::none, -1},
    RegisterInfo{"fiseg", 32, "int", "float", kCore, G::none, -1},
    RegisterInfo{"fioff", 32, "int", "float", kCore, G::none, -1},
    RegisterInfo{"foseg", 32, "int", "float", kCore, G::none, -1},
    RegisterInfo{"fooff", 32, "int", "float", kCore, G::none, -1},
    RegisterInfo{"fop", 32, "int", "float", kCore, G::none, -1},
    RegisterInfo{"xmm0", 128, "vec128", "vector", kSse, G::none, 21},
    RegisterInfo{"xmm1", 128, "vec128", "vector", kSse, G::none, 22},
    RegisterInfo{"xmm2", 128, "vec128", "vector", kSse, G::none, 23},
    RegisterInfo{"xmm3", 128, "vec128", "vector", kSse, G::none, 24},
    RegisterInfo{"xmm4", 128, "vec128", "vector", kSse, G::none, 25},
    RegisterInfo{"xmm5", 128, "vec128", "vector", kSse, G::none, 26},
    RegisterInfo{"xmm6", 128, "vec128", "vector", kSse, G::none, 27},
    RegisterInfo{"xmm7", 128, "vec128", "vector", kSse, G::none, 28},
    RegisterInfo{"mxcsr", 32, "i386_mxcsr", "vector", kSse, G::none, 39},
    // fs_base and gs_base: not in gdb's segments feature, which gdb's i386 code cannot take
    // (gdb 13 stops on an internal error), but first in the system feature.
    RegisterInfo{"fs_base", 64, "uint64", "system", kSystem, G::none, -1},
    RegisterInfo{"gs_base", 64, "uint64", "system", kSystem, G::none, -1},
};
constexpr auto kRegisters = concat(kGdbRows, kSystemRows);

constexpr Arch kArch{
    .name = "i386",
    .gdb_arch = "i386",
    .osabi = {},
    .registers = kRegisters,
    .extra_types = {},
    .feature_types = kFeatureTypes,
    .triple = "i386-unknown-none",
};

// Real mode: the same registers, with gdb's i8086 architecture so code disassembles as
// 16-bit.  gdb accepts i8086 with the i386 features (it is an i386 variant to gdb).  The
// OS ABI is "none": gdb's default, GNU/Linux, has no i8086 handler and gdb would say so.
constexpr Arch kArch8086{
    .name = "i8086",
    .gdb_arch = "i8086",
    .osabi = "none",
    .registers = kRegisters,
    .extra_types = {},
    .feature_types = kFeatureTypes,
    .triple = "i386-unknown-none-code16",
};

}  // namespace

const Arch& i386() {
    return kArch;
}

const Arch& i8086() {
    return kArch8086;
}

}  // namespace hvgdb::gdbstub::arch
