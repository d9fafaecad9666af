// Error value shared by every layer: a kind, an errno where there is one, and context text.
// Depends on the standard library only.
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

namespace hvgdb {

enum class ErrorKind {
    protocol,     // malformed packet from the client: reply E.. or NAK, session goes on
    target,       // non-fatal target failure (bad address, busy): reply Exx
    unsupported,  // the target cannot do this: empty reply
    invalid,      // bad user input (option, image file): one line on stderr, exit code 2
    fatal,        // the session or the machine cannot go on
};

struct Error {
    ErrorKind kind = ErrorKind::fatal;
    int err_no = 0;  // errno of the failed call, 0 when none
    std::string context;

    // Human-readable one line: "context: strerror(errno)".
    std::string message() const {
        if (err_no == 0) return context;
        return context + ": " + std::strerror(err_no);
    }
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> make_error(ErrorKind kind, std::string context, int err_no = 0) {
    return std::unexpected(Error{kind, err_no, std::move(context)});
}

// For wrapping a failed syscall: captures errno at the call site.
inline std::unexpected<Error> errno_error(std::string call) {
    int e = errno;
    return std::unexpected(Error{ErrorKind::fatal, e, std::move(call)});
}

}  // namespace hvgdb
