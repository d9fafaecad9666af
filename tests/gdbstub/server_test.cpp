// Server: the sockets around the session, over a fake target and real sockets on this host
// (no KVM): a unix socket (mode 0600, a stale file replaced, a live one or another file left
// alone, removed at the end), one debugger at a time with the second told why in exact wire
// bytes, and connections that send nothing, which must not stop a running target.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fake_target.hpp"
#include "gdbstub/server/server.hpp"
#include "wire.hpp"

using namespace hvgdb;
using namespace hvgdb::gdbstub;
using namespace hvgdb::gdbstub::testing;
using namespace std::chrono_literals;

namespace {

const std::string refusal =
    frame("E.hvgdb serves one debugger at a time, and another one is attached");

sockaddr_un unix_address(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof(address.sun_path) - 1);
    return address;
}

// A blocking client socket whose reads have deadlines.
class Client {
  public:
    static Client tcp(std::uint16_t port) {
        Client c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // connect(2) takes the generic sockaddr; sockaddr_in is one of its forms.
        REQUIRE(::connect(c.fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) ==
                0);
        return c;
    }
    static Client unix_socket(const std::string& path) {
        Client c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un address = unix_address(path);
        // As above: sockaddr_un is a form of sockaddr.
        REQUIRE(::connect(c.fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) ==
                0);
        return c;
    }
    Client(Client&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}
    Client(const Client&) = delete;
    ~Client() {
        if (fd_ >= 0) ::close(fd_);
    }

    void send(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) return;  // the server closed: what it sent is still to be read
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    // Sends `payload` as a packet (after the ack of the last reply) and returns what comes
    // back up to the end of the next packet.
    std::string exchange(std::string_view payload) {
        send("+" + frame(payload));
        return read_packet();
    }

    // Everything up to the end of the next complete packet ("$...#xx"), acks included; what
    // came by the deadline if no packet does.
    std::string read_packet(std::chrono::milliseconds timeout = 5s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            auto hash = buffer_.find('#', buffer_.find('$'));
            if (buffer_.find('$') != std::string::npos && hash != std::string::npos &&
                buffer_.size() >= hash + 3) {
                std::string packet = buffer_.substr(0, hash + 3);
                buffer_.erase(0, hash + 3);
                return packet;
            }
            if (!receive_until(deadline)) return std::exchange(buffer_, {});
        }
    }

    // Reads until the server closes the connection; false if it has not by the deadline.
    bool read_to_end(std::string& received, std::chrono::milliseconds timeout = 5s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!closed_) {
            if (!receive_until(deadline) && !closed_) return false;
        }
        received = std::exchange(buffer_, {});
        return true;
    }

    // Nothing arrives, and the connection stays open, for `time`.
    bool silent_for(std::chrono::milliseconds time) {
        auto deadline = std::chrono::steady_clock::now() + time;
        receive_until(deadline);
        return buffer_.empty() && !closed_;
    }

  private:
    explicit Client(int fd) : fd_(fd) { REQUIRE(fd_ >= 0); }

    // Appends what arrives before the deadline; false on timeout or end of stream.
    bool receive_until(std::chrono::steady_clock::time_point deadline) {
        if (closed_) return false;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        char chunk[4096];
        ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
        if (n <= 0) {
            closed_ = true;  // end of stream, or a reset
            return false;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    int fd_;
    std::string buffer_;
    bool closed_ = false;
};

// A Server over a FakeTarget, run on its own thread; its log lines kept.
struct RunningServer {
    explicit RunningServer(ServerOptions options) {
        options.log = [this](const std::string& line) {
            std::lock_guard lock(mutex);
            lines.push_back(line);
        };
        server = std::make_unique<Server>(target, std::move(options));
    }
    ~RunningServer() { stop(); }

    std::string listen() {
        auto bound = server->listen();
        REQUIRE_MESSAGE(bound, bound.error().message());
        return *bound;
    }
    void start() {
        thread = std::thread([this] { server->run(); });
    }
    // Ends run(); what the server did may be read after this.
    void stop() {
        if (!thread.joinable()) return;
        server->stop(0);
        thread.join();
    }
    std::string log() {
        std::lock_guard lock(mutex);
        std::string all;
        for (const auto& line : lines) all += line + "\n";
        return all;
    }

    std::mutex mutex;  // the log's, which the server (declared after it) may use to the end
    std::vector<std::string> lines;
    FakeTarget target;
    std::unique_ptr<Server> server;
    std::thread thread;
};

std::uint16_t port_of(const std::string& bound) {
    return static_cast<std::uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1)));
}

