// Fuzz target: the protocol's hex (protocol/hex.hpp).  Input: any text.  Checked: hex data
// that decodes is the lowercase hex of its bytes again; a number that parses prints back as
// the same digits without leading zeros; any bytes survive to_hex and decode_hex.
#include <algorithm>
#include <string>

#include "fuzz.hpp"
#include "gdbstub/protocol/hex.hpp"

namespace {

using hvgdb::fuzz::check;
using namespace hvgdb::gdbstub::protocol;

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::ranges::transform(out, out.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

void check_data(std::string_view text) {
    auto bytes = decode_hex(text);
    if (!bytes) {
        check(bytes.error().kind == hvgdb::ErrorKind::protocol, "bad hex is a protocol error");
        return;
    }
    check(to_hex(*bytes) == lowercase(text), "decoded hex encodes back to the same digits");
}

void check_number(std::string_view text) {
    auto value = parse_hex_u64(text);
    if (!value) {
        check(value.error().kind == hvgdb::ErrorKind::protocol, "a bad number is a protocol error");
        return;
    }
    std::string digits = lowercase(text);
    digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
    std::string printed;
    append_hex_number(printed, *value);
    check(printed == digits, "a parsed number prints back as its digits");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    hvgdb::fuzz::Input input(data, size);
    std::string_view text = input.rest_text();
    check_data(text);
    check_number(text);
    auto round_trip = decode_hex(to_hex(input.rest()));
    check(round_trip && std::ranges::equal(*round_trip, input.rest()),
          "bytes survive to_hex and decode_hex");
    return 0;
}
