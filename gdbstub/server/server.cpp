// Asio server: accept -> (stop the machine if it runs) -> Session; read bytes into the
// session, write what it produces; stop events posted from vCPU threads onto this thread.
#include "gdbstub/server/server.hpp"

#include <asio.hpp>
#include <csignal>
#include <deque>
#include <optional>

#include <fmt/format.h>

#include "gdbstub/console_queue.hpp"
#include "gdbstub/session.hpp"

namespace hvgdb::gdbstub {

using asio::ip::tcp;

namespace {
// Output (and early input) a connection may have queued before hvgdb stops reading from it:
// a client that sends without reading cannot make the server grow without bound.
constexpr std::size_t max_queued_bytes = 1 << 20;
// Input goes to the session in slices this small, with the output queue checked between
// them: one `-` (resend) or `m` can produce a whole PacketSize reply, so a slice bounds how
// far past the cap one step can go (16 x 64 KiB).
constexpr std::size_t input_slice = 16;
// Guest console text waiting for the io thread; beyond this it is dropped and counted.
constexpr std::size_t max_console_bytes = 64 * 1024;
}  // namespace

struct Server::Impl {
    Impl(Target& t, ServerOptions o) : target(t), options(std::move(o)), acceptor(io) {
        running = options.target_running;
        last_stop = options.initial_stop;
    }

    struct Connection {
        explicit Connection(tcp::socket s) : socket(std::move(s)) {}
        tcp::socket socket;
        std::unique_ptr<Session> session;
        std::array<std::uint8_t, 64 * 1024> buffer{};
        std::string pending;  // produced, not yet handed to the socket
        std::string in_flight;
        std::string pending_input;  // received, not yet given to the session
        bool writing = false;
        bool reading = false;
        bool close_after_write = false;
        std::size_t queued_output() const { return pending.size() + in_flight.size(); }
        bool queue_full() const {
            return queued_output() >= max_queued_bytes || pending_input.size() >= max_queued_bytes;
        }
    };

    Target& target;
    ServerOptions options;
    asio::io_context io;
    tcp::acceptor acceptor;
    std::shared_ptr<Connection> connection;
    bool running = false;      // the machine runs with no session watching it
    bool attaching = false;    // waiting for the machine to stop for a new connection
    bool target_done = false;  // the guest exited or was killed
    StopEvent last_stop;
    std::optional<int> exit_status;

    // Guest console text from vCPU threads.  One take is posted for what is pushed until
    // it runs, so text written before a stop is handled before that stop (the io_context
    // runs handlers in the order they were posted).
    ConsoleQueue console{max_console_bytes};

    void log(const std::string& text) {
        if (options.log) options.log(text);
    }

    void accept() {
        acceptor.async_accept([this](std::error_code ec, tcp::socket socket) {
            if (ec) {
                if (ec != asio::error::operation_aborted) log("accept failed: " + ec.message());
                return;
            }
            on_accept(std::move(socket));
            accept();
        });
    }

    void on_accept(tcp::socket socket) {
        std::error_code ec;
        auto peer = socket.remote_endpoint(ec);
        std::string who = ec ? "?" : fmt::format("{}:{}", peer.address().to_string(), peer.port());
        if (connection) {
            log(fmt::format("refused a second debugger from {}: one is attached", who));
            socket.close(ec);
            return;
        }
        socket.set_option(tcp::no_delay(true), ec);  // replies are small and latency-bound
        log(fmt::format("debugger attached from {}", who));
        connection = std::make_shared<Connection>(std::move(socket));
        if (running) {
            // The debugger expects a stopped target on connect: stop it first and start the
            // session with that stop.
            attaching = true;
            target.interrupt();
        } else {
            start_session();
        }
        read(connection);
    }

    void start_session() {
        SessionOptions so;
        so.initial_stop = last_stop;
        if (options.log_packets)
            so.log_packet = [this](char dir, std::string_view payload) {
                log(fmt::format("{} {}", dir, payload));
            };
        connection->session = std::make_unique<Session>(target, std::move(so));
    }

    // Reads more unless the connection is gone, already reading, or has too much queued.
    void read(const std::shared_ptr<Connection>& c) {
        if (c != connection || c->reading || c->queue_full()) return;
        c->reading = true;
        c->socket.async_read_some(
            asio::buffer(c->buffer), [this, c](std::error_code ec, std::size_t n) {
                c->reading = false;
                if (c != connection) return;
                if (ec) {
                    close(c, ec == asio::error::eof ? "debugger disconnected"
                                                    : "connection lost: " + ec.message());
                    return;
                }
                c->pending_input.append(reinterpret_cast<const char*>(c->buffer.data()), n);
                process_input(c);
                read(c);
            });
    }

    // Gives received bytes to the session while the output queue has room.  Before the
    // session exists (an attach waiting for its stop) they wait.
    void process_input(const std::shared_ptr<Connection>& c) {
        if (!c->session) return;
        std::size_t used = 0;
        while (used < c->pending_input.size() && c->queued_output() < max_queued_bytes &&
               !c->close_after_write) {
            std::size_t n = std::min(input_slice, c->pending_input.size() - used);
            c->session->receive(std::string_view(c->pending_input).substr(used, n), c->pending);
            used += n;
            after_session_step(c);
        }
        c->pending_input.erase(0, used);
    }

    void after_session_step(const std::shared_ptr<Connection>& c) {
        if (c->session->target_ended() || c->session->finished()) c->close_after_write = true;
        // After D the machine runs again at once (the session detached it), whether or not
        // the OK has gone out yet.
        if (c->session->finished() && !c->session->target_ended()) running = true;
        flush(c);
    }

