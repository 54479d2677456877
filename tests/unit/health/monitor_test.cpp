// The monitor on a real loop with real probes to loopback backends: first round and startup
// modes, rise/fall, no flapping, coalesced change callbacks, reloads that keep state, removed
// addresses, a hung backend next to a good one, spreading, and how fast a failure is seen.
#include "health/monitor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "unit/health/backend.hpp"
#include "util/event.hpp"

namespace nolb::health {
namespace {

using namespace std::chrono_literals;
using test::Backend;
using test::Behaviour;

util::IpAddress ip(const char* text) {
    return *util::IpAddress::parse(text);
}

config::HealthCheck fast_check(config::HealthMode type = config::HealthMode::http) {
    config::HealthCheck check;
    check.type = type;
    check.path = "/health";
    check.host = "www.demo.test";
    check.interval = 100ms;
    check.timeout = 50ms;
    check.jitter = 0.1;
    check.rise = 2;
    check.fall = 2;
    return check;
}

// A node published on a documentation address and probed on loopback at `port`.
config::Node node(std::string name, const char* published, std::uint16_t port,
                  const config::HealthCheck& check, const char* probe = "127.0.0.1") {
    config::Node n;
    n.name = std::move(name);
    n.addresses = {ip(published)};
    n.probe_addresses = {ip(probe)};
    n.health = check;
    n.health.port = port;
    return n;
}

// "prefix<i>", spelled so that GCC 12 -O3 sees no overlapping copy in "literal" + string.
std::string numbered(std::string prefix, int i) {
    prefix += std::to_string(i);
    return prefix;
}

config::Config with_service(const config::HealthCheck& check, config::Startup startup,
                            std::vector<config::Node> nodes) {
    config::Config c;
    config::Service s;
    s.name = "www.demo.test.";
    s.health = check;
    s.startup = startup;
    s.nodes = std::move(nodes);
    c.services.push_back(std::move(s));
    return c;
}

struct Harness {
    util::EventBase base = util::make_event_base();
    Monitor monitor{base.get()};
    int changes = 0;
    std::vector<Transition> transitions;
    std::vector<unsigned> counters_at_transition;  // failures or successes when it happened

    Harness() {
        monitor.on_change([this] { ++changes; });
        monitor.on_transition([this](const Transition& t) {
            transitions.push_back(t);
            for (const AddressState& s : monitor.states()) {
                if (s.node_name == t.node_name && s.service_name == t.service_name) {
                    counters_at_transition.push_back(t.to == Observed::up ? s.successes
                                                                          : s.failures);
                }
            }
        });
    }

    // Runs the loop until `done` holds or `limit` passes; false on the latter.
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= end) return false;
            timeval slice{0, 5000};
            event_base_loopexit(base.get(), &slice);
            event_base_dispatch(base.get());
        }
        return true;
    }
    void run_for(std::chrono::milliseconds d) {
        run_until([] { return false; }, d);
    }
    // start() and its first round; `done` must come from the loop, not from start() itself.
    void start() {
        bool done = false;
        monitor.start([&done] { done = true; });
        EXPECT_FALSE(done);
        ASSERT_TRUE(run_until([&done] { return done; }, 5s));
    }
    const AddressState& state(std::size_t i) const { return monitor.states().at(i); }
};

TEST(Monitor, FirstRoundDecidesUnknownAddresses) {
    Backend good;
    Harness h;
    config::HealthCheck check = fast_check();
    check.interval = 1s;
    check.timeout = 500ms;
    h.monitor.configure(with_service(check, config::Startup::probe,
                                     {node("london", "192.0.2.1", good.port(), check),
                                      node("geneva", "192.0.2.2", test::closed_port(), check)}));
    ASSERT_EQ(h.monitor.states().size(), 2u);
    EXPECT_EQ(h.state(0).observed, Observed::unknown);
    EXPECT_EQ(h.state(0).reason, "not probed yet");
    EXPECT_EQ(h.state(0).probed, ip("127.0.0.1"));
    EXPECT_EQ(h.state(0).published, ip("192.0.2.1"));
    EXPECT_EQ(h.monitor.stats().probes_sent, 0u);  // nothing before start()

    h.start();
    EXPECT_EQ(h.state(0).observed, Observed::up);
    EXPECT_EQ(h.state(0).reason, "status 200");
    EXPECT_EQ(h.state(1).observed, Observed::down);
    EXPECT_EQ(h.state(1).reason, "connection refused");
    ASSERT_TRUE(h.state(1).last.has_value());
    EXPECT_EQ(h.state(1).last->outcome, Outcome::refused);
    EXPECT_EQ(h.state(0).transitions, 1u);
    EXPECT_EQ(h.state(1).transitions, 1u);
    MonitorStats stats = h.monitor.stats();
    EXPECT_EQ(stats.probes_sent, 2u);
    EXPECT_EQ(stats.probes_failed, 1u);
    EXPECT_EQ(stats.transitions, 2u);
    EXPECT_EQ(stats.probes_in_flight, 0u);
    ASSERT_EQ(h.transitions.size(), 2u);
}

