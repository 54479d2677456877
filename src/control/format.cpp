// Rendering of control results for people. Every field is read defensively: a field the daemon
// left out shows as "-" rather than failing, so an older or newer daemon still gets readable
// output from this nolbctl.
#include "control/format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <utility>

namespace nolb::control {
namespace {

const Json* field(const Json& document, const char* key) {
    if (!document.is_object()) return nullptr;
    auto it = document.find(key);
    return it == document.end() || it->is_null() ? nullptr : &*it;
}

std::optional<double> number(const Json& document, const char* key) {
    const Json* value = field(document, key);
    if (!value || !value->is_number()) return std::nullopt;
    return value->get<double>();
}

bool flag(const Json& document, const char* key) {
    const Json* value = field(document, key);
    return value && value->is_boolean() && value->get<bool>();
}

std::string text(const Json& document, const char* key, std::string fallback = "-") {
    const Json* value = field(document, key);
    if (!value) return fallback;
    if (value->is_string()) return value->get<std::string>();
    return value->dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Counters as integers; anything else as JSON would show it.
std::string count_of(const Json* value) {
    if (!value || value->is_null()) return "-";
    if (value->is_string()) return value->get<std::string>();
    if (value->is_number_float()) {
        double d = value->get<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15)
            return std::to_string(static_cast<long long>(d));
    }
    return value->dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string count(const Json& document, const char* key) {
    return count_of(field(document, key));
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) out += separator;
        out += parts[i];
    }
    return out;
}

const Json& array_or_empty(const Json& document, const char* key) {
    static const Json empty = Json::array();
    const Json* value = field(document, key);
    return value && value->is_array() ? *value : empty;
}

std::string printf_text(const char* format, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, value);
    return buffer;
}

std::string whole(double value) {
    return std::to_string(static_cast<long long>(value));
}

// "A 10, AAAA 4" from {"A": 10, "AAAA": 4}.
std::string breakdown(const Json& object) {
    std::vector<std::string> parts;
    if (object.is_object())
        for (const auto& [key, value] : object.items())
            parts.push_back(key + " " + count_of(&value));
    return parts.empty() ? "-" : join(parts, ", ");
}

}  // namespace

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        if (widths.size() < row.size()) widths.resize(row.size(), 0);
        for (std::size_t i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line;
        out += '\n';
    }
    return out;
}

std::string format_clock_time(double unix_seconds, const Clock& clock) {
    auto seconds = static_cast<std::time_t>(std::floor(unix_seconds));
    std::tm parts{};
    if (clock.utc)
        gmtime_r(&seconds, &parts);
    else
        localtime_r(&seconds, &parts);
    // The date matters once the moment is not within the last (or next) day.
    const char* format =
        std::fabs(clock.now - unix_seconds) < 20 * 3600 ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S";
    char buffer[32];
    std::size_t n = std::strftime(buffer, sizeof buffer, format, &parts);
    return std::string(buffer, n);
}

std::string format_ago(double seconds) {
    seconds = std::max(0.0, std::floor(seconds));
    if (seconds < 60) return whole(seconds) + "s ago";
    if (seconds < 3600) return whole(seconds / 60) + "m ago";
    if (seconds < 86400) return whole(seconds / 3600) + "h ago";
    return whole(seconds / 86400) + "d ago";
}

std::string format_duration(double seconds) {
    auto s = static_cast<long long>(std::max(0.0, std::floor(seconds)));
    auto two = [](long long big, const char* big_unit, long long small, const char* small_unit) {
        std::string out = std::to_string(big) + big_unit;
        if (small > 0) {
            out += ' ';
            out += std::to_string(small);
            out += small_unit;
        }
        return out;
    };
    if (s < 60) return std::to_string(s) + "s";
    if (s < 3600) return two(s / 60, "m", s % 60, "s");
    if (s < 86400) return two(s / 3600, "h", s % 3600 / 60, "m");
    return two(s / 86400, "d", s % 86400 / 3600, "h");
}

std::string format_latency(double milliseconds) {
    if (milliseconds < 10) return printf_text("%.1fms", milliseconds);
    if (milliseconds < 1000) return printf_text("%.0fms", milliseconds);
    return printf_text("%.2fs", milliseconds / 1000);
}

