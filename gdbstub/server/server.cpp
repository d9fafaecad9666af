// Asio server: accept -> first bytes -> (stop the machine if it runs) -> Session; read bytes
// into the session, write what it produces; stop events from vCPU threads handed to this
// thread through an inbox.  A connection is a debugger only once it speaks: one that sends nothing
// leaves the guest alone, and one that speaks while another debugger is attached is told so and
// closed.
#include "gdbstub/server/server.hpp"

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "gdbstub/console_queue.hpp"
#include "gdbstub/protocol/codec.hpp"
#include "gdbstub/server/sockets.hpp"
#include "gdbstub/session.hpp"

namespace hvgdb::gdbstub {

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
// Connections that are not the debugger (silent so far, or being refused) are closed after
// this long, and there are at most max_visitors of them: a new one closes the oldest silent
// one, so that connecting cannot exhaust hvgdb's descriptors.  At most max_refused of them
// are being refused (a new refusal closes the oldest), so refused clients, which stay
// refused after the debugger leaves, always leave room for the next debugger.
constexpr auto visitor_time_limit = std::chrono::seconds(10);
constexpr std::size_t max_visitors = 8;
constexpr std::size_t max_refused = max_visitors / 2;
// A refused client gets at most this many replies, and this many bytes over the connection's
// life (its acks and resends included), then the connection is closed.  gdb 13 shows both
// replies (to qSupported and vMustReplyEmpty) and gives up.
constexpr int max_refusal_replies = 2;
// lldb's first packet.  lldb 16 shows no server text while it connects, and any reply to this
// one takes it on into its attach sequence, where a connection closed under it can leave it
// hanging for good.  Closed with no reply, the handshake fails at once: "Connection shut down
// by remote side while waiting for reply to initial handshake packet".
constexpr std::string_view lldb_handshake = "QStartNoAckMode";
constexpr std::size_t max_refusal_output = 4096;
// The longest packet a refused client's decoder takes (gdb's qSupported is some 200 bytes);
// a longer one is answered all the same.
constexpr std::size_t refusal_packet_size = 1024;
// What a second debugger is told: gdb shows it as "Remote failure reply: E.<text>".
constexpr std::string_view refusal_reply =
    "E.hvgdb serves one debugger at a time, and another one is attached";

// What vCPU threads hand to the server's thread, in the order they hand it over: stops, and
// a mark where console text was pushed.  Not asio::post: it makes its wakeup of the server's
// thread (an epoll_ctl) while it holds the io_context's lock, and the server's thread, woken
// at once on another CPU, then blocked on that lock at nearly every stop (a futex sleep, and a
// second cross-CPU wakeup to end it).  Here the wakeup is a byte on a pipe, written after the
// inbox's own lock is released; one byte stands for everything queued until the server's
// thread takes it.
class Inbox {
  public:
    // Console text was pushed (ConsoleQueue) and wants a take; or a stop.
    using Item = std::optional<StopEvent>;

    explicit Inbox(asio::io_context& io) : io_(io), reader_(io) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
            throw std::system_error(errno, std::generic_category(), "pipe for the inbox");
        writer_ = fds[1];
        try {
            reader_.assign(fds[0]);
        } catch (...) {
            ::close(fds[0]);
            ::close(fds[1]);
            throw;
        }
    }
    ~Inbox() { ::close(writer_); }
    Inbox(const Inbox&) = delete;
    Inbox& operator=(const Inbox&) = delete;

    // Any thread.
    void push(Item item) {
        bool wake = false;
        {
            std::lock_guard lock(mutex_);
            items_.push_back(std::move(item));
            wake = !signalled_;
            signalled_ = true;
        }
        if (wake) {
            const char byte = 1;
            // A full pipe already holds a wakeup: nothing is lost.
            [[maybe_unused]] auto n = ::write(writer_, &byte, 1);
        }
    }

    // Server's thread: `handle` gets every item, in order, each time some arrive.  Once the
    // io_context is stopped (hvgdb is ending) what is left is not handled, and serving ends.
    // `fail` gets an error of the pipe itself, which ends serving too.
    template <typename Handler, typename Failure>
    void serve(Handler handle, Failure fail) {
        reader_.async_read_some(asio::buffer(bytes_),
                                [this, handle, fail](std::error_code ec, std::size_t) mutable {
                                    if (ec == asio::error::operation_aborted) return;
                                    if (ec) return fail(ec);
                                    take();
                                    for (const Item& item : taking_) {
                                        if (io_.stopped()) break;
                                        handle(item);
                                    }
                                    taking_.clear();
                                    if (!io_.stopped()) serve(std::move(handle), std::move(fail));
                                });
    }

