// Writes the target.xml of one arch ("x86-64" or "i386") to stdout, for the gdb check.
#include <cstdio>
#include <string_view>

#include "gdbstub/arch/target_xml.hpp"
#include "gdbstub/arch/x86.hpp"

int main(int argc, char** argv) {
    using namespace hvgdb::gdbstub::arch;
    std::string_view which = argc > 1 ? argv[1] : "";
    const Arch* arch = which == "x86-64"  ? &x86_64()
                       : which == "i386"  ? &i386()
                       : which == "i8086" ? &i8086()
                                          : nullptr;
    if (!arch) {
        std::fprintf(stderr, "usage: %s x86-64|i386\n", argv[0]);
        return 2;
    }
    std::string xml = target_xml(*arch);
    std::fwrite(xml.data(), 1, xml.size(), stdout);
    return 0;
}