TEST(Monitor, TransitionsOfOnePassMakeOneChange) {
    Harness h;
    config::HealthCheck check = fast_check(config::HealthMode::tcp);
    check.interval = 2s;
    check.timeout = 1s;
    const std::uint16_t closed = test::closed_port();
    std::vector<config::Node> nodes;
    for (int i = 0; i < 6; ++i) {
        std::string published = numbered("192.0.2.", i + 1);
        nodes.push_back(node(numbered("n", i), published.c_str(), closed, check));
    }
    h.monitor.configure(with_service(check, config::Startup::probe, nodes));
    h.start();
    h.run_for(50ms);
    EXPECT_EQ(h.transitions.size(), 6u);
    EXPECT_EQ(h.changes, 1);
}

TEST(Monitor, UncheckedServicesAreUpAndNeverProbed) {
    Harness h;
    config::Config c = with_service(config::HealthCheck{}, config::Startup::probe,
                                    {node("a", "192.0.2.1", 1, config::HealthCheck{})});
    h.monitor.configure(c);
    EXPECT_EQ(h.state(0).observed, Observed::up);
    EXPECT_EQ(h.state(0).reason, "not health-checked");
    h.start();
    h.run_for(50ms);
    EXPECT_EQ(h.monitor.stats().probes_sent, 0u);
    EXPECT_EQ(h.changes, 0);
}

TEST(Monitor, RiseAndFall) {
    Backend backend;
    Harness h;
    config::HealthCheck check = fast_check();
    check.fall = 3;
    h.monitor.configure(
        with_service(check, config::Startup::up, {node("a", "192.0.2.1", backend.port(), check)}));
    EXPECT_EQ(h.state(0).observed, Observed::up);
    h.start();
    EXPECT_EQ(h.state(0).transitions, 0u);

    backend.set(Behaviour::status_503);
    ASSERT_TRUE(h.run_until([&] { return h.state(0).observed == Observed::down; }, 3s));
    backend.set(Behaviour::ok);
    ASSERT_TRUE(h.run_until([&] { return h.state(0).observed == Observed::up; }, 3s));

    ASSERT_EQ(h.transitions.size(), 2u);
    EXPECT_EQ(h.transitions[0].from, Observed::up);
    EXPECT_EQ(h.transitions[0].to, Observed::down);
    EXPECT_EQ(h.transitions[0].reason, "status 503");
    EXPECT_EQ(h.transitions[0].published, ip("192.0.2.1"));
    EXPECT_EQ(h.transitions[1].to, Observed::up);
    EXPECT_EQ(h.transitions[1].reason, "status 200");
    EXPECT_EQ(h.counters_at_transition, (std::vector<unsigned>{3, 2}));  // fall, rise
    EXPECT_EQ(h.state(0).transitions, 2u);
    EXPECT_GE(h.state(0).probe_failures, 3u);
    EXPECT_EQ(h.changes, 2);
}

TEST(Monitor, AlternatingResultsDoNotFlap) {
    Backend backend("127.0.0.1", Behaviour::alternate);
    Harness h;
    config::HealthCheck check = fast_check();
    h.monitor.configure(
        with_service(check, config::Startup::up, {node("a", "192.0.2.1", backend.port(), check)}));
    h.start();
    ASSERT_TRUE(h.run_until([&] { return h.state(0).probes >= 8; }, 5s));
    EXPECT_EQ(h.state(0).observed, Observed::up);
    EXPECT_EQ(h.state(0).transitions, 0u);
    EXPECT_GE(h.state(0).probe_failures, 3u);
    EXPECT_TRUE(h.transitions.empty());
}