  private:
    void take() {
        // After the byte's read: an item pushed from here on writes a new byte, and one
        // pushed before is taken now.  The two vectors trade places, keeping their memory.
        std::lock_guard lock(mutex_);
        signalled_ = false;
        items_.swap(taking_);
    }

    asio::io_context& io_;
    asio::posix::stream_descriptor reader_;
    int writer_ = -1;
    std::mutex mutex_;
    std::vector<Item> items_;
    bool signalled_ = false;    // a byte is on its way for what is queued
    std::vector<Item> taking_;  // server's thread only
    std::array<char, 64> bytes_{};
};

}  // namespace

// The io_context and what listens on it.  Made before the Server when a Listener is opened
// first; otherwise by the Server, and bound by its listen().
struct Listener::State {
    asio::io_context io;
    StreamAcceptor acceptor{io};
    std::unique_ptr<SocketFile> socket_file;  // a unix socket's, removed with the listener
    // Installed once bound: a signal from then on ends hvgdb cleanly (vCPU threads joined,
    // guest memory unmapped, the socket file removed), also one that comes before run().
    std::optional<asio::signal_set> signals;
    std::optional<int> caught;           // the signal since the bind, once handled
    std::function<void(int)> on_signal;  // the server's, from its listen() on
    std::function<void(const std::string&)> log;
    std::string address;     // as bound; empty until then
    bool accepting = false;  // a server's listen() has started its accept loop

    Result<void> bind(const ServerOptions& o) {
        if (o.unix_path.empty()) {
            auto tcp = listen_tcp(acceptor, o.host, o.port);
            if (!tcp) return std::unexpected(tcp.error());
            address = *tcp;
        } else {
            auto file = listen_unix(acceptor, o.unix_path, o.log);
            if (!file) return std::unexpected(file.error());
            socket_file = std::move(*file);
            address = o.unix_path;
        }
        log = o.log;
        // One signal ends hvgdb: the wait is not made again.
        signals.emplace(io, SIGINT, SIGTERM, SIGHUP);
        signals->async_wait([this](std::error_code ec, int signal) {
            if (ec) return;
            caught = signal;
            if (log) log(fmt::format("signal {}: shutting down", signal));
            if (on_signal) on_signal(signal);
        });
        return {};
    }
};

Listener::Listener(std::unique_ptr<State> state) : state_(std::move(state)) {}
Listener::Listener(Listener&&) noexcept = default;
Listener& Listener::operator=(Listener&&) noexcept = default;
Listener::~Listener() = default;

Result<Listener> Listener::open(const ServerOptions& options) {
    auto state = std::make_unique<State>();
    if (auto r = state->bind(options); !r) return std::unexpected(r.error());
    return Listener(std::move(state));
}

const std::string& Listener::address() const {
    return state_->address;
}

std::optional<int> Listener::signal() {
    // No server has the io_context yet: only the signal's handler can be ready.
    state_->io.poll();
    if (state_->io.stopped()) state_->io.restart();
    return state_->caught;
}

struct Server::Impl {
    Impl(Target& t, ServerOptions o, std::unique_ptr<Listener::State> l)
        : target(t),
          options(std::move(o)),
          listening(std::move(l)),
          io(listening->io),
          acceptor(listening->acceptor),
          accept_retry(io) {
        running = options.target_running;
        last_stop = options.initial_stop;
    }

