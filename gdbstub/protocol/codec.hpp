// The link level of one connection: the framing decoder plus the acknowledgement rules
// (gdb manual, "Packet Acknowledgment").  In ack mode every intact packet is answered '+',
// a corrupted one '-' (the client then sends it again), and a '-' from the client makes us
// send our last packet again.  After QStartNoAckMode's OK both sides stop acking.  Bytes in,
// bytes out, no I/O.  Pure: std + fmt.
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
        rejected,   // an intact packet we cannot take: `text` says why; reply with an error
    };
    Kind kind;
    std::string_view text;  // valid until the next feed()
};

class Codec {
  public:
    explicit Codec(std::size_t max_packet = kMaxPacketSize);

    // One byte from the client.  Appends any '+', '-' or retransmission to `out`.
    std::optional<Inbound> feed(std::uint8_t byte, std::string& out);

    // Frames `payload` into `out` and keeps the frame for a retransmission.
    void send(std::string_view payload, std::string& out);

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
