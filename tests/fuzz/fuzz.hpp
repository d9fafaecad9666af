// What the fuzz targets share: the libFuzzer entry point each defines, check() for the
// properties a target asserts beyond "no crash", and Input, which takes a target's option
// bytes off the front of an input.  Depends on the standard library only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <source_location>
#include <span>
#include <string_view>

// libFuzzer's entry point: one input, return 0 (libFuzzer's "keep it" value).  driver.cpp's
// main() calls it in the plain build; libFuzzer's own main() in the fuzzing build.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace hvgdb::fuzz {

// A property of the code under test that an input broke: says which and aborts, so that
// libFuzzer keeps the input as a crash and the corpus driver fails its test.
inline void check(bool holds, std::string_view what,
                  std::source_location where = std::source_location::current()) {
    if (holds) return;
    std::fprintf(stderr, "fuzz check failed: %.*s (%s:%u)\n", static_cast<int>(what.size()),
                 what.data(), where.file_name(), static_cast<unsigned>(where.line()));
    std::abort();
}

// An input read from the front: option bytes first, then the rest as the data under test.
// Reading past the end gives zeros, so every input is a valid one.
class Input {
  public:
    Input(const std::uint8_t* data, std::size_t size) : bytes_(data, size) {}

    std::uint8_t byte() {
        if (bytes_.empty()) return 0;
        std::uint8_t value = bytes_.front();
        bytes_ = bytes_.subspan(1);
        return value;
    }
    // Little-endian, `count` bytes (at most 8).
    std::uint64_t number(std::size_t count) {
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < count; ++i) value |= std::uint64_t{byte()} << (8 * i);
        return value;
    }
    // The last `count` bytes (fewer when there are not as many), taken off the end.
    std::span<const std::uint8_t> take_back(std::size_t count) {
        count = count < bytes_.size() ? count : bytes_.size();
        auto back = bytes_.last(count);
        bytes_ = bytes_.first(bytes_.size() - count);
        return back;
    }
    std::span<const std::uint8_t> rest() const { return bytes_; }
    std::string_view rest_text() const {
        // Viewing bytes as chars: same size and representation.
        return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
    }

  private:
    std::span<const std::uint8_t> bytes_;
};

}  // namespace hvgdb::fuzz
