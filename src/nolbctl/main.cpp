// nolbctl: the command line, and nothing else; nolbctl/commands.cpp does the work. The verbs,
// their arguments and their help come from control::kVerbs, the list the daemon serves.
#include <CLI/CLI.hpp>

#include <string>

#include "config/config.hpp"
#include "control/protocol.hpp"
#include "nolbctl/client.hpp"
#include "nolbctl/commands.hpp"
#include "util/version.hpp"

int main(int argc, char** argv) {
    using namespace nolb;
    using control::Verb;
    CLI::App app(
        "nolbctl asks a running nolbd what it is doing and tells it what to do, over its "
        "control socket. Exit status: 0 when done, 1 when nolbd refused (an unknown node, a "
        "rejected reload), 3 when nolbd cannot be reached; `check` exits 0 when every node is "
        "up, 1 when some are down and 2 when a service has none up.",
        "nolbctl");
    nolbctl::Options options;
    app.add_option("-s,--socket", options.socket,
                   "Control socket (default: control.socket from --config, else " +
                       config::Control{}.socket + ")")
        ->option_text("PATH");
    app.add_option("-c,--config", options.config_path, "Read the socket path from this file")
        ->option_text("FILE");
    app.add_flag("--json", options.json, "Print the result as JSON");
    app.add_option("--timeout", options.timeout_s,
                   "Seconds to wait for nolbd to answer (default: 5; reload: at least 30)")
        ->option_text("SECONDS")
        ->check(CLI::Validator(
            [](std::string& text) {
                double seconds = 0;
                try {
                    seconds = std::stod(text);
                } catch (const std::exception&) {
                }
                return seconds > 0 && seconds <= 3600 ? std::string()
                                                      : "must be between 0 and 3600 seconds";
            },
            "SECONDS"));
    app.set_version_flag("--version", std::string("nolbctl ") + kVersion);
    app.require_subcommand(1);
    app.fallthrough();  // --json and --socket may also follow the verb

    std::vector<std::pair<CLI::App*, Verb>> verbs;
    for (const control::VerbInfo& info : control::kVerbs) {
        CLI::App* sub = app.add_subcommand(std::string(info.name), std::string(info.meaning));
        verbs.emplace_back(sub, info.verb);
        for (const control::VerbArgument& argument : info.arguments) {
            if (argument.name.empty()) continue;
            const std::string name(argument.name), meaning(argument.meaning);
            nolbctl::ArgumentTarget target = nolbctl::argument_target(options, argument.name);
            if (target.flag)
                sub->add_flag(name, *target.flag, meaning);
            else if (target.text)
                sub->add_option(name, *target.text, meaning)->required(argument.required);
        }
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int status = app.exit(e);
        return status == 0 ? nolbctl::kExitOk : nolbctl::kExitUsage;
    }
    for (const auto& [sub, verb] : verbs)
        if (sub->parsed()) options.verb = verb;
    return nolbctl::run(options);
}
