// Scenario loading: every shipped scenario loads, what an empty file means, how built-in,
// [clients] and [clients.<profile>] values stack, and how each kind of mistake is reported
// (file:line:column, the dotted key, a reason), including the schedule checks that keep a
// restart, recover or unblackhole from undoing something that never happened.
#include "nolb-compare/scenario.hpp"
#include "nolb-compare/lab.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace nolb::compare {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = NOLB_SOURCE_DIR;

Scenario load(std::string_view text, const std::string& path = "s/test.toml") {
    return load_scenario_string(text, path);
}

std::vector<std::string> problems(std::string_view text, const std::string& path = "t.toml") {
    try {
        load_scenario_string(text, path);
    } catch (const config::Error& e) {
        return e.problems();
    }
    ADD_FAILURE() << "loaded without errors:\n" << text;
    return {};
}

std::string problem(std::string_view text) {
    auto all = problems(text);
    if (all.size() != 1) {
        std::string joined;
        for (const auto& p : all)
            joined += "\n  " + p;
        ADD_FAILURE() << "expected one problem, got " << all.size() << ":" << joined;
        return all.empty() ? "" : all.front();
    }
    return all.front();
}

const ClientSpec& spec_of(const Scenario& s, Profile profile) {
    for (const ClientSpec& spec : s.clients) {
        if (spec.profile == profile) return spec;
    }
    ADD_FAILURE() << "no spec for " << profile_name(profile);
    return s.clients.front();
}

std::string fault(double at, unsigned node, const char* kind) {
    std::ostringstream out;
    out << "[[fault]]\nat = " << at << "\nnode = " << node << "\nkind = \"" << kind << "\"\n";
    return out.str();
}

TEST(CompareScenario, EveryShippedScenarioLoads) {
    const fs::path dir = fs::path(kSourceDir) / "conf" / "scenarios";
    std::set<std::string> names;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".toml") continue;
        SCOPED_TRACE(entry.path().string());
        Scenario s;
        try {
            s = load_scenario(entry.path().string());
        } catch (const config::Error& e) {
            ADD_FAILURE() << e.what();
            continue;
        }
        EXPECT_EQ(s.file, entry.path().string());
        EXPECT_EQ(s.name, entry.path().stem().string());
        EXPECT_FALSE(s.description.empty());
        EXPECT_GE(s.models.size(), 1u);
        EXPECT_EQ(s.clients.size(), std::size(kProfiles));
        // At scale: eight nodes or more, 200 clients per profile; a run with faults outlives the
        // chromium profile's 60 s cache after its last fault, and --quick still sees the first.
        EXPECT_GE(s.nodes, 8u);
        for (const ClientSpec& c : s.clients)
            EXPECT_GE(c.clients, 200u) << profile_name(c.profile);
        if (!s.faults.empty()) {
            EXPECT_GE(s.duration.count(), s.faults.back().at.count() + 60.0);
            EXPECT_LT(s.faults.front().at, s.quick_duration);
        }
        for (const Fault& f : s.faults) {
            EXPECT_LT(f.at, s.duration);
            EXPECT_LT(f.node, s.nodes);
        }
        names.insert(s.name);
    }
    for (const char* expected : {"baseline", "crash", "http500", "slow", "degrade", "blackhole",
                                 "lb-crash", "lb-pair", "dns-crash"})
        EXPECT_TRUE(names.count(expected)) << expected;
}

TEST(CompareScenario, ShippedCrashIsNode2DownFrom10To90) {
    Scenario s = load_scenario(kSourceDir + "/conf/scenarios/crash.toml");
    ASSERT_EQ(s.faults.size(), 2u);
    EXPECT_EQ(s.faults[0].kind, FaultKind::crash);
    EXPECT_EQ(s.faults[0].node, 1u);
    EXPECT_EQ(s.faults[0].at, Seconds(10));
    EXPECT_EQ(s.faults[1].kind, FaultKind::restart);
    EXPECT_EQ(s.faults[1].at, Seconds(90));
}

