// Fuzz target: a whole Session over the session tests' FakeTarget (tests/gdbstub), fed a
// client's bytes; finds what handlers do with commands the parsers accept.
//
// Input: client bytes, except 0xf0-0xff, which are events from the target's side of the
// session instead (they reach the session between reads, as the server delivers them):
//   f0-f5  a running thread stops: breakpoint, hardware breakpoint, watch, access watch,
//          single step, fault (SIGSEGV); nothing while no thread runs
//   f6 f7  the guest exits with code 3, or is killed; only while a thread runs
//   f8 f9  guest console text: a line, or more than one packet holds
//   fa     the client disconnects
//   fb-ff  the fake target's scripted failures, each toggled: reads of any address succeed,
//          Z/z fail, resume fails, a register is unreadable, monitor commands end the target
// Real client bytes hardly use them (only X's binary data may; such bytes are lost to it).
// A Ctrl-C that reaches the target is answered with a SIGINT stop of each running thread.
//
// Checked after each read or event: what the session writes is acks, and packets and
// notifications with good checksums and no more than PacketSize of payload; the target is
// never asked for more memory than one reply holds; after D, k or a disconnect nothing more
// is written; the target is detached or killed at most once, and by the end of the input,
// exactly once unless the guest ended.
#include <algorithm>
#include <string>

#include "fake_target.hpp"
#include "fuzz.hpp"
#include "gdbstub/protocol/packet_decoder.hpp"
#include "gdbstub/session.hpp"

namespace {

using hvgdb::fuzz::check;
using namespace hvgdb::gdbstub;
using protocol::kMaxPacketSize;
using testing::FakeTarget;

constexpr std::uint8_t kFirstEvent = 0xf0;
// Console text just over one O packet's worth ("O" and two hex digits a byte), at most twice
// per input: more only slows the run down.
constexpr std::size_t kLargeConsole = kMaxPacketSize / 2 + 7;
constexpr std::size_t kMaxLargeConsoles = 2;

// Acks, then `$payload#cs` packets and `%payload#cs` notifications, each intact.  Escapes may
// double the data characters: `decoder` takes twice the PacketSize, and what must fit
// PacketSize is the decoded payload.
void check_output(std::string_view out, protocol::PacketDecoder& decoder) {
    std::size_t at = 0;
    while (at < out.size()) {
        const char start = out[at];
        if (start == '+' || start == '-') {
            ++at;
            continue;
        }
        check(start == '$' || start == '%', "the session writes acks, packets and notifications");
        // '#' is always escaped inside a payload, so the first one ends it.
        const std::size_t hash = out.find('#', at);
        check(hash != std::string_view::npos && out.size() - hash >= 3,
              "a frame ends with '#' and two checksum digits");
        decoder.feed('$');
        std::optional<protocol::Decoded> decoded;
        for (char c : out.substr(at + 1, hash + 2 - at)) {
            check(!decoded, "a frame is one packet");
            decoded = decoder.feed(static_cast<std::uint8_t>(c));
        }
        check(decoded && decoded->kind == protocol::Decoded::Kind::packet,
              "a frame has a good checksum and decodes");
        check(decoded->text.size() <= kMaxPacketSize, "no reply is longer than PacketSize");
        at = hash + 3;
    }
}

class Run {
  public:
    Run() : session_(target_, SessionOptions{[](char, std::string_view) {}, {}}) {
        target_.non_stop_supported = true;
        target_.watch_slots = 4;
        target_.monitor_reply = std::string("monitor output\n");
        target_.memory_ranges = {{FakeTarget::kRamBase, FakeTarget::kRamSize, MemoryKind::ram},
                                 {0xffff0000, 0x10000, MemoryKind::rom}};
    }

    void client(std::span<const std::uint8_t> bytes) {
        const int interrupts = target_.interrupts;
        step([&](std::string& out) { session_.receive(bytes, out); });
        if (target_.interrupts != interrupts) stop_running(kInterruptStop);
    }

