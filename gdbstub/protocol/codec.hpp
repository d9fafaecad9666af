// The link level of one connection: the framing decoder plus the acknowledgement rules
// (gdb manual, "Packet Acknowledgment").  In ack mode every intact packet is answered '+',
// a corrupted one '-' (the client then sends it again), and a '-' from the client makes us
// send our last packet again.  After QStartNoAckMode's OK both sides stop acking, and a
// corrupted packet is rejected (answered with an error) instead.  Bytes in, bytes out, no
// I/O.  Pure: std + fmt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gdbstub/protocol/packet_decoder.hpp"

namespace hvgdb::gdbstub::protocol {

// What the session must act on.
struct Inbound {
    enum class Kind {
        packet,     // `text` is the decoded payload
        interrupt,  // 0x03
        rejected,   // a packet we cannot take (too long, malformed framing, or in no-ack
                    // mode a bad checksum): `text` says why; reply with an error
    };
    Kind kind;
    std::string_view text;  // valid until the next feed()
};

class Codec {
  public:
    explicit Codec(std::size_t max_packet = kMaxPacketSize);

    // One byte from the client.  Appends any '+', '-' or retransmission to `out`.  With
    // `interrupt_anywhere` 0x03 is the interrupt even inside a packet, where it is data
    // otherwise: for while the target runs in all-stop mode, when a client sends nothing but
    // 0x03 and 'k' (gdb manual, "Interrupts"), so that a stray '$' cannot swallow a Ctrl-C.
    std::optional<Inbound> feed(std::uint8_t byte, std::string& out,
                                bool interrupt_anywhere = false);

    // Frames `payload` into `out` and keeps the frame for a retransmission.
    void send(std::string_view payload, std::string& out);
    // The same for a packet framed already (append_frame).
    void send_frame(std::string_view frame, std::string& out);

    // Frames a notification (`%payload#cs`) into `out`.  The client never acks it, so a '-'
    // still asks for the last packet sent with send(), not for this.
    void notify(std::string_view payload, std::string& out);

    // Call right after sending the OK to QStartNoAckMode: that packet was acked, the OK itself
    // goes out the usual way, and from now on nothing is acked or retransmitted.
    void stop_acks() {
        acks_ = false;
        last_frame_.clear();
    }
    bool acks_enabled() const { return acks_; }

    std::size_t max_packet() const { return decoder_.max_payload(); }

  private:
    PacketDecoder decoder_;
    bool acks_ = true;
    std::string last_frame_;  // for '-' from the client, in ack mode only
};

}  // namespace hvgdb::gdbstub::protocol
