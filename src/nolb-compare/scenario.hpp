// What one comparison run is made of: the scenario (nodes, faults on a schedule, the client
// profiles and their numbers), read from a TOML file in conf/scenarios/ and checked as strictly
// as nolbd's own configuration (every problem as file:line:column: key: message). Everything
// else in nolb-compare reads these plain structs; only scenario.cpp sees the TOML.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nolb-compare/profiles.hpp"

namespace nolb::compare {

// The three ways of keeping a service available that are compared.
enum class Model : std::uint8_t {
    zero_admin,      // nolbd publishes every node, health = "none"; clients fail over
    health_checked,  // nolbd publishes the nodes its HTTP probes find healthy
    load_balancer,   // HAProxy in front of the nodes, its own checks; one address in DNS
};
inline constexpr Model kModels[] = {Model::zero_admin, Model::health_checked, Model::load_balancer};
const char* model_name(Model);  // "zero-admin", "health-checked", "load-balancer"
std::optional<Model> parse_model(std::string_view);

enum class FaultKind : std::uint8_t {
    crash,        // SIGKILL: the address refuses connections until `restart`
    restart,      // the node's process starts again
    http500,      // POST /fail?mode=http500: up, but every answer (and /health) is a 500
    slow,         // POST /fail?mode=slow: answers delayed past any client's timeout
    hang,         // POST /fail?mode=hang: connections accepted, never answered, streams silent
    close,        // POST /fail?mode=close: serves, but closes each connection after its answer
    recover,      // POST /recover: back to normal after http500, slow, hang or close
    degrade,      // POST /malloc until /health answers 503; then, after `hold`, until it exits
    blackhole,    // nftables drops every packet to the node's address: connects time out
    unblackhole,  // the rule is removed
    drain,        // nolbd stops publishing the node (nolbctl drain); the node goes on serving
    undrain,      // nolbd publishes it again
    // The servers of the models rather than a node; `node` is not written for these.
    lb_crash,     // SIGKILL to HAProxy (load-balancer model; a no-op, noted, in the others)
    lb_restart,   // HAProxy starts again with the same configuration
    dns_crash,    // SIGKILL to the first of the zone's nolbd name servers (ns1)
    dns_restart,  // ns1's nolbd starts again
};
// Whether the fault hits one of the lab's servers (HAProxy, nolbd) rather than a node.
bool hits_server(FaultKind);
const char* fault_name(FaultKind);
std::optional<FaultKind> parse_fault(std::string_view);

struct Fault {
    Seconds at{0};      // from the start of the measured run, `ttls` included
    unsigned node = 0;  // 0-based index into the scenario's nodes
    FaultKind kind = FaultKind::crash;
    Seconds hold{3.0};  // degrade: how long the node stays degraded before it is pushed over
    // `at` is `written_at` plus the scenario's TTL this many times (finish_ttl), so that a sweep
    // over TTLs keeps "drain, wait a TTL, crash" true at every TTL.
    Seconds written_at{0};
    unsigned ttls = 0;
};

// The recursive resolver between the clients and nolbd, as almost every client has one.
enum class ResolverKind : std::uint8_t {
    none,     // the clients ask nolbd directly
    unbound,  // Debian's unbound, with a stub zone for the lab's zone pointing at nolbd
};
const char* resolver_name(ResolverKind);
std::optional<ResolverKind> parse_resolver(std::string_view);

struct ResolverSpec {
    ResolverKind kind = ResolverKind::none;
    std::uint32_t cache_min_ttl = 0;  // unbound's cache-min-ttl: TTLs below it are raised
    bool rrset_roundrobin = true;     // unbound rotates each RRset it answers from cache
    bool serve_expired = false;       // unbound answers from expired cache entries
    // Every answer reaches the clients this much later (a relay in front of their resolver,
    // dns_delay.hpp): a lookup as long as one over a network. Zero: none.
    Seconds delay{0};
};

// Where the nodes are, as the clients see them.
enum class Network : std::uint8_t {
    // Every address on the loopback of nolb-compare's namespace (or the host): one subnet.
    loopback,
    // The nodes in a second namespace behind a veth link, each on a subnet of its own but for
    // `local_node`, which shares the clients' subnet; the clients' side has an IPv6 address of
    // its own, as every real host does, so glibc's RFC 6724 rule 9 sorts that node first.
    routed,
};
const char* network_name(Network);
std::optional<Network> parse_network(std::string_view);

// The health checks nolbd (health-checked model) and HAProxy (load-balancer model) run against
// the nodes: the same settings for both, so the comparison is fair.
struct HealthSpec {
    Seconds interval{0.5};
    // From a result to the next probe while a node is in transition (failing but not yet down,
    // passing but not yet up): nolbd's fast_interval and HAProxy's fastinter, written into both
    // so that neither falls back to a default of its own (nolbd's is interval / 5, HAProxy's is
    // inter). Unset: interval / 5.
    std::optional<Seconds> fast_interval;
    Seconds timeout{0.4};
    unsigned rise = 2;
    unsigned fall = 2;

