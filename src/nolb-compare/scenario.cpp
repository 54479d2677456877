// Reads a scenario file (conf/scenarios/*.toml) into the plain Scenario struct, with nolbd's own
// configuration machinery: the document comes from config::parse_document and is walked against
// key tables declared here, so a scenario is checked as strictly as nolbd.toml (unknown keys,
// wrong types, out-of-range values, every problem at once as file:line:column: key: message).
// The checks across keys that only make sense for a scenario live here too: faults that point
// at nodes and times that exist, and a schedule in which every restart, recover and unblackhole
// undoes something done before it. A comparison that ran for a minute only to discover a typo
// in its fault list would waste the minute; a wrong scenario never starts.
//
// The file format:
//
//   description = "one paragraph"   # optional, for results.md
//   name = "crash"                  # optional; default: the file name without .toml
//   models = ["zero-admin", "health-checked", "load-balancer"]  # optional, default all three
//   nodes = 4                       # nolb-stats processes, 2..16
//   duration = 20                   # seconds, the measured run of each model, 1..600
//   duration_ttls = 0               # plus the TTL this many times (for sweeps over TTLs)
//   warmup = 2                      # seconds before it, clients run but nothing counts, 0..60
//   quick_duration = 20             # seconds per model under --quick, 1..600
//   ttl = 5                         # of the service's records, 1..86400
//   keep_alive = true               # the nodes keep connections open between requests
//   network = "loopback"            # or "routed": the nodes behind a link (needs root)
//   local_node = 2                  # routed: the node in the clients' own subnet
//
//   [health]                        # nolbd's and HAProxy's checks (the same for both)
//   interval = 0.5                  # seconds, 0.1..60
//   fast_interval = 0.1             # seconds between probes of a node in transition, 0.01..
//                                   # interval; default interval / 5 (nolbd's own default)
//   timeout = 0.4                   # seconds, less than interval
//   rise = 2                        # 1..100
//   fall = 2                        # 1..100
//
//   name_servers = 1                # nolbd processes serving the zone (ns1, ns2), 1..2; two
//                                   # need [resolver] kind = "unbound", which asks either
//
//   [balancer]                      # HAProxy, in the load-balancer model
//   keep_alive = true               # option http-keep-alive; false: option httpclose (a
//                                   # connection per request to the clients and to the nodes)
//   pair = false                    # true: active and standby HAProxy machines sharing a
//                                   # floating address moved by keepalived (needs root)
//
//   [resolver]                      # between the clients and nolbd
//   kind = "none"                   # or "unbound"
//   cache_min_ttl = 0               # unbound's cache-min-ttl, seconds
//   rrset_roundrobin = true         # unbound's rrset-roundrobin
//   serve_expired = false           # unbound's serve-expired
//   delay = 0                       # seconds each answer takes to reach the clients, 0..1
//
//   [clients]                       # defaults for every profile
//   profiles = ["chromium", "java", ...]  # which run; default: all (profiles.hpp)
//   clients = 4                     # per profile (each an independent user), 1..1000
//   rate = 10                       # requests per second per client, 0.01..1000
//   arrivals = "poisson"            # open loop; or "closed": one at a time, a period apart
//   max_in_flight = 0               # requests a client has open at once, further ones wait;
//                                   # 0 = the program's own limit (chromium 6), 0..512
//   attempt_timeout = 1.0           # seconds per connection attempt (or before the next, for
//                                   # staggered attempts), 0..300; 0 = none
//   connect_timeout = 0             # seconds for all attempts of a request, 0..600; 0 = none
//   request_timeout = 3.0           # seconds per request, 0..600; 0 = none
//   min_cache = 0                   # seconds answers are kept at least, 0..86400; 0 = unset
//   fixed_cache = 0                 # seconds answers are kept whatever the TTL; 0 = unset
//   keep_idle = 0                   # seconds an idle connection is kept for reuse; 0 = none
//   stream = false                  # hold an event stream (GET /events) beside the requests
//   stream_watchdog = 0             # seconds of silence before the stream is reopened; 0 = never
//
//   [clients.chromium]              # one profile's values: the same keys but profiles
//   clients = 2
//
//   [[fault]]                       # any number, in any order (they are sorted by time)
//   at = 6                          # seconds from the start of the measured run, < duration
//   ttls = 0                        # plus the TTL this many times (at most duration_ttls)
//   node = 2                        # node1..nodeN, 1-based here (0-based in Fault::node)
//   kind = "crash"                  # crash restart http500 slow hang close recover degrade
//                                   # blackhole unblackhole drain undrain; or one that hits a
//                                   # server, not a node (no `node` then): lb-crash lb-restart
//                                   # dns-crash dns-restart
//   hold = 3                        # degrade only: seconds degraded before it is pushed over
//
//   [[site]]                        # any number: nodes at a distance from the clients
//   name = "geneva"                 # names its row in the results (letters, digits, _ . -)
//   rtt = 0.030                     # seconds, the round trip to its nodes, 0..1 (needs root)
//   nodes = [5, 6, 7, 8]            # 1-based like faults; a node in at most one site
//
// The server faults: `lb-crash` kills HAProxy with SIGKILL and `lb-restart` starts it again
// with the same configuration; they act in the load-balancer model only, and in the others are
// recorded as no-ops, saying so. With [balancer] pair, lb-crash takes the active machine away
// whole (its HAProxy and its keepalived killed, its link down) and lb-restart brings it back as
// the standby. `dns-crash` kills ns1's nolbd and `dns-restart` starts it
// again, in every model (the load balancer's name is served by nolbd too). Each crash needs its
// server up and each restart needs it down, as for the nodes.
//
// A profile's values are its program's defaults (profiles.cpp), then [clients], then
// [clients.<profile>]: the most specific wins. Every profile runs unless `profiles` says
// otherwise; its defaults are what the program does, so a scenario changes them only to ask
// "what if the program were configured so".
#include "nolb-compare/scenario.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

#include "config/config.hpp"
#include "config/document.hpp"
#include "config/walk.hpp"

