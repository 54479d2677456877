// nolbd's two ways to run: check a configuration and exit, or load it and serve it until
// stopped. Both turn what went wrong into the exit status nolbd/run.hpp lists.
#include "nolbd/run.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <iostream>

#include "nolbd/daemon.hpp"
#include "util/log.hpp"
#include "zone/compile.hpp"

namespace nolb::nolbd {
namespace {

void print_problems(const config::Error& error) {
    if (error.problems().empty()) {
        std::cerr << error.what() << '\n';
        return;
    }
    for (const auto& problem : error.problems())
        std::cerr << problem << '\n';
}

// Probes and TCP clients each hold a descriptor; the soft limit (often 1024) is a default for
// interactive programs, not for a server. Raise it to the hard limit.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
        log::warning("cannot raise the open-file limit", {{"limit", limit.rlim_max}});
}

}  // namespace

int check_config(const std::string& path) {
    try {
        const Loaded loaded = load(path);
        zone::compile(*loaded.model, {}, zone::next_serials(*loaded.model, {}));
    } catch (const config::Error& e) {
        print_problems(e);
        return kExitConfigError;
    } catch (const std::exception& e) {
        std::cerr << path << ": " << e.what() << '\n';
        return kExitConfigError;
    }
    std::cout << path << ": ok\n";
    return kExitOk;
}

int run(const Options& options, const std::optional<UserOverride>& user) {
    log::set_program("nolbd");
    signal(SIGPIPE, SIG_IGN);
    raise_descriptor_limit();
    if (options.log_level) log::set_level(*options.log_level);

    Loaded loaded;
    try {
        loaded = load(options.config_path);
    } catch (const config::Error& e) {
        print_problems(e);
        return kExitConfigError;
    } catch (const std::exception& e) {
        log::error("cannot load the configuration",
                   {{"config", options.config_path}, {"error", e.what()}});
        return kExitFailure;
    }
    apply_log_level(options, loaded.config.server);

    // The override stays out of the loaded config, which reloads compare with the file.
    PrivilegePlan privileges;
    try {
        config::Server names = loaded.config.server;
        if (user) {
            names.user = user->user;
            names.group = user->group;
        }
        privileges = plan_privileges(names, user ? "--user" : options.config_path, geteuid());
    } catch (const config::Error& e) {
        print_problems(e);
        return kExitConfigError;
    }

    try {
        Daemon daemon(options, std::move(loaded), std::move(privileges));
        return daemon.serve();
    } catch (const std::exception& e) {
        log::error(e.what());
        return kExitFailure;
    }
}

}  // namespace nolb::nolbd
