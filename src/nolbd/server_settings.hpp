// The one place where nolbd's configuration becomes what the network server is built from:
// server/ reads no config, and answer/ supplies the DNS part of it (what a slipped response
// looks like). A reload cannot change these settings; the daemon compares the config sections
// they come from to say so.
#pragma once

#include "config/config.hpp"
#include "server/settings.hpp"

namespace nolb::nolbd {

// The [server] section's endpoints, workers and TCP limits and the [rrl] section, with
// answer::slip_response as the cut a slipped response gets.
server::Settings server_settings(const config::Config& config);

}  // namespace nolb::nolbd
