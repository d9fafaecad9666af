// gdbstub/console_queue: coalescing between takes, one take per batch, the cap, and the
// lines that count dropped bytes where they were lost.
#include "gdbstub/console_queue.hpp"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

using namespace hvgdb::gdbstub;

TEST_CASE("pushes coalesce until the take; only the first push asks for one") {
    ConsoleQueue queue(64);
    CHECK(queue.push("hel"));
    CHECK_FALSE(queue.push("lo"));
    CHECK_FALSE(queue.push("\n"));
    ConsoleQueue::Batch batch = queue.take();
    CHECK(batch.text == "hello\n");
    CHECK(batch.dropped_before == 0);
    CHECK(batch.dropped_after == 0);
    CHECK(batch.with_drop_lines() == "hello\n");
    CHECK(queue.take().text.empty());
    CHECK(queue.push("again"));  // a new batch asks for a new take
}

TEST_CASE("past the cap bytes are counted, and a line says so after the text kept") {
    ConsoleQueue queue(8);
    queue.push("12345");
    queue.push("6789ab");  // "678" fits
    queue.push("cd");
    ConsoleQueue::Batch batch = queue.take();
    CHECK(batch.text == "12345678");
    CHECK(batch.dropped_after == 5);
    CHECK(batch.with_drop_lines() ==
          "12345678\n[hvgdb: 5 bytes of guest console output dropped]\n");
    // Room again after the take.
    queue.push("line\n");
    CHECK(queue.take().with_drop_lines() == "line\n");
}

TEST_CASE("a batch given back with drop() is counted at the start of the next one") {
    ConsoleQueue queue(4);
    queue.push("abcdef");  // 4 kept, 2 dropped
    queue.drop(queue.take());
    queue.push("x\n");
    ConsoleQueue::Batch batch = queue.take();
    CHECK(batch.dropped_before == 6);
    CHECK(batch.with_drop_lines() == "[hvgdb: 6 bytes of guest console output dropped]\nx\n");
    // Counted once.
    queue.push("y");
    CHECK(queue.take().with_drop_lines() == "y");
}

TEST_CASE("pushes from several threads: nothing lost or torn below the cap") {
    ConsoleQueue queue(1 << 20);
    std::vector<std::thread> writers;
    for (char c : {'a', 'b', 'c', 'd'})
        writers.emplace_back([&queue, c] {
            for (int i = 0; i < 1000; ++i) queue.push(std::string(3, c));
        });
    for (auto& w : writers) w.join();
    std::string text = queue.take().text;
    CHECK(text.size() == 12000);
    for (std::size_t at = 0; at < text.size(); at += 3)
        CHECK((text[at] == text[at + 1] && text[at] == text[at + 2]));
}
