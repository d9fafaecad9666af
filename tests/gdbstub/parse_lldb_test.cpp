// lldb's packets (lldb's docs/resources/lldbgdbremote.md) in the packet table, and
// qThreadStopInfo's thread.
#include <doctest/doctest.h>

#include "parse_helpers.hpp"

using namespace hvgdb::gdbstub::protocol;
using namespace hvgdb::gdbstub::testing;
using K = IdSpec::Kind;

TEST_CASE("lldb's packets without arguments, named exactly") {
    parsed_as<QueryHostInfo>("qHostInfo");
    parsed_as<QueryProcessInfo>("qProcessInfo");
    parsed_as<EnableThreadSuffix>("QThreadSuffixSupported");
    parsed_as<ListThreadsInStopReply>("QListThreadsInStopReply");
    parsed_as<QueryThreadsInfo>("jThreadsInfo");
    parsed_as<QueryWatchpointSupport>("qWatchpointSupportInfo");
    parsed_as<QueryWatchpointSupport>("qWatchpointSupportInfo:");  // as lldb sends it
    parsed_as<QueryServerVersion>("qGDBServerVersion");
    parsed_as<EnableErrorStrings>("QEnableErrorStrings");

    // Longer names are other packets, which the stub does not know.
    CHECK(unsupported("qHostInfox"));
    CHECK(unsupported("qProcessInfoPID:1"));  // lldb's platform packet
    CHECK(unsupported("jThreadsInfo:{}"));
    CHECK(unsupported("jThreadExtendedInfo:"));
    CHECK(unsupported("qWatchpointSupportInfo:1"));
    CHECK(unsupported("QThreadSuffixSupported:1"));
    CHECK(unsupported("qhostinfo"));  // names are case-sensitive
}

TEST_CASE("qThreadStopInfo names one thread in hex") {
    CHECK(parsed_as<QueryThreadStopInfo>("qThreadStopInfo2").thread ==
          ThreadSpec{std::nullopt, {K::one, 2}});
    CHECK(parsed_as<QueryThreadStopInfo>("qThreadStopInfo1a").thread.thread ==
          IdSpec{K::one, 0x1a});
    CHECK(parsed_as<QueryThreadStopInfo>("qThreadStopInfop1.2").thread ==
          ThreadSpec{IdSpec{K::one, 1}, {K::one, 2}});
    // "any" parses; the session refuses it, as it names no one thread.
    CHECK(parsed_as<QueryThreadStopInfo>("qThreadStopInfo0").thread.thread.kind == K::any);

    CHECK(malformed("qThreadStopInfo"));
    CHECK(malformed("qThreadStopInfoxyz"));
    CHECK(malformed("qThreadStopInfo2;"));
    CHECK(malformed("qThreadStopInfo100000000"));  // past 32 bits
}

TEST_CASE("split_thread_suffix") {
    auto none = split_thread_suffix("1a=0011");
    REQUIRE(none);
    CHECK(none->args == "1a=0011");
    CHECK_FALSE(none->thread);

    auto some = split_thread_suffix("1a=0011;thread:0002;");
    REQUIRE(some);
    CHECK(some->args == "1a=0011");
    CHECK(some->thread == ThreadSpec{std::nullopt, {K::one, 2}});

    auto empty_args = split_thread_suffix(";thread:1;");
    REQUIRE(empty_args);
    CHECK(empty_args->args.empty());

    CHECK_FALSE(split_thread_suffix(";thread:1"));
    CHECK_FALSE(split_thread_suffix(";thread:;"));
    CHECK_FALSE(split_thread_suffix(";thread:1;2;"));
    CHECK_FALSE(split_thread_suffix(";thread:-2;"));
}