    void event(std::uint8_t code) {
        switch (code - kFirstEvent) {
            case 0x0:
                return stop({.reason = StopReason::sw_break});
            case 0x1:
                return stop({.reason = StopReason::hw_break});
            case 0x2:
                return stop({.reason = StopReason::watch, .data_address = 0x1ff8});
            case 0x3:
                return stop({.reason = StopReason::awatch, .data_address = 0x1000});
            case 0x4:
                return stop({.reason = StopReason::step});
            case 0x5:
                return stop({.signal = 11, .reason = StopReason::fault});
            case 0x6:
                return end({.kind = StopEvent::Kind::exited, .exit_code = 3});
            case 0x7:
                return end({.kind = StopEvent::Kind::killed, .signal = 9});
            case 0x8:
                return console("hello from the guest\n");
            case 0x9:
                if (large_consoles_++ < kMaxLargeConsoles) console(std::string(kLargeConsole, 'x'));
                return;
            case 0xa:
                return disconnect();
            case 0xb:
                target_.memory_everywhere = !target_.memory_everywhere;
                return;
            case 0xc:
                toggle(target_.breakpoint_error, ENOSPC);
                return;
            case 0xd:
                toggle(target_.resume_error, EBUSY);
                return;
            case 0xe:
                target_.unreadable_register =
                    target_.unreadable_register ? std::nullopt : std::optional<std::size_t>(5);
                return;
            case 0xf:
                target_.monitor_ends_target = !target_.monitor_ends_target;
                return;
        }
    }

    void finish() {
        disconnect();
        check(ended_ || target_.detaches + target_.kills == 1,
              "a session leaves the target detached or killed, unless it ended");
    }

  private:
    static constexpr StopEvent kInterruptStop{.signal = 2, .reason = StopReason::interrupt};

    template <typename F>
    void step(F&& act) {
        const bool finished = session_.finished();
        std::string out;
        act(out);
        check(!finished || out.empty(), "nothing is written after D, k or a disconnect");
        check_output(out, decoder_);
        check(target_.last_read_size <= kMaxPacketSize,
              "the target is asked for no more memory than a reply holds");
        check(target_.detaches + target_.kills <= 1, "the target is released at most once");
    }

    std::optional<ThreadId> running_thread() const {
        if (target_.running.empty()) return std::nullopt;
        return *target_.running.begin();
    }

    void stop(StopEvent event) {
        auto thread = running_thread();
        if (!thread) return;
        event.thread = *thread;
        deliver(event);
    }

    // Each running thread stops in non-stop mode, one thread for all in all-stop mode.
    void stop_running(StopEvent event) {
        while (auto thread = running_thread()) {
            event.thread = *thread;
            deliver(event);
        }
    }

    void end(const StopEvent& event) {
        if (!running_thread()) return;
        ended_ = true;
        deliver(event);
    }

    void deliver(const StopEvent& event) {
        target_.mark_stopped(event);
        step([&](std::string& out) { session_.on_stop(event, out); });
    }

    void console(std::string_view text) {
        step([&](std::string& out) { session_.console_output(text, out); });
    }

    void disconnect() {
        step([&](std::string&) { session_.on_disconnect(); });
    }

    static void toggle(std::optional<hvgdb::Error>& error, int err_no) {
        if (error)
            error.reset();
        else
            error = hvgdb::Error{hvgdb::ErrorKind::target, err_no, "scripted failure"};
    }

    FakeTarget target_{{1, 2}};
    Session session_;
    protocol::PacketDecoder decoder_{2 * kMaxPacketSize};
    bool ended_ = false;
    std::size_t large_consoles_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Run run;
    std::span<const std::uint8_t> input(data, size);
    while (!input.empty()) {
        auto event = std::ranges::find_if(input, [](std::uint8_t b) { return b >= kFirstEvent; });
        const auto bytes = static_cast<std::size_t>(event - input.begin());
        if (bytes > 0) run.client(input.first(bytes));
        if (event != input.end()) run.event(*event);
        input = input.subspan(std::min(bytes + 1, input.size()));
    }
    run.finish();
    return 0;
}
