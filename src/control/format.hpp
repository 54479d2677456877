// How nolbctl shows the daemon's documents to a person: aligned tables and short sentences
// built from the JSON results described in protocol.hpp. Pure functions of their inputs (the
// current time included), so tests pin the exact text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/protocol.hpp"

namespace nolb::control {

// The moment output is rendered for, and how clock times are shown.
struct Clock {
    double now = 0;    // Unix seconds
    bool utc = false;  // false: the local time zone
};

// Rows of cells as columns padded to the widest cell, two spaces apart, no trailing blanks.
std::string format_table(const std::vector<std::vector<std::string>>& rows);

std::string format_clock_time(double unix_seconds, const Clock& clock);  // "12:00:03"
std::string format_ago(double seconds);                                  // "2m ago"
std::string format_duration(double seconds);                             // "2h 3m"
std::string format_latency(double milliseconds);                         // "0.4ms"

// SERVICE NODE ADDRESS STATE SINCE LAST LATENCY OK/FAIL ADMIN, one row per address.
std::string format_status(const Json& status, const Clock& clock);
std::string format_stats(const Json& stats);
std::string format_explain(const Json& explain);
// "drained london (www.demo.test.); safe to stop at 12:00:23 (in 20 s)"
std::string format_drain(const Json& drain, const Clock& clock);
std::string format_reload(const Json& reload);  // "reloaded", or "reload rejected:" + problems
std::string format_check(const Json& check);    // one line
std::string format_event(const Json& event, const Clock& clock);  // one line per transition

}  // namespace nolb::control