// 127.0.0.1 on a free port; the target stopped unless `running`.
ServerOptions any_port(bool running = false) {
    ServerOptions options;
    options.port = 0;
    options.target_running = running;
    return options;
}

struct TempDir {
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "hvgdb-server-test.XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string path;
};

}  // namespace

TEST_CASE("unix socket: mode 0600, one debugger at a time, the second told why, file removed") {
    TempDir dir;
    const std::string path = dir.path + "/gdb.sock";
    ServerOptions options;
    options.unix_path = path;
    RunningServer r(options);
    CHECK(r.listen() == path);
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);
    r.start();

    Client first = Client::unix_socket(path);
    CHECK(first.exchange("?").starts_with("+$T05"));

    // The second one's packets (gdb 13 sends these two before it gives up) get the refusal.
    Client second = Client::unix_socket(path);
    CHECK(second.exchange("qSupported:multiprocess+;swbreak+") == "+" + refusal);
    CHECK(second.exchange("vMustReplyEmpty") == "+" + refusal);
    // The first session goes on undisturbed.
    CHECK(first.exchange("m1000,4") == "+" + frame("00010203"));

    r.stop();
    CHECK(r.target.interrupts == 0);
    CHECK(r.target.detaches == 0);
    std::string log = r.log();
    CHECK(log.find(fmt::format("debugger attached from pid {}", ::getpid())) != std::string::npos);
    CHECK(log.find(fmt::format("refused a second debugger from pid {}", ::getpid())) !=
          std::string::npos);
    r.server.reset();
    CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("unix socket: a stale file is replaced; a live socket or another file is refused") {
    TempDir dir;
    const std::string path = dir.path + "/stale.sock";
    {
        // A socket file nobody listens on, as a killed server leaves it.
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address = unix_address(path);
        // bind(2) takes the generic sockaddr; sockaddr_un is one of its forms.
        REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
        ::close(fd);
    }
    REQUIRE(std::filesystem::is_socket(path));
    ServerOptions options;
    options.unix_path = path;
    {
        RunningServer live(options);
        CHECK(live.listen() == path);
        CHECK(live.log() == "replaced the stale socket " + path + ": nothing listened on it\n");

        // Another server for the same path while this one listens (its run() need not run:
        // the kernel queues the probe's connection).
        RunningServer other(options);
        auto refused = other.server->listen();
        REQUIRE_FALSE(refused);
        CHECK(refused.error().kind == ErrorKind::invalid);
        CHECK(refused.error().message() ==
              "cannot listen on unix:" + path + ": a server is listening there (another hvgdb?)");
    }
    // The failed server left the live one's file alone; the live one removed it as it went.
    CHECK_FALSE(std::filesystem::exists(path));

    const std::string plain = dir.path + "/notes.txt";
    std::ofstream(plain) << "keep";
    options.unix_path = plain;
    RunningServer not_socket(options);
    auto refused = not_socket.server->listen();
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message() == "cannot listen on unix:" + plain +
                                           ": the file exists and is not a socket; hvgdb does "
                                           "not replace it");
    std::string content;
    std::ifstream(plain) >> content;
    CHECK(content == "keep");

    for (const std::string& bad :
         {dir.path + "/" + std::string(120, 's'), dir.path + "/no-such-folder/gdb.sock"}) {
        options.unix_path = bad;
        RunningServer r(options);
        auto e = r.server->listen();
        REQUIRE_FALSE(e);
        CHECK(e.error().kind == ErrorKind::invalid);
        CHECK(e.error().message().starts_with("cannot listen on unix:" + bad + ": "));
    }
}

