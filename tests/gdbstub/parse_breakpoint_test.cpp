// Breakpoint packets: Z0-Z4 and z0-z4.
#include <doctest/doctest.h>

#include "parse_helpers.hpp"

using namespace hvgdb::gdbstub::protocol;
using namespace hvgdb::gdbstub::testing;

TEST_CASE("Z and z of every type") {
    auto bp = parsed_as<Breakpoint>("Z0,7c00,1");
    CHECK(bp.insert);
    CHECK(bp.type == BreakpointKind::software);
    CHECK(bp.address == 0x7c00);
    CHECK(bp.kind == 1);
    CHECK(parsed_as<Breakpoint>("Z1,1000,1").type == BreakpointKind::hardware);
    CHECK(parsed_as<Breakpoint>("Z2,2000,8").type == BreakpointKind::write);
    CHECK(parsed_as<Breakpoint>("Z3,2000,4").type == BreakpointKind::read);
    auto access = parsed_as<Breakpoint>("z4,ffffffffffffffff,2");
    CHECK_FALSE(access.insert);
    CHECK(access.type == BreakpointKind::access);
    CHECK(access.address == UINT64_MAX);
    CHECK(access.kind == 2);
}

TEST_CASE("Z malformed") {
    CHECK(malformed("Z"));
    CHECK(malformed("Z0"));
    CHECK(malformed("Z0,"));
    CHECK(malformed("Z0,1000"));
    CHECK(malformed("Z0,1000,"));
    CHECK(malformed("Z5,1000,1"));               // no such type
    CHECK(malformed("Z0;1000;1"));               // wrong separators
    CHECK(malformed("Z0,10000000000000000,1"));  // address overflows
    CHECK(malformed("Z0,1000,1;X2,ab"));         // conditions are not announced
    CHECK(malformed("z0,xyz,1"));
}