TEST(CompareScenario, EmptyFileMeansDefaults) {
    Scenario s = load("", "conf/scenarios/quiet.toml");
    EXPECT_EQ(s.name, "quiet");
    EXPECT_EQ(s.file, "conf/scenarios/quiet.toml");
    EXPECT_EQ(s.description, "");
    EXPECT_EQ(s.models,
              (std::vector<Model>{Model::zero_admin, Model::health_checked, Model::load_balancer}));
    EXPECT_EQ(s.nodes, 4u);
    EXPECT_EQ(s.duration, Seconds(20));
    EXPECT_EQ(s.warmup, Seconds(2));
    EXPECT_EQ(s.ttl, 5u);
    EXPECT_EQ(s.health.interval, Seconds(0.5));
    EXPECT_EQ(s.health.timeout, Seconds(0.4));
    EXPECT_EQ(s.health.rise, 2u);
    EXPECT_EQ(s.health.fall, 2u);
    EXPECT_TRUE(s.faults.empty());

    EXPECT_EQ(s.resolver.kind, ResolverKind::none);
    EXPECT_EQ(s.resolver.cache_min_ttl, 0u);
    EXPECT_TRUE(s.resolver.rrset_roundrobin) << "unbound's default";
    EXPECT_FALSE(s.resolver.serve_expired);
    EXPECT_EQ(s.resolver.delay, Seconds(0)) << "no relay unless asked";

    // Every profile, each as its program behaves by default.
    ASSERT_EQ(s.clients.size(), std::size(kProfiles));
    for (std::size_t i = 0; i < s.clients.size(); ++i) {
        const ClientSpec& spec = s.clients[i];
        SCOPED_TRACE(profile_name(spec.profile));
        EXPECT_EQ(spec.profile, kProfiles[i]);
        EXPECT_EQ(spec.clients, 4u);
        EXPECT_EQ(spec.rate, 10);
        const ClientSpec builtin = builtin_spec(spec.profile);
        EXPECT_EQ(spec.attempts, builtin.attempts);
        EXPECT_EQ(spec.attempt_timeout, builtin.attempt_timeout);
        EXPECT_EQ(spec.request_timeout, builtin.request_timeout);
        EXPECT_EQ(spec.min_cache, builtin.min_cache);
        EXPECT_EQ(spec.fixed_cache, builtin.fixed_cache);
        EXPECT_EQ(spec.keep_idle, builtin.keep_idle);
        EXPECT_EQ(spec.stream, builtin.stream);
    }
}

TEST(CompareScenario, BuiltInProfilesAreTheirProgramsDefaults) {
    const ClientSpec chromium = builtin_spec(Profile::chromium);
    EXPECT_EQ(chromium.lookup, Lookup::stub);
    EXPECT_TRUE(chromium.ask_aaaa);
    EXPECT_EQ(chromium.min_cache, Seconds(60));
    EXPECT_EQ(chromium.attempts, Attempts::staggered);
    EXPECT_EQ(chromium.attempt_timeout, Seconds(0.3));
    EXPECT_EQ(chromium.parallel, 2u);
    EXPECT_EQ(chromium.request_timeout, Seconds(0));
    EXPECT_GT(chromium.keep_idle, Seconds(0));
    EXPECT_TRUE(chromium.stream);

    const ClientSpec java = builtin_spec(Profile::java);
    EXPECT_EQ(java.lookup, Lookup::system);
    EXPECT_EQ(java.fixed_cache, Seconds(30));
    EXPECT_EQ(java.attempts, Attempts::first_only);
    EXPECT_TRUE(java.retry_lost);

    EXPECT_EQ(builtin_spec(Profile::node18).attempts, Attempts::first_only);
    const ClientSpec node20 = builtin_spec(Profile::node20);
    EXPECT_EQ(node20.attempts, Attempts::sequential);
    EXPECT_EQ(node20.attempt_timeout, Seconds(0.25));
    EXPECT_TRUE(node20.last_attempt_unbounded);

    const ClientSpec curl = builtin_spec(Profile::curl);
    EXPECT_TRUE(curl.halve_remaining);
    EXPECT_EQ(curl.connect_timeout, Seconds(300));
    EXPECT_TRUE(curl.curl_wakeups);
    EXPECT_EQ(curl.keep_idle, Seconds(0)) << "a process per request";

    const ClientSpec python = builtin_spec(Profile::python);
    EXPECT_EQ(python.attempts, Attempts::sequential);
    EXPECT_EQ(python.attempt_timeout, Seconds(0)) << "the whole (absent) timeout per address";

    for (Profile p : {Profile::glibc_loop, Profile::try_all}) {
        EXPECT_EQ(builtin_spec(p).attempt_timeout, Seconds(1));
        EXPECT_EQ(builtin_spec(p).request_timeout, Seconds(3));
        EXPECT_FALSE(profile_driver(p)) << "a model has no real program";
    }
    EXPECT_EQ(builtin_spec(Profile::glibc_loop).lookup, Lookup::system);
    EXPECT_EQ(builtin_spec(Profile::try_all).lookup, Lookup::stub);
    for (Profile p : {Profile::chromium, Profile::java, Profile::node18, Profile::node20,
                      Profile::curl, Profile::python})
        EXPECT_TRUE(profile_driver(p)) << profile_name(p);
}

