// app/console_router: the serial sink gets everything; the debugger's sink only while
// forwarding is on and one is set; a new debugger starts with the command line's setting.
#include "app/console_router.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace hvgdb::app;

TEST_CASE("the serial sink gets every byte, the debugger only while forwarding") {
    std::string serial, debugger;
    ConsoleRouter router([&](std::string_view s) { serial += s; }, "file /tmp/serial", false);
    router.set_debugger([&](std::string_view s) { debugger += s; });
    router.write("a");
    CHECK(serial == "a");
    CHECK(debugger.empty());
    router.set_forwarding(true);
    router.write("bc");
    CHECK(serial == "abc");
    CHECK(debugger == "bc");
    router.set_debugger({});  // the server is gone
    router.write("d");
    CHECK(serial == "abcd");
    CHECK(debugger == "bc");
}

TEST_CASE("without a serial sink the debugger still gets the text") {
    std::string debugger;
    ConsoleRouter router({}, "nowhere (--serial none)", true);
    router.set_debugger([&](std::string_view s) { debugger += s; });
    router.write("x");
    CHECK(debugger == "x");
}

TEST_CASE("describe and restore_default") {
    ConsoleRouter router({}, "hvgdb's standard output", true);
    CHECK(router.describe() ==
          "guest console: hvgdb's standard output; to the debugger: on (shown while the "
          "debugger waits for the guest to stop, all-stop mode)\n");
    router.set_forwarding(false);
    CHECK(router.describe() == "guest console: hvgdb's standard output; to the debugger: off\n");
    router.restore_default();
    CHECK(router.forwarding());
}
