// What nolbd does once its command line is parsed: check a configuration, or load it, serve it
// (nolbd/daemon.hpp) and reload it on SIGHUP until SIGINT or SIGTERM. The functions return the
// process exit status, so main stays a command-line parser.
#pragma once

#include <optional>
#include <string>

#include "nolbd/privileges.hpp"
#include "util/log.hpp"

namespace nolb::nolbd {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;      // could not start: an address in use, ...
inline constexpr int kExitConfigError = 2;  // the configuration (or the command line) is wrong

struct Options {
    std::string config_path = "/etc/nolb/nolb.toml";
    std::optional<log::Level> log_level;  // from the command line; wins over the config
};

// Loads and compiles `path`; prints "<path>: ok" on stdout, or every problem on stderr.
int check_config(const std::string& path);

// Serves until asked to stop. `user` (from -u) replaces server.user and server.group.
int run(const Options& options, const std::optional<UserOverride>& user = std::nullopt);

}  // namespace nolb::nolbd
