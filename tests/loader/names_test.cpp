// Format and mode names: round trips and bad names.
#include <doctest/doctest.h>

#include "loader/loader.hpp"

namespace hvgdb::loader::test {

TEST_CASE("format names round-trip") {
    for (Format f : {Format::automatic, Format::elf, Format::boot_sector, Format::raw,
                     Format::multiboot, Format::firmware}) {
        auto parsed = parse_format(to_string(f));
        REQUIRE(parsed.has_value());
        CHECK(*parsed == f);
    }
    CHECK(to_string(Format::automatic) == "auto");
    CHECK(to_string(Format::boot_sector) == "bootsector");
    CHECK(to_string(Format::multiboot) == "multiboot");
    CHECK(to_string(Format::firmware) == "firmware");
}

TEST_CASE("mode names round-trip") {
    for (CpuMode m : {CpuMode::real, CpuMode::protected32, CpuMode::long64}) {
        auto parsed = parse_mode(to_string(m));
        REQUIRE(parsed.has_value());
        CHECK(*parsed == m);
    }
    CHECK(to_string(CpuMode::protected32) == "protected");
    CHECK(to_string(CpuMode::long64) == "long");
}

TEST_CASE("bad names list the valid ones") {
    auto format = parse_format("bin");
    REQUIRE_FALSE(format.has_value());
    CHECK(format.error().kind == ErrorKind::invalid);
    CHECK(format.error().message() ==
          "unknown image format 'bin'; valid image formats: auto, elf, bootsector, raw, "
          "multiboot, firmware");

    auto mode = parse_mode("Long");
    REQUIRE_FALSE(mode.has_value());
    CHECK(mode.error().kind == ErrorKind::invalid);
    CHECK(mode.error().message() ==
          "unknown CPU mode 'Long'; valid CPU modes: real, protected, long");

    CHECK_FALSE(parse_format("").has_value());
    CHECK_FALSE(parse_mode("").has_value());
}

}  // namespace hvgdb::loader::test
