// Handlers for resuming, stop replies and ending the session (gdb manual, "Packets" c s C S
// vCont D k vKill, and "Stop Reply Packets").
#include "gdbstub/session_impl.hpp"

namespace hvgdb::gdbstub {

namespace {

// gdb's signal number for SIGKILL, used for "X09" after the target was killed.
constexpr std::uint8_t kSigKill = 9;

ResumeKind to_target(protocol::ResumeAction action) {
    switch (action) {
        case protocol::ResumeAction::cont:
            return ResumeKind::cont;
        case protocol::ResumeAction::step:
            return ResumeKind::step;
        case protocol::ResumeAction::stop:
            return ResumeKind::stop;
    }
    return ResumeKind::cont;
}

protocol::StopCause stop_cause(StopReason reason, bool swbreak, bool hwbreak) {
    switch (reason) {
        case StopReason::sw_break:
            return swbreak ? protocol::StopCause::swbreak : protocol::StopCause::none;
        case StopReason::hw_break:
            return hwbreak ? protocol::StopCause::hwbreak : protocol::StopCause::none;
        case StopReason::watch:
            return protocol::StopCause::watch;
        case StopReason::rwatch:
            return protocol::StopCause::rwatch;
        case StopReason::awatch:
            return protocol::StopCause::awatch;
        default:
            return protocol::StopCause::none;
    }
}

}  // namespace

Response Session::Impl::stop_response(const StopEvent& event) {
    switch (event.kind) {
        case StopEvent::Kind::exited:
            return protocol::ExitedReply{static_cast<std::uint8_t>(event.exit_code & 0xff)};
        case StopEvent::Kind::killed:
            return protocol::TerminatedReply{kSigKill};
        case StopEvent::Kind::stopped:
            break;
    }
    protocol::StopReply reply;
    reply.signal = event.signal;
    reply.thread = event.thread;
    reply.cause = stop_cause(event.reason, client_swbreak, client_hwbreak);
    reply.data_address = event.data_address;
    reply.registers = expedited_registers(event.thread);
    if (list_threads_in_stop) list_threads(reply);
    return reply;
}

std::vector<protocol::StopReply::Register> Session::Impl::expedited_registers(ThreadId thread) {
    // Expedite pc, sp and fp so the debugger can show the stop without reading registers
    // first.  A register that cannot be read is simply not expedited.
    std::vector<protocol::StopReply::Register> registers;
    const arch::Arch& arch = target.arch();
    for (std::size_t regno = 0; regno < arch.registers.size(); ++regno) {
        arch::Generic role = arch.registers[regno].generic;
        if (role != arch::Generic::pc && role != arch::Generic::sp && role != arch::Generic::fp)
            continue;
        std::vector<std::uint8_t> bytes(arch.register_bytes(regno));
        if (target.read_register(thread, regno, bytes))
            registers.push_back({regno, std::move(bytes)});
    }
    return registers;
}

StopEvent Session::Impl::thread_stop(ThreadId thread) const {
    auto known = thread_stops.find(thread);
    if (known != thread_stops.end()) return known->second;
    return StopEvent{.thread = thread, .signal = 0};
}

Result<void> Session::Impl::start(std::span<const ThreadAction> actions) {
    if (non_stop) return start_non_stop(actions);
    auto resumed = target.resume(actions);
    if (!resumed) return resumed;
    running = true;
    thread_stops.clear();  // every thread runs until the next stop
    return {};
}

Response Session::Impl::resumed_reply() const {
    // gdb manual, "Stop Reply Packets": in non-stop mode the reply is OK and the stop a
    // later notification.
    if (non_stop) return protocol::OkReply{};
    return protocol::NoReply{};
}

void Session::Impl::make_current(ThreadId thread) {
    register_thread = thread;
    target.select_thread(thread);
}

Result<Response> Session::Impl::handle(const protocol::QueryHaltReason&) {
    if (non_stop) return report_stopped_threads();
    return stop_response(last_stop);
}

Result<Response> Session::Impl::handle(const protocol::Resume& resume) {
    // The legacy packets keep the plain all-stop meaning: 'c' runs every thread, 's' steps
    // one thread (Hc's if it named one, else the current thread) and the others stay stopped.
    // gdb itself uses vCont, which we announce.
    bool step = resume.action == protocol::ResumeAction::step;
    ThreadId thread = step ? resume_thread.value_or(register_thread) : register_thread;
    if (resume.address) {
        auto pc = arch::find_generic(target.arch(), arch::Generic::pc);
        if (!pc)
            return make_error(ErrorKind::unsupported, "no pc register to resume at an address");
        std::vector<std::uint8_t> bytes(target.arch().register_bytes(*pc));
        for (std::size_t i = 0; i < bytes.size() && i < 8; ++i) {
            bytes[i] = static_cast<std::uint8_t>(*resume.address >> (8 * i));
        }
        auto written = target.write_register(thread, *pc, bytes);
        if (!written) return std::unexpected(written.error());
    }
    ThreadAction action{to_target(resume.action), std::nullopt, resume.signal};
    if (step) action.thread = thread;
    auto started = start(std::span(&action, 1));
    if (!started) return std::unexpected(started.error());
    return resumed_reply();
}

Result<Response> Session::Impl::handle(const protocol::VCont& vcont) {
    std::vector<ThreadAction> actions;
    actions.reserve(vcont.actions.size());
    for (const protocol::VContAction& a : vcont.actions) {
        ThreadAction action{to_target(a.action), std::nullopt, a.signal};
        if (a.thread) {
            auto thread = resolve_thread(*a.thread);
            if (!thread) return std::unexpected(thread.error());
            action.thread = *thread;
        }
        actions.push_back(action);
    }
    auto started = start(actions);
    if (!started) return std::unexpected(started.error());
    return resumed_reply();
}

// D;pid and vKill;pid: there is one process, whatever pid the client names.  gdb without
// the multiprocess extensions makes one up (42000, "vKill;a410"), so the pid is not checked.
Result<Response> Session::Impl::handle(const protocol::Detach&) {
    release_target();
    return protocol::OkReply{};
}

void Session::Impl::release_target() {
    runs_after_detach = target.detach(options.after_detach);
    released = true;
    finished = true;
}

void Session::Impl::end_target() {
    target.kill();
    running = false;
    released = true;
    finished = true;
    target_ended = true;
}

Result<Response> Session::Impl::handle(const protocol::Kill&) {
    // gdb manual, "Packets", 'k': no reply is expected.
    end_target();
    return protocol::NoReply{};
}

Result<Response> Session::Impl::handle(const protocol::VKill&) {
    end_target();
    return protocol::OkReply{};
}

}  // namespace hvgdb::gdbstub
