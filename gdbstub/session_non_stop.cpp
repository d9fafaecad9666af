// Non-stop mode (gdb manual, "Remote Non-Stop", "Notification Packets", and "Packets" for
// vCont and vCtrlC): QNonStop, stop notifications and their vStopped acknowledgements, '?'
// as a report of every stopped thread, and resumes that change single threads.
#include <algorithm>
#include <vector>

#include "gdbstub/session_impl.hpp"

namespace hvgdb::gdbstub {

Result<Response> Session::Impl::handle(const protocol::SetNonStop& set) {
    auto changed = target.set_non_stop(set.on);
    if (!changed) return std::unexpected(changed.error());
    // gdb asks '?' after a mode change (gdb manual, "Remote Non-Stop"), so a report still in
    // progress is dropped with the mode it belonged to.
    non_stop = set.on;
    unacknowledged.clear();
    held.clear();
    reporting_halt = false;
    // All-stop has no acknowledgement to wait for: an end already seen ends the session as
    // soon as it is reported, as on_stop does in all-stop mode.
    if (!non_stop && target_gone) target_ended = true;
    return protocol::OkReply{};
}

Result<Response> Session::Impl::handle(const protocol::VStopped&) {
    if (unacknowledged.empty()) {
        reporting_halt = false;
        return protocol::OkReply{};
    }
    StopEvent acknowledged = unacknowledged.front();
    unacknowledged.pop_front();
    if (acknowledged.kind != StopEvent::Kind::stopped) {
        // gdb has the end of the target: the session ends with this OK.
        unacknowledged.clear();
        held.clear();
        target_ended = true;
        finished = true;
    }
    // gdb manual, "Notification Packets": the next queued stop as an ordinary reply, or OK
    // when none is left, after which a new stop goes out as a notification again.
    if (unacknowledged.empty()) {
        reporting_halt = false;
        return protocol::OkReply{};
    }
    return stop_response(unacknowledged.front());
}

Result<Response> Session::Impl::handle(const protocol::VCtrlC&) {
    // In all-stop mode the packet can only come while the target is stopped (packets are
    // ignored while it runs), and a Ctrl-C that finds it stopped is dropped, as 0x03 is.
    if (non_stop) interrupt_running();
    return protocol::OkReply{};
}

void Session::Impl::interrupt_running() {
    if (target_gone) return;
    // With nothing running there is nothing to stop, and no stop may follow.
    auto threads = target.threads();
    if (std::ranges::any_of(threads, [this](ThreadId t) { return runs(t); })) target.interrupt();
}

Response Session::Impl::report_stopped_threads() {
    // gdb manual, "Remote Non-Stop": '?' abandons a report in progress and reports every
    // stopped thread, whether reported before or not; OK when every thread runs.  The manual
    // has the first stop as the reply and the others on vStopped, but gdb 13 fails an
    // internal assertion (remote.c, wait) when its connect takes more than one stopped
    // thread that way.  So the reply is one stop, the thread of the latest stop when it is
    // stopped, and the others go out as notifications once this report is over.
    unacknowledged.clear();
    held.clear();
    reporting_halt = false;
    if (target_gone) {
        unacknowledged.push_back(last_stop);
        return stop_response(last_stop);
    }
    std::deque<StopEvent> stopped;
    for (ThreadId thread : target.threads()) {
        if (runs(thread)) continue;
        StopEvent stop = thread_stop(thread);
        if (thread == last_stop.thread) {
            stopped.push_front(stop);
        } else {
            stopped.push_back(stop);
        }
    }
    if (stopped.empty()) return protocol::OkReply{};
    unacknowledged.push_back(stopped.front());
    stopped.pop_front();
    held = std::move(stopped);
    reporting_halt = true;
    return stop_response(unacknowledged.front());
}

void Session::Impl::release_held_stops(std::string& out) {
    if (reporting_halt || !unacknowledged.empty() || held.empty()) return;
    unacknowledged = std::move(held);
    held.clear();
    notify_stop(unacknowledged.front(), out);
}

void Session::Impl::queue_stop(const StopEvent& event, std::string& out) {
    last_stop = event;
    // The current thread stays: in non-stop mode gdb picks it with Hg itself.  The stop
    // notice (console text) is not sent: gdb takes O packets only while it waits for an
    // all-stop reply.
    if (event.kind == StopEvent::Kind::stopped) {
        thread_stops[event.thread] = event;
        stop_in_flight.erase(event.thread);
    } else {
        target_gone = true;
        stop_in_flight.clear();
    }
    if (reporting_halt) {
        held.push_back(event);
        return;
    }
    unacknowledged.push_back(event);
    // gdb manual, "Notification Packets": one notification at a time; later stops wait for
    // the vStopped that asks for them.
    if (unacknowledged.size() == 1) notify_stop(event, out);
}

Result<void> Session::Impl::start_non_stop(std::span<const ThreadAction> actions) {
    // gdb manual, "Packets", vCont: each thread takes the leftmost action that names it or
    // names no thread.  c and s are ignored for a thread that runs, which includes one whose
    // stop gdb has not acknowledged yet; t is ignored for a stopped thread.  What is left
    // names every thread it changes, so the target leaves all others as they are.
    auto unacknowledged_stop = [this](ThreadId thread) {
        auto names = [thread](const StopEvent& e) {
            return e.kind == StopEvent::Kind::stopped && e.thread == thread;
        };
        return std::ranges::any_of(unacknowledged, names) || std::ranges::any_of(held, names);
    };
    std::vector<ThreadAction> changes;
    for (ThreadId thread : target.threads()) {
        auto action = std::ranges::find_if(
            actions, [thread](const ThreadAction& a) { return !a.thread || *a.thread == thread; });
        if (action == actions.end()) continue;
        const bool running = runs(thread);
        bool ignored =
            action->kind == ResumeKind::stop ? !running : running || unacknowledged_stop(thread);
        if (ignored) continue;
        changes.push_back(*action);
        changes.back().thread = thread;
    }
    if (changes.empty()) return {};
    auto resumed = target.resume(changes);
    if (!resumed) return resumed;
    for (const ThreadAction& change : changes) {
        if (change.kind == ResumeKind::stop) continue;
        thread_stops.erase(*change.thread);
        stop_in_flight.insert(*change.thread);
    }
    return {};
}

}  // namespace hvgdb::gdbstub
