// What a Server is built from: where to listen, how many workers, the TCP limits and the UDP
// rate limits, as plain values. server/ reads no configuration file; nolbd translates its
// config into these (nolbd/server_settings.hpp), and tests fill them in directly. The defaults
// are those of an unconfigured nolbd, so a test that sets only what it exercises gets the
// daemon's behaviour for the rest.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "util/ip.hpp"

namespace nolb::server {

// Cuts a response, in place, to what a slipped (rate-limited but not dropped) response is, and
// returns its new length; 0 when it cannot be cut, and the response is then dropped. What a
// slip looks like is the protocol's business, so it is handed in; it runs only for the rare
// slipped response, never on the normal path.
using SlipCut = std::size_t (*)(std::span<std::uint8_t> response);

// Response rate limiting for the UDP threads (server/rrl.hpp).
struct RrlSettings {
    unsigned responses_per_second = 0;  // per client prefix; 0: off
    unsigned slip = 2;          // every slip-th limited response is cut, not dropped; 0: none
    unsigned ipv4_prefix = 24;  // prefix lengths that share a limit
    unsigned ipv6_prefix = 56;
    unsigned buckets = 65'536;   // prefixes tracked per UDP thread
    SlipCut slip_cut = nullptr;  // null: a slip is dropped like the others
};

struct Settings {
    std::vector<util::Endpoint> listen;  // UDP and TCP are both opened on each
    unsigned workers = 1;
    std::chrono::milliseconds tcp_idle_timeout{10'000};  // zero: no idle timeout
    // From a query's first byte to its last, and from answers being queued to all of them
    // sent; zero: no io timeout.
    std::chrono::milliseconds tcp_io_timeout{2'000};
    unsigned tcp_max_connections = 256;  // in total, shared equally by the workers
    unsigned tcp_max_per_client = 32;    // from one client address, across workers
    RrlSettings rrl;
};

}  // namespace nolb::server
