// "HOST:PORT" as gdb and lldb take it, an IPv6 address in brackets ("[::1]:1234").  Header-only,
// std only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hvgdb {

inline std::string host_port(std::string_view host, std::uint16_t port) {
    std::string name(host);
    if (name.find(':') != std::string::npos) name = "[" + name + "]";
    return name + ":" + std::to_string(port);
}

}  // namespace hvgdb
