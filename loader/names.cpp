// Names of image formats and CPU modes, as the command line spells them.  Depends on {fmt}.
#include <array>
#include <utility>

#include <fmt/format.h>

#include "loader/loader.hpp"

namespace hvgdb::loader {
namespace {

constexpr std::array<std::pair<Format, std::string_view>, 6> kFormatNames{{
    {Format::automatic, "auto"},
    {Format::elf, "elf"},
    {Format::boot_sector, "bootsector"},
    {Format::raw, "raw"},
    {Format::multiboot, "multiboot"},
    {Format::firmware, "firmware"},
}};

constexpr std::array<std::pair<CpuMode, std::string_view>, 3> kModeNames{{
    {CpuMode::real, "real"},
    {CpuMode::protected32, "protected"},
    {CpuMode::long64, "long"},
}};

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table,
                         Enum value) {
    for (const auto& [v, name] : table)
        if (v == value) return name;
    return "?";
}

template <typename Enum, std::size_t N>
Result<Enum> parse_name(const std::array<std::pair<Enum, std::string_view>, N>& table,
                        std::string_view text, std::string_view what) {
    for (const auto& [v, name] : table)
        if (name == text) return v;
    std::string valid;
    for (const auto& [v, name] : table) valid += (valid.empty() ? "" : ", ") + std::string(name);
    return make_error(ErrorKind::invalid,
                      fmt::format("unknown {} '{}'; valid {}s: {}", what, text, what, valid));
}

}  // namespace

std::string_view to_string(Format format) {
    return name_of(kFormatNames, format);
}
std::string_view to_string(CpuMode mode) {
    return name_of(kModeNames, mode);
}

Result<Format> parse_format(std::string_view text) {
    return parse_name(kFormatNames, text, "image format");
}

Result<CpuMode> parse_mode(std::string_view text) {
    return parse_name(kModeNames, text, "CPU mode");
}

}  // namespace hvgdb::loader
