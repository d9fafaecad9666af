// x86 register tables in gdb's standard layouts (the features gdb ships as
// features/i386/64bit-*.xml and 32bit-*.xml).  Pure data; depends on arch.hpp only.
#pragma once

#include <array>

#include "gdbstub/arch/arch.hpp"

namespace hvgdb::gdbstub::arch {

// Every table ends with the same system feature, org.hvgdb.x86.system: segment bases,
// limits and attributes, ldtr, tr, gdtr, idtr, cr0-cr8, efer, dr0-dr7 and some MSRs.

// i386:x86-64, long mode: core (GPRs, rip, eflags, segments, x87), sse (xmm0-15, mxcsr),
// segments (fs_base, gs_base), system.  DWARF numbers from the SysV x86-64 psABI, "DWARF
// Register Number Mapping".
const Arch& x86_64();

// i386, 32-bit protected mode: core (eax..edi in gdb's order, eip, eflags, segments, x87),
// sse (xmm0-7, mxcsr), segments (fs_base, gs_base), system.  DWARF numbers from the SysV
// i386 psABI.
const Arch& i386();

// i8086, real mode: the i386 rows under gdb's i8086 architecture (16-bit disassembly).
const Arch& i8086();

// All three, the register views an x86 target can offer.
inline std::array<const Arch*, 3> x86_views() {
    return {&x86_64(), &i386(), &i8086()};
}

}  // namespace hvgdb::gdbstub::arch
