// Helpers for the parser tests: parse a payload and expect one command type, or a protocol
// error.
#pragma once

#include <doctest/doctest.h>

#include <string_view>

#include "gdbstub/protocol/parse.hpp"

namespace hvgdb::gdbstub::testing {

template <typename T>
T parsed_as(std::string_view payload) {
    INFO("payload: ", payload);
    auto command = protocol::parse_command(payload);
    REQUIRE(command.has_value());
    REQUIRE(std::holds_alternative<T>(*command));
    return std::get<T>(*command);
}

inline bool malformed(std::string_view payload) {
    auto command = protocol::parse_command(payload);
    return !command && command.error().kind == ErrorKind::protocol;
}

inline bool unsupported(std::string_view payload) {
    auto command = protocol::parse_command(payload);
    return command && std::holds_alternative<protocol::Unsupported>(*command);
}

}  // namespace hvgdb::gdbstub::testing