namespace nolb::compare {

using config::Context;
using config::in_quotes;
using config::Item;
using config::kUnlimited;
using config::Table;
using config::Type;
using config::Value;

namespace {

constexpr double kMaxNodes = 16;
constexpr double kMaxDuration = 600;
constexpr double kMaxClients = 1000;  // per profile

template <typename Enum>
struct Named {
    Enum value;
    const char* name;
};

constexpr Named<Model> kModelNames[] = {
    {Model::zero_admin, "zero-admin"},
    {Model::health_checked, "health-checked"},
    {Model::load_balancer, "load-balancer"},
};

constexpr Named<Network> kNetworkNames[] = {
    {Network::loopback, "loopback"},
    {Network::routed, "routed"},
};

constexpr Named<ResolverKind> kResolverNames[] = {
    {ResolverKind::none, "none"},
    {ResolverKind::unbound, "unbound"},
};

constexpr Named<FaultKind> kFaultNames[] = {
    {FaultKind::crash, "crash"},         {FaultKind::restart, "restart"},
    {FaultKind::http500, "http500"},     {FaultKind::slow, "slow"},
    {FaultKind::hang, "hang"},           {FaultKind::close, "close"},
    {FaultKind::recover, "recover"},     {FaultKind::degrade, "degrade"},
    {FaultKind::blackhole, "blackhole"}, {FaultKind::unblackhole, "unblackhole"},
    {FaultKind::drain, "drain"},         {FaultKind::undrain, "undrain"},
    {FaultKind::lb_crash, "lb-crash"},   {FaultKind::lb_restart, "lb-restart"},
    {FaultKind::dns_crash, "dns-crash"}, {FaultKind::dns_restart, "dns-restart"},
};

// "(chromium, java, ... or try-all)": the profiles, for a message.
std::string profile_choices() {
    std::string out = "(";
    for (std::size_t i = 0; i < std::size(kProfiles); ++i) {
        if (i > 0) out += i + 1 == std::size(kProfiles) ? " or " : ", ";
        out += profile_name(kProfiles[i]);
    }
    return out + ")";
}

template <typename Enum, std::size_t N>
const char* name_of(const Named<Enum> (&names)[N], Enum value) {
    for (const auto& entry : names) {
        if (entry.value == value) return entry.name;
    }
    return "unknown";
}

template <typename Enum, std::size_t N>
std::optional<Enum> parse_named(const Named<Enum> (&names)[N], std::string_view text) {
    for (const auto& entry : names) {
        if (text == entry.name) return entry.value;
    }
    return std::nullopt;
}

// "(single, try-all, happy-eyeballs, browser or system)": the choices, for a message.
template <typename Enum, std::size_t N>
std::string choices(const Named<Enum> (&names)[N]) {
    std::string out = "(";
    for (std::size_t i = 0; i < N; ++i) {
        if (i > 0) out += i + 1 == N ? " or " : ", ";
        out += names[i].name;
    }
    return out + ")";
}

std::string seconds_text(double seconds) {
    std::ostringstream out;
    out << seconds << " s";
    return out.str();
}

std::string seconds_text(Seconds seconds) {
    return seconds_text(seconds.count());
}

std::string node_text(unsigned node) {
    return "node" + std::to_string(node + 1);
}

Seconds to_seconds(const Value& value) {
    return Seconds(value.number());
}

// ---- [health]

void finish_health(HealthSpec& health, const Value& table, Context& ctx) {
    if (health.fast_interval && *health.fast_interval > health.interval) {
        const Value* given = table.member("fast_interval");
        if (given)
            ctx.error(*given, "fast_interval (" + seconds_text(*health.fast_interval) +
                                  ") must be at most interval (" + seconds_text(health.interval) +
                                  ")");
    }
    if (health.timeout < health.interval) return;
    // Blame the key written here; with neither written the defaults cannot break the rule.
    const Value* given = table.member("timeout");
    if (!given) given = table.member("interval");
    if (!given) return;
    ctx.error(*given, "timeout (" + seconds_text(health.timeout) +
                          ") must be less than interval (" + seconds_text(health.interval) +
                          "): one probe at a time per node");
}

constexpr Item<HealthSpec> kHealthItems[] = {
    {.key = "interval",
     .type = Type::seconds,
     .min = 0.1,
     .max = 60,
     .fallback = "0.5",
     .meaning = "seconds between two checks of a node, nolbd's and HAProxy's",
     .store = [](HealthSpec& h, const Value& v, Context&) { h.interval = to_seconds(v); }},
    // No fallback: unset means a fifth of interval, as in nolbd.
    {.key = "fast_interval",
     .type = Type::seconds,
     .min = 0.01,
     .max = 60,
     .meaning = "seconds from a result to the next check of a node in transition (short of "
                "fall or rise); nolbd's fast_interval and HAProxy's fastinter; default "
                "interval / 5, at most interval",
     .store = [](HealthSpec& h, const Value& v, Context&) { h.fast_interval = to_seconds(v); }},
    {.key = "timeout",
     .type = Type::seconds,
     .min = 0.05,
     .max = 60,
     .fallback = "0.4",
     .meaning = "seconds a check may take; less than interval",
     .store = [](HealthSpec& h, const Value& v, Context&) { h.timeout = to_seconds(v); }},
    {.key = "rise",
     .type = Type::integer,
     .min = 1,
     .max = 100,
     .fallback = "2",
     .meaning = "consecutive successes that bring a node back",
     .store = [](HealthSpec& h, const Value& v,
                 Context&) { h.rise = static_cast<unsigned>(v.integer); }},
    {.key = "fall",
     .type = Type::integer,
     .min = 1,
     .max = 100,
     .fallback = "2",
     .meaning = "consecutive failures that take a node out",
     .store = [](HealthSpec& h, const Value& v,
                 Context&) { h.fall = static_cast<unsigned>(v.integer); }},
};
constexpr Table<HealthSpec> kHealth{kHealthItems, finish_health};

// ---- [resolver]

void store_resolver_kind(ResolverSpec& r, const Value& value, Context& ctx) {
    auto kind = parse_resolver(value.string);
    if (!kind) {
        ctx.error(value, in_quotes(value.string) + " is not a resolver " + choices(kResolverNames));
        return;
    }
    r.kind = *kind;
}

constexpr Item<ResolverSpec> kResolverItems[] = {
    {.key = "kind",
     .type = Type::string,
     .fallback = R"("none")",
     .meaning = "none (clients ask nolbd) or unbound (a caching resolver in between)",
     .store = store_resolver_kind},
    {.key = "cache_min_ttl",
     .type = Type::integer,
     .max = 86'400,
     .fallback = "0",
     .meaning = "unbound's cache-min-ttl: a shorter TTL is raised to this many seconds",
     .store = [](ResolverSpec& r, const Value& v,
                 Context&) { r.cache_min_ttl = static_cast<std::uint32_t>(v.integer); }},
    {.key = "rrset_roundrobin",
     .type = Type::boolean,
     .fallback = "true",
     .meaning = "unbound's rrset-roundrobin: rotate the records of an answer from the cache",
     .store = [](ResolverSpec& r, const Value& v, Context&) { r.rrset_roundrobin = v.boolean; }},
    {.key = "serve_expired",
     .type = Type::boolean,
     .fallback = "false",
     .meaning = "unbound's serve-expired: answer from an expired cache entry while refreshing",
     .store = [](ResolverSpec& r, const Value& v, Context&) { r.serve_expired = v.boolean; }},
    {.key = "delay",
     .type = Type::seconds,
     .max = 1,
     .fallback = "0",
     .meaning = "seconds every DNS answer takes to reach the clients (a relay in front of "
                "their resolver; needs the lab's namespace)",
     .store = [](ResolverSpec& r, const Value& v, Context&) { r.delay = to_seconds(v); }},
};
constexpr Table<ResolverSpec> kResolver{kResolverItems};

// ---- [balancer]

constexpr Item<BalancerSpec> kBalancerItems[] = {
    {.key = "keep_alive",
     .type = Type::boolean,
     .fallback = "true",
     .meaning = "HAProxy keeps connections alive to the clients and to the nodes (option "
                "http-keep-alive); false: it closes both after every response (option httpclose)",
     .store = [](BalancerSpec& b, const Value& v, Context&) { b.keep_alive = v.boolean; }},
    {.key = "pair",
     .type = Type::boolean,
     .fallback = "false",
     .meaning = "two HAProxy machines, active and standby, sharing a floating address moved by "
                "keepalived (VRRP); lb-crash takes the active one away whole; needs root",
     .store = [](BalancerSpec& b, const Value& v, Context&) { b.pair = v.boolean; }},
};
constexpr Table<BalancerSpec> kBalancer{kBalancerItems};

// ---- [clients] and [clients.<profile>]

// What one table of client settings says; unset keys leave the layer below as it is.
struct ClientLayer {
    std::optional<std::vector<Profile>> profiles;
    std::optional<unsigned> clients;
    std::optional<double> rate;
    std::optional<Arrivals> arrivals;
    std::optional<unsigned> max_in_flight;
    std::optional<Seconds> attempt_timeout;
    std::optional<Seconds> connect_timeout;
    std::optional<Seconds> request_timeout;
    std::optional<Seconds> min_cache;
    std::optional<Seconds> fixed_cache;
    std::optional<Seconds> keep_idle;
    std::optional<bool> stream;
    std::optional<Seconds> stream_watchdog;
};

void store_arrivals(ClientLayer& layer, const Value& value, Context& ctx) {
    if (value.string == "poisson")
        layer.arrivals = Arrivals::poisson;
    else if (value.string == "closed")
        layer.arrivals = Arrivals::closed;
    else
        ctx.error(value, in_quotes(value.string) + " is not an arrival process (poisson, closed)");
}

void store_profiles(ClientLayer& layer, const Value& value, Context& ctx) {
    std::vector<Profile> profiles;
    for (const Value& element : value.items) {
        auto profile = parse_profile(element.string);
        if (!profile) {
            ctx.error(element,
                      in_quotes(element.string) + " is not a profile " + profile_choices());
        } else if (ctx.unique(value.path, element.string, element,
                              in_quotes(element.string) + " is already listed")) {
            profiles.push_back(*profile);
        }
    }
    layer.profiles = std::move(profiles);
}

constexpr Item<ClientLayer> kClientItems[] = {
    {.key = "profiles",
     .type = Type::strings,
     .min = 1,
     .meaning = "the profiles that run; default: all of them",
     .store = store_profiles},
    {.key = "clients",
     .type = Type::integer,
     .min = 1,
     .max = kMaxClients,
     .meaning = "independent clients of the profile (its users), each with its own cache, "
                "address order and connections",
     .store = [](ClientLayer& l, const Value& v,
                 Context&) { l.clients = static_cast<unsigned>(v.integer); }},
    {.key = "rate",
     .type = Type::number,
     .min = 0.01,
     .max = 1000,
     .meaning = "requests per second per client",
     .store = [](ClientLayer& l, const Value& v, Context&) { l.rate = v.number(); }},
    {.key = "arrivals",
     .type = Type::string,
     .meaning = "poisson (open loop: due on a schedule, whatever became of earlier requests) or "
                "closed (one at a time, one period apart)",
     .store = store_arrivals},
    {.key = "max_in_flight",
     .type = Type::integer,
     .max = 512,
     .meaning = "requests one client has open at once, further ones wait; 0: the program's own "
                "limit",
     .store = [](ClientLayer& l, const Value& v,
                 Context&) { l.max_in_flight = static_cast<unsigned>(v.integer); }},
    {.key = "attempt_timeout",
     .type = Type::seconds,
     .max = 300,
     .meaning = "seconds one connection attempt may take (staggered attempts: before the next "
                "starts); 0: none (the kernel's SYN retries decide)",
     .store = [](ClientLayer& l, const Value& v, Context&) { l.attempt_timeout = to_seconds(v); }},
    {.key = "connect_timeout",
     .type = Type::seconds,
     .max = 600,
     .meaning = "seconds all connection attempts of a request may take together; 0: none",
     .store = [](ClientLayer& l, const Value& v, Context&) { l.connect_timeout = to_seconds(v); }},
    {.key = "request_timeout",
     .type = Type::seconds,
     .max = 600,
     .meaning = "seconds a whole request may take, every attempt included; 0: none",
     .store = [](ClientLayer& l, const Value& v, Context&) { l.request_timeout = to_seconds(v); }},
    {.key = "min_cache",
     .type = Type::seconds,
     .max = 86'400,
     .meaning = "seconds answers are kept at least, whatever their TTL; 0: unset",
     .store = [](ClientLayer& l, const Value& v, Context&) { l.min_cache = to_seconds(v); }},
    {.key = "fixed_cache",
     .type = Type::seconds,
     .max = 86'400,
     .meaning = "seconds answers are kept, the TTL ignored; 0: unset (the TTL decides)",
     .store = [](ClientLayer& l, const Value& v, Context&) { l.fixed_cache = to_seconds(v); }},
    {.key = "keep_idle",
     .type = Type::seconds,
     .max = 3'600,
     .meaning = "seconds an idle connection is kept for the next request; 0: one per request",
     .store = [](ClientLayer& l, const Value& v, Context&) { l.keep_idle = to_seconds(v); }},
    {.key = "stream",
     .type = Type::boolean,
     .meaning = "hold an event stream (GET /events) beside the requests, as the demo page does",
     .store = [](ClientLayer& l, const Value& v, Context&) { l.stream = v.boolean; }},
    {.key = "stream_watchdog",
     .type = Type::seconds,
     .max = 600,
     .meaning = "seconds of silence after which the stream is reopened; 0: never (EventSource)",
     .store = [](ClientLayer& l, const Value& v, Context&) { l.stream_watchdog = to_seconds(v); }},
};
constexpr Table<ClientLayer> kClients{kClientItems};

// [clients.<profile>]: the same keys; which profiles run is said once, in [clients].
constexpr auto kProfileClientItems = [] {
    std::array<Item<ClientLayer>, std::size(kClientItems) - 1> items{};
    std::copy(std::begin(kClientItems) + 1, std::end(kClientItems), items.begin());
    return items;
}();
constexpr Table<ClientLayer> kProfileClients{kProfileClientItems};

void apply(const ClientLayer& layer, ClientSpec& spec) {
    if (layer.clients) spec.clients = *layer.clients;
    if (layer.rate) spec.rate = *layer.rate;
    if (layer.arrivals) spec.arrivals = *layer.arrivals;
    if (layer.max_in_flight && *layer.max_in_flight > 0) spec.max_in_flight = *layer.max_in_flight;
    if (layer.attempt_timeout) spec.attempt_timeout = *layer.attempt_timeout;
    if (layer.connect_timeout) spec.connect_timeout = *layer.connect_timeout;
    if (layer.request_timeout) spec.request_timeout = *layer.request_timeout;
    if (layer.min_cache) spec.min_cache = *layer.min_cache;
    if (layer.fixed_cache) spec.fixed_cache = *layer.fixed_cache;
    if (layer.keep_idle) spec.keep_idle = *layer.keep_idle;
    if (layer.stream) spec.stream = *layer.stream;
    if (layer.stream_watchdog) spec.stream_watchdog = *layer.stream_watchdog;
}

bool is_client_key(std::string_view key) {
    return std::any_of(std::begin(kClientItems), std::end(kClientItems),
                       [&](const Item<ClientLayer>& item) { return item.key == key; });
}

// [clients] holds both the shared keys and a table per profile. The walk sees the shared keys
// (and whatever is neither, to report it as unknown); each profile table is walked on its own,
// and a table named after no profile is reported with the names that are.
void store_clients(std::vector<ClientSpec>& out, const Value& value, Context& ctx) {
    Value shared = value;
    shared.items.clear();
    std::array<ClientLayer, std::size(kProfiles)> per_profile{};
    for (const Value& member : value.items) {
        if (member.kind != Value::Kind::table || is_client_key(member.key)) {
            shared.items.push_back(member);
            continue;
        }
        auto profile = parse_profile(member.key);
        if (!profile) {
            ctx.error(member.key_at, member.path, "unknown profile " + profile_choices());
            continue;
        }
        walk(kProfileClients, member, per_profile[static_cast<std::size_t>(*profile)], ctx);
    }
    ClientLayer common;
    walk(kClients, shared, common, ctx);

    out.clear();
    for (std::size_t i = 0; i < std::size(kProfiles); ++i) {
        Profile profile = kProfiles[i];
        if (common.profiles && std::find(common.profiles->begin(), common.profiles->end(),
                                         profile) == common.profiles->end()) {
            continue;
        }
        ClientSpec spec = builtin_spec(profile);
        apply(common, spec);
        apply(per_profile[i], spec);
        out.push_back(spec);
    }
}

// ---- [[fault]]

// A fault as read, with what is needed to judge it against the rest of the file.
struct FaultRow {
    Fault fault;
    bool at_known = false;
    bool node_known = false;
    bool kind_known = false;
    const Value* table = nullptr;
};

const Value& blame(const FaultRow& row, std::string_view key) {
    const Value* given = row.table->member(key);
    return given ? *given : *row.table;
}

void store_kind(FaultRow& row, const Value& value, Context& ctx) {
    auto kind = parse_fault(value.string);
    if (!kind) {
        ctx.error(value, in_quotes(value.string) + " is not a fault kind " + choices(kFaultNames));
        return;
    }
    row.fault.kind = *kind;
    row.kind_known = true;
}

void finish_fault(FaultRow& row, const Value& table, Context& ctx) {
    const Value* node = table.member("node");
    if (row.kind_known && hits_server(row.fault.kind)) {
        if (node)
            ctx.error(node->key_at, node->path,
                      std::string("not for kind = ") + in_quotes(fault_name(row.fault.kind)) +
                          ": it hits " +
                          (row.fault.kind == FaultKind::lb_crash ||
                                   row.fault.kind == FaultKind::lb_restart
                               ? "HAProxy"
                               : "ns1's nolbd") +
                          ", not a node");
        row.node_known = true;  // nothing to know
    } else if (row.kind_known && !node) {
        ctx.missing_key(table, "node", Type::integer);
    }
    const Value* hold = table.member("hold");
    if (hold && row.kind_known && row.fault.kind != FaultKind::degrade) {
        ctx.error(hold->key_at, hold->path,
                  std::string("only for kind = \"degrade\" (this fault is ") +
                      in_quotes(fault_name(row.fault.kind)) + ")");
    }
}

constexpr Item<FaultRow> kFaultItems[] = {
    {.key = "at",
     .type = Type::seconds,
     .required = true,
     .max = kMaxDuration,
     .meaning = "seconds from the start of the measured run; before its end",
     .store =
         [](FaultRow& r, const Value& v, Context&) {
             r.fault.at = r.fault.written_at = to_seconds(v);
             r.at_known = true;
         }},
    {.key = "ttls",
     .type = Type::integer,
     .max = 100,
     .fallback = "0",
     .meaning = "the scenario's TTL this many times is added to at; at most duration_ttls",
     .store = [](FaultRow& r, const Value& v,
                 Context&) { r.fault.ttls = static_cast<unsigned>(v.integer); }},
    // Required but for the server faults, which hit no node (finish_fault).
    {.key = "node",
     .type = Type::integer,
     .min = 1,
     .max = kMaxNodes,
     .meaning = "the node it hits, 1 for node1; at most nodes; not for lb-crash, lb-restart, "
                "dns-crash and dns-restart",
     .store =
         [](FaultRow& r, const Value& v, Context&) {
             r.fault.node = static_cast<unsigned>(v.integer - 1);
             r.node_known = true;
         }},
    {.key = "kind",
     .type = Type::string,
     .required = true,
     .meaning = "crash restart http500 slow hang close recover degrade blackhole unblackhole "
                "drain undrain lb-crash lb-restart dns-crash dns-restart",
     .store = store_kind},
    {.key = "hold",
     .type = Type::seconds,
     .max = kMaxDuration,
     .meaning = "degrade: seconds the node stays degraded before it is pushed over (default 3)",
     .store = [](FaultRow& r, const Value& v, Context&) { r.fault.hold = to_seconds(v); }},
};
constexpr Table<FaultRow> kFault{kFaultItems, finish_fault};

// What the schedule has done to one node so far, to judge the next fault on it.
struct NodeState {
    std::optional<FaultKind> down;  // crash or degrade, until a restart
    Seconds down_at{0};
    Seconds exits_at{0};               // degrade: when it is pushed over; crash: when it was killed
    std::optional<FaultKind> failing;  // http500, slow or hang, until a recover or a restart
    std::optional<Seconds> blackholed_at;
    std::optional<Seconds> drained_at;
};

// Walks the schedule in time order and reports the faults that undo nothing, or that hit a
// node in no state to take them.
void check_schedule(const std::vector<FaultRow>& rows, unsigned nodes, Context& ctx) {
    std::vector<NodeState> states(nodes);
    // When HAProxy and ns1's nolbd were killed, while they are down.
    std::optional<Seconds> lb_down_at, dns_down_at;
    for (const FaultRow& row : rows) {
        const Fault& f = row.fault;
        if (hits_server(f.kind)) {
            const bool lb = f.kind == FaultKind::lb_crash || f.kind == FaultKind::lb_restart;
            const bool crash = f.kind == FaultKind::lb_crash || f.kind == FaultKind::dns_crash;
            std::optional<Seconds>& down_at = lb ? lb_down_at : dns_down_at;
            const std::string who = lb ? "HAProxy" : "ns1's nolbd";
            const std::string when = " at " + seconds_text(f.at);
            if (crash && down_at)
                ctx.error(blame(row, "kind"), who + " is down" + when + " (killed at " +
                                                  seconds_text(*down_at) + "): restart it first");
            else if (!crash && !down_at)
                ctx.error(blame(row, "kind"), std::string(fault_name(f.kind)) + when + ", but " +
                                                  who + " is not down (" +
                                                  (lb ? "lb-crash" : "dns-crash") + " it first)");
            else if (crash)
                down_at = f.at;
            else
                down_at.reset();
            continue;
        }
        NodeState& node = states[f.node];
        const Value& kind = blame(row, "kind");
        std::string who = node_text(f.node);
        std::string when = " at " + seconds_text(f.at);
        auto down_text = [&] {
            return who + " is down" + when + " (" + fault_name(*node.down) + " at " +
                   seconds_text(node.down_at) + ")";
        };
        switch (f.kind) {
            case FaultKind::restart:
                if (!node.down) {
                    ctx.error(kind, "restart of " + who + ", which is not down" + when +
                                        " (crash or degrade it first)");
                } else if (f.at <= node.exits_at && node.down == FaultKind::degrade) {
                    ctx.error(kind, "restart of " + who + when + ", before its degrade (at " +
                                        seconds_text(node.down_at) + ", hold " +
                                        seconds_text(node.exits_at - node.down_at) +
                                        ") has pushed it over");
                } else {
                    node.down.reset();
                    node.failing.reset();  // a fresh process
                }
                break;
            case FaultKind::recover:
                if (node.down) {
                    ctx.error(kind, down_text() + ": nothing to recover");
                } else if (!node.failing) {
                    ctx.error(kind, "recover of " + who + ", which is not failing" + when +
                                        " (http500, slow, hang or close first)");
                } else {
                    node.failing.reset();
                }
                break;
            case FaultKind::crash:
            case FaultKind::degrade:
            case FaultKind::http500:
            case FaultKind::slow:
            case FaultKind::hang:
            case FaultKind::close:
                if (node.down) {
                    ctx.error(kind, down_text() + ": restart it first");
                } else if (f.kind == FaultKind::crash || f.kind == FaultKind::degrade) {
                    node.down = f.kind;
                    node.down_at = f.at;
                    node.exits_at = f.kind == FaultKind::degrade ? f.at + f.hold : f.at;
                    node.failing.reset();
                } else {
                    node.failing = f.kind;  // one mode after another switches the mode
                }
                break;
            case FaultKind::blackhole:
                if (node.blackholed_at) {
                    ctx.error(kind, who + " is already blackholed (since " +
                                        seconds_text(*node.blackholed_at) + ")");
                } else {
                    node.blackholed_at = f.at;
                }
                break;
            case FaultKind::unblackhole:
                if (!node.blackholed_at) {
                    ctx.error(kind, "unblackhole of " + who + ", which is not blackholed" + when +
                                        " (blackhole it first)");
                } else {
                    node.blackholed_at.reset();
                }
                break;
            case FaultKind::drain:
                if (node.drained_at) {
                    ctx.error(kind, who + " is already drained (since " +
                                        seconds_text(*node.drained_at) + ")");
                } else {
                    node.drained_at = f.at;
                }
                break;
            case FaultKind::undrain:
                if (!node.drained_at) {
                    ctx.error(kind, "undrain of " + who + ", which is not drained" + when +
                                        " (drain it first)");
                } else {
                    node.drained_at.reset();
                }
                break;
            case FaultKind::lb_crash:
            case FaultKind::lb_restart:
            case FaultKind::dns_crash:
            case FaultKind::dns_restart:
                break;  // above
        }
    }
}

// Names that become file names and table rows: letters, digits, _ . -
bool is_plain_name(std::string_view name) {
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
    });
}

