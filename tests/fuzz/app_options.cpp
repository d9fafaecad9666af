// Fuzz target: hvgdb's command line (app/options.hpp).  Input: arguments separated by NUL
// bytes; every value parser also gets the whole input as one value.  Checked: a bad option
// is ErrorKind::invalid with one line (hvgdb prints it and exits with code 2; an error may
// quote the bad value, so only a value with a line break may break it); the sizes and counts
// that parse lie in their documented ranges.
#include <string>
#include <vector>

#include "app/options.hpp"
#include "fuzz.hpp"

namespace {

using hvgdb::fuzz::check;

class Refusals {
  public:
    // `text`: all the input, which an error may quote.
    explicit Refusals(std::string_view text)
        : quotes_line_break_(text.find_first_of("\n\r") != std::string_view::npos) {}

    template <typename T>
    void check(const hvgdb::Result<T>& parsed) const {
        if (parsed) return;
        const hvgdb::Error& error = parsed.error();
        hvgdb::fuzz::check(error.kind == hvgdb::ErrorKind::invalid,
                           "a bad option is ErrorKind::invalid");
        hvgdb::fuzz::check(!error.context.empty(), "a bad option's error says why");
        hvgdb::fuzz::check(quotes_line_break_ || error.message().find('\n') == std::string::npos,
                           "a bad option's error is one line");
    }

  private:
    bool quotes_line_break_;
};

void check_values(std::string_view text, const Refusals& refusals) {
    using namespace hvgdb::app;
    auto memory = parse_memory_size(text);
    refusals.check(memory);
    if (memory)
        check(*memory % 4096 == 0 && *memory >= (1u << 20) && *memory <= (std::uint64_t{64} << 30),
              "--memory is a multiple of 4 KiB from 1 MiB to 64 GiB");
    auto cpus = parse_cpus(text);
    refusals.check(cpus);
    if (cpus) check(*cpus >= 1 && *cpus <= 255, "--cpus is 1 to 255");
    auto endpoint = parse_endpoint(text);
    refusals.check(endpoint);
    if (endpoint) {
        auto listen = check_listen_address(*endpoint, false);
        refusals.check(listen);
        check(listen.has_value() == is_loopback(*endpoint),
              "without --allow-remote hvgdb listens on loopback only");
        check(check_listen_address(*endpoint, true).has_value(), "--allow-remote allows any");
        check(!endpoint_name(*endpoint).empty(), "an endpoint has a name");
    }
    refusals.check(parse_after_detach(text));
    refusals.check(parse_module(text));
    refusals.check(parse_serial(text));
    refusals.check(parse_memory_map_mode(text));
    refusals.check(parse_view(text));
    refusals.check(parse_address(text));
}

// Help and version print to standard output and end the parse; nothing to check there.
bool asks_for_help(std::string_view arg) {
    return arg.starts_with("-h") || arg.starts_with("--h") || arg.starts_with("--v");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    hvgdb::fuzz::Input input(data, size);
    const std::string_view text = input.rest_text();
    const Refusals refusals(text);
    check_values(text, refusals);

    std::vector<std::string> args{"hvgdb"};
    for (std::size_t at = 0; at <= text.size();) {
        std::size_t end = std::min(text.find('\0', at), text.size());
        std::string_view arg = text.substr(at, end - at);
        if (asks_for_help(arg)) return 0;
        args.emplace_back(arg);
        at = end + 1;
    }
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    refusals.check(hvgdb::app::parse_command_line(static_cast<int>(argv.size()), argv.data()));
    return 0;
}
