// Session internals shared by the handler files: connection state and one handler per
// command type (the overload set is the dispatch table; std::visit picks the row).  Internal
// to gdbstub/.  Depends on protocol/, arch/ and target.hpp.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "gdbstub/protocol/codec.hpp"
#include "gdbstub/protocol/commands.hpp"
#include "gdbstub/protocol/response.hpp"
#include "gdbstub/session.hpp"

namespace hvgdb::gdbstub {

using protocol::Response;

struct Session::Impl {
    Impl(Target& target, SessionOptions options);

    // session.cpp: the packet loop and the one place errors become replies.
    void on_packet(std::string_view payload, std::string& out);
    void send(const Response& response, std::string& out);
    // A non-stop stop notification: `%Stop:<stop reply>`.
    void notify_stop(const StopEvent& event, std::string& out);
    // Console text as O packets of at most `chunk` bytes of text each, ahead of a reply.
    // hvgdb's own notes and monitor output go in small packets, which every client's buffer
    // takes and which show as they arrive.
    void send_console(std::string_view text, std::string& out, std::size_t chunk = 512);
    Response error_response(const Error& error);

    // session_query.cpp: capabilities, threads, target description, memory map.
    Result<Response> handle(const protocol::QuerySupported&);
    Result<Response> handle(const protocol::StartNoAckMode&);
    Result<Response> handle(const protocol::QueryVCont&);
    Result<Response> handle(const protocol::SetThread&);
    Result<Response> handle(const protocol::ThreadAlive&);
    Result<Response> handle(const protocol::QueryCurrentThread&);
    Result<Response> handle(const protocol::QueryThreadExtraInfo&);
    Result<Response> handle(const protocol::QueryThreadList&);
    Result<Response> handle(const protocol::QueryAttached&);
    Result<Response> handle(const protocol::ReadFeatures&);
    Result<Response> handle(const protocol::ReadMemoryMap&);
    Result<Response> handle(const protocol::ReadThreads&);
    // qThreadExtraInfo's text for `thread`, also the body of its qXfer:threads entry.
    std::string describe(ThreadId thread);
    Result<Response> handle(const protocol::QueryMemoryRegion&);
    // The part of a qXfer object's `document` a read asks for, as much as fits one reply.
    protocol::XferReply xfer_window(std::string_view document, std::uint64_t offset,
                                    std::uint64_t length) const;
    Result<Response> handle(const protocol::Monitor&);
    Result<Response> handle(const protocol::Unsupported&);

    // session_data.cpp: registers, memory, breakpoints.
    Result<Response> handle(const protocol::ReadRegisters&);
    Result<Response> handle(const protocol::WriteRegisters&);
    Result<Response> handle(const protocol::ReadRegister&);
    Result<Response> handle(const protocol::WriteRegister&);
    Result<Response> handle(const protocol::ReadMemory&);
    Result<Response> handle(const protocol::WriteMemory&);
    Result<Response> handle(const protocol::Breakpoint&);
    // The thread whose registers g, G, p or P access: the one lldb's thread suffix names, else
    // Hg's.  E.. while it runs (non-stop mode).
    Result<ThreadId> register_thread_of(const std::optional<protocol::ThreadSpec>& suffix) const;

    // session_run.cpp: resuming, stopping, ending.
    Result<Response> handle(const protocol::QueryHaltReason&);
    Result<Response> handle(const protocol::Resume&);
    Result<Response> handle(const protocol::VCont&);
    Result<Response> handle(const protocol::Detach&);
    Result<Response> handle(const protocol::Kill&);
    Result<Response> handle(const protocol::VKill&);
    // D and a dropped connection: the target lets go of the debugger's state and runs on or
    // stays stopped (options.after_detach); the connection closes.
    void release_target();
    // k, vKill and a monitor command that ends the target: the target is killed, the
    // connection closes after this reply and the server shuts down.
    void end_target();
    Response stop_response(const StopEvent& event);
    // pc, sp and fp of a stopped thread, for stop replies; a register that cannot be read is
    // left out.
    std::vector<protocol::StopReply::Register> expedited_registers(ThreadId thread);
    // What a stopped thread reports: its own stop, or no signal when it stopped along with
    // another thread (at attach, or in all-stop mode).
    StopEvent thread_stop(ThreadId thread) const;
    Result<void> start(std::span<const ThreadAction> actions);
    // What a resume packet answers once the threads started: nothing until the stop in
    // all-stop mode, OK at once in non-stop mode.
    Response resumed_reply() const;
    // The debugger's current thread, on the target too (Hg, and a stop in all-stop mode).
    void make_current(ThreadId thread);

