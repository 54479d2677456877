// The configuration texts and the stats CSV. nolbd's file uses only keys documented in
// conf/nolb.toml; HAProxy's follows the settings the comparison promises: the same check path,
// interval, fast interval, timeout, rise and fall as nolbd, round robin, two retries on other
// servers after a failed connect, an empty response or a response timeout, and timeouts matched
// to the clients' own, so each model gets its usual best setup and no more.
#include "nolb-compare/lab_servers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace nolb::compare {
namespace {

// A TOML basic string.
std::string toml_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string toml_seconds(Seconds s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", s.count());
    return buf;
}

// HAProxy times in whole milliseconds, never 0 (which would mean "no timeout").
std::string haproxy_ms(Seconds s) {
    long ms = std::lround(s.count() * 1000.0);
    return std::to_string(ms < 1 ? 1 : ms) + "ms";
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> out;
    for (;;) {
        std::size_t at = text.find(separator);
        out.push_back(text.substr(0, at));
        if (at == std::string_view::npos) return out;
        text.remove_prefix(at + 1);
    }
}

std::optional<std::uint64_t> to_u64(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

}  // namespace

std::string render_nolbd_config(const Scenario& scenario, Model model, const NolbdSetup& setup) {
    const std::string balancer = balancer_address(scenario);
    std::ostringstream out;
    const std::string zone = std::string(kZone) + ".";
    out << "# Written by nolb-compare for the " << model_name(model) << " model of scenario "
        << toml_string(scenario.name) << ".\n"
        << "[server]\n"
        << "listen = [" << toml_string(setup.listen_address + ":" + std::to_string(setup.port))
        << "]\n"
        << "workers = 1\n\n"
        << "[[zone]]\n"
        << "origin = " << toml_string(zone)
        << "\n"
        // The balancer's name: one address, with the service's TTL so both models cache alike.
        << "records = ["
        << toml_string(std::string("lb ") + std::to_string(scenario.ttl) + " A " + balancer);
    if (setup.calibration) {
        const std::string label =
            std::string(kCalibrationName).substr(0, std::string_view(kCalibrationName).find('.'));
        for (unsigned i = 0; i < scenario.nodes; ++i) {
            if (i < setup.drained.size() && setup.drained[i]) continue;
            out << ", "
                << toml_string(label + " " + std::to_string(scenario.ttl) + " A " +
                               node_address(scenario, i));
        }
    }
    out << "]\n\n";
    const std::vector<std::string> name_servers =
        setup.name_servers.empty() ? std::vector<std::string>{setup.listen_address}
                                   : setup.name_servers;
    for (std::size_t i = 0; i < name_servers.size(); ++i)
        out << "[[zone.ns]]\n"
            << "name = " << toml_string("ns" + std::to_string(i + 1) + "." + zone) << "\n"
            << "addresses = [" << toml_string(name_servers[i]) << "]\n\n";
    out << "[[service]]\n"
        << "name = " << toml_string(std::string(kServiceName) + ".") << "\n"
        << "ttl = " << scenario.ttl << "\n";
    // Under the load balancer nolbd only names the balancer; checks of its own would add probe
    // traffic on the nodes and CPU to nolbd's costs that the model does not need.
    if (model != Model::health_checked) {
        out << "health = \"none\"\n";
    } else {
        const HealthSpec& h = scenario.health;
        out << "all_down = \"all\"\n\n"
            << "[service.health]\n"
            << "type = \"http\"\n"
            << "port = " << setup.http_port << "\n"
            << "path = \"/health\"\n"
            << "interval = " << toml_seconds(h.interval) << "\n"
            << "fast_interval = " << toml_seconds(h.fast_interval_or_default()) << "\n"
            << "timeout = " << toml_seconds(h.timeout) << "\n"
            << "rise = " << h.rise << "\n"
            << "fall = " << h.fall << "\n";
    }
    for (unsigned i = 0; i < scenario.nodes; ++i)
        out << "\n[[service.node]]\n"
            << "name = " << toml_string(node_site(i)) << "\n"
            << "addresses = [" << toml_string(node_address(scenario, i)) << "]\n";
    out << "\n[control]\n"
        << "socket = " << toml_string(setup.control_socket.string()) << "\n"
        << "mode = \"0600\"\n";
    return out.str();
}

std::string render_unbound_config(const ResolverSpec& resolver, const std::string& address,
                                  std::uint16_t port,
                                  const std::vector<std::string>& nolbd_addresses,
                                  std::uint16_t nolbd_port, const std::filesystem::path& dir) {
    auto yes_no = [](bool b) { return b ? "yes" : "no"; };
    std::ostringstream out;
    out << "# Written by nolb-compare: a caching resolver that knows " << kZone
        << ". only through a stub zone pointing at nolbd. Everything else is unbound's default.\n"
        << "server:\n"
        << "    verbosity: 1\n"
        << "    do-daemonize: no\n"
        << "    interface: " << address << "\n"
        << "    port: " << port << "\n"
        << "    do-ip6: no\n"
        << "    access-control: 127.0.0.0/8 allow\n"
        << "    do-not-query-localhost: no\n"
        << "    use-syslog: no\n"
        << "    logfile: \"\"\n"
        << "    username: \"\"\n"
        << "    chroot: \"\"\n"
        << "    directory: \"" << dir.string() << "\"\n"
        << "    pidfile: \"" << (dir / "unbound.pid").string() << "\"\n"
        << "    module-config: \"iterator\"\n"
        << "    num-threads: 1\n"
        << "    so-reuseport: no\n"
        // .test is reserved (RFC 6761): unbound answers it locally unless told otherwise.
        << "    local-zone: \"test.\" nodefault\n"
        << "    domain-insecure: \"" << kZone << ".\"\n"
        << "    cache-min-ttl: " << resolver.cache_min_ttl << "\n"
        << "    rrset-roundrobin: " << yes_no(resolver.rrset_roundrobin) << "\n"
        << "    serve-expired: " << yes_no(resolver.serve_expired) << "\n"
        << "remote-control:\n"
        << "    control-enable: no\n"
        << "stub-zone:\n"
        << "    name: \"" << kZone << ".\"\n";
    // Every name server: unbound picks by measured round-trip time and, when one stops
    // answering, retries the query on another and keeps away from the silent one.
    for (const std::string& a : nolbd_addresses)
        out << "    stub-addr: " << a << "@" << nolbd_port << "\n";
    return out.str();
}

std::string render_haproxy_config(const Scenario& scenario, const LabOptions& options,
                                  const std::filesystem::path& stats_socket) {
    const HealthSpec& h = scenario.health;
    std::ostringstream out;
    out << "# Written by nolb-compare for the load-balancer model of scenario " << scenario.name
        << ".\n"
        << "global\n"
        << "    nbthread 1\n"
        << "    maxconn 4096\n"
        // nolbd draws each interval in interval * (1 +- 0.1) (its default jitter): the same
        // spread here, so neither probes every node in step.
        << "    spread-checks 10\n"
        << "    stats socket \"" << stats_socket.string() << "\" mode 600 level admin\n\n"
        << "defaults\n"
        << "    mode http\n"
        // The loops' clients give one connection attempt 1 s before the next address: a node
        // that drops SYNs costs HAProxy the same second before it tries another.
        << "    timeout connect 1s\n"
        // A node answers GET /stats within milliseconds and its event stream ticks every
        // 0.5 s: a second of silence is a hang, and a retry on another node after it still
        // fits in the clients' 3 s request timeout.
        << "    timeout server 1s\n"
        // Longer than the clients' 3 s request timeout, so HAProxy never gives up on a client
        // before the client does, and than the gaps between one client's requests at the
        // lab's rates, so a connection a client keeps alive is still there when it is reused.
        << "    timeout client 10s\n"
        // Up to three attempts, each on another server (redispatch on every retry), as a
        // client moves to the next address: after a refused or timed-out connect, a
        // connection closed without a response, or no response within timeout server. A GET
        // is idempotent, so sending it again is safe.
        << "    retries 2\n"
        << "    retry-on conn-failure empty-response response-timeout\n"
        << "    option redispatch 1\n"
        // Kept alive: each client connection serves many requests and HAProxy reuses idle
        // connections to the nodes; closed: one connection on each side per request.
        << (scenario.balancer.keep_alive ? "    option http-keep-alive\n"
                                         : "    option httpclose\n")
        << "\n"
        << "frontend www\n"
        << "    bind " << balancer_address(scenario) << ":" << options.http_port << "\n"
        << "    default_backend " << kBackendName << "\n\n"
        << "backend " << kBackendName << "\n"
        << "    balance roundrobin\n"
        << "    option httpchk GET /health\n"
        << "    http-check expect status 200\n"
        << "    timeout check " << haproxy_ms(h.timeout)
        << "\n"
        // nolbd's schedule: `interval` between checks of a node, `fast_interval` from a
        // result to the next check while the node is in transition (HAProxy's fastinter:
        // failing but not yet down, passing but not yet up), and `interval` again once it is
        // down (downinter). One difference stays: nolbd starts the next probe of an up address
        // whose probe is unanswered after fast_interval (health/monitor.cpp), HAProxy never
        // overlaps its checks: against a hang it needs `fall` timeouts where nolbd needs
        // timeout + (fall - 1) * fast_interval.
        << "    default-server inter " << haproxy_ms(h.interval) << " fastinter "
        << haproxy_ms(h.fast_interval_or_default()) << " downinter " << haproxy_ms(h.interval)
        << " fall " << h.fall << " rise " << h.rise << "\n";
    for (unsigned i = 0; i < scenario.nodes; ++i)
        out << "    server " << node_site(i) << " " << node_address(scenario, i) << ":"
            << options.http_port << " check"
            << (scenario.balancer.pair ? " namespace " + options.namespace_name : std::string())
            << "\n";
    return out.str();
}

std::string render_keepalived_config(unsigned machine) {
    const unsigned other = machine == 0 ? 1 : 0;
    char advert[16];
    std::snprintf(advert, sizeof advert, "%.2f", kVrrpAdvertSeconds);
    std::ostringstream out;
    out << "# Written by nolb-compare: balancer machine lb" << machine + 1
        << " of an active/standby pair.\n"
        << "global_defs {\n"
        << "    router_id lb" << machine + 1
        << "\n"
        // VRRPv3 (RFC 5798) counts in centiseconds: adverts every 0.1 s, so the standby
        // takes over about 3 adverts (plus its skew) after the last one, under half a second.
        << "    vrrp_version 3\n"
        << "    max_auto_priority -1\n"
        << "}\n"
        << "vrrp_instance www {\n"
        << "    state BACKUP\n"
        << "    nopreempt\n"
        << "    interface eth0\n"
        << "    virtual_router_id 51\n"
        << "    priority " << (machine == 0 ? 150 : 100) << "\n"
        << "    advert_int " << advert << "\n"
        << "    unicast_src_ip " << pair_machine_address(machine) << "\n"
        << "    unicast_peer {\n"
        << "        " << pair_machine_address(other) << "\n"
        << "    }\n"
        << "    virtual_ipaddress {\n"
        << "        " << kPairAddress << "/24 dev eth0\n"
        << "    }\n"
        << "}\n";
    return out.str();
}

std::optional<HaproxyStat> parse_haproxy_stat(std::string_view csv, std::string_view backend) {
    std::vector<std::string_view> lines = split(csv, '\n');
    std::size_t header = 0;
    while (header < lines.size() && lines[header].rfind("# ", 0) != 0)
        ++header;
    if (header == lines.size()) return std::nullopt;
    std::vector<std::string_view> columns = split(lines[header].substr(2), ',');
    auto column = [&](std::string_view name) -> std::optional<std::size_t> {
        for (std::size_t i = 0; i < columns.size(); ++i)
            if (columns[i] == name) return i;
        return std::nullopt;
    };
    auto px = column("pxname"), sv = column("svname"), status = column("status");
    auto req_tot = column("req_tot"), stot = column("stot");
    if (!px || !sv || !status) return std::nullopt;

    HaproxyStat stat;
    for (std::size_t i = header + 1; i < lines.size(); ++i) {
        std::vector<std::string_view> fields = split(lines[i], ',');
        if (fields.size() <= std::max({*px, *sv, *status})) continue;
        if (fields[*px] != backend) continue;
        if (fields[*sv] == "BACKEND") {
            if (req_tot && *req_tot < fields.size()) stat.requests = to_u64(fields[*req_tot]);
            if (!stat.requests && stot && *stot < fields.size())
                stat.requests = to_u64(fields[*stot]);
        } else {
            stat.servers.emplace_back(std::string(fields[*sv]), std::string(fields[*status]));
        }
    }
    return stat;
}

std::vector<std::uint16_t> haproxy_serving(const HaproxyStat& stat, unsigned nodes) {
    std::vector<std::uint16_t> out;
    for (const auto& [name, status] : stat.servers) {
        if (status != "UP" && status.rfind("UP ", 0) != 0) continue;
        for (unsigned i = 0; i < nodes; ++i)
            if (name == node_site(i)) out.push_back(static_cast<std::uint16_t>(i));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::string nft_create_table() {
    const std::string t = std::string("inet ") + kNftTable;
    // "add" then "delete" removes a leftover table without failing when there is none.
    return "add table " + t + "\n" + "delete table " + t + "\n" + "table " + t +
           " {\n"
           "    set blackholed {\n"
           "        type ipv4_addr\n"
           "    }\n"
           "    chain input {\n"
           "        type filter hook input priority filter; policy accept;\n"
           "        ip daddr @blackholed drop\n"
           "    }\n"
           "}\n";
}

std::string nft_delete_table() {
    return std::string("delete table inet ") + kNftTable + "\n";
}

std::string nft_blackhole(const std::string& address, bool add) {
    return std::string(add ? "add" : "delete") + " element inet " + kNftTable + " blackholed { " +
           address + " }\n";
}

std::uint16_t site_queue(std::size_t site) {
    return static_cast<std::uint16_t>(kSiteQueueBase + site);
}

std::string site_rules(const Scenario& scenario) {
    const bool routed = scenario.network == Network::routed;
    std::string out =
        std::string("*mangle\n:") + kSiteChain + " - [0:0]\n-A OUTPUT -j " + kSiteChain + "\n";
    if (routed) out += std::string("-A PREROUTING ! -i lo -j ") + kSiteChain + "\n";
    for (std::size_t i = 0; i < scenario.sites.size(); ++i) {
        const Site& site = scenario.sites[i];
        if (site.rtt.count() <= 0) continue;
        const std::string target =
            " -j NFQUEUE --queue-num " + std::to_string(site_queue(i)) + " --queue-bypass\n";
        for (unsigned node : site.nodes) {
            const std::string address = node_address(scenario, node) + "/32";
            out += std::string("-A ") + kSiteChain + " -d " + address + target;
            out += std::string("-A ") + kSiteChain + " -s " + address + target;
        }
    }
    return out + "COMMIT\n";
}

std::string site_rules_removal(const Scenario& scenario) {
    std::string out = std::string("*mangle\n-D OUTPUT -j ") + kSiteChain + "\n";
    if (scenario.network == Network::routed)
        out += std::string("-D PREROUTING ! -i lo -j ") + kSiteChain + "\n";
    return out + "-F " + kSiteChain + "\n-X " + kSiteChain + "\nCOMMIT\n";
}

}  // namespace nolb::compare
