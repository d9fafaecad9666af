// Non-stop packets: QNonStop:0/1, vStopped, vCtrlC.
#include <doctest/doctest.h>

#include "parse_helpers.hpp"

using namespace hvgdb::gdbstub::protocol;
using namespace hvgdb::gdbstub::testing;

TEST_CASE("QNonStop:1 and QNonStop:0") {
    CHECK(parsed_as<SetNonStop>("QNonStop:1").on);
    CHECK_FALSE(parsed_as<SetNonStop>("QNonStop:0").on);
}

TEST_CASE("QNonStop malformed") {
    CHECK(malformed("QNonStop:2"));
    CHECK(malformed("QNonStop:"));
    CHECK(malformed("QNonStop:01"));  // one digit, nothing else
    CHECK(malformed("QNonStop:1;"));
    CHECK(malformed("QNonStop:-1"));
    CHECK(malformed("QNonStop:on"));
    CHECK(unsupported("QNonStop"));  // not this packet: its argument follows a ':'
    CHECK(unsupported("qNonStop:1"));
}

TEST_CASE("vStopped and vCtrlC take no arguments") {
    parsed_as<VStopped>("vStopped");
    parsed_as<VCtrlC>("vCtrlC");
    CHECK(malformed("vStopped;"));
    CHECK(malformed("vStopped;1"));
    CHECK(malformed("vCtrlC;p1.1"));
    // A 'v' packet's name runs to the first ';': these are other, unknown packets.
    CHECK(unsupported("vStoppedjunk"));
    CHECK(unsupported("vStopped:1"));
    CHECK(unsupported("vCtrlc"));
    CHECK(unsupported("vStop"));
}
