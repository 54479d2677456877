// nolbd: the command line, and nothing else; nolbd/run.cpp does the work.
#include <malloc.h>

#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>
#include <string>

#include "nolbd/privileges.hpp"
#include "nolbd/run.hpp"
#include "util/log.hpp"
#include "util/version.hpp"

int main(int argc, char** argv) {
    using namespace nolb;
    // nolbd allocates at load and reload, on the main thread; the answering threads allocate
    // only as they start. One malloc arena keeps each of them from setting up its own.
    mallopt(M_ARENA_MAX, 1);
    CLI::App app(
        "nolbd is an authoritative DNS server for the zones and services in its configuration "
        "file. A service name publishes the addresses of all its nodes, in a new random order "
        "on every response and with a short TTL, so that clients spread across them. It "
        "answers over UDP and TCP on every server.listen address: each worker has a thread per "
        "UDP socket and one for TCP. "
        "Started as root, it opens its sockets and then runs as server.user (or -u). "
        "SIGHUP reloads the file (a file with errors is rejected and the running one keeps "
        "serving); SIGINT and SIGTERM stop it. Exit status: 0 after a clean stop, 1 when it "
        "cannot start (such as an address in use), 2 for errors in the configuration or on "
        "the command line.",
        "nolbd");
    nolbd::Options options;
    std::string check_path;
    std::string level_name;
    std::string user_text;
    app.add_option("-c,--config", options.config_path,
                   "Configuration file (default: " + options.config_path + ")")
        ->option_text("FILE");
    app.add_option("--check-config", check_path,
                   "Check FILE (configuration and zone files), print \"FILE: ok\" or every "
                   "problem, and exit")
        ->option_text("FILE");
    app.add_option("--log-level", level_name,
                   "debug, info, warning or error; overrides server.log_level")
        ->option_text("LEVEL")
        ->check(CLI::IsMember({"debug", "info", "warning", "error"}));
    app.add_option("-u,--user", user_text,
                   "Run as USER (and GROUP, else USER's primary group) once the sockets are "
                   "open, when started as root; \"root\" keeps root. Overrides server.user "
                   "and server.group")
        ->option_text("USER[:GROUP]");
    app.set_version_flag("--version", std::string("nolbd ") + kVersion);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int status = app.exit(e);
        return status == 0 ? nolbd::kExitOk : nolbd::kExitConfigError;
    }

    if (app.count("--check-config") > 0) return nolbd::check_config(check_path);
    if (!level_name.empty()) {
        log::Level level;
        if (log::parse_level(level_name, level)) options.log_level = level;
    }
    std::optional<nolbd::UserOverride> user;
    if (app.count("--user") > 0) {
        user.emplace();
        if (!nolbd::parse_user_override(user_text, *user)) {
            std::cerr << "--user: expected USER or USER:GROUP, got \"" << user_text << "\"\n";
            return nolbd::kExitConfigError;
        }
    }
    return nolbd::run(options, user);
}