TEST(CompareScenario, EveryKeyIsRead) {
    Scenario s = load(R"(description = "all of it"
name = "everything"
models = ["load-balancer", "zero-admin"]
nodes = 6
duration = 30.5
duration_ttls = 2
warmup = 0
ttl = 60
[health]
interval = 1
timeout = 0.25
rise = 3
fall = 1
[resolver]
kind = "unbound"
cache_min_ttl = 300
rrset_roundrobin = false
serve_expired = true
delay = 0.02
[clients]
profiles = ["try-all"]
clients = 7
rate = 2.5
attempt_timeout = 0.4
connect_timeout = 0.5
request_timeout = 4
min_cache = 10
fixed_cache = 30
keep_idle = 6
stream = true
stream_watchdog = 2
[[fault]]
at = 3
ttls = 1
node = 2
kind = "drain"
)");
    EXPECT_EQ(s.name, "everything");
    EXPECT_EQ(s.description, "all of it");
    EXPECT_EQ(s.models, (std::vector<Model>{Model::load_balancer, Model::zero_admin}));
    EXPECT_EQ(s.nodes, 6u);
    EXPECT_EQ(s.duration, Seconds(150.5)) << "30.5 and two TTLs";
    EXPECT_EQ(s.warmup, Seconds(0));
    EXPECT_EQ(s.ttl, 60u);
    EXPECT_EQ(s.health.interval, Seconds(1));
    EXPECT_EQ(s.health.timeout, Seconds(0.25));
    EXPECT_EQ(s.health.rise, 3u);
    EXPECT_EQ(s.health.fall, 1u);
    EXPECT_EQ(s.resolver.kind, ResolverKind::unbound);
    EXPECT_EQ(s.resolver.cache_min_ttl, 300u);
    EXPECT_FALSE(s.resolver.rrset_roundrobin);
    EXPECT_TRUE(s.resolver.serve_expired);
    EXPECT_DOUBLE_EQ(s.resolver.delay.count(), 0.02);
    ASSERT_EQ(s.clients.size(), 1u);
    const ClientSpec& c = s.clients[0];
    EXPECT_EQ(c.profile, Profile::try_all);
    EXPECT_EQ(c.clients, 7u);
    EXPECT_EQ(c.rate, 2.5);
    EXPECT_EQ(c.attempt_timeout, Seconds(0.4));
    EXPECT_EQ(c.connect_timeout, Seconds(0.5));
    EXPECT_EQ(c.request_timeout, Seconds(4));
    EXPECT_EQ(c.min_cache, Seconds(10));
    EXPECT_EQ(c.fixed_cache, Seconds(30));
    EXPECT_EQ(c.keep_idle, Seconds(6));
    EXPECT_TRUE(c.stream);
    EXPECT_EQ(c.stream_watchdog, Seconds(2));
    ASSERT_EQ(s.faults.size(), 1u);
    EXPECT_EQ(s.faults[0].kind, FaultKind::drain);
    EXPECT_EQ(s.faults[0].at, Seconds(63)) << "3 s and one TTL";
}

TEST(CompareScenario, TimesWrittenInTtlsFollowTheTtl) {
    Scenario s = load("duration = 20\nduration_ttls = 1\nttl = 5\n" + fault(10, 2, "drain") +
                      fault(10, 2, "crash") + "ttls = 1\n");
    EXPECT_EQ(s.duration, Seconds(25));
    ASSERT_EQ(s.faults.size(), 2u);
    EXPECT_EQ(s.faults[0].at, Seconds(10));
    EXPECT_EQ(s.faults[1].at, Seconds(15));
    finish_ttl(s, 300);
    EXPECT_EQ(s.ttl, 300u);
    EXPECT_EQ(s.duration, Seconds(320));
    EXPECT_EQ(s.faults[0].at, Seconds(10));
    EXPECT_EQ(s.faults[1].at, Seconds(310));

    EXPECT_EQ(problem("duration = 20\n" + fault(10, 2, "crash") + "ttls = 1\n"),
              "t.toml:6:8: fault[0].ttls: 1 TTLs would put the fault past the run's end "
              "(duration_ttls = 0)");
    EXPECT_EQ(problem("duration = 20\nduration_ttls = 1\n" + fault(12, 2, "drain") +
                      fault(11, 2, "crash") + "ttls = 1\n"),
              "t.toml:8:6: fault[1].at: at 11 s with ttls = 1 comes before a fault at 12 s "
              "with ttls = 0: the order would change with the TTL (raise at)");
}

TEST(CompareScenario, RoutedNetworkWithALocalNode) {
    Scenario s = load("network = \"routed\"\nlocal_node = 2\nkeep_alive = false\n");
    EXPECT_EQ(s.network, Network::routed);
    ASSERT_TRUE(s.local_node);
    EXPECT_EQ(*s.local_node, 1u);
    EXPECT_FALSE(s.keep_alive);
    EXPECT_EQ(node_address(s, 0), "10.100.0.11");
    EXPECT_EQ(node_address(s, 1), "10.99.0.12") << "in the clients' 10.99.0.0/24";
    EXPECT_EQ(node_address(s, 2), "10.102.0.11");
    Scenario plain = load("");
    EXPECT_EQ(plain.network, Network::loopback);
    EXPECT_TRUE(plain.keep_alive);
    EXPECT_EQ(node_address(plain, 1), "127.0.0.12");

    EXPECT_EQ(problem("local_node = 1\n"),
              "t.toml:1:14: local_node: only with network = \"routed\": on the loopback every "
              "node shares the clients' subnet");
    EXPECT_EQ(problem("network = \"routed\"\nnodes = 3\nlocal_node = 4\n"),
              "t.toml:3:14: local_node: node4 does not exist (nodes = 3)");
    EXPECT_EQ(problem("network = \"lan\"\n"),
              "t.toml:1:11: network: \"lan\" is not a network (loopback or routed)");
}

