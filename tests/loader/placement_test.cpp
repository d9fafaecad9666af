// Placement: highest free slot, conventional memory first, then extended memory below 4 GiB.
#include <doctest/doctest.h>

#include "loader/placement.hpp"

namespace hvgdb::loader::test {

using Ranges = std::vector<LoadedImage::Range>;

TEST_CASE("placement: top of conventional memory first, then downwards") {
    Placement p(16 << 20, Ranges{});
    CHECK(p.allocate(0x1000, 0x1000) == 0x9e000);
    CHECK(p.allocate(0x10, 16) == 0x9fbf0);  // the gap above the first slot
    CHECK(p.allocate(0x1000, 0x1000) == 0x9d000);
}

TEST_CASE("placement: slots go around occupied ranges") {
    Placement p(16 << 20, Ranges{{0x90000, 0x10000}});
    CHECK(p.allocate(0x8000, 16) == 0x88000);  // 0xa0000.. is outside the window
    CHECK(p.allocate(0x10000, 16) == 0x78000);
}

TEST_CASE("placement: falls back to extended memory, never below 0x500 or at 4 GiB") {
    Placement p(16 << 20, Ranges{{0x0, 0x9fc00}});
    CHECK(p.allocate(0x1000, 0x1000) == 0xfff000);
    CHECK_FALSE(p.allocate(0x1000, 0x1000, true).has_value());

    Placement low(0x2000, Ranges{});
    CHECK(low.allocate(0x1000, 0x1000) == 0x1000);
    CHECK_FALSE(low.allocate(0x1000, 0x1000).has_value());  // 0x500..0x1000 is too small
    CHECK(low.allocate(0x10, 16) == 0xff0);

    Placement big(8ull << 30, Ranges{{0x0, 0x100000}});
    CHECK(big.allocate(0x1000, 0x1000) == (4ull << 30) - 0x1000);
}

TEST_CASE("placement: nothing fits in a full RAM") {
    Placement p(1 << 20, Ranges{{0x0, 1 << 20}});
    CHECK_FALSE(p.allocate(16, 16).has_value());
    Placement none(0x400, Ranges{});
    CHECK_FALSE(none.allocate(16, 16).has_value());
}

}  // namespace hvgdb::loader::test
