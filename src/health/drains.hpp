// Operator intent, kept apart from what the probes observe: which nodes are drained, in every
// service or in one. The drain verb (control/verbs.cpp) changes them, the state file keeps them
// across restarts, plan() and the verbs read them. On the control socket and on disk a drain is
// text, "london" (that node in every service) or "www.demo.test./london" (in that service
// only); that text is parsed and formatted here and nowhere else.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace nolb::health {

struct DrainKey {
    std::optional<std::string> service;  // absent: the node in every service
    std::string node;

    auto operator<=>(const DrainKey&) const = default;
};

// Splits at the last '/', since node names hold none: "www.demo.test./london" names one
// service, "london" every service. The service part is taken as written.
DrainKey parse_drain_key(std::string_view text);
std::string format_drain_key(const DrainKey& key);

struct Drains {
    std::set<DrainKey> keys;

    bool drained(const std::string& service_name, const std::string& node_name) const;
    bool operator==(const Drains&) const = default;
};

Drains drains_from(const std::vector<std::string>& texts);   // each as parse_drain_key reads it
std::vector<std::string> drain_texts(const Drains& drains);  // formatted, sorted as text

// The state file, {"drained": ["london", "www.demo.test./paris"]}. A missing file is no
// drains; an unreadable one is logged and also no drains, so that a damaged file never keeps
// nolbd from starting.
Drains read_drains(const std::string& path);
// Written whole to a temporary file renamed over the old one, so a crash never leaves half a
// file. Throws std::runtime_error.
void write_drains(const std::string& path, const Drains& drains);

}  // namespace nolb::health