    Seconds fast_interval_or_default() const { return fast_interval.value_or(interval / 5.0); }
};

// The load balancer of the load-balancer model.
struct BalancerSpec {
    // HAProxy keeps connections alive on both sides (option http-keep-alive); false: it closes
    // both after every response (option httpclose), one connection per request on each side.
    bool keep_alive = true;
    // An active/standby pair instead of one HAProxy: two machines (network namespaces), each
    // with an HAProxy bound to a floating address and a keepalived that moves it by VRRP.
    // lb-crash then takes the active machine away whole; needs root.
    bool pair = false;
};

// A group of nodes at one distance from the clients, e.g. another data centre: every packet
// between a site's nodes and the clients' side (the clients, nolbd's probes, HAProxy) waits half
// the round trip on its way, in each direction (site_delay.hpp), so a connect costs one RTT and
// so does each request on a connection. Nodes in no site are as near as the loopback.
struct Site {
    std::string name;
    Seconds rtt{0};
    std::vector<unsigned> nodes;  // 0-based, in the order written
};

struct Scenario {
    std::string name;         // from the file name unless set: "crash"
    std::string description;  // one paragraph for results.md
    std::string file;         // where it was read from ("" for built-in ones)
    // A variant of a sweep over TTLs and resolvers: the scenario it was made from ("" if none).
    std::string sweep_of;

    std::vector<Model> models{std::begin(kModels), std::end(kModels)};
    unsigned nodes = 4;            // nolb-stats processes, node1..nodeN
    Seconds duration{20};          // the measured run, per model
    Seconds warmup{2};             // clients run, but nothing is recorded
    Seconds quick_duration{20};    // the measured run under --quick
    std::uint32_t ttl = 5;         // of the service's A records (and the load balancer's name)
    Seconds written_duration{20};  // duration = written_duration + duration_ttls x ttl
    unsigned duration_ttls = 0;
    HealthSpec health;
    ResolverSpec resolver;
    BalancerSpec balancer;
    // nolbd processes serving the zone, each an NS of it (ns1, ns2) on an address of its own;
    // two need the resolver tier, which knows both: the clients ask a single address.
    unsigned name_servers = 1;
    Network network = Network::loopback;
    // The nodes keep connections open between requests, as web servers do; false: they close
    // after every answer (nolb-stats' demonstration default).
    bool keep_alive = true;
    std::optional<unsigned> local_node;  // 0-based; routed only
    std::vector<ClientSpec> clients;     // default: one entry per profile
    std::vector<Fault> faults;           // in time order
    std::vector<Site> sites;             // in file order; each node in at most one
};

// The index in scenario.sites of the site `node` belongs to; nullopt when it is in none.
std::optional<std::size_t> site_of(const Scenario& scenario, unsigned node);

// Sets the TTL and works out what depends on it: the duration and the fault times written in
// TTLs (in time order again). load_scenario calls it with the file's TTL; a sweep over TTLs
// calls it on copies.
void finish_ttl(Scenario& scenario, std::uint32_t ttl);

// Reads and validates a scenario; throws config::Error listing every problem.
Scenario load_scenario(const std::string& path);
Scenario load_scenario_string(std::string_view text, const std::string& path);

}  // namespace nolb::compare