// ---- [[site]]

// A site as read, with where each node was written, to blame it against the whole file.
struct SiteRow {
    Site site;
    std::vector<const Value*> node_values;  // beside site.nodes
};

void store_site_name(SiteRow& row, const Value& value, Context& ctx) {
    if (!is_plain_name(value.string)) {
        ctx.error(value, in_quotes(value.string) + " is not a site name (letters, digits, _ . -)");
        return;
    }
    if (ctx.unique("site.name", value.string, value,
                   "site " + in_quotes(value.string) + " is already named"))
        row.site.name = value.string;
}

// Each element a node number, 1-based; whether it exists and is in no other site is judged
// with the whole document (finish_sites).
void store_site_nodes(SiteRow& row, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        if (element.kind != Value::Kind::integer) {
            ctx.error(element, "expected a node number (1 for node1), found " + element.kind_name);
        } else if (element.integer < 1 || element.integer > static_cast<std::int64_t>(kMaxNodes)) {
            ctx.error(element, std::to_string(element.integer) + " is out of range (1.." +
                                   std::to_string(static_cast<int>(kMaxNodes)) + ")");
        } else {
            row.site.nodes.push_back(static_cast<unsigned>(element.integer - 1));
            row.node_values.push_back(&element);
        }
    }
}

constexpr Item<SiteRow> kSiteItems[] = {
    {.key = "name",
     .type = Type::string,
     .required = true,
     .min = 1,
     .max = 32,
     .meaning = "names the site's row in the results",
     .store = store_site_name},
    {.key = "rtt",
     .type = Type::seconds,
     .required = true,
     .max = 1,
     .meaning = "seconds a round trip between the clients and the site's nodes takes; each "
                "direction waits half",
     .store = [](SiteRow& r, const Value& v, Context&) { r.site.rtt = to_seconds(v); }},
    {.key = "nodes",
     .type = Type::array,
     .required = true,
     .min = 1,
     .meaning = "the site's nodes, 1 for node1; a node in at most one site",
     .store = store_site_nodes},
};
constexpr Table<SiteRow> kSite{kSiteItems};

