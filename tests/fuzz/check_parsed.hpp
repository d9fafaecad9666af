// What every parser fuzz target checks beyond "no crash": a parser fails only with
// ErrorKind::protocol (the session answers E01 and goes on) and says why.  Depends on
// common/error.hpp.
#pragma once

#include "common/error.hpp"
#include "fuzz.hpp"

namespace hvgdb::fuzz {

template <typename T>
void check_parsed(const Result<T>& parsed) {
    if (parsed) return;
    check(parsed.error().kind == ErrorKind::protocol, "a parser fails with ErrorKind::protocol");
    check(!parsed.error().context.empty(), "a parser's error says why");
}

}  // namespace hvgdb::fuzz
