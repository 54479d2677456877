// The control verbs over hand-built daemon state (configuration, health states, a publisher):
// status and its service filter, check's 0/1/2, which nodes a drain names and the undrain
// rules, the time it is safe to stop a drained node, and explain's reasons and TTL sources on a
// small compiled zone.
#include "control/verbs.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "unit/health/states.hpp"
#include "unit/support.hpp"
#include "zone/compile.hpp"

namespace nolb::control {
namespace {

using health::Observed;
using std::chrono::seconds;

// www.demo.test. (ttl 20: london v4 v6, geneva v4 v6) and api.demo.test. (ttl 30: london,
// paris), all checked over HTTP. States in that order: www 0-3, api 4-5.
config::Config two_services() {
    config::Config c = test::demo_config();
    config::Service api;
    api.name = "api.demo.test.";
    api.ttl = 30;
    api.nodes.push_back(test::node("london", {test::ip("127.0.0.10")}));
    api.nodes.push_back(test::node("paris", {test::ip("127.0.0.11")}));
    c.services.push_back(api);
    for (config::Service& s : c.services)
        s.health.type = config::HealthMode::http;
    return c;
}

class VerbsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        publisher.adopt(config, zone::load(config));
        publisher.publish(states, "startup", true, t0);
    }
    // As the daemon does it: the changed states' services marked, then a publish.
    void set(std::size_t at, Observed observed) {
        states[at].observed = observed;
        publisher.mark(states[at].service_name);
        publisher.publish(states, "health", false, t0);
    }
    void drain(const std::string& node, bool drained, health::Clock::time_point at) {
        publisher.set_drains(change_drains(config, publisher.drains(), node, drained).drains);
        publisher.publish(states, "drain", false, at);
    }
    View view() const { return {config, states, publisher}; }

    config::Config config = two_services();
    std::vector<health::AddressState> states =
        test::address_states(config, std::vector<Observed>(6, Observed::up));
    health::Clock::time_point t0 = health::Clock::now() - seconds(100);
    publish::Publisher publisher;
};

TEST_F(VerbsTest, StatusOfEveryServiceOrOne) {
    set(0, Observed::down);
    const Status all = status(view(), std::nullopt);
    ASSERT_EQ(all.services.size(), 2u);
    const ServiceStatus& www = all.services[0];
    EXPECT_EQ(www.name, "www.demo.test.");
    EXPECT_EQ(www.ttl, 20u);
    EXPECT_EQ(www.health, "http");
    EXPECT_EQ(www.all_down, "all");
    ASSERT_EQ(www.nodes.size(), 2u);
    ASSERT_EQ(www.nodes[0].addresses.size(), 2u);
    EXPECT_EQ(www.nodes[0].addresses[0].address, "127.0.0.2");
    EXPECT_EQ(www.nodes[0].addresses[0].state, "down");
    EXPECT_FALSE(www.nodes[0].addresses[0].published);
    EXPECT_TRUE(www.nodes[0].addresses[1].published);
    EXPECT_EQ(www.nodes[0].addresses[1].last, std::nullopt) << "not probed yet";

    const Status one = status(view(), "API.demo.test");  // as people type it
    ASSERT_EQ(one.services.size(), 1u);
    EXPECT_EQ(one.services[0].name, "api.demo.test.");
    EXPECT_EQ(one.services[0].nodes[1].name, "paris");
    try {
        status(view(), "nope.demo.test");
        ADD_FAILURE() << "an unknown service was accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "unknown service: nope.demo.test");
    }
}

