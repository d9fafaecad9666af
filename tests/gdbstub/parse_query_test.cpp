// Query packets: qSupported, QStartNoAckMode, qXfer:features:read, qAttached, qRcmd, qC,
// thread lists, and the empty reply for everything unknown.
#include <doctest/doctest.h>

#include "parse_helpers.hpp"

using namespace hvgdb::gdbstub::protocol;
using namespace hvgdb::gdbstub::testing;

TEST_CASE("qSupported with gdb 13's feature list") {
    auto query = parsed_as<QuerySupported>(
        "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;"
        "exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters="
        "i386");
    REQUIRE(query.features.size() == 12);
    CHECK(query.features[0].name == "multiprocess");
    CHECK(query.features[0].kind == ClientFeature::Kind::supported);
    CHECK(query.features[1].name == "swbreak");
    CHECK(query.features[11].name == "xmlRegisters");
    CHECK(query.features[11].kind == ClientFeature::Kind::value);
    CHECK(query.features[11].value == "i386");
}

TEST_CASE("qSupported forms") {
    CHECK(parsed_as<QuerySupported>("qSupported").features.empty());
    auto query = parsed_as<QuerySupported>("qSupported:a-;b?;c=;d=x=y");
    REQUIRE(query.features.size() == 4);
    CHECK(query.features[0].kind == ClientFeature::Kind::unsupported);
    CHECK(query.features[1].kind == ClientFeature::Kind::query);
    CHECK(query.features[2].value == "");
    CHECK(query.features[3].value == "x=y");  // split at the first '='
}

TEST_CASE("qSupported malformed") {
    CHECK(malformed("qSupported:"));         // empty feature
    CHECK(malformed("qSupported:a+;;b+"));   // empty feature in the middle
    CHECK(malformed("qSupported:a+;"));      // trailing separator
    CHECK(malformed("qSupported:swbreak"));  // no + - ? or =
    CHECK(malformed("qSupported:+"));        // no name
    CHECK(malformed("qSupported:=1"));
    CHECK(unsupported("qSupportedX"));  // a different packet name
}

TEST_CASE("argument-less queries match exactly") {
    parsed_as<StartNoAckMode>("QStartNoAckMode");
    parsed_as<QueryCurrentThread>("qC");
    CHECK(parsed_as<QueryThreadList>("qfThreadInfo").first);
    CHECK_FALSE(parsed_as<QueryThreadList>("qsThreadInfo").first);
    parsed_as<QueryVCont>("vCont?");
    parsed_as<QueryHaltReason>("?");
    CHECK(unsupported("qCRC:0,10"));
    CHECK(unsupported("QStartNoAckModeX"));
    CHECK(unsupported("qfThreadInfo2"));
}

TEST_CASE("qXfer:features:read") {
    auto read = parsed_as<ReadFeatures>("qXfer:features:read:target.xml:0,ffb");
    CHECK(read.annex == "target.xml");
    CHECK(read.offset == 0);
    CHECK(read.length == 0xffb);
    read = parsed_as<ReadFeatures>("qXfer:features:read:64bit-core.xml:7fe,ffb");
    CHECK(read.annex == "64bit-core.xml");
    CHECK(read.offset == 0x7fe);

    CHECK(malformed("qXfer:features:read:"));
    CHECK(malformed("qXfer:features:read::0,10"));                           // no annex
    CHECK(malformed("qXfer:features:read:target.xml"));                      // no offset
    CHECK(malformed("qXfer:features:read:target.xml:0"));                    // no length
    CHECK(malformed("qXfer:features:read:target.xml:0;10"));                 // wrong separator
    CHECK(malformed("qXfer:features:read:target.xml:x,10"));                 // bad hex
    CHECK(malformed("qXfer:features:read:target.xml:10000000000000000,1"));  // overflow
    CHECK(unsupported("qXfer:libraries:read::0,ffb"));                       // another object
    CHECK(unsupported("qXfer:features:write:target.xml:0:ab"));
}

TEST_CASE("qAttached") {
    CHECK_FALSE(parsed_as<QueryAttached>("qAttached").pid);
    CHECK(parsed_as<QueryAttached>("qAttached:1").pid == 1u);
    CHECK(parsed_as<QueryAttached>("qAttached:a").pid == 10u);
    CHECK(malformed("qAttached:"));
    CHECK(malformed("qAttached:zz"));
    CHECK(malformed("qAttached:100000000"));  // pid past 32 bits
}

TEST_CASE("qRcmd: the monitor command's text in hex") {
    CHECK(parsed_as<Monitor>("qRcmd,68656c70").command == "help");
    CHECK(parsed_as<Monitor>("qRcmd,7669657720693338").command == "view i38");
    CHECK(parsed_as<Monitor>("qRcmd,").command.empty());
    CHECK(malformed("qRcmd,6"));     // odd length
    CHECK(malformed("qRcmd,68zz"));  // not hex
    CHECK(unsupported("qRcmd"));     // no comma: not a packet gdb sends
}

TEST_CASE("unknown packets are unsupported, answered with the empty reply") {
    CHECK(unsupported(""));
    CHECK(unsupported("vMustReplyEmpty"));
    CHECK(unsupported("qTStatus"));
    CHECK(unsupported("qOffsets"));
    CHECK(unsupported("qSymbol::"));
    CHECK(unsupported("vFile:open:6a7573742070726f62696e67,0,1c0"));
    CHECK(unsupported("QThreadEvents:1"));
    CHECK(unsupported("!"));
}
