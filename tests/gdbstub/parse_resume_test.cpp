// Resume packets: c s C S vCont.
#include <doctest/doctest.h>

#include "parse_helpers.hpp"

using namespace hvgdb::gdbstub::protocol;
using namespace hvgdb::gdbstub::testing;

TEST_CASE("c and s with an optional address") {
    auto c = parsed_as<Resume>("c");
    CHECK(c.action == ResumeAction::cont);
    CHECK_FALSE(c.signal);
    CHECK_FALSE(c.address);
    CHECK(parsed_as<Resume>("c7c00").address == 0x7c00u);
    auto s = parsed_as<Resume>("s");
    CHECK(s.action == ResumeAction::step);
    CHECK(parsed_as<Resume>("sffffffffffffffff").address == UINT64_MAX);

    CHECK(malformed("cz"));
    CHECK(malformed("c10000000000000000"));
    CHECK(malformed("s;1000"));
}

TEST_CASE("C and S with a signal and an optional address") {
    auto c = parsed_as<Resume>("C05");
    CHECK(c.action == ResumeAction::cont);
    CHECK(c.signal == 5);
    CHECK_FALSE(c.address);
    auto s = parsed_as<Resume>("S0b;1000");
    CHECK(s.action == ResumeAction::step);
    CHECK(s.signal == 0x0b);
    CHECK(s.address == 0x1000u);

    CHECK(malformed("C"));
    CHECK(malformed("C100"));  // signal past one byte
    CHECK(malformed("Cxx"));
    CHECK(malformed("C05;"));      // empty address
    CHECK(malformed("C05,1000"));  // wrong separator
    CHECK(malformed("S05;zz"));
}

TEST_CASE("vCont actions") {
    auto vcont = parsed_as<VCont>("vCont;c");
    REQUIRE(vcont.actions.size() == 1);
    CHECK(vcont.actions[0].action == ResumeAction::cont);
    CHECK_FALSE(vcont.actions[0].thread);

    vcont = parsed_as<VCont>("vCont;s:2;c");
    REQUIRE(vcont.actions.size() == 2);
    CHECK(vcont.actions[0].action == ResumeAction::step);
    CHECK(vcont.actions[0].thread->thread == IdSpec{IdSpec::Kind::one, 2});
    CHECK(vcont.actions[1].action == ResumeAction::cont);

    vcont = parsed_as<VCont>("vCont;C0b:p1.1;S05:-1;t:p1.-1");
    REQUIRE(vcont.actions.size() == 3);
    CHECK(vcont.actions[0].signal == 0x0b);
    CHECK(vcont.actions[0].thread->process == IdSpec{IdSpec::Kind::one, 1});
    CHECK(vcont.actions[1].action == ResumeAction::step);
    CHECK(vcont.actions[1].signal == 5);
    CHECK(vcont.actions[1].thread->thread.kind == IdSpec::Kind::all);
    CHECK(vcont.actions[2].action == ResumeAction::stop);
    CHECK(vcont.actions[2].thread->thread.kind == IdSpec::Kind::all);
}

TEST_CASE("vCont malformed") {
    CHECK(malformed("vCont"));
    CHECK(malformed("vCont;"));
    CHECK(malformed("vCont;c;"));
    CHECK(malformed("vCont;;c"));
    CHECK(malformed("vCont;x"));           // unknown action
    CHECK(malformed("vCont;r1000,2000"));  // range stepping is not announced
    CHECK(malformed("vCont;C"));           // signal missing
    CHECK(malformed("vCont;C100"));
    CHECK(malformed("vCont;c05"));  // c takes no signal
    CHECK(malformed("vCont;c:"));   // empty thread id
    CHECK(malformed("vCont;c:zz"));
    CHECK(malformed("vCont;s:100000000"));  // thread id past 32 bits
    CHECK(unsupported("vContX"));
}
