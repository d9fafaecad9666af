// Fuzz targets: the family parsers of protocol/parse.hpp, called directly, one executable per
// family (fuzz_parse_<family>, the family named by HVGDB_FUZZ_FAMILY from CMakeLists.txt).
// Input: a byte that picks one parser of the family (modulo its size), then the text after
// the packet name.  Checked: see check_parsed.hpp; and lldb's thread suffix splits its text,
// the arguments being what comes before it.
#include <algorithm>
#include <array>
#include <span>
#include <string_view>

#include "check_parsed.hpp"
#include "gdbstub/protocol/parse.hpp"

namespace {

using namespace hvgdb::gdbstub::protocol;
using hvgdb::fuzz::check;
using hvgdb::fuzz::check_parsed;

// One parser: parses `args` and checks the result.
using ParserCheck = void (*)(std::string_view args);

template <auto parse>
void parse_and_check(std::string_view args) {
    check_parsed(parse(args));
}

void check_thread_suffix(std::string_view text) {
    auto split = split_thread_suffix(text);
    check_parsed(split);
    if (!split) return;
    check(text.starts_with(split->args), "a thread suffix follows the arguments");
    check(split->thread.has_value() == (split->args.size() < text.size()),
          "a thread comes with a suffix, and only with one");
}

constexpr std::array<ParserCheck, 4> kQuery{
    parse_and_check<parse_query_supported>, parse_and_check<parse_read_features>,
    parse_and_check<parse_query_attached>, parse_and_check<parse_monitor>};
constexpr std::array<ParserCheck, 2> kMemoryMap{parse_and_check<parse_read_memory_map>,
                                                parse_and_check<parse_memory_region_info>};
constexpr std::array<ParserCheck, 7> kData{
    parse_and_check<parse_read_registers>,     parse_and_check<parse_write_registers>,
    parse_and_check<parse_read_register>,      parse_and_check<parse_write_register>,
    parse_and_check<parse_read_memory>,        parse_and_check<parse_write_memory_hex>,
    parse_and_check<parse_write_memory_binary>};
constexpr std::array<ParserCheck, 5> kResume{
    parse_and_check<parse_continue>, parse_and_check<parse_step>,
    parse_and_check<parse_continue_signal>, parse_and_check<parse_step_signal>,
    parse_and_check<parse_vcont>};
constexpr std::array<ParserCheck, 2> kBreakpoint{parse_and_check<parse_insert_breakpoint>,
                                                 parse_and_check<parse_remove_breakpoint>};
constexpr std::array<ParserCheck, 6> kThread{
    parse_and_check<parse_set_thread>,        parse_and_check<parse_thread_alive>,
    parse_and_check<parse_thread_extra_info>, parse_and_check<parse_thread_stop_info>,
    parse_and_check<parse_thread_spec>,       check_thread_suffix};
// Ending a session or switching its mode.
constexpr std::array<ParserCheck, 3> kControl{
    parse_and_check<parse_detach>, parse_and_check<parse_vkill>, parse_and_check<parse_non_stop>};

struct Family {
    std::string_view name;
    std::span<const ParserCheck> parsers;
};
constexpr std::array<Family, 7> kFamilies{{{"query", kQuery},
                                           {"memory_map", kMemoryMap},
                                           {"data", kData},
                                           {"resume", kResume},
                                           {"breakpoint", kBreakpoint},
                                           {"thread", kThread},
                                           {"control", kControl}}};

std::span<const ParserCheck> this_family() {
    auto family = std::ranges::find(kFamilies, std::string_view(HVGDB_FUZZ_FAMILY), &Family::name);
    check(family != kFamilies.end(), "HVGDB_FUZZ_FAMILY names a family");
    return family->parsers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::span<const ParserCheck> family = this_family();
    hvgdb::fuzz::Input input(data, size);
    const std::uint8_t pick = input.byte();
    family[pick % family.size()](input.rest_text());
    return 0;
}
