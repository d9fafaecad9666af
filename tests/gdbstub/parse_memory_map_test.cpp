// Memory map packets: qXfer:memory-map:read (gdb) and qMemoryRegionInfo (lldb), valid and
// malformed.
#include <doctest/doctest.h>

#include "parse_helpers.hpp"

using namespace hvgdb::gdbstub::protocol;
using namespace hvgdb::gdbstub::testing;

TEST_CASE("qXfer:memory-map:read: empty annex, offset and length") {
    auto read = parsed_as<ReadMemoryMap>("qXfer:memory-map:read::0,ffb");
    CHECK(read.annex.empty());
    CHECK(read.offset == 0);
    CHECK(read.length == 0xffb);
    read = parsed_as<ReadMemoryMap>("qXfer:memory-map:read::1f4,7ffe");
    CHECK(read.offset == 0x1f4);
    CHECK(read.length == 0x7ffe);
    // Another annex parses; the session answers it E00.
    CHECK(parsed_as<ReadMemoryMap>("qXfer:memory-map:read:x.xml:0,10").annex == "x.xml");

    CHECK(malformed("qXfer:memory-map:read:"));                      // nothing
    CHECK(malformed("qXfer:memory-map:read::"));                     // no offset
    CHECK(malformed("qXfer:memory-map:read::0"));                    // no length
    CHECK(malformed("qXfer:memory-map:read::0,"));                   // empty length
    CHECK(malformed("qXfer:memory-map:read::,10"));                  // empty offset
    CHECK(malformed("qXfer:memory-map:read::0;10"));                 // wrong separator
    CHECK(malformed("qXfer:memory-map:read::g,10"));                 // bad hex offset
    CHECK(malformed("qXfer:memory-map:read::0,1x"));                 // bad hex length
    CHECK(malformed("qXfer:memory-map:read::10000000000000000,1"));  // offset past 64 bits
    CHECK(unsupported("qXfer:memory-map:write::0:ab"));
    CHECK(unsupported("qXfer:memory-map:read"));  // no ':' after the object: another packet
}

TEST_CASE("qXfer:threads:read: an annex, offset and length, like the memory map") {
    auto read = parsed_as<ReadThreads>("qXfer:threads:read::0,fff");
    CHECK(read.annex.empty());
    CHECK(read.offset == 0);
    CHECK(read.length == 0xfff);
    CHECK(parsed_as<ReadThreads>("qXfer:threads:read::ffffffffffffffff,1").offset ==
          0xffffffffffffffff);
    CHECK(parsed_as<ReadThreads>("qXfer:threads:read:a:b:1,2").annex == "a:b");

    CHECK(malformed("qXfer:threads:read:"));
    CHECK(malformed("qXfer:threads:read::0"));
    CHECK(malformed("qXfer:threads:read::0,"));
    CHECK(malformed("qXfer:threads:read::0,10,"));
    CHECK(malformed("qXfer:threads:read::-1,10"));
    CHECK(malformed("qXfer:threads:read::0,10000000000000000"));
    CHECK(unsupported("qXfer:threads:write::0:ab"));
    CHECK(unsupported("qXfer:threads:read"));
}

TEST_CASE("qMemoryRegionInfo: one hex address") {
    CHECK(parsed_as<QueryMemoryRegion>("qMemoryRegionInfo:0").address == 0);
    CHECK(parsed_as<QueryMemoryRegion>("qMemoryRegionInfo:7c00").address == 0x7c00);
    CHECK(parsed_as<QueryMemoryRegion>("qMemoryRegionInfo:FFFFFFFF80000000").address ==
          0xffffffff80000000);
    CHECK(parsed_as<QueryMemoryRegion>("qMemoryRegionInfo:00000000000000001").address == 1);

    CHECK(malformed("qMemoryRegionInfo:"));                   // no address
    CHECK(malformed("qMemoryRegionInfo:0x10"));               // not plain hex
    CHECK(malformed("qMemoryRegionInfo:12g4"));               // bad digit
    CHECK(malformed("qMemoryRegionInfo:-1"));                 // no sign
    CHECK(malformed("qMemoryRegionInfo:10000000000000000"));  // past 64 bits
    CHECK(malformed("qMemoryRegionInfo:10;"));                // trailing text
    CHECK(unsupported("qMemoryRegionInfo"));  // without ':' it is not a query of a region
}
