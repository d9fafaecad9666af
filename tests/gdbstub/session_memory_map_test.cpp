// Session: the memory map.  qSupported announces it only when the target has one; gdb reads
// the document in windows (exact bytes), a bad annex is E00; lldb's qMemoryRegionInfo answers
// from the same ranges.
#include <doctest/doctest.h>

#include "gdbstub/memory_map.hpp"
#include "session_harness.hpp"

using namespace hvgdb;
using namespace hvgdb::gdbstub;
using namespace hvgdb::gdbstub::testing;

namespace {

constexpr std::string_view kFeatures =
    "PacketSize=10000;QStartNoAckMode+;qXfer:features:read+;swbreak+;hwbreak+;"
    "vContSupported+";

// RAM, a ROM window, and the non-canonical hole left out, as hvgdb's paged map has them.
const std::vector<MemoryRange> kMap{
    {0, 0xffff0000, MemoryKind::ram},
    {0xffff0000, 0x10000, MemoryKind::rom},
    {0x100000000, 0x100000000000000 - 0x100000000, MemoryKind::ram},
    {0xff00000000000000, 0x100000000000000, MemoryKind::ram},
};

void give_map(Harness& h) {
    h.target.memory_ranges = kMap;
}

}  // namespace

TEST_CASE("qSupported announces qXfer:memory-map:read+ only for a target with a map") {
    Harness without;
    CHECK(without.client("$qSupported#37") == "+" + frame(kFeatures));

    Harness with;
    give_map(with);
    CHECK(with.client("$qSupported#37") ==
          "+" + frame(std::string(kFeatures) + ";qXfer:memory-map:read+"));
}

TEST_CASE("qXfer:memory-map:read: the whole document in windows, 'm' then 'l'") {
    Harness h;
    give_map(h);
    h.no_acks();
    const std::string xml = memory_map_xml(kMap);
    REQUIRE(xml.size() > 0x100);
    CHECK(xml.find("<memory type=\"rom\" start=\"0xffff0000\" length=\"0x10000\"/>") !=
          std::string::npos);

    // One read that takes it all, as gdb's first read of a small map does.
    CHECK(h.packet("qXfer:memory-map:read::0,ffb") == frame("l" + xml));

    // Small windows: 'm' while more follows, 'l' for the last part, empty 'l' past the end.
    std::string joined;
    std::size_t offset = 0;
    for (; offset + 0x40 < xml.size(); offset += 0x40) {
        CHECK(h.packet(fmt::format("qXfer:memory-map:read::{:x},40", offset)) ==
              frame("m" + xml.substr(offset, 0x40)));
        joined += xml.substr(offset, 0x40);
    }
    CHECK(h.packet(fmt::format("qXfer:memory-map:read::{:x},40", offset)) ==
          frame("l" + xml.substr(offset)));
    joined += xml.substr(offset);
    CHECK(joined == xml);
    CHECK(h.packet(fmt::format("qXfer:memory-map:read::{:x},40", xml.size())) == frame("l"));
    CHECK(h.packet("qXfer:memory-map:read::ffffffffffffffff,40") == frame("l"));
    // A window of length 0 at the start: nothing, but more follows.
    CHECK(h.packet("qXfer:memory-map:read::0,0") == frame("m"));
}

TEST_CASE("qXfer:memory-map:read: E00 for an annex, E01 for a malformed window") {
    Harness h;
    give_map(h);
    h.no_acks();
    CHECK(h.packet("qXfer:memory-map:read:target.xml:0,ffb") == frame("E00"));
    CHECK(h.packet("qXfer:memory-map:read::0") == frame("E01"));
    CHECK(h.packet("qXfer:memory-map:read::zz,10") == frame("E01"));
    CHECK(h.packet("qXfer:memory-map:read::0,10000000000000000") == frame("E01"));
    // The session goes on.
    CHECK(h.packet("qC") == frame("QC01"));
}

TEST_CASE("no memory map: the empty reply, as for any packet not announced") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("qXfer:memory-map:read::0,ffb") == frame(""));
    CHECK(h.packet("qMemoryRegionInfo:1000") == frame(""));
}

TEST_CASE("qMemoryRegionInfo: ranges with permissions, holes without") {
    Harness h;
    give_map(h);
    h.no_acks();
    CHECK(h.packet("qMemoryRegionInfo:0") == frame("start:0;size:ffff0000;permissions:rwx;"));
    CHECK(h.packet("qMemoryRegionInfo:7c00") == frame("start:0;size:ffff0000;permissions:rwx;"));
    CHECK(h.packet("qMemoryRegionInfo:fffffff0") ==
          frame("start:ffff0000;size:10000;permissions:rx;"));
    CHECK(h.packet("qMemoryRegionInfo:ffffffff80001000") ==
          frame("start:ff00000000000000;size:100000000000000;permissions:rwx;"));
    // The non-canonical hole: its start and size, no permissions.
    CHECK(h.packet("qMemoryRegionInfo:8000000000000000") ==
          frame("start:100000000000000;size:fe00000000000000;"));
    // Malformed addresses are E01; the session goes on.
    CHECK(h.packet("qMemoryRegionInfo:") == frame("E01"));
    CHECK(h.packet("qMemoryRegionInfo:xyz") == frame("E01"));
    CHECK(h.packet("qMemoryRegionInfo:10000000000000000") == frame("E01"));
    CHECK(h.packet("qC") == frame("QC01"));
}
