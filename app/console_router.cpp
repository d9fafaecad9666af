// The guest console's two destinations.  See console_router.hpp.
#include "app/console_router.hpp"

#include <fmt/format.h>

namespace hvgdb::app {

ConsoleRouter::ConsoleRouter(TextSink serial, std::string serial_name, bool forward)
    : serial_(std::move(serial)),
      serial_name_(std::move(serial_name)),
      forward_by_default_(forward),
      forwarding_(forward) {}

void ConsoleRouter::write(std::string_view text) {
    if (serial_) serial_(text);
    if (!forwarding_.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(debugger_mutex_);
    if (debugger_) debugger_(text);
}

void ConsoleRouter::set_debugger(TextSink sink) {
    std::lock_guard lock(debugger_mutex_);
    debugger_ = std::move(sink);
}

std::string ConsoleRouter::describe() const {
    return fmt::format(
        "guest console: {}; to the debugger: {}\n", serial_name_,
        forwarding() ? "on (shown while the debugger waits for the guest to stop, all-stop mode)"
                     : "off");
}

}  // namespace hvgdb::app
