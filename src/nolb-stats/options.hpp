// What one nolb-stats process is told on its command line: its site name, where it listens and
// how much memory it may "use" before it degrades and then fails. main.cpp fills it; the server
// reads it and never changes it. Exit statuses live here too, since scripts tell a simulated
// crash (kExitOutOfMemory) from a real failure by them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/ip.hpp"

namespace nolb::stats {

inline constexpr int kExitOk = 0;
inline constexpr int kExitCannotStart = 1;  // e.g. an address in use
inline constexpr int kExitUsage = 2;        // a bad command line
inline constexpr int kExitOutOfMemory = 3;  // the simulated crash past --memory-limit

struct Options {
    std::string site;
    std::vector<util::Endpoint> listen;
    unsigned memory_limit_mb = 256;
    unsigned chunk_mb = 16;
    unsigned degrade_at_percent = 80;
    bool allow_fault_injection = false;
    // Connections stay open between requests, as web servers keep them; without it every
    // answer closes its connection, so that each request resolves and connects again, which is
    // what the demonstration shows.
    bool keep_alive = false;
};

// "127.0.0.1:8080" or "[::1]:8080". The port is required (a web page has no default port worth
// guessing) and may be 0, which lets the kernel choose; the chosen port is logged at start.
std::optional<util::Endpoint> parse_listen(std::string_view text);

// Site names appear in HTML, JSON, logs and DNS-style node names, so they stay plain:
// letters, digits, '.', '-' and '_', at most 63 characters.
bool valid_site_name(std::string_view name);

}  // namespace nolb::stats
