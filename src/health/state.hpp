// Health as nolbd observes it: one AddressState per probed (service, node, address), moved only
// by probe results against rise/fall thresholds. What the operator wants (drains) is kept apart,
// in Drains (health/drains.hpp), so that a drain never hides what the probes see and survives
// reloads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "health/drains.hpp"
#include "util/ip.hpp"

namespace nolb::health {

using Clock = std::chrono::system_clock;

enum class Observed : std::uint8_t { unknown, up, down };
const char* observed_name(Observed);

// Why a probe failed (or `ok`). Names are stable: logs, nolbctl and metrics print them.
enum class Outcome : std::uint8_t {
    ok,
    timeout,      // no connection, or no complete response, within the timeout
    refused,      // connection refused (RST to the SYN)
    reset,        // connection reset or closed before a complete response
    unreachable,  // no route, network unreachable, ...
    status,       // an HTTP status outside the accepted ones
    body,         // the body did not hold the expected substring
    protocol,     // not a parseable HTTP response, or one larger than the probe reads
    error,        // any other local error (out of sockets, ...)
};
const char* outcome_name(Outcome);

struct ProbeResult {
    Outcome outcome = Outcome::ok;
    int http_status = 0;  // when a status line was read
    std::chrono::microseconds latency{0};
    std::string detail;  // human words: "status 503", "refused", "timeout after 1000 ms"
};

// One published address and what its probes say.
struct AddressState {
    // Identity: indices into the Config it was configured from, and the addresses.
    std::size_t service = 0, node = 0, address = 0;
    std::string service_name, node_name;
    util::IpAddress published, probed;
    config::HealthCheck check;  // type none: never probed, always up

    // Observed health.
    Observed observed = Observed::unknown;
    unsigned successes = 0;     // consecutive
    unsigned failures = 0;      // consecutive
    Clock::time_point since{};  // of the last transition (or of configuration)
    std::string reason;         // of the last transition
    std::optional<ProbeResult> last;
    Clock::time_point last_at{};
    std::uint64_t probes = 0, probe_failures = 0, transitions = 0;

    bool up() const { return observed == Observed::up; }
};

struct Transition {
    std::string service_name, node_name;
    util::IpAddress published;
    Observed from = Observed::unknown, to = Observed::unknown;
    std::string reason;
    Clock::time_point at{};
};

}  // namespace nolb::health