// Every node named exists and is in one site only; the first site to name a node keeps it.
void finish_sites(std::vector<SiteRow>& rows, unsigned nodes, bool nodes_known, Context& ctx) {
    std::vector<const SiteRow*> owner(static_cast<std::size_t>(kMaxNodes), nullptr);
    std::vector<const Value*> first(static_cast<std::size_t>(kMaxNodes), nullptr);
    for (SiteRow& row : rows) {
        for (std::size_t k = 0; k < row.site.nodes.size(); ++k) {
            const unsigned node = row.site.nodes[k];
            const Value& at = *row.node_values[k];
            if (nodes_known && node >= nodes) {
                ctx.error(at, node_text(node) +
                                  " does not exist (nodes = " + std::to_string(nodes) + ")");
            } else if (owner[node] == &row) {
                ctx.error(at, node_text(node) + " is already listed on line " +
                                  std::to_string(first[node]->at.line));
            } else if (owner[node]) {
                ctx.error(at, node_text(node) + " is already in site " +
                                  in_quotes(owner[node]->site.name) + " (line " +
                                  std::to_string(first[node]->at.line) +
                                  "): a node is in one site at most");
            } else {
                owner[node] = &row;
                first[node] = &at;
            }
        }
    }
}

// ---- The document

struct Draft {
    Scenario scenario;
    const Value* local_node = nullptr;  // where it was written, to blame
    const Value* name_servers = nullptr;
    bool nodes_known = false;
    bool duration_known = false;
    std::vector<FaultRow> faults;
    std::vector<SiteRow> sites;
};

