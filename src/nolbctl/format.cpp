// Rendering of control results for people: the documents nolbctl decoded from nolbd's reply,
// as tables and sentences.
#include "nolbctl/format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <utility>

namespace nolb::nolbctl {
namespace {

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) out += separator;
        out += parts[i];
    }
    return out;
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
std::string breakdown(const std::map<std::string, std::uint64_t>& counts) {
    std::vector<std::string> parts;
    for (const auto& [key, count] : counts)
        parts.push_back(key + " " + std::to_string(count));
    return parts.empty() ? "-" : join(parts, ", ");
}

std::string all_down_note(const control::ServiceStatus& service) {
    return service.name + ": every address is down; all_down = " + service.all_down +
           (service.all_down == "none" ? " publishes none of them" : " publishes them all");
}

std::vector<std::string> status_row(const control::ServiceStatus& service,
                                    const control::NodeStatus& node,
                                    const control::AddressStatus& address, const Clock& clock) {
    std::string last = "-";
    std::string latency = "-";
    if (address.last) {
        last = address.last->outcome;
        if (address.last->http_status > 0 && last != "ok") {
            last += ' ';
            last += std::to_string(address.last->http_status);
        }
        latency = format_latency(address.last->latency_ms);
    }
    return {service.name,
            node.name,
            address.address,
            address.state,
            format_clock_time(address.since, clock) + " (" + format_ago(clock.now - address.since) +
                ")",
            last,
            latency,
            std::to_string(address.successes) + "/" + std::to_string(address.failures),
            node.drained ? "drained" : "-"};
}

