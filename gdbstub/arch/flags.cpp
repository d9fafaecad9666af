// describe_flags: reads the <flags> definitions of a register table (gdb manual, "Target
// Description Format", "Types").  See flags.hpp.
#include "gdbstub/arch/flags.hpp"

#include <fmt/format.h>
#include <charconv>

namespace hvgdb::gdbstub::arch {

namespace {

// The value of attribute `name` in one XML element's text; empty when it has none.
std::string_view attribute(std::string_view element, std::string_view name) {
    const std::string key = fmt::format(" {}=\"", name);
    const std::size_t at = element.find(key);
    if (at == std::string_view::npos) return {};
    const std::size_t start = at + key.size();
    const std::size_t end = element.find('"', start);
    if (end == std::string_view::npos) return {};
    return element.substr(start, end - start);
}

std::optional<unsigned> number(std::string_view text) {
    unsigned n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return n;
}

// The body of <flags id="type"> ... </flags> in `xml`, or nullopt.
std::optional<std::string_view> flags_body(std::string_view xml, std::string_view type) {
    const std::string open = fmt::format("<flags id=\"{}\"", type);
    const std::size_t at = xml.find(open);
    if (at == std::string_view::npos) return std::nullopt;
    const std::size_t end = xml.find("</flags>", at);
    if (end == std::string_view::npos) return std::nullopt;
    return xml.substr(at, end - at);
}

std::string describe(std::string_view body, std::uint64_t value) {
    std::string out = "[";
    for (std::size_t at = body.find("<field"); at != std::string_view::npos;
         at = body.find("<field", at + 1)) {
        const std::string_view element = body.substr(at, body.find('>', at) - at);
        const std::string_view name = attribute(element, "name");
        const auto start = number(attribute(element, "start"));
        const auto end = number(attribute(element, "end"));
        if (name.empty() || !start || !end || *end < *start || *end > 63) continue;
        const unsigned width = *end - *start + 1;
        const std::uint64_t mask =
            width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
        const std::uint64_t field = (value >> *start) & mask;
        if (width == 1) {
            if (field) fmt::format_to(std::back_inserter(out), " {}", name);
        } else {
            fmt::format_to(std::back_inserter(out), " {}={}", name, field);
        }
    }
    return out + " ]";
}

}  // namespace

std::optional<std::string> describe_flags(const Arch& arch, std::string_view type,
                                          std::uint64_t value) {
    if (auto body = flags_body(arch.extra_types, type)) return describe(*body, value);
    for (const FeatureTypes& types : arch.feature_types)
        if (auto body = flags_body(types.xml, type)) return describe(*body, value);
    return std::nullopt;
}

}  // namespace hvgdb::gdbstub::arch