TEST(Monitor, StartupModes) {
    Backend backend;
    Harness h;
    config::HealthCheck check = fast_check();
    config::Config c;
    for (auto [name, startup] : {std::pair{"probe.demo.test.", config::Startup::probe},
                                 std::pair{"up.demo.test.", config::Startup::up},
                                 std::pair{"down.demo.test.", config::Startup::down}}) {
        config::Config one =
            with_service(check, startup, {node("a", "192.0.2.1", backend.port(), check)});
        one.services[0].name = name;
        c.services.push_back(one.services[0]);
    }
    h.monitor.configure(c);
    EXPECT_EQ(h.state(0).observed, Observed::unknown);
    EXPECT_EQ(h.state(1).observed, Observed::up);
    EXPECT_EQ(h.state(2).observed, Observed::down);
    EXPECT_EQ(h.state(2).reason, "startup = down");
    h.start();
    EXPECT_EQ(h.state(0).observed, Observed::up);    // the first result decides
    EXPECT_EQ(h.state(1).observed, Observed::up);    // no transition
    EXPECT_EQ(h.state(2).observed, Observed::down);  // one success of rise = 2
    EXPECT_EQ(h.state(2).successes, 1u);
    ASSERT_TRUE(h.run_until([&] { return h.state(2).observed == Observed::up; }, 3s));
    EXPECT_EQ(h.state(1).transitions, 0u);
    EXPECT_EQ(h.state(2).transitions, 1u);
}

TEST(Monitor, ReloadKeepsUnchangedAddressesAndResetsChangedOnes) {
    Backend good;
    Harness h;
    config::HealthCheck check = fast_check();
    check.interval = 300ms;
    const std::uint16_t closed = test::closed_port();
    config::Config first = with_service(
        check, config::Startup::probe,
        {node("a", "192.0.2.1", good.port(), check), node("b", "192.0.2.2", closed, check)});
    h.monitor.configure(first);
    h.start();
    ASSERT_EQ(h.state(0).observed, Observed::up);
    ASSERT_EQ(h.state(1).observed, Observed::down);
    const AddressState a = h.state(0), b = h.state(1);

    // A new node in front, other service settings changed: a and b keep everything.
    config::Config second = first;
    second.services[0].ttl = 60;
    second.services[0].all_down = config::AllDown::none;
    second.services[0].nodes.insert(second.services[0].nodes.begin(),
                                    node("c", "192.0.2.3", good.port(), check));
    h.monitor.configure(second);
    ASSERT_EQ(h.monitor.states().size(), 3u);
    EXPECT_EQ(h.state(0).node_name, "c");
    EXPECT_EQ(h.state(0).observed, Observed::unknown);
    for (auto [index, before] : {std::pair{std::size_t{1}, &a}, std::pair{std::size_t{2}, &b}}) {
        const AddressState& now = h.state(index);
        EXPECT_EQ(now.node_name, before->node_name);
        EXPECT_EQ(now.node, index);  // indices follow the new config
        EXPECT_EQ(now.observed, before->observed);
        EXPECT_EQ(now.since, before->since);
        EXPECT_EQ(now.transitions, before->transitions);
        EXPECT_EQ(now.probes, before->probes);
        EXPECT_EQ(now.failures, before->failures);
    }
    // The new, unknown address is probed at once, not an interval later.
    ASSERT_TRUE(h.run_until([&] { return h.state(0).observed == Observed::up; }, 150ms));

    // A changed check starts afresh; so does a changed probe address.
    config::Config third = second;
    third.services[0].nodes[1].health.path = "/other";
    third.services[0].nodes[2].probe_addresses = {ip("127.0.0.2")};
    h.monitor.configure(third);
    EXPECT_EQ(h.state(0).transitions, 1u);  // c kept
    EXPECT_EQ(h.state(1).observed, Observed::unknown);
    EXPECT_EQ(h.state(1).transitions, 0u);
    EXPECT_EQ(h.state(1).probes, 0u);
    EXPECT_EQ(h.state(2).observed, Observed::unknown);
    ASSERT_TRUE(h.run_until([&] { return h.state(1).observed == Observed::up; }, 1s));
}

