// Prometheus text format, rendered per scrape. Every family is declared with its HELP, TYPE and
// label names in one place (kFamilies, below), which the reference is generated from too, and
// filled from the backend's typed stats and status, so a sample cannot go missing with a renamed
// field; label values are escaped per the format, since service and node names come from the
// operator.
#include "control/metrics.hpp"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "server/socket.hpp"
#include "util/log.hpp"

namespace nolb::control {
namespace {

constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr int kHttpTimeoutSeconds = 10;

std::string escape_label(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string format_double(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    // Plain decimals where they stay short ("0.0004", not "4e-04"); exponents beyond that.
    double magnitude = std::fabs(value);
    bool plain = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
    char text[400];
    auto result = plain ? std::to_chars(text, text + sizeof text, value, std::chars_format::fixed)
                        : std::to_chars(text, text + sizeof text, value);
    return std::string(text, result.ptr);
}

// Sample values: counters as integers, times as decimals, flags as 1 and 0.
std::string value(std::uint64_t v) {
    return std::to_string(v);
}
std::string value(double v) {
    return format_double(v);
}
std::string value(bool v) {
    return v ? "1" : "0";
}

// The daemon's families, in the order they are exposed: the one list the endpoint and the
// reference (nolb-docs) read. Labels are named here, once; a sample gives only their values.
constexpr FamilyDoc kFamilies[] = {
    {"nolb_dns_queries_total", "counter", "DNS queries received, by query type", {"qtype"}},
    {"nolb_dns_responses_total", "counter", "DNS responses sent, by rcode", {"rcode"}},
    {"nolb_dns_dropped_total", "counter", "DNS messages dropped without a response"},
    {"nolb_dns_truncated_total", "counter", "UDP responses sent truncated (TC set)"},
    {"nolb_udp_datagrams_total",
     "counter",
     "UDP datagrams, by direction",
     {"direction"},
     "received, sent"},
    {"nolb_udp_errors_total", "counter", "UDP receive and send errors"},
    {"nolb_rrl_responses_total",
     "counter",
     "UDP responses over their client prefix's rate limit, by what was done instead",
     {"action"},
     "slipped, dropped"},
    {"nolb_tcp_connections_total",
     "counter",
     "TCP connections, by what became of them",
     {"result"},
     "accepted, refused, refused_per_client, evicted, timed_out, io_timed_out"},
    {"nolb_zone_transfers_total",
     "counter",
     "Zone transfer requests answered, by what was sent: the whole zone (AXFR, or IXFR the "
     "journal could not serve), the journal's differences, or the SOA alone",
     {"kind"},
     "axfr, ixfr, up_to_date"},
    {"nolb_zone_transfers_refused_total",
     "counter",
     "Zone transfer requests refused, by reason",
     {"reason"},
     "not_allowed, not_zone"},
    {"nolb_tsig_errors_total", "counter",
     "Signed messages whose TSIG was malformed or did not verify (BADKEY, BADSIG, BADTIME)"},
    {"nolb_tsig_signed_total", "counter",
     "Signed queries other than transfers, answered with a signed response"},
    {"nolb_probes_total", "counter", "Health probes sent"},
    {"nolb_probe_failures_total", "counter", "Health probes that failed"},
    {"nolb_probes_late_total", "counter",
     "Health probes started more than 100 ms after they were due"},
    {"nolb_probes_overlapped_total", "counter",
     "Health probes started beside one of the same address still unanswered after "
     "fast_interval"},
    {"nolb_health_transitions_total", "counter",
     "Address health transitions (up to down and back)"},
    {"nolb_snapshot_generation", "gauge", "Generation of the published answer snapshot"},
    {"nolb_uptime_seconds", "gauge", "Seconds since nolbd started"},
    {"nolb_address_up",
     "gauge",
     "1 when the address's health state is up",
     {"service", "node", "address"}},
    {"nolb_address_published",
     "gauge",
     "1 when the address is in the service's answers",
     {"service", "node", "address"}},
    {"nolb_probe_latency_seconds",
     "gauge",
     "Latency of the address's last probe",
     {"service", "node", "address"}},
    {"nolb_address_probes_total",
     "counter",
     "Health probes of the address",
     {"service", "node", "address"}},
    {"nolb_address_probe_failures_total",
     "counter",
     "Failed health probes of the address",
     {"service", "node", "address"}},
    {"nolb_address_transitions_total",
     "counter",
     "Health transitions of the address",
     {"service", "node", "address"}},
    {"nolb_node_drained",
     "gauge",
     "1 when the node is drained by an operator",
     {"service", "node"}},
    {"nolb_zone_serial", "gauge", "The zone's published SOA serial", {"zone"}},
    {"nolb_secondary_serial",
     "gauge",
     "The serial a secondary's last transfer brought it",
     {"zone", "address"}},
    {"nolb_secondary_behind_seconds",
     "gauge",
     "How long the zone has had a newer serial than the secondary was last sent; 0 when it "
     "is current",
     {"zone", "address"}},
    {"nolb_notify_messages_total",
     "counter",
     "NOTIFY messages sent to the target, retries included",
     {"zone", "target"}},
    {"nolb_notify_failed_total",
     "counter",
     "NOTIFYs given up unanswered after their last retry",
     {"zone", "target"}},
    {"nolb_service_all_down",
     "gauge",
     "1 when every address of the service is down and its all_down rule applies",
     {"service"}},
};

// A family's place in kFamilies, found while compiling: a misspelt name does not build.
consteval std::size_t family(std::string_view name) {
    for (std::size_t i = 0; i < std::size(kFamilies); ++i)
        if (kFamilies[i].name == name) return i;
    throw "not a family of kFamilies";
}

// The samples of every family, filled from the typed documents, rendered in kFamilies' order.
class Exposition {
  public:
    void add(const Stats& stats) {
        add_each(family("nolb_dns_queries_total"), stats.queries.by_type);
        add_each(family("nolb_dns_responses_total"), stats.queries.by_rcode);
        sample(family("nolb_dns_dropped_total"), {}, value(stats.queries.dropped));
        sample(family("nolb_dns_truncated_total"), {}, value(stats.queries.truncated));
        constexpr std::size_t udp = family("nolb_udp_datagrams_total");
        sample(udp, {"received"}, value(stats.udp.received));
        sample(udp, {"sent"}, value(stats.udp.sent));
        sample(family("nolb_udp_errors_total"), {}, value(stats.udp.errors));
        constexpr std::size_t rrl = family("nolb_rrl_responses_total");
        sample(rrl, {"slipped"}, value(stats.rrl.slipped));
        sample(rrl, {"dropped"}, value(stats.rrl.dropped));
        const TcpStats& t = stats.tcp;
        for (const auto& [result, count] :
             {std::pair{"accepted", t.accepted}, std::pair{"refused", t.refused},
              std::pair{"refused_per_client", t.refused_per_client},
              std::pair{"evicted", t.evicted}, std::pair{"timed_out", t.timed_out},
              std::pair{"io_timed_out", t.io_timed_out}})
            sample(family("nolb_tcp_connections_total"), {result}, value(count));
        constexpr std::size_t transfers = family("nolb_zone_transfers_total");
        sample(transfers, {"axfr"}, value(stats.transfers.axfr));
        sample(transfers, {"ixfr"}, value(stats.transfers.ixfr));
        sample(transfers, {"up_to_date"}, value(stats.transfers.up_to_date));
        constexpr std::size_t refused = family("nolb_zone_transfers_refused_total");
        sample(refused, {"not_allowed"}, value(stats.transfers.refused));
        sample(refused, {"not_zone"}, value(stats.transfers.not_zone));
        sample(family("nolb_tsig_errors_total"), {}, value(stats.transfers.tsig_errors));
        sample(family("nolb_tsig_signed_total"), {}, value(stats.transfers.signed_other));
        sample(family("nolb_probes_total"), {}, value(stats.probes.sent));
        sample(family("nolb_probe_failures_total"), {}, value(stats.probes.failed));
        sample(family("nolb_probes_late_total"), {}, value(stats.probes.late));
        sample(family("nolb_probes_overlapped_total"), {}, value(stats.probes.overlapped));
        sample(family("nolb_health_transitions_total"), {}, value(stats.transitions));
        sample(family("nolb_snapshot_generation"), {}, value(stats.generation));
        sample(family("nolb_uptime_seconds"), {}, value(stats.uptime_s));
    }

    void add(const Status& status) {
        for (const ServiceStatus& service : status.services) {
            sample(family("nolb_service_all_down"), {service.name}, value(service.all_down_fired));
            for (const NodeStatus& node : service.nodes) {
                sample(family("nolb_node_drained"), {service.name, node.name}, value(node.drained));
                for (const AddressStatus& address : node.addresses)
                    add(service, node, address);
            }
        }
        for (const ZoneStatus& zone : status.zones) {
            sample(family("nolb_zone_serial"), {zone.origin}, value(std::uint64_t{zone.serial}));
            for (const SecondaryStatus& s : zone.secondaries) {
                if (s.sent)
                    sample(family("nolb_secondary_serial"), {zone.origin, s.address},
                           value(std::uint64_t{*s.sent}));
                sample(family("nolb_secondary_behind_seconds"), {zone.origin, s.address},
                       value(s.behind ? s.behind_s : 0.0));
            }
            for (const NotifyStatus& n : zone.notify) {
                sample(family("nolb_notify_messages_total"), {zone.origin, n.target},
                       value(n.messages));
                sample(family("nolb_notify_failed_total"), {zone.origin, n.target},
                       value(n.notifies_failed));
            }
        }
    }

    std::string render() const {
        std::string out;
        for (std::size_t i = 0; i < std::size(kFamilies); ++i) {
            const FamilyDoc& doc = kFamilies[i];
            out.append("# HELP ").append(doc.name).append(" ").append(doc.help);
            out.append("\n# TYPE ").append(doc.name).append(" ").append(doc.type).append("\n");
            for (const std::string& line : samples_[i])
                out.append(line).append("\n");
        }
        return out;
    }

  private:
    using LabelValues = std::initializer_list<std::string_view>;

    void add(const ServiceStatus& service, const NodeStatus& node, const AddressStatus& address) {
        const LabelValues labels{service.name, node.name, address.address};
        sample(family("nolb_address_up"), labels, value(address.state == "up"));
        sample(family("nolb_address_published"), labels, value(address.published));
        if (address.last)
            sample(family("nolb_probe_latency_seconds"), labels,
                   value(address.last->latency_ms / 1000.0));
        sample(family("nolb_address_probes_total"), labels, value(address.probes));
        sample(family("nolb_address_probe_failures_total"), labels, value(address.probe_failures));
        sample(family("nolb_address_transitions_total"), labels, value(address.transitions));
    }

    // One sample per member of a breakdown such as {"A": 10, "AAAA": 4}.
    void add_each(std::size_t which, const std::map<std::string, std::uint64_t>& counts) {
        for (const auto& [key, count] : counts)
            sample(which, {key}, value(count));
    }

    // `name{label="value",...} value`, the label names from kFamilies in the values' order.
    void sample(std::size_t which, LabelValues labels, const std::string& value) {
        const FamilyDoc& doc = kFamilies[which];
        std::string line(doc.name);
        std::size_t i = 0;
        for (std::string_view label : labels) {
            line += i == 0 ? '{' : ',';
            line.append(doc.labels[i++]).append("=\"").append(escape_label(label)).append("\"");
        }
        if (i > 0) line += '}';
        line.append(" ").append(value);
        samples_[which].push_back(std::move(line));
    }

    std::array<std::vector<std::string>, std::size(kFamilies)> samples_;
};

}  // namespace

std::span<const FamilyDoc> metric_families() {
    return kFamilies;
}

std::string render_metrics(const Stats& stats, const Status& status) {
    Exposition exposition;
    exposition.add(stats);
    exposition.add(status);
    return exposition.render();
}

void MetricsServer::HttpFree::operator()(evhttp* http) const {
    evhttp_free(http);
}

MetricsServer::MetricsServer(event_base* base, const util::Endpoint& listen, Backend& backend)
    : base_(base), endpoint_(listen), backend_(backend) {}

MetricsServer::~MetricsServer() = default;

void MetricsServer::open() {
    auto failure = [&](int error) {
        return std::runtime_error("cannot serve metrics on " + endpoint_.to_string() + ": " +
                                  std::strerror(error));
    };
    sockaddr_storage address{};
    socklen_t length = endpoint_.to_sockaddr(address);
    server::Fd fd(socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) throw failure(errno);
    int on = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (address.ss_family == AF_INET6)
        setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
        listen(fd.get(), 16) != 0)
        throw failure(errno);
    endpoint_ = server::local_endpoint(fd.get());

