// One debugger connection: bytes -> codec -> typed command -> handler -> Response -> bytes.
// Handlers live in session_query.cpp, session_data.cpp, session_run.cpp, session_non_stop.cpp
// and session_lldb.cpp.
#include "gdbstub/session.hpp"

#include <cerrno>

#include "gdbstub/protocol/parse.hpp"
#include "gdbstub/protocol/writer.hpp"
#include "gdbstub/session_impl.hpp"

namespace hvgdb::gdbstub {

namespace {

// Error numbers on the wire.  gdb does not interpret them (gdb manual, "Standard Replies"),
// so they only need to be stable: a malformed request is E01, a target failure carries its
// errno when it has one (E0e for EFAULT) and E02 otherwise, anything fatal is E03.
constexpr std::uint8_t kMalformedRequest = 0x01;
constexpr std::uint8_t kTargetFailure = 0x02;
constexpr std::uint8_t kFatalFailure = 0x03;

// The stop a session starts with is the machine's last one.  A breakpoint, watchpoint or
// step it reports was the debugger's before this one, whose breakpoints are gone: this
// debugger hears of the signal and the thread, not of a reason it would look for in its own
// breakpoints.
StopEvent inherited_stop(StopEvent stop) {
    switch (stop.reason) {
        case StopReason::sw_break:
        case StopReason::hw_break:
        case StopReason::watch:
        case StopReason::rwatch:
        case StopReason::awatch:
        case StopReason::step:
            stop.reason = StopReason::none;
            stop.data_address = 0;
            break;
        case StopReason::none:
        case StopReason::interrupt:
        case StopReason::fault:
            break;
    }
    return stop;
}

}  // namespace

Session::Impl::Impl(Target& t, SessionOptions o)
    : target(t), options(std::move(o)), last_stop(inherited_stop(options.initial_stop)) {
    if (last_stop.kind == StopEvent::Kind::stopped) {
        register_thread = last_stop.thread;
        thread_stops[last_stop.thread] = last_stop;
    }
    target.attached();
}

Response Session::Impl::error_response(const Error& error) {
    std::uint8_t code = kTargetFailure;
    switch (error.kind) {
        case ErrorKind::unsupported:
            return protocol::EmptyReply{};
        case ErrorKind::protocol:
            code = kMalformedRequest;
            break;
        case ErrorKind::target:
        case ErrorKind::invalid:
            if (error.err_no > 0 && error.err_no <= 0xff)
                code = static_cast<std::uint8_t>(error.err_no);
            break;
        case ErrorKind::fatal:
            // DESIGN.md: fatal ends the session and the machine.
            finished = true;
            target_ended = true;
            code = kFatalFailure;
            break;
    }
    // lldb shows the text of an error once it asked for it (QEnableErrorStrings).
    return protocol::ErrorReply{code, error_strings ? error.message() : std::string()};
}

void Session::Impl::send(const Response& response, std::string& out) {
    if (std::holds_alternative<protocol::NoReply>(response)) return;
    std::string payload = protocol::encode_payload(response);
    if (options.log_packet) options.log_packet('>', payload);
    codec.send(payload, out);
}

void Session::Impl::notify_stop(const StopEvent& event, std::string& out) {
    std::string payload = protocol::encode_stop_notification(stop_response(event));
    if (options.log_packet) options.log_packet('%', payload);
    codec.notify(payload, out);
}

void Session::Impl::send_console(std::string_view text, std::string& out, std::size_t chunk) {
    for (std::size_t at = 0; at < text.size(); at += chunk)
        send(protocol::ConsoleOutput{std::string(text.substr(at, chunk))}, out);
}

void Session::Impl::on_packet(std::string_view payload, std::string& out) {
    if (options.log_packet) options.log_packet('<', payload);
    std::optional<ReadAhead> ahead = std::exchange(made_ahead, std::nullopt);
    next_read.reset();  // every packet ends the read-ahead; only the `m` it made uses it
    auto command = protocol::parse_command(payload);
    if (!command) {
        if (!running) send(error_response(command.error()), out);
        return;
    }
    // gdb manual, "Interrupts": in all-stop mode the client sends nothing but 0x03 while the
    // target runs.  A packet then is ignored (any reply would be taken for the stop reply),
    // except 'k', which needs no reply and must always work.
    if (running && !std::holds_alternative<protocol::Kill>(*command)) return;
    if (send_made_ahead(*command, std::move(ahead), out)) return;

    auto result = std::visit([this](const auto& c) { return handle(c); }, *command);
    send_console(console, out);
    console.clear();
    send(result ? *result : error_response(result.error()), out);
    if (non_stop) release_held_stops(out);
    if (const auto* read = std::get_if<protocol::ReadMemory>(&*command); read && result)
        expect_next_read(*read, std::get<protocol::MemoryReply>(*result).bytes.size());

    // gdb manual, "Packet Acknowledgment": acks stop after the OK to QStartNoAckMode.
    if (result && std::holds_alternative<protocol::StartNoAckMode>(*command)) codec.stop_acks();
}

Session::Session(Target& target, SessionOptions options)
    : impl_(std::make_unique<Impl>(target, std::move(options))) {}

Session::~Session() = default;

void Session::receive(std::span<const std::uint8_t> bytes, std::string& out) {
    Impl& s = *impl_;
    for (std::uint8_t byte : bytes) {
        if (s.finished) return;  // after D or k nothing more is read
        auto inbound = s.codec.feed(byte, out, s.running && !s.non_stop);
        if (!inbound) continue;
        switch (inbound->kind) {
            case protocol::Inbound::Kind::packet:
                s.on_packet(inbound->text, out);
                break;
            case protocol::Inbound::Kind::interrupt:
                // A Ctrl-C that races with a stop finds the target stopped and is dropped.
                // gdb sends vCtrlC in non-stop mode (gdb manual, "Interrupts"); a raw 0x03
                // then means the same, without a reply.
                if (s.non_stop) {
                    s.interrupt_running();
                } else if (s.running) {
                    s.target.interrupt();
                }
                break;
            case protocol::Inbound::Kind::rejected:
                if (!s.running) {
                    s.send(
                        s.error_response(Error{ErrorKind::protocol, 0, std::string(inbound->text)}),
                        out);
                }
                break;
        }
    }
}

bool Session::wants_read_ahead() const {
    return impl_->next_read.has_value();
}

void Session::read_ahead() {
    Impl& s = *impl_;
    if (!s.next_read || s.running || s.non_stop || s.finished) {
        s.next_read.reset();
        return;
    }
    const protocol::ReadMemory read = *std::exchange(s.next_read, std::nullopt);
    auto result = s.handle(read);
    if (!result) return;  // made again, with its error, when asked
    Impl::ReadAhead ahead{read, std::get<protocol::MemoryReply>(*result).bytes.size(), {}};
    protocol::append_frame(ahead.frame, protocol::encode_payload(*result));
    s.made_ahead = std::move(ahead);
}

void Session::receive(std::string_view bytes, std::string& out) {
    // Viewing chars as bytes: same size and representation.
    receive(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), out);
}