bool is_scenario_name(std::string_view name) {
    return is_plain_name(name);
}

void store_name(Draft& d, const Value& value, Context& ctx) {
    // It names the results' folder and files, so it must be a plain file name.
    if (!is_scenario_name(value.string) || value.string == "." || value.string == "..") {
        ctx.error(value,
                  in_quotes(value.string) + " is not a scenario name (letters, digits, _ . -)");
        return;
    }
    d.scenario.name = value.string;
}

void store_models(Draft& d, const Value& value, Context& ctx) {
    d.scenario.models.clear();
    for (const Value& element : value.items) {
        auto model = parse_model(element.string);
        if (!model) {
            ctx.error(element,
                      in_quotes(element.string) + " is not a model " + choices(kModelNames));
        } else if (ctx.unique(value.path, element.string, element,
                              in_quotes(element.string) + " is already listed")) {
            d.scenario.models.push_back(*model);
        }
    }
}

void store_sites(Draft& d, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        SiteRow row;
        walk(kSite, element, row, ctx);
        d.sites.push_back(std::move(row));
    }
}

void store_faults(Draft& d, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        FaultRow row;
        row.table = &element;
        walk(kFault, element, row, ctx);
        d.faults.push_back(row);
    }
}

// Faults against nodes and the run, then the schedule in time order (a tie keeps file order:
// a crash and a restart written for the same second happen in that order).
void finish_document(Draft& d, const Value&, Context& ctx) {
    if (d.local_node && d.scenario.network != Network::routed)
        ctx.error(*d.local_node,
                  "only with network = \"routed\": on the loopback every node "
                  "shares the clients' subnet");
    else if (d.local_node && d.nodes_known && *d.scenario.local_node >= d.scenario.nodes)
        ctx.error(*d.local_node, node_text(*d.scenario.local_node) + " does not exist (nodes = " +
                                     std::to_string(d.scenario.nodes) + ")");
    if (d.name_servers && d.scenario.name_servers > 1 &&
        d.scenario.resolver.kind != ResolverKind::unbound)
        ctx.error(*d.name_servers,
                  std::to_string(d.scenario.name_servers) +
                      " name servers need [resolver] kind = \"unbound\": the clients ask one "
                      "address, and only a resolver knows both");
    bool all_known = true;
    for (const FaultRow& row : d.faults) {
        bool ok = row.at_known && row.node_known && row.kind_known;
        if (row.node_known && d.nodes_known && row.fault.node >= d.scenario.nodes &&
            !(row.kind_known && hits_server(row.fault.kind))) {
            ctx.error(blame(row, "node"), node_text(row.fault.node) + " does not exist (nodes = " +
                                              std::to_string(d.scenario.nodes) + ")");
            ok = false;
        }
        if (row.at_known && d.duration_known &&
            row.fault.written_at >= d.scenario.written_duration) {
            ctx.error(blame(row, "at"), seconds_text(row.fault.written_at) +
                                            " is not before the end of the run (duration = " +
                                            seconds_text(d.scenario.written_duration) + ")");
        }
        if (row.fault.ttls > d.scenario.duration_ttls) {
            ctx.error(blame(row, "ttls"), std::to_string(row.fault.ttls) +
                                              " TTLs would put the fault past the run's end "
                                              "(duration_ttls = " +
                                              std::to_string(d.scenario.duration_ttls) + ")");
        }
        all_known = all_known && ok;
    }
    // A fault written with more TTLs than another may not come before it: then the faults keep
    // their order at every TTL a sweep chooses.
    for (const FaultRow& a : d.faults) {
        for (const FaultRow& b : d.faults) {
            if (a.fault.ttls < b.fault.ttls && a.fault.written_at > b.fault.written_at) {
                ctx.error(blame(b, "at"), "at " + seconds_text(b.fault.written_at) +
                                              " with ttls = " + std::to_string(b.fault.ttls) +
                                              " comes before a fault at " +
                                              seconds_text(a.fault.written_at) +
                                              " with ttls = " + std::to_string(a.fault.ttls) +
                                              ": the order would change with the TTL (raise at)");
            }
        }
    }
    for (FaultRow& row : d.faults)
        row.fault.at =
            row.fault.written_at + Seconds(static_cast<double>(d.scenario.ttl) * row.fault.ttls);
    std::stable_sort(d.faults.begin(), d.faults.end(),
                     [](const FaultRow& a, const FaultRow& b) { return a.fault.at < b.fault.at; });
    // A fault that is itself wrong would make the rest of the schedule report its echoes.
    if (all_known && d.nodes_known) check_schedule(d.faults, d.scenario.nodes, ctx);
    d.scenario.faults.clear();
    for (const FaultRow& row : d.faults)
        d.scenario.faults.push_back(row.fault);
    finish_sites(d.sites, d.scenario.nodes, d.nodes_known, ctx);
    d.scenario.sites.clear();
    for (const SiteRow& row : d.sites)
        d.scenario.sites.push_back(row.site);
}