TEST_CASE("a listener opened before the server: a debugger that connects early is served") {
    TempDir dir;
    const std::string path = dir.path + "/early.sock";
    ServerOptions options;
    options.unix_path = path;
    auto listener = Listener::open(options);
    REQUIRE_MESSAGE(listener, listener.error().message());
    CHECK(listener->address() == path);
    REQUIRE(std::filesystem::is_socket(path));
    // Before any Server exists, as while hvgdb builds the machine: the kernel queues it.
    Client early = Client::unix_socket(path);
    early.send("+" + frame("?"));
    {
        FakeTarget target;
        Server server(target, options, std::move(*listener));
        auto bound = server.listen();  // binds nothing again
        REQUIRE_MESSAGE(bound, bound.error().message());
        CHECK(*bound == path);
        std::thread serving([&server] { server.run(); });
        CHECK(early.read_packet().starts_with("+$T05"));
        CHECK(early.exchange("m1000,4") == "+" + frame("00010203"));
        server.stop(0);
        serving.join();
    }
    CHECK_FALSE(std::filesystem::exists(path));

    // A listener that never gets a server (the KVM probe failed, say) leaves no file either.
    {
        auto unused = Listener::open(options);
        REQUIRE(unused);
        CHECK(std::filesystem::is_socket(path));
        // One that binds the same path while it listens is refused, as a Server would be.
        auto second = Listener::open(options);
        REQUIRE_FALSE(second);
        CHECK(second.error().message() ==
              "cannot listen on unix:" + path + ": a server is listening there (another hvgdb?)");
    }
    CHECK_FALSE(std::filesystem::exists(path));

    // A signal while the caller starts up is held: signal() tells of it, and the server that
    // takes the listener ends its run() at once with 128+signal.  Before the listener is gone:
    // until then SIGHUP is the listener's, not the default that ends the process.
    {
        std::vector<std::string> lines;
        ServerOptions logged = options;
        logged.log = [&lines](const std::string& line) { lines.push_back(line); };
        auto held = Listener::open(logged);
        REQUIRE(held);
        CHECK_FALSE(held->signal());
        REQUIRE(::raise(SIGHUP) == 0);
        CHECK(held->signal() == SIGHUP);
        CHECK(held->signal() == SIGHUP);  // asked again: the same
        FakeTarget target;
        Server server(target, logged, std::move(*held));
        CHECK(server.listen() == path);
        CHECK(server.listen() == path);  // again: nothing more bound or started
        CHECK(server.run() == 128 + SIGHUP);
        CHECK(lines == std::vector<std::string>{"signal 1: shutting down"});
    }
    CHECK_FALSE(std::filesystem::exists(path));

    // TCP: the address as bound, with the port the kernel picked.
    auto tcp = Listener::open(any_port());
    REQUIRE(tcp);
    CHECK(tcp->address().starts_with("127.0.0.1:"));
    CHECK(port_of(tcp->address()) != 0);
    auto taken = any_port();
    taken.port = port_of(tcp->address());
    auto clash = Listener::open(taken);
    REQUIRE_FALSE(clash);
    CHECK(clash.error().message().starts_with("cannot listen on 127.0.0.1:" +
                                              std::to_string(taken.port)));
}

// A FakeTarget that keeps the server's console sink, as MachineTarget does, and counts its
// resumes where another thread may wait for them.
struct ConsoleTarget : FakeTarget {
    void set_console_sink(std::function<void(std::string_view)> sink) override {
        console_sink = std::move(sink);
    }
    Result<void> resume(std::span<const ThreadAction> actions) override {
        auto r = FakeTarget::resume(actions);
        resumed.fetch_add(1);
        resumed.notify_all();
        return r;
    }
    std::function<void(std::string_view)> console_sink;
    std::atomic<int> resumed{0};
};