    // session_non_stop.cpp: non-stop mode (gdb manual, "Remote Non-Stop" and "Notification
    // Packets").
    Result<Response> handle(const protocol::SetNonStop&);
    Result<Response> handle(const protocol::VStopped&);
    Result<Response> handle(const protocol::VCtrlC&);
    // '?': a new report of every stopped thread, one as the reply, the others as
    // notifications once it is over.
    Response report_stopped_threads();
    // A stop: sent as a notification, or queued behind the one gdb has not acknowledged.
    void queue_stop(const StopEvent& event, std::string& out);
    // After each packet: once a '?' report is over, the stops it held go out.
    void release_held_stops(std::string& out);
    // vCont's rules applied per thread, so that resume() gets only threads to change.
    Result<void> start_non_stop(std::span<const ThreadAction> actions);
    // vCtrlC and 0x03: every running thread stops and reports.
    void interrupt_running();

    // session_lldb.cpp: lldb's extensions (lldb's docs/resources/lldbgdbremote.md).
    Result<Response> handle(const protocol::QueryHostInfo&);
    Result<Response> handle(const protocol::QueryProcessInfo&);
    Result<Response> handle(const protocol::EnableThreadSuffix&);
    Result<Response> handle(const protocol::ListThreadsInStopReply&);
    Result<Response> handle(const protocol::QueryThreadsInfo&);
    Result<Response> handle(const protocol::QueryThreadStopInfo&);
    Result<Response> handle(const protocol::QueryWatchpointSupport&);
    Result<Response> handle(const protocol::QueryServerVersion&);
    Result<Response> handle(const protocol::EnableErrorStrings&);
    // QListThreadsInStopReply's part of a stop reply: every thread, and their pcs while every
    // thread is stopped.
    void list_threads(protocol::StopReply& reply);

    // A thread named by the client: nullopt for "any"/"all", an error for a thread or
    // process that does not exist.
    Result<std::optional<ThreadId>> resolve_thread(const protocol::ThreadSpec& spec) const;

    Target& target;
    SessionOptions options;
    protocol::Codec codec;

    StopEvent last_stop;
    bool running = false;            // resumed; the client waits for a stop reply
    bool finished = false;           // detached or killed: the connection closes
    bool target_ended = false;       // killed, exited or terminated: the server shuts down
    bool released = false;           // detach() or kill() was called on the target
    bool runs_after_detach = false;  // what detach() returned

    ThreadId register_thread = 1;           // Hg: thread for g/G/p/P
    std::optional<ThreadId> resume_thread;  // Hc: thread for legacy s; nullopt = any/all

    // Stop reasons the client asked for in qSupported (gdb manual, "Stop Reply Packets":
    // swbreak/hwbreak are only sent to a client that announced them).
    bool client_swbreak = false;
    bool client_hwbreak = false;
    // lldb asked for every thread in stop replies (QListThreadsInStopReply) and for the text
    // of errors (QEnableErrorStrings).
    bool list_threads_in_stop = false;
    bool error_strings = false;

    // Read-ahead (Session::read_ahead): the `m` to read ahead, and the reply made for it.
    // Not while packets are logged, so that the log shows each reply as it goes out.
    struct ReadAhead {
        protocol::ReadMemory read;
        std::size_t bytes = 0;  // in the reply
        std::string frame;
    };
    std::optional<protocol::ReadMemory> next_read;
    std::optional<ReadAhead> made_ahead;
    // After a reply of `bytes` to `read`: the next read to make ahead, if any.
    void expect_next_read(const protocol::ReadMemory& read, std::size_t bytes);
    // Sends `ahead`, the reply made ahead, if `command` is its `m`.
    bool send_made_ahead(const protocol::Command& command, std::optional<ReadAhead> ahead,
                         std::string& out);

    std::string console;  // monitor output waiting to go out ahead of the reply
    std::map<ThreadId, std::string> thread_descriptions;  // qThreadExtraInfo's last texts

    // Non-stop mode.  gdb acknowledges each stop with vStopped and accepts a new notification
    // only after the OK that ends a report; until then stops wait here.  While the queue is
    // not empty its front has been sent (as %Stop, as the reply to '?' or to vStopped) and
    // waits for its vStopped; a thread with a stop here counts as running for vCont (gdb
    // manual, "Packets", vCont).
    bool non_stop = false;
    std::deque<StopEvent> unacknowledged;
    // '?' reports one stopped thread; the stops of the others, and any stop during that
    // report, wait here and go out as notifications once the report ends (see
    // report_stopped_threads).  A thread with a stop here also counts as running for vCont.
    std::deque<StopEvent> held;
    bool reporting_halt = false;                 // the report '?' started is not over yet
    std::map<ThreadId, StopEvent> thread_stops;  // each stopped thread's stop, for '?'
    // Threads this session resumed whose stop it has not received yet: a thread the target
    // has stopped already still runs for gdb until its stop event gets here.
    std::set<ThreadId> stop_in_flight;
    bool runs(ThreadId thread) const {
        return stop_in_flight.contains(thread) || target.thread_running(thread);
    }
    bool target_gone = false;  // W or X seen (target_ended waits for its ack)

    const arch::Arch* described_arch = nullptr;  // what `description` was generated from
    std::string description;                     // target.xml
    std::string memory_map;                      // the memory-map document, once read
    std::string thread_list;                     // the threads document of the last read
};

}  // namespace hvgdb::gdbstub