    void flush(const std::shared_ptr<Connection>& c) {
        if (c->writing) return;
        if (c->pending.empty()) {
            if (c->close_after_write) finish(c);
            return;
        }
        c->in_flight.swap(c->pending);
        c->pending.clear();
        c->writing = true;
        asio::async_write(c->socket, asio::buffer(c->in_flight),
                          [this, c](std::error_code ec, std::size_t) {
                              c->writing = false;
                              c->in_flight.clear();
                              if (ec) {
                                  if (c == connection) close(c, "write failed: " + ec.message());
                                  return;
                              }
                              flush(c);
                              if (c != connection) return;
                              process_input(c);  // input held back while the queue was full
                              read(c);
                          });
    }

    // The session is over by the client's word (D, k) or the target's end (W/X sent).
    void finish(const std::shared_ptr<Connection>& c) {
        bool ended = c->session && c->session->target_ended();
        std::error_code ec;
        c->socket.shutdown(tcp::socket::shutdown_both, ec);
        c->socket.close(ec);
        if (c == connection) connection.reset();
        if (ended || target_done) {
            if (!exit_status) exit_status = 0;
            io.stop();
            return;
        }
        log("debugger detached; the guest runs on");
    }

    void close(const std::shared_ptr<Connection>& c, const std::string& why) {
        log(why);
        std::error_code ec;
        c->socket.close(ec);
        if (c->session) {
            bool ended = c->session->target_ended();
            if (!ended && !c->session->finished()) {
                c->session->on_disconnect();  // breakpoints out, machine resumed
                running = true;
            }
            if (ended) {
                if (!exit_status) exit_status = 0;
                io.stop();
            }
        } else if (attaching) {
            attaching = false;  // the stop still comes; on_stop lets the guest run on
        }
        if (c == connection) connection.reset();
        if (target_done) io.stop();  // the guest has ended and nobody is left to tell
    }

    // Any thread: never blocks on the network.
    void queue_console(std::string_view text) {
        if (console.push(text)) asio::post(io, [this] { forward_console(); });
    }

    // The queued console text goes to a session that waits for a stop reply; otherwise
    // (stopped, non-stop mode, no debugger) it is not forwarded.
    void forward_console() {
        ConsoleQueue::Batch batch = console.take();
        auto c = connection;
        if (!c || !c->session) return;
        if (c->queued_output() >= max_queued_bytes) {
            console.drop(batch);  // the client does not read: queue no more for it
            return;
        }
        if (c->session->console_output(batch.with_drop_lines(), c->pending)) flush(c);
    }

    void on_stop(const StopEvent& e) {
        if (e.kind == StopEvent::Kind::exited) exit_status = e.exit_code;
        if (e.kind == StopEvent::Kind::killed && !exit_status) exit_status = 0;
        if (e.kind != StopEvent::Kind::stopped) target_done = true;
        last_stop = e;
        running = false;
        auto c = connection;
        if (c && !c->session && attaching) {
            // The stop this attach asked for (or the guest's end): the session starts with
            // it, and its `?` reports it.
            attaching = false;
            start_session();
            process_input(c);
            after_session_step(c);
            read(c);
            return;
        }
        if (c && c->session && !c->session->finished()) {
            c->session->on_stop(e, c->pending);
            after_session_step(c);
            return;  // a live session reports the end (W/X) and then closes
        }
        // No debugger is waiting for this stop.
        if (target_done) {
            if (c && (c->writing || !c->pending.empty())) {
                c->close_after_write = true;  // what the client was sent goes out first
                flush(c);
                return;
            }
            io.stop();
            return;
        }
        if (e.reason == StopReason::fault) {
            log("the guest stopped on a fault; attach a debugger to inspect it");
            return;
        }
        // An attach that was abandoned, or a stop already on its way when the debugger left:
        // the guest runs on, as it would have.
        target.detach();
        running = true;
    }
};

Server::Server(Target& target, ServerOptions options)
    : impl_(std::make_unique<Impl>(target, std::move(options))) {
    target.set_stop_sink([impl = impl_.get()](const StopEvent& e) {
        asio::post(impl->io, [impl, e] { impl->on_stop(e); });
    });
    target.set_console_sink(
        [impl = impl_.get()](std::string_view text) { impl->queue_console(text); });
}

Server::~Server() {
    impl_->target.set_console_sink({});
    impl_->target.set_stop_sink({});
}

Result<std::string> Server::listen() {
    std::error_code ec;
    auto address = asio::ip::make_address(impl_->options.host, ec);
    if (ec)
        return make_error(ErrorKind::invalid, fmt::format("bad listen address '{}': {}",
                                                          impl_->options.host, ec.message()));
    tcp::endpoint endpoint(address, impl_->options.port);
    auto& a = impl_->acceptor;
    a.open(endpoint.protocol(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(endpoint, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return make_error(ErrorKind::invalid,
                          fmt::format("cannot listen on {}:{}: {}", impl_->options.host,
                                      impl_->options.port, ec.message()));
    auto bound = a.local_endpoint(ec);
    impl_->accept();
    return fmt::format("{}:{}", bound.address().to_string(), bound.port());
}

int Server::run() {
    // SIGINT and SIGTERM end hvgdb cleanly: vCPU threads joined, guest memory unmapped.
    asio::signal_set signals(impl_->io, SIGINT, SIGTERM);
    signals.async_wait([impl = impl_.get()](std::error_code ec, int signal) {
        if (ec) return;
        impl->log(fmt::format("signal {}: shutting down", signal));
        impl->exit_status = 128 + signal;
        impl->io.stop();
    });
    impl_->io.run();
    return impl_->exit_status.value_or(0);
}

void Server::stop(int status) {
    asio::post(impl_->io, [impl = impl_.get(), status] {
        impl->exit_status = status;
        impl->io.stop();
    });
}

}  // namespace hvgdb::gdbstub
