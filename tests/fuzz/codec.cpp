// Fuzz target: the link level (protocol::Codec over PacketDecoder) fed a client's byte stream.
// Input: one option byte (bits 0-1: PacketSize 16, 256, 4096 or kMaxPacketSize, so the
// too-long path is cheap to reach; bit 2: acks stop after the first packet, as after
// QStartNoAckMode; bit 3: 0x03 interrupts even inside a packet, as while the target runs),
// then the bytes.  Checked: a packet is never longer than PacketSize; each
// packet, framed by the writer, decodes back to itself; what the codec writes is one ack,
// one NAK or, for a client's '-', exactly the frame sent last.
#include <array>
#include <string>

#include "fuzz.hpp"
#include "gdbstub/protocol/codec.hpp"
#include "gdbstub/protocol/writer.hpp"

namespace {

using hvgdb::fuzz::check;
using namespace hvgdb::gdbstub::protocol;

constexpr std::array<std::size_t, 4> kPacketSizes{16, 256, 4096, kMaxPacketSize};

// The writer's frame of `payload` decodes to `payload` again.  Escapes may double the data
// characters, so `decoder` takes twice the PacketSize.
void check_round_trip(std::string_view payload, PacketDecoder& decoder) {
    std::string frame;
    append_frame(frame, payload);
    int events = 0;
    for (char c : frame) {
        auto decoded = decoder.feed(static_cast<std::uint8_t>(c));
        if (!decoded) continue;
        ++events;
        check(decoded->kind == Decoded::Kind::packet, "a written frame decodes as a packet");
        check(decoded->text == payload, "a written frame decodes to its payload");
    }
    check(events == 1, "a written frame is one event");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    hvgdb::fuzz::Input input(data, size);
    const std::uint8_t options = input.byte();
    const std::size_t packet_size = kPacketSizes[options & 3];
    const bool stop_acks_after_first = (options & 4) != 0;
    const bool interrupt_anywhere = (options & 8) != 0;

    Codec codec(packet_size);
    PacketDecoder round_trip(2 * packet_size);
    std::string last_frame;  // what codec.send() wrote last, in ack mode
    int replies = 0;
    for (std::uint8_t byte : input.rest()) {
        std::string out;
        auto inbound = codec.feed(byte, out, interrupt_anywhere);
        if (byte == '-' && !out.empty() && out != "-") {
            check(codec.acks_enabled() && out == last_frame, "a NAK resends the last frame");
        } else {
            check(out.empty() || ((out == "+" || out == "-") && codec.acks_enabled()),
                  "the codec writes one ack, and only in ack mode");
        }
        if (!inbound) continue;
        if (inbound->kind == Inbound::Kind::rejected)
            check(!inbound->text.empty(), "a rejected packet says why");
        if (inbound->kind != Inbound::Kind::packet) continue;
        check(inbound->text.size() <= packet_size, "no packet is longer than PacketSize");
        check_round_trip(inbound->text, round_trip);

        // Answer with the payload itself: a later '-' must bring back exactly this frame.
        std::string reply;
        codec.send(inbound->text, reply);
        if (codec.acks_enabled()) last_frame = reply;
        if (++replies % 3 == 0) codec.notify("Stop:T05", reply);
        if (stop_acks_after_first && codec.acks_enabled()) codec.stop_acks();
    }
    return 0;
}