std::string format_status(const Json& status, const Clock& clock) {
    std::vector<std::vector<std::string>> rows{
        {"SERVICE", "NODE", "ADDRESS", "STATE", "SINCE", "LAST", "LATENCY", "OK/FAIL", "ADMIN"}};
    std::vector<std::string> notes;
    for (const Json& service : array_or_empty(status, "services")) {
        std::string service_name = text(service, "name");
        if (flag(service, "all_down_fired"))
            notes.push_back(service_name +
                            ": every address is down; all_down = " + text(service, "all_down") +
                            (text(service, "all_down") == "none" ? " publishes none of them"
                                                                 : " publishes them all"));
        for (const Json& node : array_or_empty(service, "nodes")) {
            std::string admin = flag(node, "drained") ? "drained" : "-";
            for (const Json& address : array_or_empty(node, "addresses")) {
                std::optional<double> since = number(address, "since");
                std::string since_text = since ? format_clock_time(*since, clock) + " (" +
                                                     format_ago(clock.now - *since) + ")"
                                               : "-";
                std::string last = "-";
                std::string latency = "-";
                if (const Json* probe = field(address, "last")) {
                    last = text(*probe, "outcome");
                    std::optional<double> http_status = number(*probe, "http_status");
                    if (http_status && *http_status > 0 && last != "ok") {
                        last += ' ';
                        last += whole(*http_status);
                    }
                    if (std::optional<double> ms = number(*probe, "latency_ms"))
                        latency = format_latency(*ms);
                }
                rows.push_back({service_name, text(node, "name"), text(address, "address"),
                                text(address, "state"), since_text, last, latency,
                                count(address, "successes") + "/" + count(address, "failures"),
                                admin});
            }
        }
    }
    if (rows.size() == 1) return "no services\n";
    std::string out = format_table(rows);
    for (const std::string& note : notes)
        out += "note: " + note + "\n";
    return out;
}

std::string format_stats(const Json& stats) {
    const Json empty = Json::object();
    auto section = [&](const char* key) -> const Json& {
        const Json* value = field(stats, key);
        return value && value->is_object() ? *value : empty;
    };
    const Json& queries = section("queries");
    const Json& probes = section("probes");
    const Json& tcp = section("tcp");
    const Json& udp = section("udp");
    const Json& rrl = section("rrl");
    std::optional<double> uptime = number(stats, "uptime_s");
    std::string out;
    out += "snapshot generation " + count(stats, "generation") + ", up " +
           (uptime ? format_duration(*uptime) : std::string("-")) + "\n";
    out += "queries: " + count(queries, "total") + " (dropped " + count(queries, "dropped") +
           ", truncated " + count(queries, "truncated") + ")\n";
    out +=
        "  by type: " + breakdown(field(queries, "by_type") ? *field(queries, "by_type") : empty) +
        "\n";
    out += "  by rcode: " +
           breakdown(field(queries, "by_rcode") ? *field(queries, "by_rcode") : empty) + "\n";
    out += "udp: received " + count(udp, "received") + ", sent " + count(udp, "sent") +
           ", errors " + count(udp, "errors") + "\n";
    out += "rrl: limited " + count(rrl, "limited") + ", slipped " + count(rrl, "slipped") +
           ", dropped " + count(rrl, "dropped") + "\n";
    out += "tcp: accepted " + count(tcp, "accepted") + ", refused " + count(tcp, "refused") +
           ", timed out " + count(tcp, "timed_out");
    // Counted by newer daemons only: an older one's stats stay as they were.
    for (auto [key, label] :
         {std::pair{"refused_per_client", "refused per client"}, std::pair{"evicted", "evicted"},
          std::pair{"io_timed_out", "io timed out"}})
        if (field(tcp, key)) out += std::string(", ") + label + " " + count(tcp, key);
    out += "\n";
    out += "probes: sent " + count(probes, "sent") + ", failed " + count(probes, "failed") +
           ", late " + count(probes, "late");
    if (field(probes, "overlapped")) out += ", overlapped " + count(probes, "overlapped");
    out += "\n";
    out += "health transitions: " + count(stats, "transitions") + "\n";
    // How long handing a new snapshot to the workers takes (newer daemons only).
    if (const Json* publish = field(stats, "publish"); publish && publish->is_object()) {
        auto ms = [&](const char* key) {
            const std::optional<double> value = number(*publish, key);
            if (!value) return std::string("-");
            char text[32];
            std::snprintf(text, sizeof text, "%.2f ms", *value);
            return std::string(text);
        };
        out += "publish: " + count(*publish, "changes") + " changes, last " + ms("last_ms") +
               ", max " + ms("max_ms") + ", whole rendering " + ms("full_ms") + "\n";
    }
    return out;
}

