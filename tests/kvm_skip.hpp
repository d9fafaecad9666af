// For test programs that need /dev/kvm: doctest runs when the device opens; otherwise the
// program says SKIPPED with the reason and exits 77 (HVGDB_SKIP_CODE in tests/CMakeLists.txt,
// which ctest counts as skipped).  Call from main() in a file built with
// DOCTEST_CONFIG_IMPLEMENT.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace hvgdb::test {

inline int run_tests_if_kvm(int argc, char** argv) {
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        std::printf("SKIPPED: /dev/kvm is not available (%s)\n", std::strerror(errno));
        return 77;
    }
    ::close(fd);
    doctest::Context context(argc, argv);
    return context.run();
}

}  // namespace hvgdb::test
