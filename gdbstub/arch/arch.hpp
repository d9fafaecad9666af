// Register tables as data: one row per register drives g/G, p/P and the target description
// (target.xml, which lldb reads too: it needs no qRegisterInfo).  Pure data; depends on the
// standard library only.
#pragma once

#include <cstddef>
#include <optional>
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

// target.xml type definitions (<flags>, <vector>, <union>, <struct>) for one feature.  gdb
// resolves a register's type in the register's own <feature> and then among its predefined
// types only, so a definition must sit in the feature whose rows use it.
struct FeatureTypes {
    std::string_view feature;  // a feature name used by the rows
    std::string_view xml;      // definitions, emitted before that feature's <reg> elements
};

// One guest architecture as gdb sees it: a BFD architecture name and its register rows in
// the order of the 'g' packet.  Register number N on the wire is registers[N].
struct Arch {
    std::string_view name;      // short name for logs ("x86-64")
    std::string_view gdb_arch;  // <architecture> in target.xml ("i386:x86-64")
    std::string_view osabi;     // <osabi> or empty
    std::span<const RegisterInfo> registers;
    std::string_view extra_types;  // target.xml type definitions emitted in every feature
    std::span<const FeatureTypes> feature_types;  // definitions for one feature each
    // LLVM target triple for lldb (qHostInfo, qProcessInfo): it picks lldb's ABI and its
    // disassembler's mode ("i386-unknown-none-code16" disassembles 16-bit code).
    std::string_view triple = {};

    std::size_t register_bytes(std::size_t regno) const { return registers[regno].bitsize / 8; }
    // Every register's bytes, in order: the data of a 'g' reply or a 'G' packet.
    std::size_t all_register_bytes() const {
        std::size_t total = 0;
        for (std::size_t regno = 0; regno < registers.size(); ++regno)
            total += register_bytes(regno);
        return total;
    }
};

// The first register with this role, e.g. the pc for stop replies and 'c addr'.
inline std::optional<std::size_t> find_generic(const Arch& arch, Generic role) {
    for (std::size_t regno = 0; regno < arch.registers.size(); ++regno) {
        if (arch.registers[regno].generic == role) return regno;
    }
    return std::nullopt;
}

}  // namespace hvgdb::gdbstub::arch