std::string site(const char* name, double rtt, const char* nodes) {
    std::ostringstream out;
    out << "[[site]]\nname = \"" << name << "\"\nrtt = " << rtt << "\nnodes = " << nodes << "\n";
    return out.str();
}

TEST(CompareScenario, SitesGroupNodesAtARoundTrip) {
    Scenario s = load("nodes = 8\n" + site("london", 0.002, "[1, 2, 3, 4]") +
                      site("geneva", 0.030, "[8, 5]"));
    ASSERT_EQ(s.sites.size(), 2u);
    EXPECT_EQ(s.sites[0].name, "london");
    EXPECT_DOUBLE_EQ(s.sites[0].rtt.count(), 0.002);
    EXPECT_EQ(s.sites[0].nodes, (std::vector<unsigned>{0, 1, 2, 3}));
    EXPECT_EQ(s.sites[1].name, "geneva");
    EXPECT_DOUBLE_EQ(s.sites[1].rtt.count(), 0.030);
    EXPECT_EQ(s.sites[1].nodes, (std::vector<unsigned>{7, 4}));
    EXPECT_EQ(site_of(s, 0), 0u);
    EXPECT_EQ(site_of(s, 4), 1u);
    EXPECT_EQ(site_of(s, 7), 1u);
    EXPECT_EQ(site_of(s, 5), std::nullopt) << "node6 is in no site";
    EXPECT_TRUE(load("").sites.empty());
    EXPECT_EQ(load(site("here", 0, "[1]")).sites.at(0).rtt.count(), 0.0);
}

TEST(CompareScenario, SitesAreCheckedAgainstTheNodesAndEachOther) {
    EXPECT_EQ(problem("nodes = 4\n" + site("far", 0.03, "[3, 5]")),
              "t.toml:5:13: site[0].nodes[1]: node5 does not exist (nodes = 4)");
    EXPECT_EQ(problem(site("a", 0.01, "[1, 2]") + site("b", 0.03, "[2]")),
              "t.toml:8:10: site[1].nodes[0]: node2 is already in site \"a\" (line 4): a node "
              "is in one site at most");
    EXPECT_EQ(problem(site("a", 0.01, "[1, 1]")),
              "t.toml:4:13: site[0].nodes[1]: node1 is already listed on line 4");
    EXPECT_EQ(problem(site("a", 0.01, "[1]") + site("a", 0.03, "[2]")),
              "t.toml:6:8: site[1].name: site \"a\" is already named on line 2");
    EXPECT_EQ(problem(site("a", 1.5, "[1]")),
              "t.toml:3:7: site[0].rtt: 1.5 is out of range (0..1)");
    EXPECT_EQ(problem(site("a", -0.1, "[1]")),
              "t.toml:3:7: site[0].rtt: -0.1 is out of range (0..1)");
    EXPECT_EQ(problem(site("a", 0.01, "[]")), "t.toml:4:9: site[0].nodes: must not be empty");
    EXPECT_EQ(problem(site("a", 0.01, "[0]")),
              "t.toml:4:10: site[0].nodes[0]: 0 is out of range (1..16)");
    EXPECT_EQ(problem(site("a", 0.01, "[\"node1\"]")),
              "t.toml:4:10: site[0].nodes[0]: expected a node number (1 for node1), found a "
              "string");
    EXPECT_EQ(problem(site("geneva/2", 0.01, "[1]")),
              "t.toml:2:8: site[0].name: \"geneva/2\" is not a site name (letters, digits, _ . -)");
    EXPECT_EQ(problem("[[site]]\nname = \"a\"\nnodes = [1]\n"),
              "t.toml:1:1: site[0].rtt: required key is missing");
    EXPECT_EQ(problem(site("a", 0.01, "[1]") + "delay = 2\n"),
              "t.toml:5:1: site[0].delay: unknown key (expected one of: name rtt nodes)");
}

