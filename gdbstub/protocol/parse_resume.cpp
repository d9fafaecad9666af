// Resume packets: c s C S and vCont (gdb manual, "Packets").
#include "gdbstub/protocol/parse.hpp"
#include "gdbstub/protocol/parse_util.hpp"

namespace hvgdb::gdbstub::protocol {

using detail::malformed;

namespace {

// "" or "addr".
Result<Command> parse_plain(ResumeAction action, std::string_view args) {
    Resume resume{action, std::nullopt, std::nullopt};
    if (args.empty()) return resume;
    auto address = parse_hex_u64(args);
    if (!address) return std::unexpected(address.error());
    resume.address = *address;
    return resume;
}

// "sig" or "sig;addr".
Result<Command> parse_with_signal(ResumeAction action, std::string_view args) {
    auto parts = detail::split_once(args, ';');
    auto signal = detail::parse_signal(parts ? parts->first : args);
    if (!signal) return std::unexpected(signal.error());
    Resume resume{action, *signal, std::nullopt};
    if (!parts) return resume;
    auto address = parse_hex_u64(parts->second);
    if (!address) return std::unexpected(address.error());
    resume.address = *address;
    return resume;
}

// "c", "s", "t", "Csig", "Ssig", each optionally followed by ":thread-id".
Result<VContAction> parse_vcont_action(std::string_view text) {
    auto parts = detail::split_once(text, ':');
    std::string_view head = parts ? parts->first : text;
    if (head.empty()) return malformed("empty vCont action");
    VContAction action;
    std::string_view signal_text = head.substr(1);
    bool takes_signal = false;
    switch (head.front()) {
        case 'c':
            action.action = ResumeAction::cont;
            break;
        case 's':
            action.action = ResumeAction::step;
            break;
        case 't':
            action.action = ResumeAction::stop;
            break;
        case 'C':
            action.action = ResumeAction::cont;
            takes_signal = true;
            break;
        case 'S':
            action.action = ResumeAction::step;
            takes_signal = true;
            break;
        default:
            return malformed("unsupported vCont action '{}'", detail::excerpt(head));
    }
    if (takes_signal) {
        auto signal = detail::parse_signal(signal_text);
        if (!signal) return std::unexpected(signal.error());
        action.signal = *signal;
    } else if (!signal_text.empty()) {
        return malformed("vCont action '{}' takes no argument", detail::excerpt(head));
    }
    if (parts) {
        auto thread = parse_thread_spec(parts->second);
        if (!thread) return std::unexpected(thread.error());
        action.thread = *thread;
    }
    return action;
}

}  // namespace

Result<Command> parse_continue(std::string_view args) {
    return parse_plain(ResumeAction::cont, args);
}
Result<Command> parse_step(std::string_view args) {
    return parse_plain(ResumeAction::step, args);
}
Result<Command> parse_continue_signal(std::string_view args) {
    return parse_with_signal(ResumeAction::cont, args);
}
Result<Command> parse_step_signal(std::string_view args) {
    return parse_with_signal(ResumeAction::step, args);
}

Result<Command> parse_vcont(std::string_view args) {
    // Called with the text after "vCont;": actions separated by ';'.
    VCont vcont;
    while (true) {
        auto parts = detail::split_once(args, ';');
        auto action = parse_vcont_action(parts ? parts->first : args);
        if (!action) return std::unexpected(action.error());
        vcont.actions.push_back(*action);
        if (!parts) break;
        args = parts->second;
    }
    return vcont;
}

}  // namespace hvgdb::gdbstub::protocol
