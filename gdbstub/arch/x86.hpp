// x86 register tables in gdb's standard layouts (the features gdb ships as
// features/i386/64bit-*.xml and 32bit-*.xml).  Pure data; depends on arch.hpp only.
#pragma once

#include "gdbstub/arch/arch.hpp"

namespace hvgdb::gdbstub::arch {

// i386:x86-64, long mode: core (GPRs, rip, eflags, segments, x87), sse (xmm0-15, mxcsr),
// segments (fs_base, gs_base).  DWARF numbers from the SysV x86-64 psABI, "DWARF Register
// Number Mapping".
const Arch& x86_64();

// i386, 32-bit protected mode: core (eax..edi in gdb's order, eip, eflags, segments, x87)
// and sse (xmm0-7, mxcsr).  DWARF numbers from the SysV i386 psABI.
const Arch& i386();

// i8086, real mode: the i386 rows under gdb's i8086 architecture (16-bit disassembly).
const Arch& i8086();

}  // namespace hvgdb::gdbstub::arch
