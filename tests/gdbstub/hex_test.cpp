// protocol/hex: digits, byte strings and 64-bit numbers, valid and malformed.
#include "gdbstub/protocol/hex.hpp"

#include <doctest/doctest.h>

#include <array>

using namespace hvgdb;
using namespace hvgdb::gdbstub::protocol;

TEST_CASE("hex digits in either case") {
    CHECK(hex_digit_value('0') == 0);
    CHECK(hex_digit_value('9') == 9);
    CHECK(hex_digit_value('a') == 10);
    CHECK(hex_digit_value('F') == 15);
    CHECK_FALSE(hex_digit_value('g'));
    CHECK_FALSE(hex_digit_value(' '));
    CHECK_FALSE(hex_digit_value('-'));
}

TEST_CASE("bytes to hex: two lowercase digits per byte, in order") {
    std::array<std::uint8_t, 4> bytes{0x00, 0x0f, 0xab, 0xff};
    CHECK(to_hex(bytes) == "000fabff");
    CHECK(to_hex({}) == "");
    std::string out = "x";
    append_hex(out, bytes);
    CHECK(out == "x000fabff");
}

TEST_CASE("numbers to minimal hex") {
    std::string out;
    append_hex_number(out, 0);
    out += ',';
    append_hex_number(out, 0x7ffe0);
    out += ',';
    append_hex_number(out, UINT64_MAX);
    CHECK(out == "0,7ffe0,ffffffffffffffff");
}

TEST_CASE("numbers to hex with a least number of digits") {
    std::string out = "T";
    append_hex_number(out, 5, 2);
    CHECK(out == "T05");
    out.clear();
    append_hex_number(out, 0, 2);
    out += ',';
    append_hex_number(out, 0x1a3, 2);
    out += ',';
    append_hex_number(out, 0xab, 2);
    out += ',';
    append_hex_number(out, 0xab, 0);
    out += ',';
    append_hex_number(out, 0x7, 16);
    out += ',';
    append_hex_number(out, UINT64_MAX, 2);
    CHECK(out == "00,1a3,ab,ab,0000000000000007,ffffffffffffffff");
}

TEST_CASE("hex to bytes") {
    auto bytes = decode_hex("00fFa5");
    REQUIRE(bytes);
    CHECK(*bytes == std::vector<std::uint8_t>{0x00, 0xff, 0xa5});
    CHECK(decode_hex("")->empty());

    SUBCASE("odd length") {
        CHECK(decode_hex("abc").error().kind == ErrorKind::protocol);
    }
    SUBCASE("bad digit") {
        CHECK(decode_hex("0g").error().kind == ErrorKind::protocol);
    }
    SUBCASE("separator inside") {
        CHECK_FALSE(decode_hex("00,1"));
    }
}

TEST_CASE("hex to 64-bit numbers") {
    CHECK(parse_hex_u64("0") == 0u);
    CHECK(parse_hex_u64("1000") == 0x1000u);
    CHECK(parse_hex_u64("FFFFffffFFFFffff") == UINT64_MAX);
    CHECK(parse_hex_u64("00000000000000000000001") == 1u);  // leading zeros are fine

    SUBCASE("empty") {
        CHECK(parse_hex_u64("").error().kind == ErrorKind::protocol);
    }
    SUBCASE("overflow by one digit") {
        CHECK_FALSE(parse_hex_u64("10000000000000000"));
    }
    SUBCASE("overflow of a large value") {
        CHECK_FALSE(parse_hex_u64("1ffffffffffffffff"));
    }
    SUBCASE("sign") {
        CHECK_FALSE(parse_hex_u64("-1"));
    }
    SUBCASE("0x prefix") {
        CHECK_FALSE(parse_hex_u64("0x10"));
    }
    SUBCASE("trailing space") {
        CHECK_FALSE(parse_hex_u64("10 "));
    }
}
