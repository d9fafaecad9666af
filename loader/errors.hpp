// One-line ErrorKind::invalid errors formatted with {fmt}.  Internal to loader/ (.cpp only).
#pragma once

#include <utility>

#include <fmt/format.h>

#include "common/error.hpp"

namespace hvgdb::loader {

template <typename... Args>
std::unexpected<Error> invalid(fmt::format_string<Args...> format, Args&&... args) {
    return make_error(ErrorKind::invalid, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace hvgdb::loader
