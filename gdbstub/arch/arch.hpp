// Register tables as data: one row per register drives g/G, p/P, the target description
// (target.xml) and lldb's qRegisterInfo.  Pure data; depends on the standard library only.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace hvgdb::gdbstub::arch {

// Role of a register that debuggers look up by meaning (lldb's "generic" key).
enum class Generic { none, pc, sp, fp, flags };

struct RegisterInfo {
    std::string_view name;     // gdb's name ("rax", "eflags", "xmm0")
    unsigned bitsize;          // size on the wire, in bits
    std::string_view type;     // target.xml type ("int64", "code_ptr", "i387_ext", "vec128", ...)
    std::string_view group;    // "general", "float", "vector", "system" or empty
    std::string_view feature;  // target.xml feature name ("org.gnu.gdb.i386.core")
    Generic generic = Generic::none;
    int dwarf = -1;  // DWARF register number, -1 when none
};

// One guest architecture as gdb sees it: a BFD architecture name and its register rows in
// the order of the 'g' packet.  Register number N on the wire is registers[N].
struct Arch {
    std::string_view name;         // short name for logs ("x86-64")
    std::string_view gdb_arch;     // <architecture> in target.xml ("i386:x86-64")
    std::string_view osabi;        // <osabi> or empty
    std::span<const RegisterInfo> registers;
    std::string_view extra_types;  // target.xml type definitions used by the rows (flags, unions)

    std::size_t register_bytes(std::size_t regno) const { return registers[regno].bitsize / 8; }
};

}  // namespace hvgdb::gdbstub::arch
