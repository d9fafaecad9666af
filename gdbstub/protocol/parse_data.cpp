// Register and memory packets: g G p P m M X (gdb manual, "Packets"); the register packets
// with lldb's thread suffix too.
#include "gdbstub/protocol/parse.hpp"
#include "gdbstub/protocol/parse_util.hpp"

namespace hvgdb::gdbstub::protocol {

using detail::malformed;

namespace {

// Register numbers index the arch's rows; anything past this is certainly out of range and is
// rejected here so it never reaches size arithmetic.
constexpr std::uint64_t kMaxRegno = 0xffff;

Result<std::size_t> parse_regno(std::string_view text) {
    auto regno = detail::parse_hex_at_most(text, kMaxRegno, "register number");
    if (!regno) return std::unexpected(regno.error());
    return static_cast<std::size_t>(*regno);
}

// "addr,length:data" -> the header and the data text.
Result<std::pair<detail::AddressLength, std::string_view>> parse_write_header(std::string_view args,
                                                                              char packet) {
    auto parts = detail::split_once(args, ':');
    if (!parts) return malformed("'{}' packet without ':'", packet);
    auto header = detail::parse_address_length(parts->first);
    if (!header) return std::unexpected(header.error());
    return std::pair{*header, parts->second};
}

}  // namespace

Result<Command> parse_read_registers(std::string_view args) {
    auto suffix = split_thread_suffix(args);
    if (!suffix) return std::unexpected(suffix.error());
    if (!suffix->args.empty())
        return malformed("unexpected arguments to 'g': '{}'", detail::excerpt(args));
    return ReadRegisters{suffix->thread};
}

Result<Command> parse_read_register(std::string_view args) {
    auto suffix = split_thread_suffix(args);
    if (!suffix) return std::unexpected(suffix.error());
    auto regno = parse_regno(suffix->args);
    if (!regno) return std::unexpected(regno.error());
    return ReadRegister{*regno, suffix->thread};
}

Result<Command> parse_write_register(std::string_view args) {
    auto suffix = split_thread_suffix(args);
    if (!suffix) return std::unexpected(suffix.error());
    auto parts = detail::split_once(suffix->args, '=');
    if (!parts) return malformed("'P' packet without '='");
    auto regno = parse_regno(parts->first);
    if (!regno) return std::unexpected(regno.error());
    auto value = decode_hex(parts->second);
    if (!value) return std::unexpected(value.error());
    if (value->empty()) return malformed("'P' packet without a value");
    return WriteRegister{*regno, std::move(*value), suffix->thread};
}

Result<Command> parse_write_registers(std::string_view args) {
    auto suffix = split_thread_suffix(args);
    if (!suffix) return std::unexpected(suffix.error());
    auto data = decode_hex(suffix->args);
    if (!data) return std::unexpected(data.error());
    if (data->empty()) return malformed("'G' packet without data");
    return WriteRegisters{std::move(*data), suffix->thread};
}

Result<Command> parse_read_memory(std::string_view args) {
    auto header = detail::parse_address_length(args);
    if (!header) return std::unexpected(header.error());
    return ReadMemory{header->address, header->length};
}

Result<Command> parse_write_memory_hex(std::string_view args) {
    auto parts = parse_write_header(args, 'M');
    if (!parts) return std::unexpected(parts.error());
    auto [header, text] = *parts;
    auto data = decode_hex(text);
    if (!data) return std::unexpected(data.error());
    if (data->size() != header.length) {
        return malformed("'M' length {:#x} but {} bytes of data", header.length, data->size());
    }
    return WriteMemory{header.address, std::move(*data)};
}

Result<Command> parse_write_memory_binary(std::string_view args) {
    // The decoder has already undone the escapes, so the data is the raw bytes.
    auto parts = parse_write_header(args, 'X');
    if (!parts) return std::unexpected(parts.error());
    auto [header, data] = *parts;
    if (data.size() != header.length) {
        return malformed("'X' length {:#x} but {} bytes of data", header.length, data.size());
    }
    return WriteMemory{header.address, std::vector<std::uint8_t>(data.begin(), data.end())};
}

}  // namespace hvgdb::gdbstub::protocol
