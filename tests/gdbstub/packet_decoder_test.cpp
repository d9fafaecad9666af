// protocol/packet_decoder: framing, checksums, escapes, run-length decoding, acks, 0x03 and
// the size limit, fed byte by byte as the server would.
#include "gdbstub/protocol/packet_decoder.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace hvgdb::gdbstub::protocol;
using Kind = Decoded::Kind;

namespace {

struct Event {
    Kind kind;
    std::string text;
    bool operator==(const Event&) const = default;
};

std::vector<Event> feed_all(PacketDecoder& decoder, std::string_view bytes) {
    std::vector<Event> events;
    for (char c : bytes) {
        if (auto e = decoder.feed(static_cast<std::uint8_t>(c)))
            events.push_back({e->kind, std::string(e->text)});
    }
    return events;
}

// "$payload#cs" for any payload, computed here independently of the writer.
std::string framed(std::string_view payload) {
    unsigned sum = 0;
    for (unsigned char c : payload) sum += c;
    char cs[3];
    std::snprintf(cs, sizeof cs, "%02x", sum & 0xff);
    return "$" + std::string(payload) + "#" + cs;
}

std::vector<Event> decode(std::string_view bytes) {
    PacketDecoder decoder;
    return feed_all(decoder, bytes);
}

}  // namespace

TEST_CASE("a packet with a good checksum") {
    CHECK(decode("$qC#b4") == std::vector<Event>{{Kind::packet, "qC"}});
    CHECK(decode("$#00") == std::vector<Event>{{Kind::packet, ""}});
    CHECK(decode("$OK#9A") ==
          std::vector<Event>{{Kind::packet, "OK"}});  // checksum digits in any case
}

TEST_CASE("bad checksums") {
    CHECK(decode("$qC#b5") == std::vector<Event>{{Kind::bad_checksum, "checksum mismatch"}});
    CHECK(decode("$qC#zz").at(0).kind == Kind::bad_checksum);
    CHECK(decode("$qC#bz").at(0).kind == Kind::bad_checksum);
}

TEST_CASE("acks, naks and the interrupt between packets") {
    CHECK(decode("+") == std::vector<Event>{{Kind::ack, ""}});
    CHECK(decode("-") == std::vector<Event>{{Kind::nak, ""}});
    CHECK(decode("\x03") == std::vector<Event>{{Kind::interrupt, ""}});
    CHECK(decode("+$g#67\x03-") ==
          std::vector<Event>{
              {Kind::ack, ""}, {Kind::packet, "g"}, {Kind::interrupt, ""}, {Kind::nak, ""}});
}

TEST_CASE("noise between packets is dropped") {
    CHECK(decode("xyz\n$g#67") == std::vector<Event>{{Kind::packet, "g"}});
}

TEST_CASE("inside a packet +, -, 0x03 are data") {
    // "X0,3:+-\x03" as binary data; checksum over the bytes as sent.
    std::string payload = "X0,3:+-\x03";
    CHECK(decode(framed(payload)) == std::vector<Event>{{Kind::packet, payload}});
}

TEST_CASE("escapes: } then the byte xor 0x20, checksum over the escaped bytes") {
    // "}]" is '}', "}\x03" is '#', "}\x04" is '$', "}\x0a" is '*'.
    CHECK(decode("$a}]b#9d") == std::vector<Event>{{Kind::packet, "a}b"}});
    CHECK(decode("$}\x03}\x04}\x0a#88") == std::vector<Event>{{Kind::packet, "#$*"}});
}

TEST_CASE("run-length decoding") {
    // gdb manual example: "0* " is "0000" (' ' is 32, 32 - 29 = 3 more).
    CHECK(decode("$0* #7a") == std::vector<Event>{{Kind::packet, "0000"}});
    // '"' (34) repeats 5 more: six 'x'.
    CHECK(decode("$x*\"#c4") == std::vector<Event>{{Kind::packet, "xxxxxx"}});
    // A run of an escaped byte repeats the decoded byte.
    CHECK(decode("$}]* #24") == std::vector<Event>{{Kind::packet, "}}}}"}});
}

