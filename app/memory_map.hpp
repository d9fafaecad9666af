// The memory map hvgdb gives the debugger (--memory-map): which addresses gdb may use, from
// the guest-physical layout.  Depends on options.hpp, gdbstub/target.hpp and
// vcpu/physical_memory.hpp.
#pragma once

#include <span>
#include <vector>

#include "app/options.hpp"
#include "gdbstub/target.hpp"
#include "vcpu/physical_memory.hpp"

namespace hvgdb::app {

// The ranges of `mode` for guest memory laid out as `guest` (sorted, disjoint): read-only
// regions become rom, the others ram.  Adjacent ranges of one kind are joined.
std::vector<gdbstub::MemoryRange> debugger_memory_map(std::span<const vcpu::MemoryRegion> guest,
                                                      MemoryMapMode mode);

}  // namespace hvgdb::app
