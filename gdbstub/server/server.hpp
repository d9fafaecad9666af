// The network side of the stub: an Asio listener (TCP or a unix-domain socket) with one
// debugger connection at a time, feeding bytes and stop events to a Session on one io_context
// thread.  The only code that includes Asio (with sockets.*).  Depends on session.hpp and
// target.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "gdbstub/target.hpp"

namespace hvgdb::gdbstub {

struct ServerOptions {
    std::string host = "127.0.0.1";  // an IP address
    std::uint16_t port = 1234;       // 0 picks a free port
    // When set, a unix-domain stream socket at this path instead of host:port: mode 0600, a
    // stale socket file replaced, removed when the server goes.
    std::string unix_path;
    bool log_packets = false;
    bool target_running = false;  // the machine already runs (no stop at the first instruction)
    StopEvent initial_stop;       // what `?` reports while the machine has not run yet
    // After D or a dropped connection: the guest runs on, or stays stopped for the next
    // debugger (--on-detach).
    AfterDetach after_detach = AfterDetach::run;
    // Where the server's own messages go (stderr in hvgdb).
    std::function<void(const std::string&)> log;
};

// The listening socket on its own, for a caller that can listen before it has a Target:
// hvgdb binds before it probes KVM and builds the machine, so it listens within a few
// milliseconds of its start, and a debugger that connects meanwhile waits in the backlog.
class Listener {
  public:
    // Binds and listens as `options` says (host and port, or unix_path; log), as
    // Server::listen() does.  From then on SIGINT, SIGTERM and SIGHUP are held: the first
    // is logged ("signal N: shutting down"), signal() tells of it, and the server that takes
    // this listener ends its run() at once with 128+signal.
    static Result<Listener> open(const ServerOptions& options);
    Listener(Listener&&) noexcept;
    Listener& operator=(Listener&&) noexcept;
    ~Listener();  // closes the socket and removes a unix socket's file
    // "host:port" as bound (the real port when 0 was asked, "[v6]:port" for IPv6), or the
    // unix socket's path.
    const std::string& address() const;
    // The SIGINT, SIGTERM or SIGHUP that came since open(), for a caller that checks between
    // the steps of its start-up (before a Server has this listener).
    std::optional<int> signal();

  private:
    friend class Server;
    struct State;
    explicit Listener(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

class Server {
  public:
    Server(Target& target, ServerOptions options);
    // Serves on a listener opened before (with the same options): listen() binds nothing.
    Server(Target& target, ServerOptions options, Listener listener);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and listens, unless the server was given a Listener, and starts accepting.
    // Returns "host:port" as bound (the real port when 0 was asked, "[v6]:port" for IPv6),
    // or the unix socket's path.  From then on SIGINT, SIGTERM and SIGHUP end run() (at
    // once, or when it starts) with 128+signal.
    Result<std::string> listen();

    // Serves until the target ends (the guest exits, the debugger kills it) or stop() is
    // called.  Returns the guest's exit code, 0 after a kill, or 128+signal after stop().
    // The first connection to send a byte is the debugger; one that sends nothing does not
    // stop the guest, and one that speaks while a debugger is attached gets an error reply
    // to its packets and is closed, the debugger undisturbed.
    int run();

    // From any thread (e.g. a signal handler's reactor): ends run() with that status.
    void stop(int status);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace hvgdb::gdbstub
