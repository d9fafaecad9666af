// Target description generation: an Arch -> the one target.xml document gdb reads with
// qXfer:features:read (gdb manual, "Target Description Format").  Depends on arch.hpp and fmt.
#pragma once

#include <string>

#include "gdbstub/arch/arch.hpp"

namespace hvgdb::gdbstub::arch {

// <architecture>, <osabi> when set, then one <feature> per run of rows with the same feature
// name, in row order, each with its type definitions before its <reg> elements.  regnum is
// written out and equals the row index, the number used by p/P and expedited registers.
std::string target_xml(const Arch& arch);

}  // namespace hvgdb::gdbstub::arch
