// Listening sockets and peer names for the server.  See sockets.hpp.
#include "gdbstub/server/sockets.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "common/host_port.hpp"

namespace hvgdb::gdbstub {

namespace {

std::unexpected<Error> cannot_listen(const std::string& where, const std::string& why) {
    return make_error(ErrorKind::invalid, fmt::format("cannot listen on {}: {}", where, why));
}

// SO_PEERCRED (unix(7)) as an Asio socket option: the process that connected.
struct PeerCredentials {
    ucred value{};
    template <class Protocol>
    int level(const Protocol&) const {
        return SOL_SOCKET;
    }
    template <class Protocol>
    int name(const Protocol&) const {
        return SO_PEERCRED;
    }
    template <class Protocol>
    ucred* data(const Protocol&) {
        return &value;
    }
    template <class Protocol>
    const ucred* data(const Protocol&) const {
        return &value;
    }
    template <class Protocol>
    std::size_t size(const Protocol&) const {
        return sizeof(value);
    }
    template <class Protocol>
    void resize(const Protocol&, std::size_t) {}
};

std::string process_name(pid_t pid) {
    std::ifstream comm(fmt::format("/proc/{}/comm", pid));
    std::string name;
    std::getline(comm, name);
    return name;
}

// What is at `path` now: nothing (fine), a socket nobody listens on (removed: a server that
// was killed left it), or something that stays (an error).  Returns whether it removed one.
Result<bool> remove_stale_socket(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return false;
        return cannot_listen("unix:" + path, std::strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode))
        return cannot_listen("unix:" + path,
                             "the file exists and is not a socket; hvgdb does "
                             "not replace it");
    // A plain non-blocking connect: a live server whose backlog is full answers EAGAIN at
    // once (Asio's connect would wait for it).
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0) return cannot_listen("unix:" + path, std::strerror(errno));
    asio::local::stream_protocol::endpoint address(path);
    int connected = ::connect(probe, address.data(), static_cast<socklen_t>(address.size()));
    std::error_code ec(connected == 0 ? 0 : errno, std::system_category());
    ::close(probe);
    if (!ec || ec == std::errc::operation_would_block ||
        ec == std::errc::resource_unavailable_try_again || ec == std::errc::operation_in_progress)
        return cannot_listen("unix:" + path, "a server is listening there (another hvgdb?)");
    if (ec != std::errc::connection_refused)
        return cannot_listen("unix:" + path,
                             "a socket is there and connecting to it to see whether it is in "
                             "use failed: " +
                                 ec.message());
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return cannot_listen("unix:" + path, fmt::format("cannot remove the stale socket: {}",
                                                         std::strerror(errno)));
    return true;
}

}  // namespace

SocketFile::SocketFile(std::string path, dev_t device, ino_t inode)
    : path_(std::move(path)), device_(device), inode_(inode) {}

SocketFile::~SocketFile() {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == device_ && st.st_ino == inode_)
        ::unlink(path_.c_str());
}

Result<std::string> listen_tcp(StreamAcceptor& acceptor, const std::string& host,
                               std::uint16_t port) {
    std::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec)
        return make_error(ErrorKind::invalid,
                          fmt::format("bad listen address '{}': {}", host, ec.message()));
    Stream::endpoint endpoint{asio::ip::tcp::endpoint(address, port)};
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return cannot_listen(endpoint_name(endpoint), ec.message());
    auto bound = acceptor.local_endpoint(ec);
    return endpoint_name(ec ? endpoint : bound);
}

Result<std::unique_ptr<SocketFile>> listen_unix(
    StreamAcceptor& acceptor, const std::string& path,
    const std::function<void(const std::string&)>& log) {
    const std::string where = "unix:" + path;
    constexpr std::size_t max_path = sizeof(sockaddr_un::sun_path) - 1;
    if (path.empty()) return cannot_listen(where, "the socket path is empty");
    if (path.size() > max_path)
        return cannot_listen(where, fmt::format("the path is {} bytes long; a unix socket's "
                                                "address holds at most {}",
                                                path.size(), max_path));
    auto removed = remove_stale_socket(path);
    if (!removed) return std::unexpected(removed.error());
    if (*removed && log)
        log(fmt::format("replaced the stale socket {}: nothing listened on it", path));

    // The file is born mode 0600: bind() creates it under the umask, so there is no moment in
    // which others may connect (a chmod after bind would also follow a symlink put in its
    // place).  The umask is the process's, but no other hvgdb thread creates files.
    Stream::endpoint endpoint{asio::local::stream_protocol::endpoint(path)};
    std::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (ec) return cannot_listen(where, ec.message());
    mode_t saved = ::umask(0177);
    acceptor.bind(endpoint, ec);
    ::umask(saved);
    if (ec) return cannot_listen(where, ec.message());
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return cannot_listen(where,
                             fmt::format("the socket file is gone: {}", std::strerror(errno)));
    // From here on a failure removes the file.
    auto file = std::make_unique<SocketFile>(path, st.st_dev, st.st_ino);
    if ((st.st_mode & 0777) != 0600)
        return cannot_listen(
            where, fmt::format("the socket file has mode {:o}, not 600", st.st_mode & 0777));
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return cannot_listen(where, ec.message());
    return file;
}

std::string endpoint_name(const Stream::endpoint& endpoint) {
    if (!is_ip(endpoint)) return "?";
    asio::ip::tcp::endpoint ip;
    if (endpoint.size() > ip.capacity()) return "?";
    // Same sockaddr bytes, read through the IP endpoint type that knows their layout.
    std::memcpy(ip.data(), endpoint.data(), endpoint.size());
    ip.resize(endpoint.size());
    return host_port(ip.address().to_string(), ip.port());
}

bool is_ip(const Stream::endpoint& endpoint) {
    int family = endpoint.protocol().family();
    return family == AF_INET || family == AF_INET6;
}

std::string peer_name(Stream::socket& socket) {
    std::error_code ec;
    auto peer = socket.remote_endpoint(ec);
    if (ec) return "?";
    if (is_ip(peer)) return endpoint_name(peer);
    PeerCredentials credentials;
    socket.get_option(credentials, ec);
    if (ec) return "a local process";
    std::string name = process_name(credentials.value.pid);
    return fmt::format("pid {}{}, uid {}", credentials.value.pid,
                       name.empty() ? "" : " (" + name + ")", credentials.value.uid);
}

}  // namespace hvgdb::gdbstub
