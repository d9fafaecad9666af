// Ending the session: D, D;pid, k, vKill;pid.
#include <doctest/doctest.h>

#include "parse_helpers.hpp"

using namespace hvgdb::gdbstub::protocol;
using namespace hvgdb::gdbstub::testing;

TEST_CASE("D with or without a pid") {
    CHECK_FALSE(parsed_as<Detach>("D").pid);
    CHECK(parsed_as<Detach>("D;1").pid == 1u);
    CHECK(parsed_as<Detach>("D;a").pid == 10u);
    CHECK(malformed("D1"));  // the pid follows a ';'
    CHECK(malformed("D;"));
    CHECK(malformed("D;x"));
    CHECK(malformed("D;100000000"));
}

TEST_CASE("k and vKill") {
    parsed_as<Kill>("k");
    CHECK(unsupported("kk"));
    CHECK(parsed_as<VKill>("vKill;1").pid == 1u);
    CHECK(malformed("vKill;"));
    CHECK(malformed("vKill;-1"));
    CHECK(malformed("vKill;1;2"));
    CHECK(unsupported("vKill"));  // the pid is required: not this packet
}
