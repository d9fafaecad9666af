// Register and memory packets: g G p P m M X, and lldb's thread suffix on g G p P.
#include <doctest/doctest.h>

#include "parse_helpers.hpp"

using namespace hvgdb::gdbstub::protocol;
using namespace hvgdb::gdbstub::testing;
using Bytes = std::vector<std::uint8_t>;

TEST_CASE("g and G") {
    CHECK_FALSE(parsed_as<ReadRegisters>("g").thread);
    CHECK(malformed("gx"));
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

TEST_CASE("lldb's thread suffix on g, G, p and P names the thread") {
    using K = IdSpec::Kind;
    const ThreadSpec two{std::nullopt, {K::one, 2}};
    CHECK(parsed_as<ReadRegisters>("g;thread:0002;").thread == two);
    auto write_all = parsed_as<WriteRegisters>("G0011;thread:2;");
    CHECK(write_all.data == Bytes{0x00, 0x11});
    CHECK(write_all.thread == two);
    auto read = parsed_as<ReadRegister>("p1a;thread:0002;");
    CHECK(read.regno == 0x1a);
    CHECK(read.thread == two);
    auto write = parsed_as<WriteRegister>("P1a=34120000;thread:0002;");
    CHECK(write.regno == 0x1a);
    CHECK(write.value == Bytes{0x34, 0x12, 0, 0});
    CHECK(write.thread == two);
    // The multiprocess form, and "all" (registers then stay with the current thread).
    CHECK(parsed_as<ReadRegister>("p0;thread:p1.2;").thread ==
          ThreadSpec{IdSpec{K::one, 1}, {K::one, 2}});
    CHECK(parsed_as<ReadRegister>("p0;thread:-1;").thread == ThreadSpec{std::nullopt, {K::all, 0}});
    CHECK_FALSE(parsed_as<ReadRegister>("p0").thread);

    CHECK(malformed("g;thread:2"));             // no closing ';'
    CHECK(malformed("g;thread:;"));             // no thread
    CHECK(malformed("g;thread:zz;"));           // not a thread id
    CHECK(malformed("g;thread:2;x"));           // text after the suffix
    CHECK(malformed("g;thread:2;;"));           // ';' twice
    CHECK(malformed("g;core:2;"));              // another suffix
    CHECK(malformed("g2;thread:2;"));           // 'g' takes nothing else
    CHECK(malformed("p;thread:2;"));            // no register number
    CHECK(malformed("p1a;thread:100000000;"));  // past 32 bits
    CHECK(malformed("P1a;thread:2;"));          // no '='
    CHECK(malformed("P1a=;thread:2;"));         // no value
    CHECK(malformed("G;thread:2;"));            // no data
    CHECK(malformed("G001;thread:2;"));         // odd digits
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
