// The server's sockets, TCP or unix-domain, as one Asio protocol type
// (asio::generic::stream_protocol) so that the connection logic is written once: opening the
// listening socket (a unix socket's file made mode 0600 and removed at exit, a stale one
// replaced), and naming peers for log lines.  Server-internal (includes Asio); depends on
// common/error.hpp.
#pragma once

#include <sys/types.h>

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/error.hpp"

namespace hvgdb::gdbstub {

using Stream = asio::generic::stream_protocol;
using StreamAcceptor = asio::basic_socket_acceptor<Stream>;

// A unix socket's file that this server created: removed when this object goes, unless its
// path names another file by then (a later server's, say).
class SocketFile {
  public:
    SocketFile(std::string path, dev_t device, ino_t inode);
    ~SocketFile();
    SocketFile(const SocketFile&) = delete;
    SocketFile& operator=(const SocketFile&) = delete;

  private:
    std::string path_;
    dev_t device_;
    ino_t inode_;
};

// Binds `acceptor` to HOST:PORT (an IP address; SO_REUSEADDR) and listens.  Returns the
// bound address as endpoint_name() writes it (the real port when 0 was asked).
Result<std::string> listen_tcp(StreamAcceptor& acceptor, const std::string& host,
                               std::uint16_t port);

// Binds `acceptor` to a unix-domain stream socket at `path`, mode 0600 from its creation on
// (connecting needs write permission on the file, unix(7)), and listens.  A socket file
// already at `path` that nobody listens on is replaced (a killed server's; `log` says so);
// a live one, or a file that is not a socket, is an error.
Result<std::unique_ptr<SocketFile>> listen_unix(StreamAcceptor& acceptor, const std::string& path,
                                                const std::function<void(const std::string&)>& log);

// An IP endpoint as "ADDRESS:PORT" or "[IPv6]:PORT"; "?" for other kinds.
std::string endpoint_name(const Stream::endpoint& endpoint);

// Whether the socket is TCP (TCP_NODELAY applies).
bool is_ip(const Stream::endpoint& endpoint);

// Who is at the other end, for log lines: "127.0.0.1:40000", or on a unix socket the process
// from SO_PEERCRED: "pid 1234 (gdb), uid 1000".
std::string peer_name(Stream::socket& socket);

}  // namespace hvgdb::gdbstub