constexpr Item<Draft> kScenarioItems[] = {
    {.key = "description",
     .type = Type::string,
     .fallback = R"("")",
     .meaning = "one paragraph on what the scenario shows, for results.md",
     .store = [](Draft& d, const Value& v, Context&) { d.scenario.description = v.string; }},
    {.key = "name",
     .type = Type::string,
     .min = 1,
     .max = 64,
     .meaning = "names the results; default: the file name without .toml",
     .store = store_name},
    {.key = "models",
     .type = Type::strings,
     .min = 1,
     .fallback = R"(["zero-admin", "health-checked", "load-balancer"])",
     .meaning = "the models run, in this order, each once",
     .store = store_models},
    {.key = "nodes",
     .type = Type::integer,
     .min = 2,
     .max = kMaxNodes,
     .fallback = "4",
     .meaning = "nolb-stats processes behind the name, node1..nodeN",
     .store =
         [](Draft& d, const Value& v, Context&) {
             d.scenario.nodes = static_cast<unsigned>(v.integer);
             d.nodes_known = true;
         }},
    {.key = "duration",
     .type = Type::seconds,
     .min = 1,
     .max = kMaxDuration,
     .fallback = "20",
     .meaning = "seconds each model's measured run lasts",
     .store =
         [](Draft& d, const Value& v, Context&) {
             d.scenario.duration = d.scenario.written_duration = to_seconds(v);
             d.duration_known = true;
         }},
    {.key = "duration_ttls",
     .type = Type::integer,
     .max = 100,
     .fallback = "0",
     .meaning = "the TTL this many times is added to duration, so a sweep over TTLs outlives "
                "every cache",
     .store = [](Draft& d, const Value& v,
                 Context&) { d.scenario.duration_ttls = static_cast<unsigned>(v.integer); }},
    {.key = "warmup",
     .type = Type::seconds,
     .max = 60,
     .fallback = "2",
     .meaning = "seconds the clients run before the measured run; nothing is recorded",
     .store = [](Draft& d, const Value& v, Context&) { d.scenario.warmup = to_seconds(v); }},
    {.key = "quick_duration",
     .type = Type::seconds,
     .min = 1,
     .max = kMaxDuration,
     .fallback = "20",
     .meaning = "seconds each model runs under --quick (faults from then on are left out)",
     .store = [](Draft& d, const Value& v,
                 Context&) { d.scenario.quick_duration = to_seconds(v); }},
    {.key = "ttl",
     .type = Type::integer,
     .min = 1,
     .max = 86'400,
     .fallback = "5",
     .meaning = "TTL of the service's records (and of the load balancer's name), seconds",
     .store = [](Draft& d, const Value& v,
                 Context&) { d.scenario.ttl = static_cast<std::uint32_t>(v.integer); }},
    {.key = "health",
     .type = Type::table,
     .fallback = "{}",
     .meaning = "the checks nolbd and HAProxy run against the nodes, [health]",
     .store = [](Draft& d, const Value& v,
                 Context& ctx) { walk(kHealth, v, d.scenario.health, ctx); }},
    {.key = "network",
     .type = Type::string,
     .fallback = R"("loopback")",
     .meaning = "loopback (every address on one loopback) or routed (the nodes behind a link, "
                "each in a subnet of its own, as real hosts see servers)",
     .store =
         [](Draft& d, const Value& v, Context& ctx) {
             auto network = parse_network(v.string);
             if (!network) {
                 ctx.error(v, in_quotes(v.string) + " is not a network " + choices(kNetworkNames));
                 return;
             }
             d.scenario.network = *network;
         }},
    {.key = "keep_alive",
     .type = Type::boolean,
     .fallback = "true",
     .meaning = "the nodes keep connections open between requests, as web servers do; false: "
                "they close after every answer",
     .store = [](Draft& d, const Value& v, Context&) { d.scenario.keep_alive = v.boolean; }},
    {.key = "local_node",
     .type = Type::integer,
     .min = 1,
     .max = kMaxNodes,
     .meaning = "routed: the node in the clients' own subnet, 1 for node1",
     .store =
         [](Draft& d, const Value& v, Context&) {
             d.scenario.local_node = static_cast<unsigned>(v.integer - 1);
             d.local_node = &v;
         }},
    {.key = "name_servers",
     .type = Type::integer,
     .min = 1,
     .max = 2,
     .fallback = "1",
     .meaning = "nolbd processes serving the zone, each one of its NS (ns1, ns2); two need "
                "[resolver] kind = \"unbound\"",
     .store =
         [](Draft& d, const Value& v, Context&) {
             d.scenario.name_servers = static_cast<unsigned>(v.integer);
             d.name_servers = &v;
         }},
    {.key = "balancer",
     .type = Type::table,
     .fallback = "{}",
     .meaning = "HAProxy in the load-balancer model, [balancer]",
     .store = [](Draft& d, const Value& v,
                 Context& ctx) { walk(kBalancer, v, d.scenario.balancer, ctx); }},
    {.key = "resolver",
     .type = Type::table,
     .fallback = "{}",
     .meaning = "the recursive resolver between the clients and nolbd, [resolver]",
     .store = [](Draft& d, const Value& v,
                 Context& ctx) { walk(kResolver, v, d.scenario.resolver, ctx); }},
    {.key = "clients",
     .type = Type::table,
     .fallback = "{}",
     .meaning = "the client profiles that run and their settings, [clients]",
     .store = [](Draft& d, const Value& v,
                 Context& ctx) { store_clients(d.scenario.clients, v, ctx); }},
    {.key = "fault",
     .type = Type::tables,
     .meaning = "what happens to the nodes and when, [[fault]]",
     .store = store_faults},
    {.key = "site",
     .type = Type::tables,
     .meaning = "groups of nodes at a distance from the clients, [[site]]",
     .store = store_sites},
};
constexpr Table<Draft> kScenario{kScenarioItems, finish_document};