std::string ms_text(double value) {
    return printf_text("%.2f ms", value);
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

namespace {

// The secondaries seen per zone, after the services: one table, nothing when none was seen.
std::string format_secondaries(const std::vector<control::ZoneStatus>& zones, const Clock& clock) {
    std::vector<std::vector<std::string>> rows{
        {"ZONE", "SERIAL", "SECONDARY", "LAST REQUEST", "GOT", "HELD", "SENT", "BEHIND"}};
    auto serial = [](const std::optional<std::uint32_t>& s) {
        return s ? std::to_string(*s) : std::string("-");
    };
    for (const control::ZoneStatus& zone : zones)
        for (const control::SecondaryStatus& s : zone.secondaries)
            rows.push_back({zone.origin, std::to_string(zone.serial), s.address,
                            format_clock_time(s.last_at, clock) + " (" +
                                format_ago(clock.now - s.last_at) + ")",
                            s.last, serial(s.held), serial(s.sent),
                            s.behind ? "yes, " + format_duration(s.behind_s) : "no"});
    std::string out = rows.size() == 1 ? std::string() : "\n" + format_table(rows);
    std::vector<std::vector<std::string>> notify{
        {"ZONE", "NOTIFY", "SENT", "SERIAL", "ANSWERED", "RCODE", "MESSAGES", "FAILED"}};
    auto when = [&clock](const std::optional<double>& at) {
        return at ? format_clock_time(*at, clock) : std::string("-");
    };
    for (const control::ZoneStatus& zone : zones)
        for (const control::NotifyStatus& n : zone.notify)
            notify.push_back({zone.origin, n.target, when(n.sent_at), serial(n.sent),
                              n.in_flight > 0 ? "waiting (" + std::to_string(n.in_flight) + " sent)"
                                              : when(n.answered_at),
                              n.rcode.value_or("-"), std::to_string(n.messages),
                              std::to_string(n.notifies_failed)});
    if (notify.size() > 1) out += "\n" + format_table(notify);
    return out;
}

}  // namespace

std::string format_status(const control::Status& status, const Clock& clock) {
    std::vector<std::vector<std::string>> rows{
        {"SERVICE", "NODE", "ADDRESS", "STATE", "SINCE", "LAST", "LATENCY", "OK/FAIL", "ADMIN"}};
    std::vector<std::string> notes;
    for (const control::ServiceStatus& service : status.services) {
        if (service.all_down_fired) notes.push_back(all_down_note(service));
        for (const control::NodeStatus& node : service.nodes)
            for (const control::AddressStatus& address : node.addresses)
                rows.push_back(status_row(service, node, address, clock));
    }
    std::string out = rows.size() == 1 ? "no services\n" : format_table(rows);
    for (const std::string& note : notes)
        out += "note: " + note + "\n";
    out += format_secondaries(status.zones, clock);
    return out;
}

std::string format_stats(const control::Stats& stats) {
    const control::QueryStats& q = stats.queries;
    const control::TcpStats& tcp = stats.tcp;
    const control::PublishStats& publish = stats.publish;
    auto n = [](std::uint64_t count) { return std::to_string(count); };
    std::string out;
    out += "snapshot generation " + n(stats.generation) + ", up " +
           format_duration(stats.uptime_s) + "\n";
    out += "queries: " + n(q.total) + " (dropped " + n(q.dropped) + ", truncated " +
           n(q.truncated) + ")\n";
    out += "  by type: " + breakdown(q.by_type) + "\n";
    out += "  by rcode: " + breakdown(q.by_rcode) + "\n";
    out += "udp: received " + n(stats.udp.received) + ", sent " + n(stats.udp.sent) + ", errors " +
           n(stats.udp.errors) + "\n";
    out += "rrl: limited " + n(stats.rrl.limited) + ", slipped " + n(stats.rrl.slipped) +
           ", dropped " + n(stats.rrl.dropped) + "\n";
    const control::TransferStats& x = stats.transfers;
    out += "transfers: axfr " + n(x.axfr) + ", ixfr " + n(x.ixfr) + ", up to date " +
           n(x.up_to_date) + ", refused " + n(x.refused) + ", not a zone " + n(x.not_zone) +
           "; tsig errors " + n(x.tsig_errors) + ", other signed " + n(x.signed_other) + "\n";
    out += "tcp: accepted " + n(tcp.accepted) + ", refused " + n(tcp.refused) + ", timed out " +
           n(tcp.timed_out) + ", refused per client " + n(tcp.refused_per_client) + ", evicted " +
           n(tcp.evicted) + ", io timed out " + n(tcp.io_timed_out) + "\n";
    out += "probes: sent " + n(stats.probes.sent) + ", failed " + n(stats.probes.failed) +
           ", late " + n(stats.probes.late) + ", overlapped " + n(stats.probes.overlapped) + "\n";
    out += "health transitions: " + n(stats.transitions) + "\n";
    // How long handing a new snapshot to the workers takes.
    out += "publish: " + n(publish.changes) + " changes, last " + ms_text(publish.last_ms) +
           ", max " + ms_text(publish.max_ms) + ", whole rendering " + ms_text(publish.full_ms) +
           "\n";
    return out;
}

std::string format_explain(const control::Explain& explain) {
    std::string out = explain.name + " " + explain.type + ": " + explain.rcode +
                      (explain.aa ? ", authoritative" : ", not authoritative") + "\n";
    for (const auto& [section, lines] :
         {std::pair{"answer", &explain.answer}, std::pair{"authority", &explain.authority},
          std::pair{"additional", &explain.additional}}) {
        if (lines->empty()) continue;
        out += std::string(section) + ":\n";
        for (const std::string& line : *lines)
            out += "  " + line + "\n";
    }
    if (explain.ttl)
        out += "ttl: " + std::to_string(*explain.ttl) + " (" + explain.ttl_source + ")\n";
    if (!explain.service) return out;

    out += "service " + *explain.service + ":\n";
    std::vector<std::vector<std::string>> rows;
    for (const control::ExplainAddress& address : explain.addresses)
        rows.push_back({"  " + std::string(address.included ? "+" : "-"), address.address,
                        address.node, address.included ? "included" : "left out", address.reason});
    out += format_table(rows);
    out += explain.all_down_fired
               ? "all_down: fired (every address is down; the service's all_down rule decided)\n"
               : "all_down: did not fire\n";
    return out;
}

std::string format_drain(const control::DrainResult& drain, const Clock& clock) {
    std::vector<std::string> services;
    for (const control::DrainMatch& match : drain.matched)
        if (std::find(services.begin(), services.end(), match.service) == services.end())
            services.push_back(match.service);
    std::string where = services.empty() ? "" : " (" + join(services, ", ") + ")";
    if (!drain.drained) return "undrained " + drain.node + where + "\n";

    std::string out = "drained " + drain.node + where + "; ";
    std::optional<double> safe_at = drain.safe_at;
    std::optional<double> safe_in = drain.safe_in_s;
    if (!safe_in && safe_at) safe_in = *safe_at - clock.now;
    if (!safe_in || *safe_in <= 0) return out + "safe to stop now\n";
    if (!safe_at) safe_at = clock.now + *safe_in;
    double in = std::ceil(*safe_in);
    std::string in_text = in < 60 ? whole(in) + " s" : format_duration(in);
    return out + "safe to stop at " + format_clock_time(*safe_at, clock) + " (in " + in_text +
           ")\n";
}

std::string format_reload(const control::ReloadResult& reload) {
    if (reload.reloaded) return "reloaded\n";
    std::string out = "reload rejected:\n";
    for (const std::string& problem : reload.problems)
        out += "  " + problem + "\n";
    return out;
}

std::string format_check(const control::Check& check) {
    const char* level = check.status == 0 ? "OK" : check.status == 1 ? "WARNING" : "CRITICAL";
    std::vector<std::string> short_of_nodes;
    for (const control::CheckService& service : check.services)
        if (service.up < service.total)
            short_of_nodes.push_back(service.name + " " + std::to_string(service.up) + "/" +
                                     std::to_string(service.total) + " up");
    std::string out = std::string(level) + ": ";
    if (short_of_nodes.empty())
        out += "every service fully up (" + std::to_string(check.services.size()) + " services)";
    else
        out += join(short_of_nodes, ", ");
    for (const control::CheckSecondary& s : check.lagging)
        out += "; secondary " + s.address + " of " + s.zone + " behind for " +
               format_duration(s.behind_s);
    return out + "\n";
}

std::string format_event(const control::WatchEvent& event, const Clock& clock) {
    std::string out = format_clock_time(event.at, clock) + " " + event.service + " " + event.node +
                      " " + event.address + " " + event.from + " -> " + event.to;
    if (!event.reason.empty()) out += " (" + event.reason + ")";
    return out + "\n";
}

}  // namespace nolb::nolbctl
