// arch/target_xml: document structure, features in row order, types inside their feature.
#include "gdbstub/arch/target_xml.hpp"

#include <doctest/doctest.h>

#include <array>

#include "gdbstub/arch/x86.hpp"

using namespace hvgdb::gdbstub::arch;

namespace {

std::size_t count(std::string_view text, std::string_view what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string_view::npos;
         at = text.find(what, at + 1))
        ++n;
    return n;
}

}  // namespace

TEST_CASE("a tiny arch gives an exact document") {
    constexpr std::array rows{
        RegisterInfo{"a", 32, "my_flags", "general", "org.test.one", Generic::pc, 0},
        RegisterInfo{"b", 64, "int", "", "org.test.one", Generic::none, -1},
        RegisterInfo{"c", 16, "int16", "", "org.test.two", Generic::none, -1},
    };
    constexpr std::array types{FeatureTypes{"org.test.one",
                                            "<flags id=\"my_flags\" size=\"4\">\n  <field "
                                            "name=\"Z\" start=\"0\" end=\"0\"/>\n</flags>\n"}};
    Arch arch{"test", "test:arch", "none", rows, "<vector id=\"v2\" type=\"int8\" count=\"2\"/>",
              types};
    CHECK(target_xml(arch) ==
          "<?xml version=\"1.0\"?>\n"
          "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
          "<target version=\"1.0\">\n"
          "  <architecture>test:arch</architecture>\n"
          "  <osabi>none</osabi>\n"
          "  <feature name=\"org.test.one\">\n"
          "    <vector id=\"v2\" type=\"int8\" count=\"2\"/>\n"
          "    <flags id=\"my_flags\" size=\"4\">\n"
          "      <field name=\"Z\" start=\"0\" end=\"0\"/>\n"
          "    </flags>\n"
          "    <reg name=\"a\" bitsize=\"32\" type=\"my_flags\" regnum=\"0\" group=\"general\"/>\n"
          "    <reg name=\"b\" bitsize=\"64\" type=\"int\" regnum=\"1\"/>\n"
          "  </feature>\n"
          "  <feature name=\"org.test.two\">\n"
          "    <vector id=\"v2\" type=\"int8\" count=\"2\"/>\n"
          "    <reg name=\"c\" bitsize=\"16\" type=\"int16\" regnum=\"2\"/>\n"
          "  </feature>\n"
          "</target>\n");
}

TEST_CASE("x86-64 description") {
    std::string xml = target_xml(x86_64());
    CHECK(xml.find("<architecture>i386:x86-64</architecture>") != std::string::npos);
    CHECK(xml.find("<osabi>") == std::string::npos);
    CHECK(count(xml, "<feature ") == 4);
    CHECK(count(xml, "</feature>") == 4);
    CHECK(count(xml, "<reg ") == 110);
    // Each type is defined once, inside the feature whose registers use it.
    auto core = xml.find("org.gnu.gdb.i386.core");
    auto sse = xml.find("org.gnu.gdb.i386.sse");
    auto segments = xml.find("org.gnu.gdb.i386.segments");
    REQUIRE(core < sse);
    REQUIRE(sse < segments);
    CHECK(count(xml, "<flags id=\"i386_eflags\"") == 1);
    CHECK(xml.find("<flags id=\"i386_eflags\"") > core);
    CHECK(xml.find("<flags id=\"i386_eflags\"") < sse);
    CHECK(count(xml, "<union id=\"vec128\">") == 1);
    CHECK(xml.find("<union id=\"vec128\">") > sse);
    CHECK(xml.find("<flags id=\"i386_mxcsr\"") > sse);
    CHECK(xml.find("<flags id=\"i386_mxcsr\"") < segments);
    // hvgdb's system feature last, with its flags types inside it.
    auto system = xml.find("<feature name=\"org.hvgdb.x86.system\">");
    REQUIRE(segments < system);
    REQUIRE(system != std::string::npos);
    for (const char* type :
         {"x86_segment_attr", "x86_cr0", "x86_cr4", "x86_efer", "x86_dr6", "x86_dr7"}) {
        INFO(type);
        std::string definition = std::string("<flags id=\"") + type + "\"";
        CHECK(count(xml, definition) == 1);
        CHECK(xml.find(definition) > system);
    }
    CHECK(xml.find("<reg name=\"cr0\" bitsize=\"32\" type=\"x86_cr0\" regnum=\"87\" "
                   "group=\"system\"/>") != std::string::npos);
    CHECK(xml.find("<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\" regnum=\"16\" "
                   "group=\"general\"/>") != std::string::npos);
    CHECK(
        xml.find(
            "<reg name=\"gs_base\" bitsize=\"64\" type=\"int\" regnum=\"58\" group=\"system\"/>") !=
        std::string::npos);
    // Nothing in it needs escaping on the wire, so qXfer chunks keep their size.
    CHECK(xml.find_first_of("$#}*") == std::string::npos);
}

TEST_CASE("i386 description") {
    std::string xml = target_xml(i386());
    CHECK(xml.find("<architecture>i386</architecture>") != std::string::npos);
    CHECK(count(xml, "<feature ") == 3);
    CHECK(count(xml, "<reg ") == 41 + 2 + 51);  // gdb's rows, fs_base and gs_base, system
    CHECK(xml.find("<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\" regnum=\"8\" "
                   "group=\"general\"/>") != std::string::npos);
}