TEST(CompareScenario, ProfileValuesOverrideClientsWhichOverrideBuiltIns) {
    Scenario s = load(R"([clients]
clients = 8
min_cache = 5
attempt_timeout = 2
[clients.chromium]
clients = 2
[clients.java]
fixed_cache = 10
attempt_timeout = 0.5
)");
    const ClientSpec& chromium = spec_of(s, Profile::chromium);
    EXPECT_EQ(chromium.clients, 2u);                  // [clients.chromium] over [clients]
    EXPECT_EQ(chromium.min_cache, Seconds(5));        // [clients] over the built-in 60
    EXPECT_EQ(chromium.attempt_timeout, Seconds(2));  // [clients] over the built-in 0.3
    EXPECT_EQ(chromium.request_timeout, Seconds(0));  // nothing says otherwise
    const ClientSpec& java = spec_of(s, Profile::java);
    EXPECT_EQ(java.clients, 8u);
    EXPECT_EQ(java.fixed_cache, Seconds(10));
    EXPECT_EQ(java.attempt_timeout, Seconds(0.5));
    const ClientSpec& try_all = spec_of(s, Profile::try_all);
    EXPECT_EQ(try_all.clients, 8u);
    EXPECT_EQ(try_all.fixed_cache, Seconds(0));
    EXPECT_EQ(try_all.attempt_timeout, Seconds(2));

    // Without [clients] values, a profile table still lands on the built-ins.
    Scenario t = load("[clients.chromium]\nrate = 1\n");
    EXPECT_EQ(spec_of(t, Profile::chromium).rate, 1);
    EXPECT_EQ(spec_of(t, Profile::chromium).min_cache, Seconds(60));
    EXPECT_EQ(spec_of(t, Profile::chromium).attempt_timeout, Seconds(0.3));
    EXPECT_EQ(spec_of(t, Profile::java).rate, 10);
}

TEST(CompareScenario, ProfilesRunInTheirOwnOrder) {
    Scenario s = load(R"([clients]
profiles = ["try-all", "java", "node20"]
[clients.chromium]
clients = 1
)");
    ASSERT_EQ(s.clients.size(), 3u);
    EXPECT_EQ(s.clients[0].profile, Profile::java);
    EXPECT_EQ(s.clients[1].profile, Profile::node20);
    EXPECT_EQ(s.clients[2].profile, Profile::try_all);
}

TEST(CompareScenario, NameComesFromTheFileUnlessSet) {
    EXPECT_EQ(load("", "/a/b/blackhole.toml").name, "blackhole");
    EXPECT_EQ(load("", "relative.toml").name, "relative");
    EXPECT_EQ(load("name = \"mine\"\n", "/a/b/blackhole.toml").name, "mine");
    EXPECT_EQ(load("", "").name, "scenario");
    EXPECT_EQ(problem("name = \"../up\"\n"),
              "t.toml:1:8: name: \"../up\" is not a scenario name (letters, digits, _ . -)");
}

TEST(CompareScenario, FaultsAreSortedByTimeKeepingFileOrderOnTies) {
    Scenario s = load(fault(9, 3, "restart") + fault(2, 3, "crash") + fault(9, 1, "http500") +
                      fault(9, 4, "degrade") + "hold = 0.5\n" + fault(2, 2, "blackhole"));
    ASSERT_EQ(s.faults.size(), 5u);
    EXPECT_EQ(s.faults[0].kind, FaultKind::crash);
    EXPECT_EQ(s.faults[0].node, 2u);  // node = 3 in the file
    EXPECT_EQ(s.faults[1].kind, FaultKind::blackhole);
    EXPECT_EQ(s.faults[2].kind, FaultKind::restart);
    EXPECT_EQ(s.faults[3].kind, FaultKind::http500);
    EXPECT_EQ(s.faults[3].node, 0u);
    EXPECT_EQ(s.faults[4].kind, FaultKind::degrade);
    EXPECT_EQ(s.faults[4].hold, Seconds(0.5));
    EXPECT_EQ(s.faults[2].hold, Seconds(3));  // the default, unused
    EXPECT_EQ(s.faults[2].at, Seconds(9));
}

TEST(CompareScenario, ACrashAndARestartInTheSameSecondHappenInFileOrder) {
    EXPECT_NO_THROW(load(fault(5, 2, "crash") + fault(5, 2, "restart")));
    EXPECT_EQ(problem(fault(5, 2, "restart") + fault(5, 2, "crash")),
              "t.toml:4:8: fault[0].kind: restart of node2, which is not down at 5 s "
              "(crash or degrade it first)");
}

