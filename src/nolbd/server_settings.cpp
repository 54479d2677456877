// Config to server::Settings, field by field.
#include "nolbd/server_settings.hpp"

#include "answer/slip.hpp"

namespace nolb::nolbd {

server::Settings server_settings(const config::Config& config) {
    server::Settings settings;
    settings.listen = config.server.listen;
    settings.workers = config.server.workers;
    settings.tcp_idle_timeout = config.server.tcp_idle_timeout;
    settings.tcp_io_timeout = config.server.tcp_io_timeout;
    settings.tcp_max_connections = config.server.tcp_max_connections;
    settings.tcp_max_per_client = config.server.tcp_max_per_client;
    settings.rrl.responses_per_second = config.rrl.responses_per_second;
    settings.rrl.slip = config.rrl.slip;
    settings.rrl.ipv4_prefix = config.rrl.ipv4_prefix;
    settings.rrl.ipv6_prefix = config.rrl.ipv6_prefix;
    settings.rrl.buckets = config.rrl.buckets;
    settings.rrl.slip_cut = &answer::slip_response;
    return settings;
}

}  // namespace nolb::nolbd