TEST(Monitor, RemovedAddressesCancelTheirProbes) {
    Backend hung("127.0.0.1", Behaviour::hang);
    Backend good;
    Harness h;
    config::HealthCheck check = fast_check();
    check.interval = 2s;
    check.timeout = 1s;
    config::Config both = with_service(check, config::Startup::probe,
                                       {node("hung", "192.0.2.1", hung.port(), check),
                                        node("good", "192.0.2.2", good.port(), check)});
    bool done = false;
    h.monitor.configure(both);
    h.monitor.start([&done] { done = true; });
    ASSERT_TRUE(h.run_until([&] { return h.state(1).observed == Observed::up; }, 1s));
    EXPECT_EQ(h.monitor.stats().probes_in_flight, 1u);  // the hung one
    EXPECT_FALSE(done);

    // Removing the hung address during the first round ends the round.
    config::Config good_only = both;
    good_only.services[0].nodes.erase(good_only.services[0].nodes.begin());
    h.monitor.configure(good_only);
    EXPECT_EQ(h.monitor.stats().probes_in_flight, 0u);
    ASSERT_TRUE(h.run_until([&done] { return done; }, 100ms));
    ASSERT_EQ(h.monitor.states().size(), 1u);
    EXPECT_EQ(h.state(0).node_name, "good");
    EXPECT_EQ(h.state(0).observed, Observed::up);
    h.run_for(50ms);
    EXPECT_EQ(h.monitor.stats().probes_in_flight, 0u);
}

TEST(Monitor, HungBackendDoesNotDelayOtherAddresses) {
    Backend hung("127.0.0.1", Behaviour::hang);
    Backend good;
    Harness h;
    config::HealthCheck check = fast_check();
    h.monitor.configure(with_service(check, config::Startup::probe,
                                     {node("hung", "192.0.2.1", hung.port(), check),
                                      node("good", "192.0.2.2", good.port(), check)}));
    h.start();
    const std::uint64_t hung_before = h.state(0).probes, good_before = h.state(1).probes;
    h.run_for(1000ms);
    // About ten probes each in a second at a 100 ms interval; the hung one costs only itself.
    EXPECT_GE(h.state(1).probes - good_before, 7u);
    EXPECT_GE(h.state(0).probes - hung_before, 7u);
    EXPECT_EQ(h.state(0).observed, Observed::down);
    EXPECT_EQ(h.state(0).last->outcome, Outcome::timeout);
    EXPECT_EQ(h.state(1).observed, Observed::up);
    EXPECT_EQ(h.monitor.stats().probes_skipped, 0u);
}

TEST(Monitor, PeriodicProbesAreSpreadOverOneInterval) {
    Harness h;
    config::HealthCheck check = fast_check(config::HealthMode::tcp);
    check.interval = 200ms;
    check.jitter = 0;
    const std::uint16_t closed = test::closed_port();
    std::vector<config::Node> nodes;
    for (int i = 0; i < 40; ++i) {
        std::string published = numbered("192.0.2.", i + 1);
        nodes.push_back(node(numbered("n", i), published.c_str(), closed, check));
    }
    h.monitor.configure(with_service(check, config::Startup::probe, nodes));
    h.start();
    // When each address's first periodic probe comes: in [200 ms, 400 ms) after the first
    // round, at a phase of its own.
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::chrono::steady_clock::duration> seen(nodes.size(),
                                                          std::chrono::steady_clock::duration{-1});
    auto all_seen = [&] {
        for (std::size_t i = 0; i < seen.size(); ++i) {
            if (seen[i].count() < 0 && h.state(i).probes >= 2)
                seen[i] = std::chrono::steady_clock::now() - t0;
        }
        return std::none_of(seen.begin(), seen.end(), [](auto d) { return d.count() < 0; });
    };
    ASSERT_TRUE(h.run_until(all_seen, 2s));
    auto [first, last] = std::minmax_element(seen.begin(), seen.end());
    EXPECT_GE(*first, 150ms);
    EXPECT_LT(*last, 600ms);
    EXPECT_GE(*last - *first, 80ms);  // 40 phases over 200 ms
}

TEST(Monitor, FailureIsDetectedWithinIntervalTimesFallPlusTimeout) {
    Backend backend;
    Harness h;
    config::HealthCheck check = fast_check();  // interval 100 ms, timeout 50 ms, fall 2
    h.monitor.configure(
        with_service(check, config::Startup::up, {node("a", "192.0.2.1", backend.port(), check)}));
    h.start();
    h.run_for(150ms);
    ASSERT_EQ(h.state(0).observed, Observed::up);
    backend.stop_listening();
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(h.run_until([&] { return h.state(0).observed == Observed::down; }, 3s));
    const auto took = std::chrono::steady_clock::now() - t0;
    // At most 2 * 110 ms (interval with jitter) + 50 ms; the rest is margin for slow machines.
    EXPECT_LT(took, 800ms);
    RecordProperty(
        "detection_ms",
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
    EXPECT_EQ(h.state(0).reason, "connection refused");
}

}  // namespace
}  // namespace nolb::health