    struct Connection {
        enum class Role {
            visitor,   // has sent nothing yet: not a debugger (maybe a port scan)
            debugger,  // the one being served
            refused,   // spoke while another debugger was attached: told so, then closed
        };
        Connection(Stream::socket s, std::string w)
            : socket(std::move(s)), who(std::move(w)), timer(socket.get_executor()) {}
        Stream::socket socket;
        std::string who;  // the peer, for log lines
        Role role = Role::visitor;
        asio::steady_timer timer;  // a visitor's time limit
        std::unique_ptr<Session> session;
        std::optional<protocol::Codec> refusal;  // Role::refused: acks and frames its replies
        int refusal_replies = 0;
        std::size_t refusal_output = 0;  // bytes queued for it in all, resends included
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
    std::unique_ptr<Listener::State> listening;
    asio::io_context& io;
    StreamAcceptor& acceptor;
    asio::steady_timer accept_retry;  // after a failed accept (out of descriptors)
    bool accept_failing = false;
    std::shared_ptr<Connection> connection;             // the debugger
    std::vector<std::shared_ptr<Connection>> visitors;  // the other connections, oldest first
    bool visitors_full = false;  // said that connections are being closed for room
    bool running = false;        // the machine runs with no session watching it
    bool attaching = false;      // waiting for the machine to stop for a new connection
    bool target_done = false;    // the guest exited or was killed
    StopEvent last_stop;
    std::optional<int> exit_status;

    // Guest console text from vCPU threads.  One take goes into the inbox for what is
    // pushed until it runs, so text written before a stop is handled before that stop (the
    // inbox keeps the order of stops and takes).
    ConsoleQueue console{max_console_bytes};
    Inbox inbox{io};  // declared after `io`'s owner, and destroyed before it

    void log(const std::string& text) {
        if (options.log) options.log(text);
    }

    void accept() {
        acceptor.async_accept([this](std::error_code ec, Stream::socket socket) {
            if (ec == asio::error::operation_aborted) return;
            if (ec) {
                // Out of descriptors, say: try again in a while rather than never.
                if (!accept_failing) log("accept failed: " + ec.message() + "; trying on");
                accept_failing = true;
                accept_retry.expires_after(std::chrono::milliseconds(100));
                accept_retry.async_wait([this](std::error_code e) {
                    if (!e) accept();
                });
                return;
            }
            accept_failing = false;
            on_accept(std::move(socket));
            accept();
        });
    }

    // A new connection is a visitor until its first bytes.
    void on_accept(Stream::socket socket) {
        std::error_code ec;
        std::string who = peer_name(socket);
        if (visitors.size() >= max_visitors) {
            if (!visitors_full)
                log(fmt::format(
                    "{} connections wait to speak or to be closed; closing the oldest silent "
                    "ones to make room (logged once until there is room again)",
                    visitors.size()));
            visitors_full = true;
            // max_refused < max_visitors: one of them is silent.  A copy: end_visitor erases
            // from `visitors`.
            auto victim = oldest(Connection::Role::visitor);
            if (!victim) victim = visitors.front();
            end_visitor(victim, "");
        } else {
            visitors_full = false;
        }
        if (auto local = socket.local_endpoint(ec); !ec && is_ip(local))
            socket.set_option(asio::ip::tcp::no_delay(true), ec);  // small latency-bound replies
        socket.non_blocking(true, ec);  // flush() writes what the socket takes, never waits
        auto c = std::make_shared<Connection>(std::move(socket), std::move(who));
        visitors.push_back(c);
        c->timer.expires_after(visitor_time_limit);
        c->timer.async_wait([this, c](std::error_code e) {
            if (e || !is_visitor(c)) return;
            end_visitor(c, c->role == Connection::Role::visitor
                               ? fmt::format("closed the connection from {}: it sent nothing "
                                             "in {} s",
                                             c->who, visitor_time_limit.count())
                               : "");
        });
        read(c);
    }

    // Its first bytes make a visitor the debugger, unless one is attached.
    void on_first_bytes(const std::shared_ptr<Connection>& c) {
        if (connection) {
            log(fmt::format("refused a second debugger from {}: the one from {} is attached",
                            c->who, connection->who));
            if (std::ranges::count_if(visitors, [](const auto& v) {
                    return v->role == Connection::Role::refused;
                }) >= static_cast<std::ptrdiff_t>(max_refused))
                end_visitor(oldest(Connection::Role::refused), "");
            c->role = Connection::Role::refused;
            c->refusal.emplace(refusal_packet_size);
            return;
        }
        std::erase(visitors, c);
        c->timer.cancel();
        c->role = Connection::Role::debugger;
        connection = c;
        log(fmt::format("debugger attached from {}", c->who));
        if (running) {
            // The debugger expects a stopped target on connect: stop it first and start the
            // session with that stop.
            attaching = true;
            target.interrupt();
        } else {
            start_session();
        }
    }

