// Register and memory packets: g G p P m M X.
#include <doctest/doctest.h>

#include "parse_helpers.hpp"

using namespace hvgdb::gdbstub::protocol;
using namespace hvgdb::gdbstub::testing;
using Bytes = std::vector<std::uint8_t>;

TEST_CASE("g and G") {
    parsed_as<ReadRegisters>("g");
    CHECK(unsupported("gx"));
    CHECK(parsed_as<WriteRegisters>("G0011ff").data == Bytes{0x00, 0x11, 0xff});
    CHECK(malformed("G"));
    CHECK(malformed("G001"));   // odd digits
    CHECK(malformed("G00xx"));  // 'x' (unavailable) is not accepted on writes
}

TEST_CASE("p and P") {
    CHECK(parsed_as<ReadRegister>("p10").regno == 0x10);
    CHECK(parsed_as<ReadRegister>("p0").regno == 0);
    auto write = parsed_as<WriteRegister>("P10=0010000000000000");
    CHECK(write.regno == 0x10);
    CHECK(write.value == Bytes{0x00, 0x10, 0, 0, 0, 0, 0, 0});

    CHECK(malformed("p"));
    CHECK(malformed("pz"));
    CHECK(malformed("p10000"));               // past any register table
    CHECK(malformed("pffffffffffffffffff"));  // past 64 bits
    CHECK(malformed("P10"));                  // no '='
    CHECK(malformed("P=00"));                 // no number
    CHECK(malformed("P10="));                 // no value
    CHECK(malformed("P10=001"));              // odd digits
    CHECK(malformed("P10:00"));               // wrong separator
}

TEST_CASE("m") {
    auto read = parsed_as<ReadMemory>("m1000,4");
    CHECK(read.address == 0x1000);
    CHECK(read.length == 4);
    read = parsed_as<ReadMemory>("mffffffffffffffff,ffff");
    CHECK(read.address == UINT64_MAX);

    CHECK(malformed("m"));
    CHECK(malformed("m1000"));
    CHECK(malformed("m1000,"));
    CHECK(malformed("m,4"));
    CHECK(malformed("m1000:4"));
    CHECK(malformed("m1000,4,"));
    CHECK(malformed("m10000000000000000,4"));  // address overflows 64 bits
    CHECK(malformed("m1000,g"));
}

TEST_CASE("M writes hex data of the stated length") {
    auto write = parsed_as<WriteMemory>("M1000,2:cc90");
    CHECK(write.address == 0x1000);
    CHECK(write.data == Bytes{0xcc, 0x90});
    CHECK(parsed_as<WriteMemory>("M1000,0:").data.empty());

    CHECK(malformed("M1000,2"));       // no ':'
    CHECK(malformed("M1000,2:cc"));    // shorter than stated
    CHECK(malformed("M1000,1:cc90"));  // longer than stated
    CHECK(malformed("M1000,2:cc9"));   // odd digits
    CHECK(malformed("M1000;2:cc90"));  // wrong separator
    CHECK(malformed("M,2:cc90"));
}

TEST_CASE("X writes binary data (already unescaped by the decoder)") {
    auto write = parsed_as<WriteMemory>(std::string_view("X1000,4:\x00:#}", 12));
    CHECK(write.address == 0x1000);
    CHECK(write.data == Bytes{0x00, ':', '#', '}'});
    auto probe = parsed_as<WriteMemory>("X1000,0:");
    CHECK(probe.data.empty());

    CHECK(malformed("X1000,0"));
    CHECK(malformed("X1000,2:a"));
    CHECK(malformed("X1000,1:ab"));
    CHECK(malformed("X1000:1:a"));
    CHECK(malformed("X1ffffffffffffffff,1:a"));
}
