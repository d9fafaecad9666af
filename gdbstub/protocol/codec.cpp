// Acknowledgement rules around the decoder.  See codec.hpp.
#include "gdbstub/protocol/codec.hpp"

#include "gdbstub/protocol/writer.hpp"

namespace hvgdb::gdbstub::protocol {

Codec::Codec(std::size_t max_packet) : decoder_(max_packet) {}

std::optional<Inbound> Codec::feed(std::uint8_t byte, std::string& out, bool interrupt_anywhere) {
    // Not given to the decoder: a packet in progress goes on without it.
    if (interrupt_anywhere && byte == kInterruptByte) return Inbound{Inbound::Kind::interrupt, {}};
    auto decoded = decoder_.feed(byte);
    if (!decoded) return std::nullopt;
    switch (decoded->kind) {
        case Decoded::Kind::packet:
            if (acks_) out.push_back('+');
            return Inbound{Inbound::Kind::packet, decoded->text};
        case Decoded::Kind::rejected:
            // Intact on the wire, so acked; the session answers it with an error.
            if (acks_) out.push_back('+');
            return Inbound{Inbound::Kind::rejected, decoded->text};
        case Decoded::Kind::bad_checksum:
            // Ask for it again.
            if (acks_) {
                out.push_back('-');
                return std::nullopt;
            }
            // No-ack mode has no retransmission to ask for, and the manual lets the receiver
            // ignore checksums ("Packet Acknowledgment").  Our transports are reliable, so a
            // wrong checksum is the client's bug, not line noise: the packet is not run (it
            // might not be what the client meant) but answered with an error, so that the
            // client is not left waiting for a reply that never comes.
            return Inbound{Inbound::Kind::rejected, decoded->text};
        case Decoded::Kind::nak:
            if (acks_) out += last_frame_;
            return std::nullopt;
        case Decoded::Kind::ack:
            // Nothing waits for acks: we send one reply per packet.  A '+' after no-ack mode
            // started is gdb acking our OK to QStartNoAckMode and is expected.
            return std::nullopt;
        case Decoded::Kind::interrupt:
            return Inbound{Inbound::Kind::interrupt, {}};
    }
    return std::nullopt;
}

void Codec::send(std::string_view payload, std::string& out) {
    std::size_t start = out.size();
    append_frame(out, payload);
    if (acks_) last_frame_.assign(out, start);
}

void Codec::send_frame(std::string_view frame, std::string& out) {
    out += frame;
    if (acks_) last_frame_.assign(frame);
}

void Codec::notify(std::string_view payload, std::string& out) {
    append_notification_frame(out, payload);
}

}  // namespace hvgdb::gdbstub::protocol
