// The verbs over the daemon's state. Each reads the configured addresses through the one walk
// (health/each_address.hpp), which pairs every address with its health state and its plan.
#include "control/verbs.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <set>
#include <stdexcept>

#include "dns/name.hpp"
#include "dns/query.hpp"
#include "dns/types.hpp"
#include "health/each_address.hpp"
#include "util/ldns.hpp"
#include "util/rng.hpp"
#include "zone/snapshot.hpp"

namespace nolb::control {
namespace {

using Packet = std::unique_ptr<ldns_pkt, decltype(&ldns_pkt_free)>;

double unix_seconds(health::Clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

const char* health_name(config::HealthMode mode) {
    switch (mode) {
        case config::HealthMode::http:
            return "http";
        case config::HealthMode::tcp:
            return "tcp";
        case config::HealthMode::none:
            return "none";
    }
    return "none";
}

// "www.demo.test" -> "www.demo.test." in lower case, the form services are named by.
std::string absolute_lower(std::string name) {
    for (char& c : name)
        c = static_cast<char>(dns::lower(static_cast<std::uint8_t>(c)));
    if (name.empty() || name.back() != '.') name += '.';
    return name;
}

std::optional<LastProbe> last_probe(const health::AddressState& s) {
    if (!s.last) return std::nullopt;
    return LastProbe{health::outcome_name(s.last->outcome), s.last->http_status,
                     static_cast<double>(s.last->latency.count()) / 1000.0, s.last->detail,
                     unix_seconds(s.last_at)};
}

AddressStatus address_status(const health::AddressState& st, bool published) {
    return {st.published.to_string(),
            st.probed.to_string(),
            health::observed_name(st.observed),
            published,
            unix_seconds(st.since),
            st.reason,
            st.successes,
            st.failures,
            st.probes,
            st.probe_failures,
            st.transitions,
            last_probe(st)};
}

ServiceStatus service_status(const config::Service& s, const health::ServicePlan* plan,
                             const health::Drains& drains) {
    ServiceStatus out{s.name,
                      s.ttl,
                      health_name(s.health.type),
                      s.all_down == config::AllDown::all ? "all" : "none",
                      plan && (plan->all_down_v4 || plan->all_down_v6),
                      {}};
    for (const config::Node& n : s.nodes)
        out.nodes.push_back({n.name, drains.drained(s.name, n.name), {}});
    return out;
}

std::vector<std::string> rr_lines(ldns_rr_list* list) {
    std::vector<std::string> out;
    for (std::size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
        char* text = ldns_rr2str(ldns_rr_list_rr(list, i));
        std::string line = text ? text : "";
        free(text);
        while (!line.empty() && line.back() == '\n')
            line.pop_back();
        out.push_back(line);
    }
    return out;
}

std::string owner_text(const ldns_rr* rr) {
    char* owner = ldns_rdf2str(ldns_rr_owner(rr));
    std::string text = owner ? owner : "";
    free(owner);
    return text;
}

// Asks `snapshot` exactly as a client would, over TCP so that nothing is truncated, and reads
// the answer back with ldns. Throws std::invalid_argument for a name or type that is not one.
Packet ask(const zone::Snapshot& snapshot, const std::string& name, const std::string& type_text,
           std::uint16_t& qtype) {
    dns::WireName wire;
    std::string error;
    if (!dns::wire_from_text(absolute_lower(name), dns::WireName(1, '\0'), wire, error))
        throw std::invalid_argument(name + ": " + error);
    const std::optional<std::uint16_t> found = dns::type_from_text(type_text);
    if (!found || *found == 0) throw std::invalid_argument("unknown record type: " + type_text);
    qtype = *found;

    std::vector<std::uint8_t> query = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    query.insert(query.end(), wire.begin(), wire.end());
    query.push_back(static_cast<std::uint8_t>(qtype >> 8));
    query.push_back(static_cast<std::uint8_t>(qtype & 0xff));
    query.push_back(0);
    query.push_back(1);
    dns::Query q;
    dns::parse_query(query, q);
    std::vector<std::uint8_t> out(65535);
    util::Rng rng;
    const std::size_t size = answer::respond(snapshot, q, answer::Transport::tcp, rng, out);

    ldns_pkt* raw = nullptr;
    if (size == 0 || ldns_wire2pkt(&raw, out.data(), size) != LDNS_STATUS_OK)
        throw std::runtime_error("the answer could not be read back");
    return Packet(raw, ldns_pkt_free);
}

// The answer's sections and where its TTL comes from; returns the owner of the answer's last
// record (the end of a CNAME chain), or `name` when there is no answer.
std::string describe_answer(const ldns_pkt* pkt, const std::string& name, Explain& out) {
    out.rcode = answer::rcode_name(ldns_pkt_get_rcode(pkt));
    out.aa = ldns_pkt_aa(pkt);
    out.answer = rr_lines(ldns_pkt_answer(pkt));
    out.authority = rr_lines(ldns_pkt_authority(pkt));
    out.additional = rr_lines(ldns_pkt_additional(pkt));
    ldns_rr_list* answer = ldns_pkt_answer(pkt);
    ldns_rr_list* authority = ldns_pkt_authority(pkt);
    if (answer && ldns_rr_list_rr_count(answer) > 0) {
        const ldns_rr* last = ldns_rr_list_rr(answer, ldns_rr_list_rr_count(answer) - 1);
        out.ttl = ldns_rr_ttl(last);
        out.ttl_source = "the record's own TTL (zone data)";
        return absolute_lower(owner_text(last));
    }
    if (authority && ldns_rr_list_rr_count(authority) > 0) {
        const ldns_rr* first = ldns_rr_list_rr(authority, 0);
        out.ttl = ldns_rr_ttl(first);
        out.ttl_source = ldns_rr_get_type(first) == LDNS_RR_TYPE_SOA
                             ? "negative answer: min(SOA TTL, SOA minimum) (RFC 2308)"
                             : "referral: the delegation's NS TTL";
    }
    return absolute_lower(name);
}

// Why each address of the service named `owner` is in the answer or out of it.
void explain_service(const View& view, const std::string& owner, std::uint16_t qtype,
                     Explain& out) {
    const bool v4_asked = qtype == LDNS_RR_TYPE_A || qtype == LDNS_RR_TYPE_ANY;
    const bool v6_asked = qtype == LDNS_RR_TYPE_AAAA || qtype == LDNS_RR_TYPE_ANY;
    const auto& plans = view.publisher.plan();
    health::for_each_address(view.config, view.states, plans, [&](const health::AddressVisit& a) {
        if (a.service.name != owner) return;
        if (!out.service) {
            const health::ServicePlan* plan =
                a.service_index < plans.size() ? &plans[a.service_index] : nullptr;
            out.service = a.service.name;
            if (!out.answer.empty() && (qtype == LDNS_RR_TYPE_A || qtype == LDNS_RR_TYPE_AAAA))
                out.ttl_source = "service " + a.service.name + " ttl";
            out.all_down_fired =
                plan && ((v4_asked && plan->all_down_v4) || (v6_asked && plan->all_down_v6));
        }
        const bool asked = a.address.is_v4() ? v4_asked : v6_asked;
        std::string reason = a.plan ? health::reason(*a.plan, a.state) : "";
        if (!asked) reason = std::string(a.address.is_v4() ? "IPv4" : "IPv6") + ": not asked for";
        out.addresses.push_back({a.node.name, a.address.to_string(), a.address.is_v4() ? 4 : 6,
                                 asked && a.plan && a.plan->published, reason});
    });
}

}  // namespace

namespace {

// Each zone's serial and the secondaries seen asking for it.
std::vector<ZoneStatus> zone_status(const View& view) {
    std::vector<ZoneStatus> out;
    const std::shared_ptr<const zone::Snapshot> snapshot = view.publisher.snapshot();
    if (!snapshot) return out;
    // Wall-clock time, as the publisher stamps serials with it.
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    for (std::size_t zi = 0; zi < snapshot->zones.size(); ++zi) {
        const zone::Zone& z = snapshot->zones[zi];
        ZoneStatus zone{z.origin_text, z.serial, {}, {}};
        for (const transfer::SecondaryRecord& r : view.secondaries) {
            if (r.zone != z.origin_text) continue;
            SecondaryStatus s;
            s.address = r.address;
            s.last = r.last;
            s.last_at = r.last_at;
            if (r.held_known) s.held = r.held;
            if (r.sent_known) s.sent = r.sent;
            s.behind = r.sent_known && r.sent != z.serial;
            if (s.behind)
                if (const std::optional<double> since = view.publisher.newer_since(zi, r.sent))
                    s.behind_s = std::max(0.0, now - *since);
            zone.secondaries.push_back(std::move(s));
        }
        if (zi < view.notify.size()) {
            auto seconds = [](const std::optional<std::chrono::system_clock::time_point>& t) {
                return t ? std::optional(
                               std::chrono::duration<double>(t->time_since_epoch()).count())
                         : std::nullopt;
            };
            for (const transfer::TargetStatus& t : view.notify[zi]) {
                NotifyStatus n;
                n.target = t.target.to_string();
                n.sent = t.serial;
                n.answered = t.serial_answered;
                n.sent_at = seconds(t.sent_at);
                n.answered_at = seconds(t.answered_at);
                if (t.rcode) n.rcode = answer::rcode_name(*t.rcode);
                n.in_flight = t.attempts;
                n.messages = t.sent;
                n.notifies_answered = t.answered;
                n.notifies_failed = t.failed;
                zone.notify.push_back(std::move(n));
            }
        }
        out.push_back(std::move(zone));
    }
    return out;
}

}  // namespace

Status status(const View& view, const std::optional<std::string>& service) {
    const std::string wanted = service ? absolute_lower(*service) : std::string();
    const auto& plans = view.publisher.plan();
    constexpr std::size_t kLeftOut = static_cast<std::size_t>(-1);
    Status out;
    std::vector<std::size_t> shown(view.config.services.size(), kLeftOut);  // index in out
    for (std::size_t si = 0; si < view.config.services.size(); ++si) {
        const config::Service& s = view.config.services[si];
        if (service && s.name != wanted) continue;
        shown[si] = out.services.size();
        out.services.push_back(
            service_status(s, si < plans.size() ? &plans[si] : nullptr, view.publisher.drains()));
    }
    if (service && out.services.empty())
        throw std::invalid_argument("unknown service: " + *service);
    health::for_each_address(view.config, view.states, plans, [&](const health::AddressVisit& a) {
        if (shown[a.service_index] == kLeftOut || !a.state) return;
        out.services[shown[a.service_index]].nodes[a.node_index].addresses.push_back(
            address_status(*a.state, a.plan && a.plan->published));
    });
    if (!service) out.zones = zone_status(view);
    return out;
}

Check check(const View& view) {
    const config::Config& config = view.config;
    std::vector<std::vector<bool>> node_up(config.services.size());
    for (std::size_t si = 0; si < config.services.size(); ++si)
        node_up[si].assign(config.services[si].nodes.size(), false);
    health::for_each_address(config, view.states, {}, [&](const health::AddressVisit& a) {
        if (a.state && a.state->up()) node_up[a.service_index][a.node_index] = true;
    });
    Check out;
    for (std::size_t si = 0; si < config.services.size(); ++si) {
        const config::Service& s = config.services[si];
        CheckService counted{s.name, 0, 0};
        for (std::size_t ni = 0; ni < s.nodes.size(); ++ni) {
            if (view.publisher.drains().drained(s.name, s.nodes[ni].name)) continue;
            ++counted.total;
            counted.up += node_up[si][ni] ? 1 : 0;
        }
        if (counted.up == 0)
            out.status = 2;
        else if (counted.up < counted.total && out.status < 1)
            out.status = 1;
        out.services.push_back(std::move(counted));
    }
    for (const ZoneStatus& zone : zone_status(view)) {
        const auto configured =
            std::find_if(config.zones.begin(), config.zones.end(),
                         [&](const config::Zone& z) { return z.origin == zone.origin; });
        if (configured == config.zones.end()) continue;
        const double max_lag = std::chrono::duration<double>(configured->transfer.max_lag).count();
        if (max_lag <= 0) continue;
        for (const SecondaryStatus& s : zone.secondaries) {
            if (!s.behind || s.behind_s <= max_lag) continue;
            out.lagging.push_back({zone.origin, s.address, s.behind_s});
            out.status = std::max(out.status, 1);
        }
    }
    return out;
}

Explain explain(const View& view, const std::string& name, const std::string& type_text) {
    std::uint16_t qtype = 0;
    const Packet pkt = ask(*view.publisher.snapshot(), name, type_text, qtype);
    Explain out;
    out.name = name;
    out.type = dns::type_name(qtype);
    const std::string owner = describe_answer(pkt.get(), name, out);
    explain_service(view, owner, qtype, out);
    return out;
}

DrainChange change_drains(const config::Config& config, const health::Drains& drains,
                          const std::string& node, bool drained) {
    DrainChange change{drains, health::parse_drain_key(node), {}};
    health::DrainKey& key = change.key;
    if (key.service) key.service = absolute_lower(*key.service);
    std::set<std::string> services;
    for (const config::Service& s : config.services) {
        if (key.service && s.name != *key.service) continue;
        for (const config::Node& n : s.nodes) {
            if (n.name != key.node) continue;
            change.matched.push_back({s.name, n.name});
            services.insert(s.name);
        }
    }
    if (change.matched.empty()) throw std::invalid_argument("unknown node: " + node);

    std::set<health::DrainKey>& keys = change.drains.keys;
    if (drained) {
        keys.insert(key);
    } else if (!key.service) {
        keys.erase(key);  // "undrain london" also lifts per-service drains of london
        for (const std::string& s : services)
            keys.erase({s, key.node});
    } else if (keys.count({std::nullopt, key.node})) {
        throw std::invalid_argument(key.node + " is drained in every service; undrain " + key.node);
    } else {
        keys.erase(key);
    }
    return change;
}

DrainResult drain_result(const View& view, const DrainChange& change, const std::string& node,
                         bool drained, bool persisted, health::Clock::time_point now) {
    DrainResult out{node, drained, change.matched, persisted, std::nullopt, std::nullopt};
    if (!drained) return out;
    // Safe to stop once every resolver's copy has expired: the latest time one of its
    // addresses left the answers, plus its service's TTL.
    std::optional<health::Clock::time_point> safe;
    health::for_each_address(view.config, view.states, {}, [&](const health::AddressVisit& a) {
        if (a.node.name != change.key.node || !a.state) return;
        const bool matched =
            std::any_of(change.matched.begin(), change.matched.end(),
                        [&](const DrainMatch& m) { return m.service == a.service.name; });
        if (!matched) return;
        const std::optional<health::Clock::time_point> left = view.publisher.left_at(*a.state);
        if (!left) return;  // never published while we ran
        const auto until = *left + std::chrono::seconds(a.service.ttl);
        if (!safe || until > *safe) safe = until;
    });
    const auto at = safe.value_or(now);
    out.safe_at = unix_seconds(at);
    out.safe_in_s = std::max(0.0, std::chrono::duration<double>(at - now).count());
    return out;
}

Stats stats(const Counts& c) {
    Stats out;
    out.generation = c.generation;
    out.uptime_s = c.uptime_s;
    const answer::Totals& q = c.queries;
    out.queries = {q.queries, q.dropped, q.truncated, {}, {}};
    for (std::size_t i = 0; i < q.by_qtype.size(); ++i)
        if (q.by_qtype[i]) out.queries.by_type[answer::qtype_slot_name(i)] = q.by_qtype[i];
    for (std::size_t i = 0; i < q.by_rcode.size(); ++i)
        if (q.by_rcode[i]) out.queries.by_rcode[answer::rcode_name(i)] = q.by_rcode[i];
    const health::MonitorStats& m = c.monitor;
    out.probes = {m.probes_sent, m.probes_failed, m.late_probes, m.probes_overlapped};
    out.transitions = m.transitions;
    out.publish = {c.publish.last_ms, c.publish.max_ms, c.publish.changes, c.publish.full_ms};
    const server::Counters& n = c.network;
    out.tcp = {n.tcp_accepted, n.tcp_refused,   n.tcp_refused_per_client,
               n.tcp_evicted,  n.tcp_timed_out, n.tcp_io_timed_out};
    out.udp = {n.udp_received, n.udp_sent, n.udp_send_errors};
    out.rrl = {n.rrl_limited, n.rrl_slipped, n.rrl_dropped};
    const transfer::Totals& t = c.transfers;
    out.transfers = {t.axfr,     t.ixfr,        t.up_to_date,  t.refused,
                     t.not_zone, t.tsig_errors, t.signed_other};
    return out;
}

WatchEvent watch_event(const health::Transition& t) {
    return {unix_seconds(t.at),
            t.service_name,
            t.node_name,
            t.published.to_string(),
            health::observed_name(t.from),
            health::observed_name(t.to),
            t.reason};
}

}  // namespace nolb::control
