// Byte-fed decoder of the remote protocol's framing (gdb manual, "Overview" of the Remote
// Protocol): `$payload#cs` packets with `}` escapes and `*` run-length encoding, the `+`/`-`
// acknowledgements and the out-of-band 0x03 interrupt.  It owns the buffer the payload is
// decoded into; it never writes anything (acks are the Codec's job).  Pure: std only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hvgdb::gdbstub::protocol {

// The PacketSize we announce in qSupported: the most data characters a packet may hold.
// 64 KiB costs nothing on a host, lets every m/M/X round trip move 32 KiB (hex) or 64 KiB
// (binary) of guest memory -- what `load` of a kernel image and `dump memory` spend their
// time on -- and stays far above the largest 'g' reply, even with system registers added.
inline constexpr std::size_t kMaxPacketSize = 0x10000;

// Ctrl-C: the interrupt between packets (gdb manual, "Interrupts").
inline constexpr std::uint8_t kInterruptByte = 0x03;

struct Decoded {
    enum class Kind {
        packet,        // a complete packet with a good checksum: `text` is its decoded payload
        ack,           // '+' between packets
        nak,           // '-' between packets: the client wants our last packet again
        interrupt,     // 0x03 between packets (inside one it is data: X carries raw bytes)
        bad_checksum,  // a packet whose checksum does not match or is not hex: `text` says why
        rejected,  // a complete, intact packet we cannot take (too long, bad RLE): `text` says why
    };
    Kind kind;
    // Valid until the next call to feed(): points into the decoder's own buffer.
    std::string_view text;
};

class PacketDecoder {
  public:
    explicit PacketDecoder(std::size_t max_payload = kMaxPacketSize);

    // One byte from the client; returns an event when the byte completes one.
    std::optional<Decoded> feed(std::uint8_t byte);

    std::size_t max_payload() const { return max_payload_; }

  private:
    enum class State { idle, payload, escape, repeat, checksum_high, checksum_low };

    void start_packet();
    void take_payload_byte(std::uint8_t byte);
    void append_decoded(std::uint8_t byte, std::size_t count);
    Decoded finish_packet(std::uint8_t received_checksum);

    std::size_t max_payload_;
    State state_ = State::idle;
    std::string payload_;        // decoded bytes of the packet being received
    std::size_t raw_size_ = 0;   // data characters as sent, before escapes and RLE
    std::uint8_t checksum_ = 0;  // running sum of the data characters, modulo 256
    std::uint8_t checksum_high_ = 0;
    std::string_view problem_;  // why the packet in progress will be rejected, empty when none
};

}  // namespace hvgdb::gdbstub::protocol