TEST(CompareScenario, EachUndoingFaultNeedsWhatItUndoes) {
    // Written out of order: the schedule is judged in time order.
    EXPECT_NO_THROW(load(fault(8, 1, "restart") + fault(1, 1, "crash") + fault(3, 2, "slow") +
                         fault(2, 2, "http500") + fault(4, 2, "recover") +
                         fault(6, 3, "unblackhole") + fault(5, 3, "blackhole") +
                         fault(10, 1, "blackhole")));

    EXPECT_EQ(problem(fault(4, 1, "restart")),
              "t.toml:4:8: fault[0].kind: restart of node1, which is not down at 4 s "
              "(crash or degrade it first)");
    EXPECT_EQ(problem(fault(4, 2, "recover")),
              "t.toml:4:8: fault[0].kind: recover of node2, which is not failing at 4 s "
              "(http500, slow, hang or close first)");
    EXPECT_EQ(problem(fault(4, 3, "unblackhole")),
              "t.toml:4:8: fault[0].kind: unblackhole of node3, which is not blackholed at 4 s "
              "(blackhole it first)");
    EXPECT_EQ(problem(fault(4, 3, "undrain")),
              "t.toml:4:8: fault[0].kind: undrain of node3, which is not drained at 4 s (drain "
              "it first)");
    EXPECT_EQ(problem(fault(4, 3, "drain") + fault(5, 3, "drain")),
              "t.toml:8:8: fault[1].kind: node3 is already drained (since 4 s)");
    // What undoes one node's fault does nothing for another.
    EXPECT_EQ(problem(fault(1, 1, "crash") + fault(2, 2, "restart")),
              "t.toml:8:8: fault[1].kind: restart of node2, which is not down at 2 s "
              "(crash or degrade it first)");
    // Undone once is undone.
    EXPECT_EQ(problem(fault(1, 1, "slow") + fault(2, 1, "recover") + fault(3, 1, "recover")),
              "t.toml:12:8: fault[2].kind: recover of node1, which is not failing at 3 s "
              "(http500, slow, hang or close first)");
    // A restart brings up a fresh process: nothing left to recover.
    EXPECT_EQ(problem(fault(1, 1, "http500") + fault(2, 1, "crash") + fault(3, 1, "restart") +
                      fault(4, 1, "recover")),
              "t.toml:16:8: fault[3].kind: recover of node1, which is not failing at 4 s "
              "(http500, slow, hang or close first)");
}

TEST(CompareScenario, ADownNodeTakesOnlyARestart) {
    EXPECT_EQ(problem(fault(1, 2, "crash") + fault(2, 2, "http500")),
              "t.toml:8:8: fault[1].kind: node2 is down at 2 s (crash at 1 s): restart it first");
    EXPECT_EQ(problem(fault(1, 2, "crash") + fault(2, 2, "crash")),
              "t.toml:8:8: fault[1].kind: node2 is down at 2 s (crash at 1 s): restart it first");
    EXPECT_EQ(problem(fault(1, 2, "slow") + fault(2, 2, "crash") + fault(3, 2, "recover")),
              "t.toml:12:8: fault[2].kind: node2 is down at 3 s (crash at 2 s): nothing to "
              "recover");
    // The network can still be cut from a dead node.
    EXPECT_NO_THROW(load(fault(1, 2, "crash") + fault(2, 2, "blackhole")));
    EXPECT_EQ(problem(fault(1, 2, "blackhole") + fault(2, 2, "blackhole")),
              "t.toml:8:8: fault[1].kind: node2 is already blackholed (since 1 s)");
}

TEST(CompareScenario, ARestartAfterADegradeWaitsForItsHold) {
    EXPECT_NO_THROW(load(fault(2, 1, "degrade") + "hold = 3\n" + fault(6, 1, "restart")));
    EXPECT_EQ(problem(fault(2, 1, "degrade") + "hold = 3\n" + fault(4.5, 1, "restart")),
              "t.toml:9:8: fault[1].kind: restart of node1 at 4.5 s, before its degrade (at 2 s, "
              "hold 3 s) has pushed it over");
}

TEST(CompareScenario, FaultsMustHitANodeAndATimeThatExist) {
    EXPECT_EQ(problem("nodes = 3\n" + fault(1, 4, "crash")),
              "t.toml:4:8: fault[0].node: node4 does not exist (nodes = 3)");
    EXPECT_EQ(problem("duration = 10\n" + fault(10, 1, "crash")),
              "t.toml:3:6: fault[0].at: 10 s is not before the end of the run (duration = 10 s)");
    EXPECT_EQ(problem(fault(1, 0, "crash")),
              "t.toml:3:8: fault[0].node: 0 is out of range (1..16)");
    EXPECT_EQ(problem(fault(1, 1, "explode")),
              "t.toml:4:8: fault[0].kind: \"explode\" is not a fault kind (crash, restart, "
              "http500, slow, hang, close, recover, degrade, blackhole, unblackhole, drain, "
              "undrain, lb-crash, lb-restart, dns-crash or dns-restart)");
    EXPECT_EQ(problem(fault(1, 1, "crash") + "hold = 2\n"),
              "t.toml:5:1: fault[0].hold: only for kind = \"degrade\" (this fault is \"crash\")");
    EXPECT_EQ(problem("[[fault]]\nat = 1\nkind = \"crash\"\n"),
              "t.toml:1:1: fault[0].node: required key is missing");
}