    http_.reset(evhttp_new(base_));
    if (!http_) throw std::runtime_error("cannot create the metrics HTTP server");
    // Every method reaches on_request, so the answer to a wrong one is ours (405), not a 501.
    evhttp_set_allowed_methods(http_.get(), EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                                EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                                EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                                EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_timeout(http_.get(), kHttpTimeoutSeconds);
    evhttp_set_max_headers_size(http_.get(), 16 * 1024);
    evhttp_set_max_body_size(http_.get(), 16 * 1024);
    evhttp_set_gencb(http_.get(), on_request, this);
    if (!evhttp_accept_socket_with_handle(http_.get(), fd.get()))
        throw std::runtime_error("cannot serve metrics on " + endpoint_.to_string());
    fd.release();  // the evhttp listener closes it
    log::info("metrics endpoint open", {{"listen", endpoint_.to_string()}});
}

void MetricsServer::on_request(evhttp_request* request, void* self_pointer) {
    auto& self = *static_cast<MetricsServer*>(self_pointer);
    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    std::unique_ptr<evbuffer, decltype(&evbuffer_free)> body(evbuffer_new(), &evbuffer_free);
    if (!body) {
        evhttp_send_error(request, HTTP_INTERNAL, nullptr);
        return;
    }
    auto reply = [&](int code, const char* reason, std::string_view text) {
        evhttp_add_header(headers, "Content-Type",
                          code == HTTP_OK ? kContentType : "text/plain; charset=utf-8");
        evbuffer_add(body.get(), text.data(), text.size());
        evhttp_send_reply(request, code, reason, body.get());
    };

    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
    const char* path = uri ? evhttp_uri_get_path(uri) : nullptr;
    if (!path || std::strcmp(path, "/metrics") != 0) {
        reply(HTTP_NOTFOUND, "Not Found", "not found; metrics are at /metrics\n");
        return;
    }
    evhttp_cmd_type method = evhttp_request_get_command(request);
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        evhttp_add_header(headers, "Allow", "GET, HEAD");
        reply(405, "Method Not Allowed", "only GET\n");
        return;
    }
    std::string text;
    try {
        text = render_metrics(self.backend_.stats(), self.backend_.status(std::nullopt));
    } catch (const std::exception& e) {
        log::warning("metrics scrape failed", {{"error", e.what()}});
        reply(HTTP_INTERNAL, "Internal Server Error", "cannot read the daemon's state\n");
        return;
    }
    if (method == EVHTTP_REQ_HEAD) {
        // The headers a GET would get, without the body (evhttp would send it otherwise).
        evhttp_add_header(headers, "Content-Length", std::to_string(text.size()).c_str());
        text.clear();
    }
    reply(HTTP_OK, "OK", text);
}

}  // namespace nolb::control
