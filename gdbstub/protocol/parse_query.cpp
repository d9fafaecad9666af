// General query packets: qSupported, qXfer:features:read, qAttached, qRcmd (gdb manual, "General
// Query Packets").
#include "gdbstub/protocol/hex.hpp"
#include "gdbstub/protocol/parse.hpp"
#include "gdbstub/protocol/parse_util.hpp"

namespace hvgdb::gdbstub::protocol {

using detail::malformed;

namespace {

// "name+", "name-", "name?" or "name=value".
Result<ClientFeature> parse_client_feature(std::string_view text) {
    ClientFeature feature;
    if (auto parts = detail::split_once(text, '=')) {
        feature.name = parts->first;
        feature.kind = ClientFeature::Kind::value;
        feature.value = parts->second;
    } else if (!text.empty()) {
        switch (text.back()) {
            case '+':
                feature.kind = ClientFeature::Kind::supported;
                break;
            case '-':
                feature.kind = ClientFeature::Kind::unsupported;
                break;
            case '?':
                feature.kind = ClientFeature::Kind::query;
                break;
            default:
                return malformed("qSupported feature '{}' lacks +, -, ? or =",
                                 detail::excerpt(text));
        }
        feature.name = text.substr(0, text.size() - 1);
    }
    if (feature.name.empty()) return malformed("qSupported feature without a name");
    return feature;
}

}  // namespace

Result<Command> parse_query_supported(std::string_view args) {
    // Called with the text after "qSupported:", a ';'-separated list of features.
    QuerySupported query;
    while (true) {
        auto parts = detail::split_once(args, ';');
        auto feature = parse_client_feature(parts ? parts->first : args);
        if (!feature) return std::unexpected(feature.error());
        query.features.push_back(std::move(*feature));
        if (!parts) break;
        args = parts->second;
    }
    return query;
}

Result<Command> parse_read_features(std::string_view args) {
    // The annex is a file name.
    auto window = detail::parse_xfer_window(args);
    if (!window) return std::unexpected(window.error());
    if (window->annex.empty()) return malformed("qXfer:features:read without an annex");
    return ReadFeatures{std::string(window->annex), window->offset, window->length};
}

Result<Command> parse_query_attached(std::string_view args) {
    // Called with the text after "qAttached:", the pid.
    QueryAttached query;
    auto pid = detail::parse_hex_at_most(args, UINT32_MAX, "qAttached pid");
    if (!pid) return std::unexpected(pid.error());
    query.pid = static_cast<std::uint32_t>(*pid);
    return query;
}

Result<Command> parse_monitor(std::string_view args) {
    // Called with the text after "qRcmd,": the command's bytes in hex.
    auto bytes = decode_hex(args);
    if (!bytes) return std::unexpected(bytes.error());
    return Monitor{std::string(bytes->begin(), bytes->end())};
}

}  // namespace hvgdb::gdbstub::protocol