TEST(CompareScenario, ReportsUnknownKeysWrongTypesAndRanges) {
    EXPECT_EQ(problem("node = 4\n"), "t.toml:1:1: node: unknown key (did you mean \"nodes\"?)");
    EXPECT_EQ(problem("nodes = \"4\"\n"), "t.toml:1:9: nodes: expected an integer, found a string");
    EXPECT_EQ(problem("nodes = 1\n"), "t.toml:1:9: nodes: 1 is out of range (2..16)");
    EXPECT_EQ(problem("duration = 601\n"), "t.toml:1:12: duration: 601 is out of range (1..600)");
    EXPECT_EQ(problem("[health]\nrise = 0\n"),
              "t.toml:2:8: health.rise: 0 is out of range (1..100)");
    EXPECT_EQ(problem("[clients]\nrate = 0\n"),
              "t.toml:2:8: clients.rate: 0 is out of range (0.01..1000)");
    EXPECT_EQ(problem("[clients.try-all]\nclients = 1001\n"),
              "t.toml:2:11: clients.try-all.clients: 1001 is out of range (1..1000)");
    EXPECT_EQ(problem("health = 3\n"),
              "t.toml:1:10: health: expected a table ([health]), found an integer");
    EXPECT_EQ(problem("models = []\n"), "t.toml:1:10: models: must not be empty");
}

TEST(CompareScenario, ReportsNamesThatAreNotModelsOrProfiles) {
    EXPECT_EQ(problem("models = [\"zero-admin\", \"dns\"]\n"),
              "t.toml:1:25: models[1]: \"dns\" is not a model (zero-admin, health-checked or "
              "load-balancer)");
    EXPECT_EQ(problem("models = [\"zero-admin\", \"zero-admin\"]\n"),
              "t.toml:1:25: models[1]: \"zero-admin\" is already listed on line 1");
    EXPECT_EQ(problem("[clients]\nprofiles = [\"wget\"]\n"),
              "t.toml:2:13: clients.profiles[0]: \"wget\" is not a profile (chromium, java, "
              "node18, node20, curl, python, glibc-loop or try-all)");
    EXPECT_EQ(problem("[clients.chrome]\nclients = 2\n"),
              "t.toml:1:10: clients.chrome: unknown profile (chromium, java, node18, node20, "
              "curl, python, glibc-loop or try-all)");
    EXPECT_EQ(problem("[clients.chromium]\nprofiles = [\"java\"]\n"),
              "t.toml:2:1: clients.chromium.profiles: unknown key (expected one of: clients rate "
              "arrivals max_in_flight attempt_timeout connect_timeout request_timeout min_cache "
              "fixed_cache keep_idle "
              "stream stream_watchdog)");
    EXPECT_EQ(problem("[resolver]\nkind = \"bind\"\n"),
              "t.toml:2:8: resolver.kind: \"bind\" is not a resolver (none or unbound)");
    EXPECT_NE(problem("[resolver]\ndelay = 2\n").find("t.toml:2:9: resolver.delay:"),
              std::string::npos);
}

TEST(CompareScenario, TimeoutMustBeShorterThanInterval) {
    EXPECT_EQ(problem("[health]\ninterval = 0.5\ntimeout = 0.5\n"),
              "t.toml:3:11: health.timeout: timeout (0.5 s) must be less than interval (0.5 s): "
              "one probe at a time per node");
    // Only interval written: the default timeout (0.4 s) is what breaks the rule.
    EXPECT_EQ(problem("[health]\ninterval = 0.3\n"),
              "t.toml:2:12: health.interval: timeout (0.4 s) must be less than interval (0.3 s): "
              "one probe at a time per node");
}

TEST(CompareScenario, ServerFaultsHitNoNodeAndUndoWhatWasDone) {
    auto server = [](double at, const char* kind) {
        std::ostringstream out;
        out << "[[fault]]\nat = " << at << "\nkind = \"" << kind << "\"\n";
        return out.str();
    };
    Scenario s = load(server(2, "lb-crash") + server(4, "lb-restart") + server(5, "dns-crash") +
                      server(7, "dns-restart"));
    ASSERT_EQ(s.faults.size(), 4u);
    EXPECT_EQ(s.faults[0].kind, FaultKind::lb_crash);
    EXPECT_EQ(s.faults[3].kind, FaultKind::dns_restart);
    EXPECT_TRUE(hits_server(FaultKind::dns_crash));
    EXPECT_FALSE(hits_server(FaultKind::crash));
    // A node fault and a server fault at once are separate schedules.
    EXPECT_NO_THROW(load(fault(1, 2, "crash") + server(1, "lb-crash")));

    EXPECT_EQ(problem(fault(2, 1, "lb-crash")),
              "t.toml:3:1: fault[0].node: not for kind = \"lb-crash\": it hits HAProxy, not a "
              "node");
    EXPECT_EQ(problem(server(2, "crash")), "t.toml:1:1: fault[0].node: required key is missing");
    EXPECT_EQ(problem(server(2, "lb-restart")),
              "t.toml:3:8: fault[0].kind: lb-restart at 2 s, but HAProxy is not down (lb-crash "
              "it first)");
    EXPECT_EQ(problem(server(2, "dns-crash") + server(3, "dns-crash")),
              "t.toml:6:8: fault[1].kind: ns1's nolbd is down at 3 s (killed at 2 s): restart "
              "it first");
}