TEST_CASE("malformed run-length and escapes are rejected, not crashed on") {
    CHECK(decode("$* #4a").at(0).kind == Kind::rejected);      // nothing to repeat
    CHECK(decode("$a*\x01#8c").at(0).kind == Kind::rejected);  // count not printable
    CHECK(decode("$a}#de") ==
          std::vector<Event>{
              {Kind::rejected, "packet ends inside an escape or run-length sequence"}});
    CHECK(decode("$a*#8b").at(0).kind == Kind::rejected);
}

TEST_CASE("a '$' inside a packet starts a new one") {
    CHECK(decode("$qSup$g#67") == std::vector<Event>{{Kind::packet, "g"}});
    // Also where the checksum should be: that packet lost its end, the next one is whole.
    CHECK(decode("$qC#$g#67") == std::vector<Event>{{Kind::packet, "g"}});
    CHECK(decode("$qC#b$g#67") == std::vector<Event>{{Kind::packet, "g"}});
    // And right after an escape.
    CHECK(decode("$X}$g#67") == std::vector<Event>{{Kind::packet, "g"}});
}

TEST_CASE("checksum digits that are not hex are a bad checksum; decoding goes on") {
    CHECK(decode("$qC#x4$g#67") ==
          std::vector<Event>{{Kind::bad_checksum, "checksum is not hex"}, {Kind::packet, "g"}});
    CHECK(decode("$qC#b\x03+$g#67") ==
          std::vector<Event>{
              {Kind::bad_checksum, "checksum is not hex"}, {Kind::ack, ""}, {Kind::packet, "g"}});
    // The bad digit is not taken as anything else, even an interrupt.
    CHECK(decode("$qC#\x03$g#67") ==
          std::vector<Event>{{Kind::bad_checksum, "checksum is not hex"}, {Kind::packet, "g"}});
}

TEST_CASE("an endless packet keeps no more than the limit and the next '$' ends it") {
    PacketDecoder decoder(16);
    std::string endless = "$" + std::string(1 << 20, 'a');
    CHECK(feed_all(decoder, endless).empty());
    CHECK(feed_all(decoder, "$g#67") == std::vector<Event>{{Kind::packet, "g"}});
    // Its '#' and checksum, when they come at last, reject it as too long.
    CHECK(feed_all(decoder, endless + "#00") ==
          std::vector<Event>{{Kind::rejected, "packet longer than PacketSize"}});
}

TEST_CASE("packets longer than the limit are rejected whole, then decoding goes on") {
    PacketDecoder decoder(8);
    CHECK(feed_all(decoder, "$12345678#a4") == std::vector<Event>{{Kind::packet, "12345678"}});
    std::string long_packet = "$123456789#dd";
    CHECK(feed_all(decoder, long_packet) ==
          std::vector<Event>{{Kind::rejected, "packet longer than PacketSize"}});
    CHECK(feed_all(decoder, "$g#67") == std::vector<Event>{{Kind::packet, "g"}});
    // Run-length expansion counts too: "1*~" is 1 + 97 bytes.
    CHECK(feed_all(decoder, "$1*~#d9").at(0).kind == Kind::rejected);
}

TEST_CASE("the default limit is the PacketSize we announce, at least 16 KiB") {
    PacketDecoder decoder;
    CHECK(decoder.max_payload() == kMaxPacketSize);
    CHECK(kMaxPacketSize >= 0x4000);
    std::string big(kMaxPacketSize, 'a');
    auto events = feed_all(decoder, framed(big));
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == Kind::packet);
    CHECK(events[0].text.size() == kMaxPacketSize);
    events = feed_all(decoder, framed(big + "a"));
    CHECK(events == std::vector<Event>{{Kind::rejected, "packet longer than PacketSize"}});
}
