// Thread ids and the H, T and qThreadExtraInfo packets.
#include <doctest/doctest.h>

#include "parse_helpers.hpp"

using namespace hvgdb::gdbstub::protocol;
using namespace hvgdb::gdbstub::testing;
using K = IdSpec::Kind;

TEST_CASE("thread-id syntax") {
    CHECK(parse_thread_spec("1").value() == ThreadSpec{std::nullopt, {K::one, 1}});
    CHECK(parse_thread_spec("1a").value() == ThreadSpec{std::nullopt, {K::one, 0x1a}});
    CHECK(parse_thread_spec("0").value() == ThreadSpec{std::nullopt, {K::any, 0}});
    CHECK(parse_thread_spec("-1").value() == ThreadSpec{std::nullopt, {K::all, 0}});
    CHECK(parse_thread_spec("p1.2").value() == ThreadSpec{IdSpec{K::one, 1}, {K::one, 2}});
    CHECK(parse_thread_spec("p0.0").value() == ThreadSpec{IdSpec{K::any, 0}, {K::any, 0}});
    CHECK(parse_thread_spec("p-1.-1").value() == ThreadSpec{IdSpec{K::all, 0}, {K::all, 0}});
    CHECK(parse_thread_spec("p1").value() == ThreadSpec{IdSpec{K::one, 1}, {K::all, 0}});
    CHECK(parse_thread_spec("ffffffff").value().thread.id == 0xffffffffu);

    CHECK_FALSE(parse_thread_spec(""));
    CHECK_FALSE(parse_thread_spec("p"));
    CHECK_FALSE(parse_thread_spec("p1."));
    CHECK_FALSE(parse_thread_spec("p.1"));
    CHECK_FALSE(parse_thread_spec("-2"));
    CHECK_FALSE(parse_thread_spec("--1"));
    CHECK_FALSE(parse_thread_spec("100000000"));  // past 32 bits
    CHECK_FALSE(parse_thread_spec("p1:2"));
    CHECK_FALSE(parse_thread_spec("1.2"));
}

TEST_CASE("H selects a thread for registers or for resuming") {
    auto hg = parsed_as<SetThread>("Hg1");
    CHECK(hg.purpose == SetThread::Purpose::registers);
    CHECK(hg.thread.thread == IdSpec{K::one, 1});
    auto hgp = parsed_as<SetThread>("Hgp0.0");
    CHECK(hgp.thread.process == IdSpec{K::any, 0});
    CHECK(hgp.thread.thread.kind == K::any);
    auto hc = parsed_as<SetThread>("Hc-1");
    CHECK(hc.purpose == SetThread::Purpose::resume);
    CHECK(hc.thread.thread.kind == K::all);
    CHECK(parsed_as<SetThread>("Hc0").thread.thread.kind == K::any);

    CHECK(malformed("H"));
    CHECK(malformed("Hg"));
    CHECK(malformed("Hx1"));  // only g and c
    CHECK(malformed("Hgz"));
    CHECK(malformed("Hg-2"));
}

TEST_CASE("T asks whether a thread is alive") {
    CHECK(parsed_as<ThreadAlive>("T2").thread.thread == IdSpec{K::one, 2});
    CHECK(parsed_as<ThreadAlive>("Tp1.2").thread.thread == IdSpec{K::one, 2});
    CHECK(malformed("T"));
    CHECK(malformed("Tq"));
    CHECK(malformed("T1,2"));
}

TEST_CASE("qThreadExtraInfo names one thread") {
    CHECK(parsed_as<QueryThreadExtraInfo>("qThreadExtraInfo,2").thread.thread == IdSpec{K::one, 2});
    CHECK(parsed_as<QueryThreadExtraInfo>("qThreadExtraInfo,p1.1").thread.thread ==
          IdSpec{K::one, 1});
    CHECK(malformed("qThreadExtraInfo,"));
    CHECK(malformed("qThreadExtraInfo,zz"));
    CHECK(unsupported("qThreadExtraInfo"));  // no comma: not a packet gdb sends
}