    // The oldest visitor in `role`; null if none is.
    std::shared_ptr<Connection> oldest(Connection::Role role) const {
        auto it = std::ranges::find_if(visitors, [role](const auto& v) { return v->role == role; });
        return it == visitors.end() ? nullptr : *it;
    }

    // Answers each packet of a refused client with the refusal, within bounds kept over the
    // connection's life (a client that sends `-` a byte at a time gets no more).
    void refuse(const std::shared_ptr<Connection>& c, std::string_view bytes) {
        for (char byte : bytes) {
            if (c->close_after_write) break;  // what comes after the last answer is dropped
            const std::size_t before = c->pending.size();
            auto in = c->refusal->feed(static_cast<std::uint8_t>(byte), c->pending);
            if (in && in->kind == protocol::Inbound::Kind::packet && c->refusal_replies == 0 &&
                in->text == lldb_handshake) {
                c->close_after_write = true;  // only the '+' the codec queued goes out
                break;
            }
            if (in && in->kind != protocol::Inbound::Kind::interrupt) {
                c->refusal->send(refusal_reply, c->pending);
                ++c->refusal_replies;
            }
            c->refusal_output += c->pending.size() - before;
            if (c->refusal_replies >= max_refusal_replies ||
                c->refusal_output >= max_refusal_output)
                c->close_after_write = true;
        }
        flush(c);
    }

    // Closes a connection that is not the debugger; `why` is logged unless empty.
    void end_visitor(const std::shared_ptr<Connection>& c, const std::string& why) {
        if (!why.empty()) log(why);
        std::error_code ec;
        c->timer.cancel();
        c->socket.close(ec);
        std::erase(visitors, c);
    }

    bool is_visitor(const std::shared_ptr<Connection>& c) const {
        return std::find(visitors.begin(), visitors.end(), c) != visitors.end();
    }
    // Whether handlers for `c` still have work: it is the debugger or a visitor.
    bool live(const std::shared_ptr<Connection>& c) const {
        return c == connection || is_visitor(c);
    }

    void start_session() {
        SessionOptions so;
        so.initial_stop = last_stop;
        so.after_detach = options.after_detach;
        if (options.log_packets)
            so.log_packet = [this](char dir, std::string_view payload) {
                log(fmt::format("{} {}", dir, payload));
            };
        connection->session = std::make_unique<Session>(target, std::move(so));
    }

    // Reads more unless the connection is gone, already reading, or has too much queued.
    void read(const std::shared_ptr<Connection>& c) {
        if (!live(c) || c->reading || c->queue_full()) return;
        c->reading = true;
        c->socket.async_read_some(
            asio::buffer(c->buffer), [this, c](std::error_code ec, std::size_t n) {
                c->reading = false;
                if (!live(c)) return;
                if (ec) {
                    close(c, ec == asio::error::eof ? "debugger disconnected"
                                                    : "connection lost: " + ec.message());
                    return;
                }
                // The buffer holds bytes; the session and codec take them as chars.
                std::string_view bytes(reinterpret_cast<const char*>(c->buffer.data()), n);
                if (c->role == Connection::Role::visitor) on_first_bytes(c);
                if (c->role == Connection::Role::refused) {
                    refuse(c, bytes);
                } else {
                    c->pending_input.append(bytes);
                    process_input(c);
                }
                read(c);
                read_ahead(c);
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
        // After D the machine runs again at once or stays stopped (the session detached it),
        // whether or not the OK has gone out yet.
        if (c->session->finished() && !c->session->target_ended())
            running = c->session->runs_after_detach();
        flush(c);
    }

    void flush(const std::shared_ptr<Connection>& c) {
        if (c->writing) return;
        // Most replies fit in the socket's send buffer: written here, with no completion to
        // run.  The rest, or an error (which async_write then reports), goes out below.
        if (!c->pending.empty()) {
            std::error_code ec;
            const std::size_t n = c->socket.write_some(asio::buffer(c->pending), ec);
            if (!ec) c->pending.erase(0, n);
        }
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
                                  if (live(c)) close(c, "write failed: " + ec.message());
                                  return;
                              }
                              flush(c);
                              if (!live(c)) return;
                              process_input(c);  // input held back while the queue was full
                              read(c);
                              read_ahead(c);
                          });
    }