std::string read_text(const std::string& path) {
    auto cannot_read = [&](const std::string& why) {
        return config::Error({path + ": cannot read: " + why});
    };
    std::error_code ec;
    auto status = std::filesystem::status(path, ec);
    if (ec) throw cannot_read(ec.message());
    if (!std::filesystem::is_regular_file(status)) throw cannot_read("not a regular file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw cannot_read("cannot open");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw cannot_read("read error");
    return text;
}

}  // namespace

const char* model_name(Model model) {
    return name_of(kModelNames, model);
}

std::optional<Model> parse_model(std::string_view text) {
    return parse_named(kModelNames, text);
}

const char* network_name(Network network) {
    return name_of(kNetworkNames, network);
}

std::optional<Network> parse_network(std::string_view text) {
    return parse_named(kNetworkNames, text);
}

const char* resolver_name(ResolverKind kind) {
    return name_of(kResolverNames, kind);
}

std::optional<ResolverKind> parse_resolver(std::string_view text) {
    return parse_named(kResolverNames, text);
}

const char* fault_name(FaultKind kind) {
    return name_of(kFaultNames, kind);
}

std::optional<FaultKind> parse_fault(std::string_view text) {
    return parse_named(kFaultNames, text);
}

std::optional<std::size_t> site_of(const Scenario& scenario, unsigned node) {
    for (std::size_t i = 0; i < scenario.sites.size(); ++i) {
        const std::vector<unsigned>& nodes = scenario.sites[i].nodes;
        if (std::find(nodes.begin(), nodes.end(), node) != nodes.end()) return i;
    }
    return std::nullopt;
}

