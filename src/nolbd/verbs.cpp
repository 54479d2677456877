// The control verbs as nolbd answers them (control::Backend): status, drain, explain, stats,
// check and watch, as JSON documents shaped as control/protocol.hpp describes. They run on the
// main loop and read the health monitor, the current plan and the published snapshot.
#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "answer/respond.hpp"
#include "dns/name.hpp"
#include "dns/query.hpp"
#include "dns/types.hpp"
#include "nolbd/daemon_state.hpp"
#include "util/ldns.hpp"
#include "util/log.hpp"

namespace nolb::nolbd {
namespace {

using control::Json;

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

Json last_probe(const health::AddressState& s) {
    if (!s.last) return nullptr;
    return {{"outcome", health::outcome_name(s.last->outcome)},
            {"http_status", s.last->http_status},
            {"latency_ms", static_cast<double>(s.last->latency.count()) / 1000.0},
            {"detail", s.last->detail},
            {"at", unix_seconds(s.last_at)}};
}

// "www.demo.test" -> "www.demo.test." in lower case, the form services are named by.
std::string absolute_lower(std::string name) {
    for (char& c : name)
        c = static_cast<char>(dns::lower(static_cast<std::uint8_t>(c)));
    if (name.empty() || name.back() != '.') name += '.';
    return name;
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

}  // namespace

Json Daemon::status(const std::optional<std::string>& service) {
    const config::Config& config = loaded_.config;
    const auto& states = monitor_.states();
    const std::string wanted = service ? absolute_lower(*service) : std::string();
    Json services = Json::array();
    std::size_t at = 0;  // states are service by service, node by node
    bool found = !service;
    for (std::size_t si = 0; si < config.services.size(); ++si) {
        const config::Service& s = config.services[si];
        const health::ServicePlan* plan = si < plan_.size() ? &plan_[si] : nullptr;
        Json nodes = Json::array();
        std::size_t ai = 0;
        for (const config::Node& n : s.nodes) {
            Json addresses = Json::array();
            for (std::size_t k = 0; k < n.addresses.size(); ++k, ++ai, ++at) {
                if (at >= states.size()) break;
                const health::AddressState& st = states[at];
                const bool published =
                    plan && ai < plan->addresses.size() && plan->addresses[ai].published;
                addresses.push_back({{"address", st.published.to_string()},
                                     {"probe", st.probed.to_string()},
                                     {"state", health::observed_name(st.observed)},
                                     {"published", published},
                                     {"since", unix_seconds(st.since)},
                                     {"reason", st.reason},
                                     {"successes", st.successes},
                                     {"failures", st.failures},
                                     {"probes", st.probes},
                                     {"probe_failures", st.probe_failures},
                                     {"transitions", st.transitions},
                                     {"last", last_probe(st)}});
            }
            nodes.push_back({{"name", n.name},
                             {"drained", drains_.drained(s.name, n.name)},
                             {"addresses", std::move(addresses)}});
        }
        if (service && s.name != wanted) continue;
        found = true;
        services.push_back({{"name", s.name},
                            {"ttl", s.ttl},
                            {"health", health_name(s.health.type)},
                            {"all_down", s.all_down == config::AllDown::all ? "all" : "none"},
                            {"all_down_fired", plan && (plan->all_down_v4 || plan->all_down_v6)},
                            {"nodes", std::move(nodes)}});
    }
    if (!found) throw std::invalid_argument("unknown service: " + *service);
    return {{"services", std::move(services)}};
}

Json Daemon::drain(const std::string& node, bool drained) {
    // NODE is a node name ("london": that node in every service) or SERVICE/NODE.
    std::string key = node;
    std::string only_service;
    if (auto slash = node.rfind('/'); slash != std::string::npos) {
        only_service = absolute_lower(node.substr(0, slash));
        key = only_service + "/" + node.substr(slash + 1);
    }
    const std::string node_name = node.substr(node.rfind('/') + 1);
    Json matched = Json::array();
    std::set<std::string> services;
    for (const config::Service& s : loaded_.config.services) {
        if (!only_service.empty() && s.name != only_service) continue;
        for (const config::Node& n : s.nodes) {
            if (n.name != node_name) continue;
            matched.push_back({{"service", s.name}, {"node", n.name}});
            services.insert(s.name);
        }
    }
    if (matched.empty()) throw std::invalid_argument("unknown node: " + node);

    if (drained) {
        drains_.nodes.insert(key);
    } else {
        drains_.nodes.erase(key);
        if (only_service.empty()) {  // "undrain london" also lifts per-service drains of london
            for (const std::string& s : services)
                drains_.nodes.erase(s + "/" + node_name);
        } else if (drains_.nodes.count(node_name)) {
            throw std::invalid_argument(node_name + " is drained in every service; undrain " +
                                        node_name);
        }
    }
    bool persisted = true;
    if (!loaded_.config.control.state_file.empty()) {
        try {
            write_drains(loaded_.config.control.state_file, drains_);
        } catch (const std::exception& e) {
            persisted = false;
            log::error("cannot save drains",
                       {{"file", loaded_.config.control.state_file}, {"error", e.what()}});
        }
    }
    log::info(drained ? "node drained" : "node undrained", {{"node", node}});
    republish(drained ? "drain" : "undrain", false);

    Json result = {{"node", node},           {"drained", drained}, {"matched", matched},
                   {"persisted", persisted}, {"safe_at", nullptr}, {"safe_in_s", nullptr}};
    if (drained) {
        // Safe to stop once every resolver's copy has expired: the latest time one of its
        // addresses left the answers, plus its service's TTL.
        const auto now = health::Clock::now();
        std::optional<health::Clock::time_point> safe;
        for (const health::AddressState& s : monitor_.states()) {
            if (s.node_name != node_name || !services.count(s.service_name)) continue;
            auto left = left_at_.find(address_key(s));
            if (left == left_at_.end()) continue;  // never published while we ran
            std::uint32_t ttl = 0;
            for (const config::Service& cs : loaded_.config.services)
                if (cs.name == s.service_name) ttl = cs.ttl;
            const auto until = left->second + std::chrono::seconds(ttl);
            if (!safe || until > *safe) safe = until;
        }
        const auto at = safe.value_or(now);
        result["safe_at"] = unix_seconds(at);
        result["safe_in_s"] = std::max(0.0, std::chrono::duration<double>(at - now).count());
    }
    return result;
}

Json Daemon::explain(const std::string& name, const std::string& type_text) {
    // Ask the current snapshot exactly as a client would, over TCP so nothing is truncated.
    dns::WireName wire;
    std::string error;
    if (!dns::wire_from_text(absolute_lower(name), dns::WireName(1, '\0'), wire, error))
        throw std::invalid_argument(name + ": " + error);
    const std::optional<std::uint16_t> found = dns::type_from_text(type_text);
    if (!found || *found == 0) throw std::invalid_argument("unknown record type: " + type_text);
    const std::uint16_t qtype = *found;

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
    const auto snapshot = published_.get();
    const std::size_t size = answer::respond(*snapshot, q, answer::Transport::tcp, rng, out);

    ldns_pkt* raw = nullptr;
    if (size == 0 || ldns_wire2pkt(&raw, out.data(), size) != LDNS_STATUS_OK)
        throw std::runtime_error("the answer could not be read back");
    std::unique_ptr<ldns_pkt, decltype(&ldns_pkt_free)> pkt(raw, ldns_pkt_free);
    const std::size_t rcode = ldns_pkt_get_rcode(pkt.get());

    Json result = {{"name", name},
                   {"type", dns::type_name(qtype)},
                   {"rcode", answer::rcode_name(rcode)},
                   {"aa", ldns_pkt_aa(pkt.get())},
                   {"answer", rr_lines(ldns_pkt_answer(pkt.get()))},
                   {"authority", rr_lines(ldns_pkt_authority(pkt.get()))},
                   {"additional", rr_lines(ldns_pkt_additional(pkt.get()))},
                   {"ttl", nullptr},
                   {"ttl_source", ""},
                   {"service", nullptr},
                   {"all_down_fired", false},
                   {"addresses", Json::array()}};

    // The service behind the answer: the name itself, or the end of a CNAME chain.
    std::string final_owner = absolute_lower(name);
    ldns_rr_list* answer = ldns_pkt_answer(pkt.get());
    const std::size_t count = answer ? ldns_rr_list_rr_count(answer) : 0;
    if (count > 0) {
        ldns_rr* last = ldns_rr_list_rr(answer, count - 1);
        char* owner = ldns_rdf2str(ldns_rr_owner(last));
        final_owner = absolute_lower(owner ? owner : "");
        free(owner);
        result["ttl"] = ldns_rr_ttl(last);
        result["ttl_source"] = "the record's own TTL (zone data)";
    } else if (ldns_pkt_authority(pkt.get()) &&
               ldns_rr_list_rr_count(ldns_pkt_authority(pkt.get()))) {
        ldns_rr* soa = ldns_rr_list_rr(ldns_pkt_authority(pkt.get()), 0);
        result["ttl"] = ldns_rr_ttl(soa);
        result["ttl_source"] = ldns_rr_get_type(soa) == LDNS_RR_TYPE_SOA
                                   ? "negative answer: min(SOA TTL, SOA minimum) (RFC 2308)"
                                   : "referral: the delegation's NS TTL";
    }

    const config::Config& config = loaded_.config;
    std::size_t at = 0;
    for (std::size_t si = 0; si < config.services.size(); ++si) {
        const config::Service& s = config.services[si];
        std::size_t count_here = 0;
        for (const config::Node& n : s.nodes)
            count_here += n.addresses.size();
        if (s.name != final_owner) {
            at += count_here;
            continue;
        }
        const health::ServicePlan* plan = si < plan_.size() ? &plan_[si] : nullptr;
        result["service"] = s.name;
        if (count > 0 && (qtype == LDNS_RR_TYPE_A || qtype == LDNS_RR_TYPE_AAAA))
            result["ttl_source"] = "service " + s.name + " ttl";
        const bool v4_asked = qtype == LDNS_RR_TYPE_A || qtype == LDNS_RR_TYPE_ANY;
        const bool v6_asked = qtype == LDNS_RR_TYPE_AAAA || qtype == LDNS_RR_TYPE_ANY;
        result["all_down_fired"] =
            plan && ((v4_asked && plan->all_down_v4) || (v6_asked && plan->all_down_v6));
        std::size_t ai = 0;
        for (std::size_t ni = 0; ni < s.nodes.size(); ++ni) {
            const config::Node& n = s.nodes[ni];
            for (std::size_t k = 0; k < n.addresses.size(); ++k) {
                const util::IpAddress& a = n.addresses[k];
                const bool asked = a.is_v4() ? v4_asked : v6_asked;
                const health::AddressPlan* p =
                    plan && ai < plan->addresses.size() ? &plan->addresses[ai] : nullptr;
                std::string reason = p ? health::reason(*p, health::state_at(monitor_.states(),
                                                                             at + ai, si, ni, k, a))
                                       : "";
                if (!asked) reason = std::string(a.is_v4() ? "IPv4" : "IPv6") + ": not asked for";
                result["addresses"].push_back({{"node", n.name},
                                               {"address", a.to_string()},
                                               {"family", a.is_v4() ? 4 : 6},
                                               {"included", asked && p && p->published},
                                               {"reason", reason}});
                ++ai;
            }
        }
        break;
    }
    return result;
}

Json Daemon::stats() {
    const answer::Totals q = query_totals();
    Json by_type = Json::object();
    for (std::size_t i = 0; i < q.by_qtype.size(); ++i)
        if (q.by_qtype[i]) by_type[answer::qtype_slot_name(i)] = q.by_qtype[i];
    Json by_rcode = Json::object();
    for (std::size_t i = 0; i < q.by_rcode.size(); ++i)
        if (q.by_rcode[i]) by_rcode[answer::rcode_name(i)] = q.by_rcode[i];
    const health::MonitorStats m = monitor_.stats();
    server::Counters net;
    if (server_) net = server_->counters();
    return {
        {"generation", generation_},
        {"uptime_s",
         std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count()},
        {"queries",
         {{"total", q.queries},
          {"dropped", q.dropped},
          {"truncated", q.truncated},
          {"by_type", by_type},
          {"by_rcode", by_rcode}}},
        {"probes",
         {{"sent", m.probes_sent},
          {"failed", m.probes_failed},
          {"late", m.late_probes},
          {"overlapped", m.probes_overlapped}}},
        {"transitions", m.transitions},
        {"publish",
         {{"last_ms", publish_times_.last_ms},
          {"max_ms", publish_times_.max_ms},
          {"changes", publish_times_.changes},
          {"full_ms", publish_times_.full_ms}}},
        {"tcp",
         {{"accepted", net.tcp_accepted},
          {"refused", net.tcp_refused},
          {"refused_per_client", net.tcp_refused_per_client},
          {"evicted", net.tcp_evicted},
          {"timed_out", net.tcp_timed_out},
          {"io_timed_out", net.tcp_io_timed_out}}},
        {"udp",
         {{"received", net.udp_received}, {"sent", net.udp_sent}, {"errors", net.udp_send_errors}}},
        {"rrl",
         {{"limited", net.rrl_limited},
          {"slipped", net.rrl_slipped},
          {"dropped", net.rrl_dropped}}}};
}

Json Daemon::check() {
    // A node counts as up when one of its addresses is; drained nodes are the operator's
    // choice and not counted. 0: every service has all nodes up; 1: some down; 2: a service
    // has none up.
    const auto& states = monitor_.states();
    Json services = Json::array();
    int status = 0;
    std::size_t at = 0;
    for (const config::Service& s : loaded_.config.services) {
        unsigned up = 0, total = 0;
        for (const config::Node& n : s.nodes) {
            bool node_up = false;
            for (std::size_t k = 0; k < n.addresses.size(); ++k, ++at)
                if (at < states.size() && states[at].up()) node_up = true;
            if (drains_.drained(s.name, n.name)) continue;
            ++total;
            up += node_up ? 1 : 0;
        }
        services.push_back({{"name", s.name}, {"up", up}, {"total", total}});
        if (up == 0)
            status = 2;
        else if (up < total && status < 1)
            status = 1;
    }
    return {{"status", status}, {"services", std::move(services)}};
}

int Daemon::watch(std::function<void(const Json&)> listener) {
    const int id = next_watch_id_++;
    watchers_.emplace(id, std::move(listener));
    return id;
}

void Daemon::unwatch(int id) {
    watchers_.erase(id);
}

}  // namespace nolb::nolbd