TEST_CASE("console text and stops from another thread arrive in the order they were made") {
    ConsoleTarget target;
    Server server(target, any_port());
    auto bound = server.listen();
    REQUIRE(bound);
    std::thread serving([&server] { server.run(); });
    Client gdb = Client::tcp(port_of(*bound));
    CHECK(gdb.exchange("?").starts_with("+$T05"));
    CHECK(gdb.exchange("QStartNoAckMode") == "+$OK#9a");

    // As a vCPU thread does: the guest writes, then stops; the next round only once the
    // client has the stop.  Text written before a stop comes before it, each time.
    for (int round = 0; round < 200; ++round) {
        gdb.send(frame("vCont;c"));
        // The session takes the resume on the server's thread; until it has, it would not
        // forward the text.
        for (int seen = target.resumed.load(); seen < round + 1; seen = target.resumed.load())
            target.resumed.wait(seen);
        std::thread vcpu([&target, round] {
            const std::string text = fmt::format("line {}\n", round);
            target.console_sink(text.substr(0, 3));
            target.console_sink(text.substr(3));
            StopEvent stop{.thread = 1, .reason = StopReason::sw_break};
            target.mark_stopped(stop);
            target.stop_sink(stop);
        });
        vcpu.join();
        std::string text;
        std::string payload;
        while (true) {
            payload = payload_of(gdb.read_packet());
            if (!payload.starts_with("O")) break;
            for (std::size_t i = 1; i + 1 < payload.size(); i += 2)
                text += static_cast<char>(std::stoi(payload.substr(i, 2), nullptr, 16));
        }
        REQUIRE_MESSAGE(payload.starts_with("T05"), "round " << round << ": " << payload);
        REQUIRE(text == fmt::format("line {}\n", round));
    }
    server.stop(0);
    serving.join();
}

TEST_CASE("a connection that sends nothing leaves a running target alone") {
    RunningServer r(any_port(true));
    // The machine stops when asked to: the stop comes back through the server's sink.
    r.target.on_interrupt = [&r] {
        StopEvent stop;
        stop.signal = 2;
        r.target.stop_sink(stop);
    };
    std::uint16_t port = port_of(r.listen());
    r.start();

    Client bare = Client::tcp(port);
    CHECK(bare.silent_for(300ms));
    // The first to speak is the debugger: the target stops for it, and `?` reports that stop.
    Client gdb = Client::tcp(port);
    CHECK(gdb.exchange("?").starts_with("+$T02"));
    // The one that connected first but said nothing is now a second debugger.
    CHECK(bare.exchange("qC") == "+" + refusal);
    CHECK(gdb.exchange("m1000,2") == "+" + frame("0001"));

    r.stop();
    CHECK(r.target.interrupts == 1);
    std::string log = r.log();
    CHECK(log.find("debugger attached from 127.0.0.1:") != std::string::npos);
    CHECK(log.find("refused a second debugger from 127.0.0.1:") != std::string::npos);
}

TEST_CASE("a refused client gets bounded answers and is closed; lldb's handshake gets none") {
    RunningServer r(any_port());
    std::uint16_t port = port_of(r.listen());
    r.start();
    Client gdb = Client::tcp(port);
    CHECK(gdb.exchange("?").starts_with("+$T05"));

    // lldb's first packet: the ack and the close, no reply.  Later it is a packet like others.
    Client lldb = Client::tcp(port);
    lldb.send("+" + frame("QStartNoAckMode"));
    std::string received;
    CHECK(lldb.read_to_end(received));
    CHECK(received == "+");
    Client other = Client::tcp(port);
    CHECK(other.exchange("qSupported") == "+" + refusal);
    CHECK(other.exchange("QStartNoAckMode") == "+" + refusal);
    CHECK(other.read_to_end(received));
    CHECK(gdb.exchange("m1000,2") == "+" + frame("0001"));

    // Many packets, then a flood of NAKs (each asks for the last reply again).
    Client flood = Client::tcp(port);
    std::string packets;
    for (int i = 0; i < 40; ++i) packets += frame("qC");
    flood.send(packets + std::string(100000, '-'));
    CHECK(flood.read_to_end(received));
    MESSAGE("a refused client got " << received.size() << " bytes");
    CHECK(received.size() <= 4096 + refusal.size() + 1);

    // The same with NAKs from the start.
    Client naks = Client::tcp(port);
    naks.send("+" + frame("qC") + std::string(100000, '-'));
    CHECK(naks.read_to_end(received));
    CHECK(received.size() <= 4096 + refusal.size() + 1);

    // The bound holds over the connection, not per read: one packet, then NAKs a byte at a
    // time, each read asking for one resend.
    Client trickle = Client::tcp(port);
    trickle.send("+" + frame("qC"));
    for (int i = 0; i < 200; ++i) {
        trickle.send("-");
        std::this_thread::sleep_for(2ms);
    }
    CHECK(trickle.read_to_end(received));
    MESSAGE("a trickling refused client got " << received.size() << " bytes");
    CHECK(received.starts_with("+" + refusal + refusal));
    CHECK(received.size() <= 4096 + refusal.size() + 1);

    // The same with packets whose checksum is wrong: each gets a NAK.
    Client bad = Client::tcp(port);
    for (int i = 0; i < 5000; ++i) bad.send("$qC#00");
    CHECK(bad.read_to_end(received));
    CHECK(received == std::string(4096, '-'));

    CHECK(gdb.exchange("m1000,1") == "+" + frame("00"));
}