bool hits_server(FaultKind kind) {
    return kind == FaultKind::lb_crash || kind == FaultKind::lb_restart ||
           kind == FaultKind::dns_crash || kind == FaultKind::dns_restart;
}

Scenario load_scenario(const std::string& path) {
    return load_scenario_string(read_text(path), path);
}

Scenario load_scenario_string(std::string_view text, const std::string& path) {
    Value document = config::parse_document(text, path);
    std::filesystem::path file(path);
    Context ctx(path, file.parent_path());
    Draft draft;
    draft.scenario.file = path;
    draft.scenario.name = file.stem().string();
    if (draft.scenario.name.empty()) draft.scenario.name = "scenario";
    walk(kScenario, document, draft, ctx);
    if (auto problems = ctx.take_problems(); !problems.empty()) {
        throw config::Error(std::move(problems));
    }
    finish_ttl(draft.scenario, draft.scenario.ttl);
    return std::move(draft.scenario);
}

void finish_ttl(Scenario& scenario, std::uint32_t ttl) {
    scenario.ttl = ttl;
    const Seconds t(static_cast<double>(ttl));
    scenario.duration = scenario.written_duration + t * static_cast<double>(scenario.duration_ttls);
    for (Fault& f : scenario.faults)
        f.at = f.written_at + t * static_cast<double>(f.ttls);
    std::stable_sort(scenario.faults.begin(), scenario.faults.end(),
                     [](const Fault& a, const Fault& b) { return a.at < b.at; });
}

}  // namespace nolb::compare