void Session::on_stop(const StopEvent& event, std::string& out) {
    Impl& s = *impl_;
    s.next_read.reset();  // a stop may change the current thread, and so the address space
    s.made_ahead.reset();
    if (s.finished) return;  // detached or killed: nobody is waiting
    if (s.non_stop) {
        s.queue_stop(event, out);
        return;
    }
    s.last_stop = event;
    bool ended = event.kind != StopEvent::Kind::stopped;
    if (ended) s.target_ended = s.target_gone = true;
    if (!ended) {
        s.thread_stops[event.thread] = event;
        // gdb manual, "Stop Reply Packets": the thread that stopped becomes the current one.
        s.make_current(event.thread);
    }
    if (!s.running) return;
    s.running = false;
    if (!ended) s.send_console(s.target.stop_notice(event), out);
    s.send(s.stop_response(event), out);
    if (ended) s.finished = true;
}

bool Session::console_output(std::string_view text, std::string& out) {
    Impl& s = *impl_;
    // gdb manual, "Stop Reply Packets": O packets may come while the client waits for the
    // stop reply in all-stop mode, and at no other time.
    if (!s.running || s.non_stop || s.finished) return false;
    // As large as PacketSize allows: "O" and two hex digits per byte.
    s.send_console(text, out, (s.codec.max_packet() - 1) / 2);
    return true;
}

void Session::on_disconnect() {
    Impl& s = *impl_;
    if (s.released || s.target_ended || s.target_gone) return;
    s.release_target();
}

bool Session::finished() const {
    return impl_->finished;
}
bool Session::runs_after_detach() const {
    return impl_->runs_after_detach;
}
bool Session::target_ended() const {
    return impl_->target_ended;
}

}  // namespace hvgdb::gdbstub
