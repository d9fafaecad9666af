// Framing decoder state machine.  See packet_decoder.hpp.
#include "gdbstub/protocol/packet_decoder.hpp"

#include "gdbstub/protocol/hex.hpp"

namespace hvgdb::gdbstub::protocol {

namespace {

constexpr std::uint8_t kEscape = '}';
constexpr std::uint8_t kEscapeXor = 0x20;
constexpr std::uint8_t kRepeat = '*';

// gdb manual, "Overview": a run-length count character n stands for n - 29 more copies and
// must be printable; '#' and '$' are never counts.
constexpr int kRepeatBias = 29;
bool is_repeat_count(std::uint8_t c) {
    return c >= ' ' && c <= '~' && c != '#' && c != '$';
}

}  // namespace

PacketDecoder::PacketDecoder(std::size_t max_payload) : max_payload_(max_payload) {
    payload_.reserve(max_payload_);
}

std::optional<Decoded> PacketDecoder::feed(std::uint8_t byte) {
    switch (state_) {
        case State::idle:
            // Outside a packet only '$', the acks and the interrupt mean something; anything
            // else is line noise and is dropped.
            if (byte == '$') start_packet();
            if (byte == '+') return Decoded{Decoded::Kind::ack, {}};
            if (byte == '-') return Decoded{Decoded::Kind::nak, {}};
            if (byte == kInterruptByte) return Decoded{Decoded::Kind::interrupt, {}};
            return std::nullopt;

        case State::payload:
        case State::escape:
        case State::repeat:
            if (byte == '#') {
                if (state_ != State::payload && problem_.empty()) {
                    problem_ = "packet ends inside an escape or run-length sequence";
                }
                state_ = State::checksum_high;
                return std::nullopt;
            }
            // A '$' inside a packet means the rest of the previous one was lost: start over.
            if (byte == '$') {
                start_packet();
                return std::nullopt;
            }
            take_payload_byte(byte);
            return std::nullopt;

        case State::checksum_high:
        case State::checksum_low: {
            // A '$' here means the checksum was lost with the rest of that packet, as a '$'
            // inside the payload does: the new packet starts.
            if (byte == '$') {
                start_packet();
                return std::nullopt;
            }
            auto digit = hex_digit_value(static_cast<char>(byte));
            if (!digit) {
                state_ = State::idle;
                return Decoded{Decoded::Kind::bad_checksum, "checksum is not hex"};
            }
            if (state_ == State::checksum_high) {
                checksum_high_ = *digit;
                state_ = State::checksum_low;
                return std::nullopt;
            }
            state_ = State::idle;
            return finish_packet(static_cast<std::uint8_t>(checksum_high_ << 4 | *digit));
        }
    }
    return std::nullopt;
}

void PacketDecoder::start_packet() {
    state_ = State::payload;
    payload_.clear();
    raw_size_ = 0;
    checksum_ = 0;
    problem_ = {};
}

void PacketDecoder::take_payload_byte(std::uint8_t byte) {
    checksum_ = static_cast<std::uint8_t>(checksum_ + byte);
    if (++raw_size_ > max_payload_ && problem_.empty()) problem_ = "packet longer than PacketSize";
    switch (state_) {
        case State::escape:
            append_decoded(byte ^ kEscapeXor, 1);
            state_ = State::payload;
            return;
        case State::repeat:
            if (!is_repeat_count(byte)) {
                if (problem_.empty()) problem_ = "bad run-length count";
            } else {
                append_decoded(payload_.empty() ? 0 : payload_.back(), byte - kRepeatBias);
            }
            state_ = State::payload;
            return;
        default:
            break;
    }
    if (byte == kEscape) {
        state_ = State::escape;
    } else if (byte == kRepeat) {
        // A run needs a character to repeat; one at the start of the payload is malformed.
        if (payload_.empty() && problem_.empty())
            problem_ = "run-length count with nothing to repeat";
        state_ = State::repeat;
    } else {
        append_decoded(byte, 1);
    }
}

void PacketDecoder::append_decoded(std::uint8_t byte, std::size_t count) {
    // Once a packet is known to be rejected its bytes are only counted, never stored, so a
    // hostile client cannot grow the buffer past max_payload_.
    if (!problem_.empty()) return;
    if (payload_.size() + count > max_payload_) {
        problem_ = "packet longer than PacketSize";
        return;
    }
    payload_.append(count, static_cast<char>(byte));
}

Decoded PacketDecoder::finish_packet(std::uint8_t received_checksum) {
    if (received_checksum != checksum_)
        return Decoded{Decoded::Kind::bad_checksum, "checksum mismatch"};
    if (!problem_.empty()) return Decoded{Decoded::Kind::rejected, problem_};
    return Decoded{Decoded::Kind::packet, payload_};
}

}  // namespace hvgdb::gdbstub::protocol