TEST(CompareScenario, TwoNameServersNeedTheResolverTier) {
    Scenario s = load("name_servers = 2\n[resolver]\nkind = \"unbound\"\n");
    EXPECT_EQ(s.name_servers, 2u);
    EXPECT_EQ(load("").name_servers, 1u);
    EXPECT_EQ(problem("name_servers = 2\n"),
              "t.toml:1:16: name_servers: 2 name servers need [resolver] kind = \"unbound\": the "
              "clients ask one address, and only a resolver knows both");
    EXPECT_NE(problem("name_servers = 3\n").find("name_servers"), std::string::npos);
}

TEST(CompareScenario, BalancerKeepAliveAndTheFastInterval) {
    EXPECT_TRUE(load("").balancer.keep_alive);
    EXPECT_FALSE(load("[balancer]\nkeep_alive = false\n").balancer.keep_alive);
    EXPECT_TRUE(load("[balancer]\npair = true\n").balancer.pair);
    EXPECT_NE(problem("[balancer]\npair = 1\n").find("balancer.pair"), std::string::npos);
    Scenario s = load("[health]\ninterval = 0.5\n");
    EXPECT_FALSE(s.health.fast_interval);
    EXPECT_DOUBLE_EQ(s.health.fast_interval_or_default().count(), 0.1);
    s = load("[health]\nfast_interval = 0.2\n");
    EXPECT_DOUBLE_EQ(s.health.fast_interval_or_default().count(), 0.2);
    EXPECT_EQ(problem("[health]\ninterval = 0.5\nfast_interval = 0.6\n"),
              "t.toml:3:17: health.fast_interval: fast_interval (0.6 s) must be at most interval "
              "(0.5 s)");
}

TEST(CompareScenario, EveryProblemIsReportedInFileOrder) {
    auto all = problems(R"(nodes = 20
colour = "blue"
[health]
fall = -1
[[fault]]
at = 1
node = 1
kind = "melt"
)");
    EXPECT_EQ(all, (std::vector<std::string>{
                       "t.toml:1:9: nodes: 20 is out of range (2..16)",
                       "t.toml:2:1: colour: unknown key (expected one of: description name "
                       "models nodes duration duration_ttls warmup quick_duration ttl health "
                       "network keep_alive local_node name_servers balancer resolver clients "
                       "fault site)",
                       "t.toml:4:8: health.fall: -1 is out of range (1..100)",
                       "t.toml:8:8: fault[0].kind: \"melt\" is not a fault kind (crash, restart, "
                       "http500, slow, hang, close, recover, degrade, blackhole, unblackhole, "
                       "drain, undrain, lb-crash, lb-restart, dns-crash or dns-restart)",
                   }));
}

TEST(CompareScenario, SyntaxErrorsAndUnreadableFilesAreConfigErrors) {
    auto syntax = problems("nodes = = 4\n");
    ASSERT_EQ(syntax.size(), 1u);
    EXPECT_EQ(syntax[0].rfind("t.toml:1:", 0), 0u) << syntax[0];

    const std::string missing = kSourceDir + "/conf/scenarios/no-such-scenario.toml";
    try {
        load_scenario(missing);
        ADD_FAILURE() << "loaded a file that does not exist";
    } catch (const config::Error& e) {
        ASSERT_EQ(e.problems().size(), 1u);
        EXPECT_EQ(e.problems()[0].rfind(missing + ": cannot read: ", 0), 0u) << e.problems()[0];
    }
    try {
        load_scenario(kSourceDir + "/conf/scenarios");
        ADD_FAILURE() << "loaded a folder";
    } catch (const config::Error& e) {
        ASSERT_EQ(e.problems().size(), 1u);
        EXPECT_NE(e.problems()[0].find("not a regular file"), std::string::npos);
    }
}

TEST(CompareScenario, NamesAndParsersRoundTrip) {
    for (Model m : kModels)
        EXPECT_EQ(parse_model(model_name(m)), m);
    for (Profile p : kProfiles)
        EXPECT_EQ(parse_profile(profile_name(p)), p);
    for (FaultKind k :
         {FaultKind::crash, FaultKind::restart, FaultKind::http500, FaultKind::slow,
          FaultKind::hang, FaultKind::close, FaultKind::recover, FaultKind::degrade,
          FaultKind::blackhole, FaultKind::unblackhole, FaultKind::drain, FaultKind::undrain})
        EXPECT_EQ(parse_fault(fault_name(k)), k);
    for (ResolverKind r : {ResolverKind::none, ResolverKind::unbound})
        EXPECT_EQ(parse_resolver(resolver_name(r)), r);
    EXPECT_STREQ(model_name(Model::health_checked), "health-checked");
    EXPECT_STREQ(profile_name(Profile::glibc_loop), "glibc-loop");
    EXPECT_STREQ(fault_name(FaultKind::unblackhole), "unblackhole");
    EXPECT_FALSE(parse_model("Zero-Admin"));
    EXPECT_FALSE(parse_profile("try_all"));
    EXPECT_FALSE(parse_fault(""));
}

}  // namespace
}  // namespace nolb::compare