TEST_CASE("refused clients cannot keep the next debugger out") {
    RunningServer r(any_port());
    r.target.on_interrupt = [&r] {  // the guest runs after the detach: the next attach stops it
        StopEvent stop;
        stop.signal = 2;
        r.target.stop_sink(stop);
    };
    std::uint16_t port = port_of(r.listen());
    r.start();
    auto gdb = std::make_unique<Client>(Client::tcp(port));
    CHECK(gdb->exchange("?").starts_with("+$T05"));
    // Eight clients refused while it is attached, each mid-packet (so not answered, not
    // closed): only the newest four stay.
    std::vector<Client> refused;
    for (int i = 0; i < 8; ++i) {
        refused.push_back(Client::tcp(port));
        refused.back().send("$qSupported");
        std::this_thread::sleep_for(20ms);
    }
    std::string received;
    CHECK(refused.front().read_to_end(received));
    CHECK(received.empty());
    CHECK(refused.back().silent_for(100ms));
    // Silent connections fill what is left, pushing out one another, never the refused.
    std::vector<Client> silent;
    for (int i = 0; i < 8; ++i) silent.push_back(Client::tcp(port));
    CHECK(refused.back().silent_for(100ms));

    CHECK(gdb->exchange("D") == "+" + frame("OK"));
    gdb.reset();
    std::this_thread::sleep_for(100ms);
    Client next = Client::tcp(port);
    CHECK(next.exchange("?").starts_with("+$T02"));
}

TEST_CASE("an attach skips a stop left over from before, and starts with its own") {
    // The target's threads run until the test says they stopped.
    struct LeftoverTarget : FakeTarget {
        std::atomic<bool> runs{true};
        bool thread_running(ThreadId) const override { return runs; }
    };
    LeftoverTarget target;
    std::thread late;
    target.on_interrupt = [&target, &late] {
        // A stop on its way from before the attach (the machine runs on)...
        StopEvent leftover;
        leftover.signal = 5;
        target.stop_sink(leftover);
        // ...then, a little later, the stop the interrupt asked for.
        late = std::thread([&target] {
            std::this_thread::sleep_for(200ms);
            target.runs = false;
            StopEvent stop;
            stop.signal = 2;
            target.stop_sink(stop);
        });
    };
    Server server(target, any_port(true));
    auto bound = server.listen();
    REQUIRE(bound);
    std::thread thread([&server] { server.run(); });
    {
        Client gdb = Client::tcp(port_of(*bound));
        CHECK(gdb.exchange("?").starts_with("+$T02"));
    }
    server.stop(0);
    thread.join();
    if (late.joinable()) late.join();
    CHECK(target.interrupts == 1);
}

TEST_CASE("silent connections beyond the limit: the oldest goes, the next debugger gets in") {
    RunningServer r(any_port());
    std::uint16_t port = port_of(r.listen());
    r.start();
    std::vector<Client> silent;
    for (int i = 0; i < 8; ++i) silent.push_back(Client::tcp(port));
    Client gdb = Client::tcp(port);
    CHECK(gdb.exchange("?").starts_with("+$T05"));
    std::string received;
    CHECK(silent.front().read_to_end(received));  // closed to make room
    CHECK(received.empty());
    CHECK(silent.back().silent_for(100ms));  // the others wait on
}
