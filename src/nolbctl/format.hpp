// How nolbctl shows the daemon's answers to a person: aligned tables and short sentences built
// from the typed documents (control/documents.hpp) decoded from its replies. Pure functions of
// their inputs (the current time included), so tests pin the exact text.
#pragma once

#include <string>
#include <vector>

#include "control/documents.hpp"

namespace nolb::nolbctl {

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
std::string format_status(const control::Status& status, const Clock& clock);
std::string format_stats(const control::Stats& stats);
std::string format_explain(const control::Explain& explain);
// "drained london (www.demo.test.); safe to stop at 12:00:23 (in 20 s)"
std::string format_drain(const control::DrainResult& drain, const Clock& clock);
// "reloaded", or "reload rejected:" and the problems
std::string format_reload(const control::ReloadResult& reload);
std::string format_check(const control::Check& check);                           // one line
std::string format_event(const control::WatchEvent& event, const Clock& clock);  // one line

}  // namespace nolb::nolbctl
