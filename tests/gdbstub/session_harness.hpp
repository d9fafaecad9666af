// A Session over a FakeTarget, driven with raw client bytes; records what the session sends
// and logs.  Used by the session tests.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fake_target.hpp"
#include "gdbstub/session.hpp"
#include "wire.hpp"

namespace hvgdb::gdbstub::testing {

// The expedited rbp, rsp and rip of a stop reply of the fake's threads, which all start with
// the same values (FakeTarget::kRbp, kRsp, kRip).
inline constexpr std::string_view kExpedited =
    "06:f87f000000000000;07:f07f000000000000;10:0010000000000000;";

struct Harness {
    explicit Harness(StopEvent initial = {}, std::vector<ThreadId> threads = {1, 2})
        : target(std::move(threads)),
          session(target, SessionOptions{[this](char dir, std::string_view payload) {
                                             log.emplace_back(dir, std::string(payload));
                                         },
                                         initial}) {}

    // Client bytes in, stub bytes out.
    std::string client(std::string_view bytes) {
        std::string out;
        session.receive(bytes, out);
        return out;
    }
    // One packet in no-ack mode (after no_acks()): framed here, reply bytes out.
    std::string packet(std::string_view payload) { return client(frame(payload)); }

    // The target reports a stop: the fake marks the thread stopped first, as a target does.
    std::string stop(const StopEvent& event) {
        target.mark_stopped(event);
        std::string out;
        session.on_stop(event, out);
        return out;
    }

    // The opening of gdb's handshake, leaving the session in no-ack mode with swbreak+ and
    // hwbreak+ announced by the client.
    void no_acks() {
        client("+" + frame("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+"));
        client("+" + frame("QStartNoAckMode"));
        client("+");
    }

    // no_acks() with a target that has non-stop mode, then QNonStop:1, as gdb connects after
    // `set non-stop on`.
    void non_stop() {
        target.non_stop_supported = true;
        no_acks();
        client(frame("QNonStop:1"));
    }

    FakeTarget target;
    std::vector<std::pair<char, std::string>> log;
    Session session;
};

}  // namespace hvgdb::gdbstub::testing