// The zones' serials, and each secondary seen with whether it holds the current serial: one
// sent the current serial is up to date; one last sent an older serial is behind since the
// zone first published a newer one.
TEST_F(VerbsTest, StatusShowsEachZonesSecondaries) {
    config.zones[0].soa.serial.reset();  // "auto": every publish moves it
    publisher.adopt(config, zone::load(config));
    publisher.publish(states, "reload", true, t0);
    const std::uint32_t old_serial = publisher.snapshot()->zones[0].serial;
    set(0, Observed::down);
    const std::uint32_t serial = publisher.snapshot()->zones[0].serial;
    transfer::Secondaries seen;
    seen.note("demo.test.", "192.0.2.1", "ixfr", 1000, &old_serial, &serial);
    seen.note("demo.test.", "192.0.2.2", "axfr", 1000, nullptr, &old_serial);
    seen.note("other.test.", "192.0.2.3", "axfr", 1000, nullptr, &old_serial);
    View v = view();
    v.secondaries = seen.list();

    const Status all = status(v, std::nullopt);
    ASSERT_EQ(all.zones.size(), 1u);
    EXPECT_EQ(all.zones[0].origin, "demo.test.");
    EXPECT_EQ(all.zones[0].serial, serial);
    ASSERT_EQ(all.zones[0].secondaries.size(), 2u);  // other.test. is not ours
    const SecondaryStatus& current = all.zones[0].secondaries[0];
    EXPECT_EQ(current.address, "192.0.2.1");
    EXPECT_EQ(current.held, old_serial);
    EXPECT_EQ(current.sent, serial);
    EXPECT_FALSE(current.behind);
    const SecondaryStatus& late = all.zones[0].secondaries[1];
    EXPECT_EQ(late.last, "axfr");
    EXPECT_EQ(late.held, std::nullopt);
    EXPECT_TRUE(late.behind);
    EXPECT_GE(late.behind_s, 0.0);
    EXPECT_LT(late.behind_s, 60.0);

    EXPECT_TRUE(status(v, "www.demo.test").zones.empty()) << "a service's status has no zones";

    // NOTIFY targets as the Notifier reports them, rcode by name.
    transfer::TargetStatus target;
    target.target = *util::Endpoint::parse("192.0.2.1:5300", 53);
    target.serial = serial;
    target.rcode = 5;
    target.sent = 3;
    target.failed = 1;
    v.notify = {{target}};
    const Status notified = status(v, std::nullopt);
    ASSERT_EQ(notified.zones[0].notify.size(), 1u);
    const NotifyStatus& n = notified.zones[0].notify[0];
    EXPECT_EQ(n.target, "192.0.2.1:5300");
    EXPECT_EQ(n.sent, serial);
    EXPECT_EQ(n.rcode, "REFUSED");
    EXPECT_EQ(n.messages, 3u);
    EXPECT_EQ(n.notifies_failed, 1u);
    EXPECT_EQ(n.answered_at, std::nullopt);
}

// check warns (1) of a secondary further behind than its zone's max_lag, and not of one within
// it, nor with max_lag = 0.
TEST_F(VerbsTest, CheckWarnsOfALaggingSecondary) {
    config.zones[0].soa.serial.reset();
    publisher.adopt(config, zone::load(config));
    publisher.publish(states, "reload", true, t0);
    const std::uint32_t old_serial = publisher.snapshot()->zones[0].serial;
    set(0, Observed::down);  // a new serial; london's other address keeps it "up"
    transfer::Secondaries seen;
    seen.note("demo.test.", "192.0.2.2", "axfr", 1000, nullptr, &old_serial);
    View v = view();
    v.secondaries = seen.list();

    config.zones[0].transfer.max_lag = std::chrono::milliseconds(0);
    EXPECT_EQ(check(v).status, 0) << "max_lag = 0: no warning";
    config.zones[0].transfer.max_lag = std::chrono::hours(1);
    EXPECT_EQ(check(v).status, 0) << "behind, but within max_lag";
    config.zones[0].transfer.max_lag = std::chrono::milliseconds(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const Check lagging = check(v);
    EXPECT_EQ(lagging.status, 1);
    ASSERT_EQ(lagging.lagging.size(), 1u);
    EXPECT_EQ(lagging.lagging[0].address, "192.0.2.2");
    EXPECT_GT(lagging.lagging[0].behind_s, 0.001);
}

TEST_F(VerbsTest, StatusShowsDrainsAndAllDown) {
    drain("www.demo.test./geneva", true, t0);
    set(0, Observed::down);
    set(1, Observed::down);
    const Status s = status(view(), "www.demo.test.");
    EXPECT_FALSE(s.services[0].nodes[0].drained);
    EXPECT_TRUE(s.services[0].nodes[1].drained);
    EXPECT_TRUE(s.services[0].all_down_fired);
    EXPECT_FALSE(status(view(), "api.demo.test.").services[0].all_down_fired);
}

TEST_F(VerbsTest, CheckCountsNodesNotAddresses) {
    EXPECT_EQ(check(view()), (Check{0, {{"www.demo.test.", 2, 2}, {"api.demo.test.", 2, 2}}, {}}));
    set(0, Observed::down);  // london's other address is up
    EXPECT_EQ(check(view()).status, 0);
    set(1, Observed::down);
    EXPECT_EQ(check(view()), (Check{1, {{"www.demo.test.", 1, 2}, {"api.demo.test.", 2, 2}}, {}}));
    set(4, Observed::down);
    set(5, Observed::down);
    EXPECT_EQ(check(view()), (Check{2, {{"www.demo.test.", 1, 2}, {"api.demo.test.", 0, 2}}, {}}));
    // Drained nodes are the operator's choice, not counted.
    drain("london", true, t0);
    EXPECT_EQ(check(view()), (Check{2, {{"www.demo.test.", 1, 1}, {"api.demo.test.", 0, 1}}, {}}));
    drain("api.demo.test./paris", true, t0);
    EXPECT_EQ(check(view()), (Check{2, {{"www.demo.test.", 1, 1}, {"api.demo.test.", 0, 0}}, {}}));
}

TEST_F(VerbsTest, WhatADrainNames) {
    const DrainChange everywhere = change_drains(config, {}, "london", true);
    EXPECT_EQ(everywhere.matched, (std::vector<DrainMatch>{{"www.demo.test.", "london"},
                                                           {"api.demo.test.", "london"}}));
    EXPECT_EQ(everywhere.drains, health::drains_from({"london"}));

    const DrainChange one = change_drains(config, {}, "WWW.Demo.Test/london", true);
    EXPECT_EQ(one.matched, (std::vector<DrainMatch>{{"www.demo.test.", "london"}}));
    EXPECT_EQ(one.drains, health::drains_from({"www.demo.test./london"}));

    for (const char* unknown : {"rome", "api.demo.test./geneva", "nope.test./london"}) {
        try {
            change_drains(config, {}, unknown, true);
            ADD_FAILURE() << unknown << " was accepted";
        } catch (const std::invalid_argument& e) {
            EXPECT_EQ(std::string(e.what()), std::string("unknown node: ") + unknown);
        }
    }
}

TEST_F(VerbsTest, UndrainRules) {
    const health::Drains both = health::drains_from(
        {"www.demo.test./london", "api.demo.test./london", "api.demo.test./paris"});
    // A node name lifts the node's drains in every service, per-service ones included.
    EXPECT_EQ(change_drains(config, both, "london", false).drains,
              health::drains_from({"api.demo.test./paris"}));
    EXPECT_EQ(change_drains(config, both, "api.demo.test./london", false).drains,
              health::drains_from({"www.demo.test./london", "api.demo.test./paris"}));
    // A node drained everywhere cannot be undrained in one service.
    const health::Drains everywhere = health::drains_from({"london"});
    try {
        change_drains(config, everywhere, "www.demo.test./london", false);
        ADD_FAILURE() << "undrained one service of a node drained everywhere";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "london is drained in every service; undrain london");
    }
    EXPECT_EQ(change_drains(config, everywhere, "london", false).drains, health::Drains{});
}

