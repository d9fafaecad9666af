// One debugger connection: bytes in -> typed commands -> Target calls -> Response values ->
// bytes out.  No I/O and no threads: the server feeds it bytes and stop events on one thread
// and sends what it appends to `out`.  Depends on protocol/, arch/ and target.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "gdbstub/target.hpp"

namespace hvgdb::gdbstub {

struct SessionOptions {
    // Called with each packet payload received ('<') and sent ('>') and each notification
    // sent ('%', non-stop mode), when set (--log-packets).
    std::function<void(char direction, std::string_view payload)> log_packet;
    // The target is stopped when the debugger connects; this is what '?' reports until the
    // first resume (default: SIGTRAP in thread 1).  Breakpoint, watchpoint and step reasons
    // in it were another debugger's and are not reported.
    StopEvent initial_stop{};
    // What the target does after D or a dropped connection.
    AfterDetach after_detach = AfterDetach::run;
};

class Session {
  public:
    Session(Target& target, SessionOptions options = {});
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Bytes received from the client.  Appends everything to send (acks, replies) to `out`.
    void receive(std::span<const std::uint8_t> bytes, std::string& out);
    void receive(std::string_view bytes, std::string& out);

    // The target stopped or ended (on the session's thread).  Appends the stop reply to `out`
    // when the client is waiting for one; in non-stop mode a %Stop notification, unless one
    // is still unacknowledged (the stop then waits for vStopped).
    void on_stop(const StopEvent& event, std::string& out);

    // Console text the guest wrote (on the session's thread, in the order written and ahead
    // of the stop it preceded).  Appends it to `out` as O packets while the client waits for
    // an all-stop stop reply and returns true; otherwise sends nothing and returns false.
    bool console_output(std::string_view text, std::string& out);

    // Read-ahead: gdb reads a long range of memory as `m` packets, each for the bytes after
    // the last.  While the client takes in one reply, the next is made, and sent at once if
    // the next packet asks for it.  Only while every thread is stopped in all-stop mode, where
    // guest memory changes only by packets; any other packet drops it.  The server calls
    // read_ahead() when it has sent everything and no input waits, if wants_read_ahead().
    bool wants_read_ahead() const;
    void read_ahead();

    // The connection closed without D or k: the target is detached.
    void on_disconnect();

    // True after the client detached or killed: the server closes the connection once `out`
    // is sent.
    bool finished() const;
    // After a detach (D or on_disconnect): whether the target's threads still run, so that a
    // stop may still come (see Target::detach).
    bool runs_after_detach() const;
    // True after a kill or after the target ended (W/X sent; in non-stop mode, acknowledged):
    // the server shuts down.
    bool target_ended() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace hvgdb::gdbstub
