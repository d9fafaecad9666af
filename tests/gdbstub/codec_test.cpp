// protocol/codec: the acknowledgement rules, checked as exact bytes on the wire.
#include "gdbstub/protocol/codec.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace hvgdb::gdbstub::protocol;

namespace {

struct Fed {
    std::vector<std::string>
        packets;      // payloads handed to the session; "^C" for 0x03, "!" + why for rejects
    std::string out;  // bytes the codec wrote back
};

Fed feed(Codec& codec, std::string_view bytes) {
    Fed fed;
    for (char c : bytes) {
        auto in = codec.feed(static_cast<std::uint8_t>(c), fed.out);
        if (!in) continue;
        switch (in->kind) {
            case Inbound::Kind::packet:
                fed.packets.emplace_back(in->text);
                break;
            case Inbound::Kind::interrupt:
                fed.packets.emplace_back("^C");
                break;
            case Inbound::Kind::rejected:
                fed.packets.push_back("!" + std::string(in->text));
                break;
        }
    }
    return fed;
}

}  // namespace

TEST_CASE("ack mode: every good packet is acked with '+'") {
    Codec codec;
    auto fed = feed(codec, "+$qC#b4$g#67");
    CHECK(fed.packets == std::vector<std::string>{"qC", "g"});
    CHECK(fed.out == "++");
}

TEST_CASE("a bad checksum is NAKed and the retransmission accepted") {
    Codec codec;
    auto fed = feed(codec, "$qC#00");
    CHECK(fed.packets.empty());
    CHECK(fed.out == "-");
    fed = feed(codec, "$qC#b4");
    CHECK(fed.packets == std::vector<std::string>{"qC"});
    CHECK(fed.out == "+");
}

TEST_CASE("a '-' from the client resends our last packet exactly") {
    Codec codec;
    std::string out;
    codec.send("OK", out);
    codec.send("QC01", out);
    CHECK(out == "$OK#9a$QC01#f5");
    auto fed = feed(codec, "-");
    CHECK(fed.out == "$QC01#f5");
    fed = feed(codec, "--");
    CHECK(fed.out == "$QC01#f5$QC01#f5");
    // A packet framed beforehand (a reply made ahead) is sent and resent the same way.
    out.clear();
    codec.send_frame("$0001#c1", out);
    CHECK(out == "$0001#c1");
    CHECK(feed(codec, "-").out == "$0001#c1");
}

TEST_CASE("send escapes $ # } * and sums the escaped bytes") {
    Codec codec;
    std::string out;
    codec.send("a*b", out);
    CHECK(out ==
          "$a}\x0a"
          "b#4a");
    out.clear();
    codec.send("}", out);
    CHECK(out == "$}]#da");
    out.clear();
    codec.send("", out);
    CHECK(out == "$#00");
}

TEST_CASE("no-ack mode: the QStartNoAckMode packet is acked, its OK goes out, then acks stop") {
    Codec codec;
    auto fed = feed(codec, "$QStartNoAckMode#b0");
    CHECK(fed.packets == std::vector<std::string>{"QStartNoAckMode"});
    CHECK(fed.out == "+");
    std::string out;
    codec.send("OK", out);
    codec.stop_acks();
    CHECK(out == "$OK#9a");
    CHECK_FALSE(codec.acks_enabled());

    // gdb's '+' for the OK is swallowed; packets are no longer acked.
    fed = feed(codec, "+$g#67");
    CHECK(fed.packets == std::vector<std::string>{"g"});
    CHECK(fed.out == "");
    // No NAK and no retransmission either: a bad checksum is a packet to refuse with an
    // error, as nothing will send it again.
    fed = feed(codec, "$g#00-");
    CHECK(fed.packets == std::vector<std::string>{"!checksum mismatch"});
    CHECK(fed.out == "");
    fed = feed(codec, "$g#6z");
    CHECK(fed.packets == std::vector<std::string>{"!checksum is not hex"});
}

TEST_CASE("0x03 between packets is an interrupt, inside one it is data") {
    Codec codec;
    auto fed = feed(codec, "$vCont;c#a8\x03$?#3f");
    CHECK(fed.packets == std::vector<std::string>{"vCont;c", "^C", "?"});
    CHECK(fed.out == "++");
    // X data may hold the byte raw; the checksum counts it.
    fed = feed(codec, "$X0,1:\x03#22");
    CHECK(fed.packets == std::vector<std::string>{"X0,1:\x03"});
}

TEST_CASE("with interrupt_anywhere 0x03 is the interrupt even inside a packet") {
    Codec codec;
    std::string out;
    std::vector<std::string> events;
    // A packet interrupted by 0x03 goes on without it: the checksum is of the other bytes.
    for (char c : std::string_view("$m0,4\x03#fd")) {
        auto in = codec.feed(static_cast<std::uint8_t>(c), out, true);
        if (in) events.emplace_back(in->kind == Inbound::Kind::interrupt ? "^C" : in->text);
    }
    CHECK(events == std::vector<std::string>{"^C", "m0,4"});
    CHECK(out == "+");
}

TEST_CASE("an oversize packet is acked (it arrived intact) and handed up as rejected") {
    Codec codec(4);
    CHECK(codec.max_packet() == 4);
    auto fed = feed(codec, "$12345#ff$g#67");
    CHECK(fed.packets == std::vector<std::string>{"!packet longer than PacketSize", "g"});
    CHECK(fed.out == "++");
}

TEST_CASE("a notification is framed with '%', never acked, and never resent on '-'") {
    Codec codec;
    std::string out;
    codec.send("OK", out);
    codec.notify("Stop:T05thread:02;", out);
    CHECK(out == "$OK#9a%Stop:T05thread:02;#e8");
    // A '-' asks for the last packet, not for the notification that came after it.
    auto fed = feed(codec, "-");
    CHECK(fed.out == "$OK#9a");
    // Nothing acks a notification, so a '+' right after it is the ack of some packet.
    fed = feed(codec, "+");
    CHECK(fed.out == "");
}