TEST_F(VerbsTest, SafeToStopATtlAfterTheLastAddressLeft) {
    const auto t1 = t0 + seconds(10);
    drain("london", true, t1);
    const DrainChange change = change_drains(config, publisher.drains(), "london", true);
    // www (ttl 20) and api (ttl 30) both published london: the longer TTL decides.
    DrainResult result = drain_result(view(), change, "london", true, true, t1 + seconds(5));
    EXPECT_EQ(result.node, "london");
    EXPECT_TRUE(result.persisted);
    ASSERT_TRUE(result.safe_at && result.safe_in_s);
    const double t1_seconds = std::chrono::duration<double>(t1.time_since_epoch()).count();
    EXPECT_NEAR(*result.safe_at, t1_seconds + 30, 1e-3);
    EXPECT_NEAR(*result.safe_in_s, 25, 1e-3);

    // Only www named: its TTL; long past: safe now.
    const DrainChange www =
        change_drains(config, publisher.drains(), "www.demo.test./london", true);
    result = drain_result(view(), www, "www.demo.test./london", true, false, t1 + seconds(60));
    EXPECT_NEAR(*result.safe_at, t1_seconds + 20, 1e-3);
    EXPECT_EQ(*result.safe_in_s, 0);
    EXPECT_FALSE(result.persisted);

    // An undrain has no time to wait for.
    const DrainChange undrained = change_drains(config, publisher.drains(), "london", false);
    result = drain_result(view(), undrained, "london", false, true, t1);
    EXPECT_EQ(result.safe_at, std::nullopt);
    EXPECT_EQ(result.safe_in_s, std::nullopt);
}

TEST_F(VerbsTest, SafeAtOnceForANodeNeverPublished) {
    publish::Publisher fresh;  // paris is down from the start: never in the answers
    states[5].observed = Observed::down;
    fresh.adopt(config, zone::load(config));
    fresh.publish(states, "startup", true, t0);
    const View never{config, states, fresh};
    const auto now = t0 + seconds(50);
    const DrainChange change = change_drains(config, fresh.drains(), "paris", true);
    const DrainResult result = drain_result(never, change, "paris", true, true, now);
    EXPECT_NEAR(*result.safe_at, std::chrono::duration<double>(now.time_since_epoch()).count(),
                1e-3);
    EXPECT_EQ(*result.safe_in_s, 0);
}