    // Once a reply is all with the kernel and no input waits: the session's read-ahead, in a
    // handler of its own, after whatever is ready to run.
    void read_ahead(const std::shared_ptr<Connection>& c) {
        if (!c->session || c->writing || !c->pending.empty() || !c->pending_input.empty() ||
            !c->session->wants_read_ahead())
            return;
        asio::post(io, [this, c] {
            if (c == connection && c->session && c->pending_input.empty()) c->session->read_ahead();
        });
    }

    // The session is over by the client's word (D, k) or the target's end (W/X sent); or a
    // refused client has had its answers.
    void finish(const std::shared_ptr<Connection>& c) {
        // Once: a reply written at once finishes in flush(), which may be called again.
        if (!live(c)) return;
        if (c->role != Connection::Role::debugger) {
            end_visitor(c, "");
            return;
        }
        bool ended = c->session && c->session->target_ended();
        std::error_code ec;
        c->socket.shutdown(Stream::socket::shutdown_both, ec);
        c->socket.close(ec);
        if (c == connection) connection.reset();
        if (ended || target_done) {
            if (!exit_status) exit_status = 0;
            io.stop();
            return;
        }
        log(options.after_detach == AfterDetach::run
                ? "debugger detached; the guest runs on"
                : "debugger detached; the guest stays stopped for the next debugger");
    }

    void close(const std::shared_ptr<Connection>& c, const std::string& why) {
        if (c->role != Connection::Role::debugger) {
            end_visitor(c, "");  // it was never attached: nothing to undo, nothing to say
            return;
        }
        log(why);
        std::error_code ec;
        c->socket.close(ec);
        if (c->session) {
            bool ended = c->session->target_ended();
            if (!ended && !c->session->finished()) {
                c->session->on_disconnect();  // breakpoints out, machine resumed or stopped
                running = c->session->runs_after_detach();
            }
            if (ended) {
                if (!exit_status) exit_status = 0;
                io.stop();
            }
        } else if (attaching) {
            attaching = false;  // the stop still comes; on_stop detaches (--on-detach)
        }
        if (c == connection) connection.reset();
        if (target_done) io.stop();  // the guest has ended and nobody is left to tell
    }

    bool target_runs() const {
        return std::ranges::any_of(target.threads(),
                                   [this](ThreadId t) { return target.thread_running(t); });
    }

    // Any thread: never blocks on the network.
    void queue_console(std::string_view text) {
        if (console.push(text)) inbox.push(std::nullopt);
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
        // A stop that was on its way when the last debugger left, which has resumed the
        // machine since: an attach waits on for the stop it asked for.
        if (attaching && e.kind == StopEvent::Kind::stopped && target_runs()) return;
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
        // the guest runs on or stays stopped, as after a detach.
        running = target.detach(options.after_detach);
    }
};

Server::Server(Target& target, ServerOptions options)
    : Server(target, std::move(options), Listener(std::make_unique<Listener::State>())) {}

Server::Server(Target& target, ServerOptions options, Listener listener)
    : impl_(std::make_unique<Impl>(target, std::move(options), std::move(listener.state_))) {
    assert(impl_->listening && "a Server needs a Listener that has not been moved from");
    impl_->inbox.serve(
        [impl = impl_.get()](const Inbox::Item& item) {
            if (item)
                impl->on_stop(*item);
            else
                impl->forward_console();
        },
        [impl = impl_.get()](std::error_code ec) {
            // No stop could reach the debugger any more: end rather than hang it.
            impl->log("cannot take stops from the vCPU threads (" + ec.message() +
                      "); shutting down");
            impl->exit_status = 1;
            impl->io.stop();
        });
    target.set_stop_sink([impl = impl_.get()](const StopEvent& e) { impl->inbox.push(e); });
    target.set_console_sink(
        [impl = impl_.get()](std::string_view text) { impl->queue_console(text); });
}

Server::~Server() {
    impl_->target.set_console_sink({});
    impl_->target.set_stop_sink({});
}

Result<std::string> Server::listen() {
    Listener::State& l = *impl_->listening;
    if (l.accepting) return l.address;
    if (l.address.empty())
        if (auto r = l.bind(impl_->options); !r) return std::unexpected(r.error());
    l.on_signal = [impl = impl_.get()](int signal) {
        impl->exit_status = 128 + signal;
        impl->io.stop();
    };
    if (l.caught) l.on_signal(*l.caught);  // came while the caller was starting: run() ends
    l.accepting = true;
    impl_->accept();
    return l.address;
}

int Server::run() {
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
