// Guest console text on its way from vCPU threads to the server's thread: one buffer that
// coalesces what the guest writes between two takes, with a cap; what does not fit is counted
// and becomes a line that says how many bytes were dropped, where they were.  Thread-safe;
// no I/O.  Depends on std and fmt.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace hvgdb::gdbstub {

class ConsoleQueue {
  public:
    explicit ConsoleQueue(std::size_t capacity) : capacity_(capacity) {}

    // What one take() hands over.
    struct Batch {
        std::uint64_t dropped_before = 0;  // given back with drop() since the last take
        std::string text;
        std::uint64_t dropped_after = 0;  // written after `text` filled the queue
        // The text with a line for each run of dropped bytes, where they were.
        std::string with_drop_lines() const;
    };

    // Any thread: the guest wrote `text`; never blocks for long.  True for the first push
    // after a take: the caller then arranges one take() on the server's thread.
    bool push(std::string_view text);
    // Server's thread: what was pushed since the last take.
    Batch take();
    // Server's thread: a batch that could not be delivered (the debugger does not read what
    // it is sent); the next batch starts with a line that counts it.
    void drop(const Batch& batch);

  private:
    const std::size_t capacity_;
    std::mutex mutex_;
    std::string text_;
    std::uint64_t dropped_ = 0;
    bool take_pending_ = false;
    std::uint64_t undelivered_ = 0;  // server's thread only
};

}  // namespace hvgdb::gdbstub