std::string format_explain(const Json& explain) {
    std::string out = text(explain, "name") + " " + text(explain, "type") + ": " +
                      text(explain, "rcode") +
                      (flag(explain, "aa") ? ", authoritative" : ", not authoritative") + "\n";
    for (const char* section : {"answer", "authority", "additional"}) {
        const Json& lines = array_or_empty(explain, section);
        if (lines.empty()) continue;
        out += std::string(section) + ":\n";
        for (const Json& line : lines)
            out += "  " + (line.is_string() ? line.get<std::string>() : line.dump()) + "\n";
    }
    if (field(explain, "ttl"))
        out += "ttl: " + count(explain, "ttl") + " (" + text(explain, "ttl_source", "?") + ")\n";
    if (!field(explain, "service")) return out;

    out += "service " + text(explain, "service") + ":\n";
    std::vector<std::vector<std::string>> rows;
    for (const Json& address : array_or_empty(explain, "addresses")) {
        bool included = flag(address, "included");
        rows.push_back({"  " + std::string(included ? "+" : "-"), text(address, "address"),
                        text(address, "node"), included ? "included" : "left out",
                        text(address, "reason", "")});
    }
    out += format_table(rows);
    out += flag(explain, "all_down_fired")
               ? "all_down: fired (every address is down; the service's all_down rule decided)\n"
               : "all_down: did not fire\n";
    return out;
}

std::string format_drain(const Json& drain, const Clock& clock) {
    std::vector<std::string> services;
    for (const Json& match : array_or_empty(drain, "matched")) {
        std::string service = text(match, "service");
        if (std::find(services.begin(), services.end(), service) == services.end())
            services.push_back(service);
    }
    std::string where = services.empty() ? "" : " (" + join(services, ", ") + ")";
    std::string node = text(drain, "node");
    if (!flag(drain, "drained")) return "undrained " + node + where + "\n";

    std::string out = "drained " + node + where + "; ";
    std::optional<double> safe_at = number(drain, "safe_at");
    std::optional<double> safe_in = number(drain, "safe_in_s");
    if (!safe_in && safe_at) safe_in = *safe_at - clock.now;
    if (!safe_in || *safe_in <= 0) return out + "safe to stop now\n";
    if (!safe_at) safe_at = clock.now + *safe_in;
    double in = std::ceil(*safe_in);
    std::string in_text = in < 60 ? whole(in) + " s" : format_duration(in);
    return out + "safe to stop at " + format_clock_time(*safe_at, clock) + " (in " + in_text +
           ")\n";
}

std::string format_reload(const Json& reload) {
    if (flag(reload, "reloaded")) return "reloaded\n";
    std::string out = "reload rejected:\n";
    for (const Json& problem : array_or_empty(reload, "problems"))
        out += "  " + (problem.is_string() ? problem.get<std::string>() : problem.dump()) + "\n";
    return out;
}

std::string format_check(const Json& check) {
    std::optional<double> status = number(check, "status");
    const char* level = !status        ? "UNKNOWN"
                        : *status == 0 ? "OK"
                        : *status == 1 ? "WARNING"
                                       : "CRITICAL";
    std::vector<std::string> short_of_nodes;
    std::size_t services = 0;
    for (const Json& service : array_or_empty(check, "services")) {
        ++services;
        std::optional<double> up = number(service, "up");
        std::optional<double> total = number(service, "total");
        if (up && total && *up < *total)
            short_of_nodes.push_back(text(service, "name") + " " + whole(*up) + "/" +
                                     whole(*total) + " up");
    }
    std::string out = std::string(level) + ": ";
    if (short_of_nodes.empty())
        out += "every service fully up (" + std::to_string(services) + " services)";
    else
        out += join(short_of_nodes, ", ");
    return out + "\n";
}

std::string format_event(const Json& event, const Clock& clock) {
    if (text(event, "event") != "transition")
        return event.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
    std::optional<double> at = number(event, "at");
    std::string out = (at ? format_clock_time(*at, clock) : std::string("-")) + " " +
                      text(event, "service") + " " + text(event, "node") + " " +
                      text(event, "address") + " " + text(event, "from") + " -> " +
                      text(event, "to");
    std::string reason = text(event, "reason", "");
    if (!reason.empty()) out += " (" + reason + ")";
    return out + "\n";
}

}  // namespace nolb::control