TEST_F(VerbsTest, ExplainAService) {
    drain("www.demo.test./geneva", true, t0);
    set(0, Observed::down);
    const Explain e = explain(view(), "WWW.demo.test", "A");
    EXPECT_EQ(e.name, "WWW.demo.test");
    EXPECT_EQ(e.type, "A");
    EXPECT_EQ(e.rcode, "NOERROR");
    EXPECT_TRUE(e.aa);
    // london's v4 is down and geneva is drained: all_down = "all" fails open, over the
    // addresses that are not drained.
    EXPECT_EQ(e.answer, (std::vector<std::string>{"www.demo.test.\t20\tIN\tA\t127.0.0.2"}));
    ASSERT_EQ(e.service, "www.demo.test.");
    EXPECT_TRUE(e.all_down_fired);
    ASSERT_EQ(e.addresses.size(), 4u);
    EXPECT_EQ(e.addresses[0].node, "london");
    EXPECT_EQ(e.addresses[0].reason, "all down: failing open");
    EXPECT_TRUE(e.addresses[0].included);
    EXPECT_EQ(e.addresses[1].family, 6);
    EXPECT_EQ(e.addresses[1].reason, "IPv6: not asked for");
    EXPECT_FALSE(e.addresses[1].included);
    EXPECT_EQ(e.addresses[2].reason, "drained");
    EXPECT_FALSE(e.addresses[2].included);
}

TEST_F(VerbsTest, ExplainTtlSources) {
    Explain e = explain(view(), "www.demo.test.", "AAAA");
    EXPECT_EQ(e.answer.size(), 2u);
    EXPECT_EQ(e.ttl, 20u);
    EXPECT_EQ(e.ttl_source, "service www.demo.test. ttl");
    EXPECT_FALSE(e.all_down_fired);
    EXPECT_TRUE(e.addresses[1].included);
    EXPECT_EQ(e.addresses[0].reason, "IPv4: not asked for");

    e = explain(view(), "alias.demo.test.", "A");  // a CNAME chain ends at the service
    EXPECT_EQ(e.service, "www.demo.test.");
    EXPECT_EQ(e.ttl_source, "service www.demo.test. ttl");

    e = explain(view(), "info.demo.test.", "TXT");
    EXPECT_EQ(e.ttl, 3600u);
    EXPECT_EQ(e.ttl_source, "the record's own TTL (zone data)");
    EXPECT_EQ(e.service, std::nullopt);

    e = explain(view(), "nothere.demo.test.", "A");
    EXPECT_EQ(e.rcode, "NXDOMAIN");
    EXPECT_EQ(e.ttl, 60u);
    EXPECT_EQ(e.ttl_source, "negative answer: min(SOA TTL, SOA minimum) (RFC 2308)");

    e = explain(view(), "host.sub.demo.test.", "A");
    EXPECT_FALSE(e.aa);
    EXPECT_EQ(e.ttl_source, "referral: the delegation's NS TTL");
}

TEST_F(VerbsTest, ExplainRefusesWhatIsNotAQuestion) {
    try {
        explain(view(), "www.demo.test.", "BOGUS");
        ADD_FAILURE() << "an unknown type was accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "unknown record type: BOGUS");
    }
    EXPECT_THROW(explain(view(), std::string(300, 'a'), "A"), std::invalid_argument);
}

TEST(Verbs, StatsAndWatchEvents) {
    Counts counts;
    counts.queries.queries = 15;
    counts.queries.by_qtype[0] = 10;
    counts.queries.by_rcode[3] = 2;
    counts.monitor.probes_overlapped = 3;
    counts.network.tcp_evicted = 6;
    counts.network.rrl_slipped = 4;
    counts.publish = {0.5, 3.9, 24.25, 12};
    counts.generation = 7;
    const Stats s = stats(counts);
    EXPECT_EQ(s.queries.total, 15u);
    EXPECT_EQ(s.queries.by_type, (std::map<std::string, std::uint64_t>{{"A", 10}}));
    EXPECT_EQ(s.queries.by_rcode, (std::map<std::string, std::uint64_t>{{"NXDOMAIN", 2}}));
    EXPECT_EQ(s.probes.overlapped, 3u);
    EXPECT_EQ(s.tcp.evicted, 6u);
    EXPECT_EQ(s.rrl.slipped, 4u);
    EXPECT_EQ(s.publish, (PublishStats{0.5, 3.9, 12, 24.25}));
    EXPECT_EQ(s.generation, 7u);

    health::Transition t;
    t.service_name = "www.demo.test.";
    t.node_name = "london";
    t.published = test::ip("127.0.0.2");
    t.from = Observed::up;
    t.to = Observed::down;
    t.reason = "2 probes failed: timeout";
    t.at = health::Clock::from_time_t(1700000600);
    EXPECT_EQ(watch_event(t), (WatchEvent{1700000600, "www.demo.test.", "london", "127.0.0.2", "up",
                                          "down", "2 probes failed: timeout"}));
}

}  // namespace
}  // namespace nolb::control
