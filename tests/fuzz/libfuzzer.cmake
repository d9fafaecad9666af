# Initial cache of the libFuzzer build (cmake -C tests/fuzz/libfuzzer.cmake; ./dev.sh fuzz):
# clang 19 from Debian 12 (packages clang-19 and libclang-rt-19-dev, which has libFuzzer), all
# of hvgdb's code instrumented for libFuzzer's coverage and built with AddressSanitizer and
# UndefinedBehaviorSanitizer (any report aborts), the fuzz targets linked with libFuzzer.
# Debian 12's older clangs do not compile hvgdb with libstdc++ 12: clang 14 and 16 report
# __cpp_concepts 201907, which hides <expected>, and clang 16 also fails on aggregate template
# argument deduction and on a constexpr std::string.
set(CMAKE_C_COMPILER clang-19 CACHE STRING "")
set(CMAKE_CXX_COMPILER clang++-19 CACHE STRING "")
set(CMAKE_CXX_FLAGS
    "-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    CACHE STRING "")
set(CMAKE_EXE_LINKER_FLAGS "-fsanitize=address,undefined" CACHE STRING "")
set(HVGDB_LIBFUZZER ON CACHE BOOL "")
set(HVGDB_SAMPLES OFF CACHE BOOL "")
