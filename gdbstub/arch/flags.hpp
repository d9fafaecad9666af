// A register value in words, by the <flags> type its row names: the bit fields come from the
// same target.xml definitions gdb gets, so hvgdb's own output and gdb's agree.  Pure; depends
// on arch.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gdbstub/arch/arch.hpp"

namespace hvgdb::gdbstub::arch {

// `value` by the fields of the flags type `type` that `arch` defines (in its extra types or a
// feature's), as gdb prints a flags register: "[ PE ET PG ]", the names of the one-bit fields
// that are set and NAME=N for each wider field ("[ type=11 S DPL=0 P L G ]").  nullopt when
// `arch` defines no flags type of that name (a plain integer row).
std::optional<std::string> describe_flags(const Arch& arch, std::string_view type,
                                          std::uint64_t value);

}  // namespace hvgdb::gdbstub::arch
