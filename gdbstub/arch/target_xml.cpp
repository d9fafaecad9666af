// target.xml from register rows.  See target_xml.hpp.
#include "gdbstub/arch/target_xml.hpp"

#include <fmt/format.h>

#include <iterator>

namespace hvgdb::gdbstub::arch {

namespace {

// Type definitions are multi-line XML; indent them to sit inside <feature>.
void append_indented(std::string& out, std::string_view xml) {
    while (!xml.empty()) {
        std::size_t end = xml.find('\n');
        std::string_view line = xml.substr(0, end);
        if (!line.empty()) fmt::format_to(std::back_inserter(out), "    {}\n", line);
        if (end == std::string_view::npos) break;
        xml.remove_prefix(end + 1);
    }
}

void append_feature_types(std::string& out, const Arch& arch, std::string_view feature) {
    append_indented(out, arch.extra_types);
    for (const FeatureTypes& types : arch.feature_types) {
        if (types.feature == feature) append_indented(out, types.xml);
    }
}

void append_register(std::string& out, const RegisterInfo& reg, std::size_t regno) {
    auto it = std::back_inserter(out);
    fmt::format_to(it, "    <reg name=\"{}\" bitsize=\"{}\" type=\"{}\" regnum=\"{}\"", reg.name,
                   reg.bitsize, reg.type, regno);
    if (!reg.group.empty()) fmt::format_to(it, " group=\"{}\"", reg.group);
    out += "/>\n";
}

}  // namespace

std::string target_xml(const Arch& arch) {
    std::string out;
    auto it = std::back_inserter(out);
    out += "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n";
    out += "<target version=\"1.0\">\n";
    fmt::format_to(it, "  <architecture>{}</architecture>\n", arch.gdb_arch);
    if (!arch.osabi.empty()) fmt::format_to(it, "  <osabi>{}</osabi>\n", arch.osabi);
    std::string_view open_feature;
    for (std::size_t regno = 0; regno < arch.registers.size(); ++regno) {
        const RegisterInfo& reg = arch.registers[regno];
        if (regno == 0 || reg.feature != open_feature) {
            if (regno != 0) out += "  </feature>\n";
            open_feature = reg.feature;
            fmt::format_to(it, "  <feature name=\"{}\">\n", open_feature);
            append_feature_types(out, arch, open_feature);
        }
        append_register(out, reg, regno);
    }
    if (!arch.registers.empty()) out += "  </feature>\n";
    out += "</target>\n";
    return out;
}

}  // namespace hvgdb::gdbstub::arch
