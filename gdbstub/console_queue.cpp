// The console queue.  See console_queue.hpp.
#include "gdbstub/console_queue.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <utility>

namespace hvgdb::gdbstub {

namespace {

// On a line of its own after what `out` holds.
void append_drop_line(std::string& out, std::uint64_t bytes) {
    if (bytes == 0) return;
    if (!out.empty() && out.back() != '\n') out += '\n';
    fmt::format_to(std::back_inserter(out), "[hvgdb: {} bytes of guest console output dropped]\n",
                   bytes);
}

}  // namespace

std::string ConsoleQueue::Batch::with_drop_lines() const {
    std::string out;
    append_drop_line(out, dropped_before);
    out += text;
    append_drop_line(out, dropped_after);
    return out;
}

bool ConsoleQueue::push(std::string_view text) {
    std::lock_guard lock(mutex_);
    const std::size_t kept = std::min(capacity_ - std::min(capacity_, text_.size()), text.size());
    text_.append(text.substr(0, kept));
    dropped_ += text.size() - kept;
    return !std::exchange(take_pending_, true);
}

ConsoleQueue::Batch ConsoleQueue::take() {
    Batch batch;
    batch.dropped_before = std::exchange(undelivered_, 0);
    std::lock_guard lock(mutex_);
    batch.text.swap(text_);
    batch.dropped_after = std::exchange(dropped_, 0);
    take_pending_ = false;
    return batch;
}

void ConsoleQueue::drop(const Batch& batch) {
    undelivered_ += batch.dropped_before + batch.text.size() + batch.dropped_after;
}

}  // namespace hvgdb::gdbstub
