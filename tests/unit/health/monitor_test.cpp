// The monitor on a real loop with real probes to loopback backends: first round and startup
// modes, rise/fall, no flapping, coalesced change callbacks, reloads that keep state, removed
// addresses, a hung backend next to a good one, spreading, how fast a failure is seen, fast
// re-probes while an address is in transition, and the pacing of a large first round.
#include "health/monitor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "unit/health/backend.hpp"
#include "util/event.hpp"

namespace nolb::health {
namespace {

using namespace std::chrono_literals;
using test::Backend;
using test::Behaviour;
using Steady = std::chrono::steady_clock;

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

// ---- Fast re-probes

// A one-second interval, so that a fast re-probe (50 ms) and a normal one cannot be confused.
config::HealthCheck slow_check() {
    config::HealthCheck check = fast_check();
    check.interval = 1s;
    check.fast_interval = 50ms;
    check.timeout = 200ms;
    return check;
}

std::chrono::milliseconds ms(Steady::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

// Each result of address `index` as the loop delivers it (seen within a 5 ms slice).
struct Seen {
    Steady::time_point at;
    Outcome outcome;
};

std::vector<Seen> watch(Harness& h, std::size_t index, std::chrono::milliseconds length) {
    std::vector<Seen> seen;
    std::uint64_t probes = h.state(index).probes;
    h.run_until(
        [&] {
            const AddressState& s = h.state(index);
            if (s.probes != probes && s.last) seen.push_back({Steady::now(), s.last->outcome});
            probes = s.probes;
            return false;
        },
        length);
    return seen;
}

TEST(Monitor, RefusingAddressIsDownAFastIntervalAfterItsFirstFailure) {
    Backend backend;
    Harness h;
    const config::HealthCheck check = slow_check();  // fall 2
    h.monitor.configure(
        with_service(check, config::Startup::up, {node("a", "192.0.2.1", backend.port(), check)}));
    h.start();
    ASSERT_EQ(h.state(0).observed, Observed::up);
    ASSERT_TRUE(h.run_until([&] { return h.state(0).probes >= 2; }, 3s));

    backend.stop_listening();
    const auto stopped = Steady::now();
    // The first failure comes with the next periodic probe, within one interval (and jitter).
    ASSERT_TRUE(h.run_until([&] { return h.state(0).failures >= 1; }, 2s));
    const auto first_failure = Steady::now();
    ASSERT_TRUE(h.run_until([&] { return h.state(0).observed == Observed::down; }, 2s));
    const auto down = Steady::now();
    // The second failure is a re-probe 50 ms after the first; without it, a whole interval.
    EXPECT_LT(down - first_failure, 400ms);
    EXPECT_LT(down - stopped, 1100ms + 400ms);
    EXPECT_EQ(h.state(0).reason, "connection refused");
    EXPECT_EQ(h.counters_at_transition, std::vector<unsigned>{2});
    EXPECT_EQ(h.state(0).probe_failures, 2u);
    RecordProperty("detection_after_first_failure_ms",
                   static_cast<int>(ms(down - first_failure).count()));

    // Down and still failing agrees with the state: back to one probe an interval, the first
    // within [fast_interval, interval] of the transition.
    const std::vector<Seen> after = watch(h, 0, 3000ms);
    EXPECT_GE(after.size(), 2u);
    EXPECT_LE(after.size(), 4u);
    ASSERT_FALSE(after.empty());
    EXPECT_LT(after.front().at - down, 1000ms + 100ms);
    for (std::size_t i = 1; i < after.size(); ++i) {
        EXPECT_GE(after[i].at - after[i - 1].at, 800ms) << "probe " << i;
    }
    EXPECT_EQ(h.state(0).transitions, 1u);
}

TEST(Monitor, RecoveringAddressIsUpAFastIntervalAfterItsFirstSuccess) {
    Backend backend("127.0.0.1", Behaviour::status_503);
    Harness h;
    config::HealthCheck check = slow_check();
    check.rise = 3;
    h.monitor.configure(with_service(check, config::Startup::down,
                                     {node("a", "192.0.2.1", backend.port(), check)}));
    h.start();
    ASSERT_EQ(h.state(0).observed, Observed::down);
    ASSERT_EQ(h.state(0).successes, 0u);
    // Past the first periodic probe (up to two intervals after the first round), so that the
    // next one is at most one interval (and jitter) away.
    ASSERT_TRUE(h.run_until([&] { return h.state(0).probes >= 2; }, 3s));

    backend.set(Behaviour::ok);
    const auto healthy = Steady::now();
    ASSERT_TRUE(h.run_until([&] { return h.state(0).successes >= 1; }, 2s));
    const auto first_success = Steady::now();
    ASSERT_TRUE(h.run_until([&] { return h.state(0).observed == Observed::up; }, 2s));
    const auto up = Steady::now();
    // Two re-probes 50 ms apart (rise 3); without them, two whole intervals.
    EXPECT_LT(up - first_success, 500ms);
    EXPECT_LT(up - healthy, 1100ms + 500ms);
    EXPECT_EQ(h.counters_at_transition, std::vector<unsigned>{3});
    EXPECT_EQ(h.state(0).reason, "status 200");

    const std::vector<Seen> after = watch(h, 0, 3000ms);
    EXPECT_GE(after.size(), 2u);
    EXPECT_LE(after.size(), 4u);
    EXPECT_EQ(h.state(0).transitions, 1u);
}

// One address "a", up from the start, on `backend`: started and past its first periodic probe.
void start_up_and_probed(Harness& h, const Backend& backend, const config::HealthCheck& check) {
    h.monitor.configure(
        with_service(check, config::Startup::up, {node("a", "192.0.2.1", backend.port(), check)}));
    h.start();
    ASSERT_TRUE(h.run_until([&] { return h.state(0).probes >= 2; }, 3s));
}

// A hung backend fails a probe only when its timeout ends. The probe after one still unanswered
// fast_interval after it started overlaps it, so with fall 2 the address is down one timeout and
// one fast interval after its first unanswered probe started, each probe failing on its own.
TEST(Monitor, HungAddressIsDownATimeoutAndAFastIntervalAfterItsFirstUnansweredProbe) {
    Backend backend;
    Harness h;
    const config::HealthCheck check = slow_check();  // timeout 200 ms, fast_interval 50 ms
    ASSERT_NO_FATAL_FAILURE(start_up_and_probed(h, backend, check));
    EXPECT_EQ(h.monitor.stats().probes_overlapped, 0u);  // answered within fast_interval
    backend.set(Behaviour::hang);
    ASSERT_TRUE(h.run_until([&] { return h.state(0).failures >= 1; }, 2s));
    ASSERT_EQ(h.state(0).last->outcome, Outcome::timeout);
    const auto unanswered_start = Steady::now() - h.state(0).last->latency;
    ASSERT_TRUE(h.run_until([&] { return h.state(0).observed == Observed::down; }, 2s));
    const auto took = Steady::now() - unanswered_start;
    // Down is seen within a 5 ms slice of the loop, the first failure too: their difference
    // may read a few milliseconds short.
    EXPECT_GE(took, check.timeout + *check.fast_interval - 10ms);
    // Two timeouts and more without the overlap; the rest is margin for a slow machine.
    EXPECT_LT(took, check.timeout + *check.fast_interval + 120ms);
    EXPECT_EQ(h.state(0).last->outcome, Outcome::timeout);
    EXPECT_EQ(h.counters_at_transition, std::vector<unsigned>{2});
    EXPECT_EQ(h.monitor.stats().probes_overlapped, 1u);
    EXPECT_EQ(h.monitor.stats().probes_skipped, 0u);
    RecordProperty("detection_after_unanswered_start_ms", static_cast<int>(ms(took).count()));

    // Down: one probe at a time again, each its own timeout.
    h.run_for(1500ms);
    EXPECT_EQ(h.monitor.stats().probes_overlapped, 1u);
    EXPECT_EQ(h.state(0).transitions, 1u);
}

// fall 3 keeps up to three probes of a hung address in flight, fast_interval apart.
TEST(Monitor, HungAddressWithFallThreeIsDownATimeoutAndTwoFastIntervalsAfter) {
    Backend backend;
    Harness h;
    config::HealthCheck check = slow_check();
    check.fall = 3;
    ASSERT_NO_FATAL_FAILURE(start_up_and_probed(h, backend, check));
    backend.set(Behaviour::hang);
    const int accepted_before = backend.accepted();
    ASSERT_TRUE(h.run_until([&] { return h.state(0).failures >= 1; }, 2s));
    const auto unanswered_start = Steady::now() - h.state(0).last->latency;
    EXPECT_EQ(h.monitor.stats().probes_in_flight, 2u);  // the two overlapping ones
    ASSERT_TRUE(h.run_until([&] { return h.state(0).observed == Observed::down; }, 2s));
    const auto took = Steady::now() - unanswered_start;
    EXPECT_GE(took, check.timeout + 2 * *check.fast_interval - 10ms);
    EXPECT_LT(took, check.timeout + 2 * *check.fast_interval + 120ms);
    EXPECT_EQ(h.counters_at_transition, std::vector<unsigned>{3});
    EXPECT_EQ(h.monitor.stats().probes_overlapped, 2u);
    EXPECT_EQ(backend.accepted() - accepted_before, 3);
}

// fall 1: the first timeout decides, so nothing overlaps.
TEST(Monitor, HungAddressWithFallOneIsDownAtItsTimeout) {
    Backend backend;
    Harness h;
    config::HealthCheck check = slow_check();
    check.fall = 1;
    ASSERT_NO_FATAL_FAILURE(start_up_and_probed(h, backend, check));
    backend.set(Behaviour::hang);
    ASSERT_TRUE(h.run_until([&] { return h.state(0).observed == Observed::down; }, 2s));
    EXPECT_EQ(h.state(0).last->outcome, Outcome::timeout);
    EXPECT_EQ(h.monitor.stats().probes_overlapped, 0u);
}

// A backend that answers, but later than fast_interval, is slow anyway: its probes are not
// suspect and do not overlap, and it stays up.
TEST(Monitor, SlowButHealthyAddressIsNotProbedTwice) {
    Backend backend("127.0.0.1", Behaviour::late);
    backend.set_late(120ms);
    Harness h;
    config::HealthCheck check = slow_check();  // interval 1 s, fast_interval 50 ms
    check.interval = 400ms;
    h.monitor.configure(
        with_service(check, config::Startup::up, {node("a", "192.0.2.1", backend.port(), check)}));
    h.start();
    h.run_for(2000ms);
    const AddressState& state = h.state(0);
    EXPECT_EQ(state.observed, Observed::up);
    EXPECT_EQ(state.probe_failures, 0u);
    EXPECT_EQ(state.transitions, 0u);
    EXPECT_GE(state.probes, 4u);  // the first round and periodic probes every 400 ms
    const MonitorStats stats = h.monitor.stats();
    EXPECT_EQ(stats.probes_overlapped, 0u);
    EXPECT_EQ(stats.probes_sent, state.probes + stats.probes_in_flight);

    // Once it answers quickly, a probe it leaves unanswered is suspect again.
    backend.set(Behaviour::ok);
    ASSERT_TRUE(h.run_until([&] { return state.last->latency < 20ms; }, 2s));
    backend.set(Behaviour::hang);
    ASSERT_TRUE(h.run_until([&] { return h.monitor.stats().probes_overlapped == 1; }, 2s));
}

// A probe that goes unanswered while the next one, overlapping it, is answered: the newer answer
// supersedes the older probe, which is cancelled without counting as a failure (one lost SYN
// or one stuck connection costs nothing).
TEST(Monitor, AnsweredOverlappingProbeSupersedesTheUnansweredOne) {
    Backend backend;
    Harness h;
    const config::HealthCheck check = slow_check();  // timeout 200 ms, fast_interval 50 ms
    ASSERT_NO_FATAL_FAILURE(start_up_and_probed(h, backend, check));
    const std::uint64_t probes_before = h.state(0).probes;
    const int accepted_before = backend.accepted();
    backend.set(Behaviour::hang);
    ASSERT_TRUE(h.run_until([&] { return backend.accepted() > accepted_before; }, 2s));
    backend.set(Behaviour::ok);  // the overlapping probe, 50 ms on, is answered
    ASSERT_TRUE(h.run_until([&] { return h.state(0).probes > probes_before; }, 1s));
    EXPECT_EQ(h.state(0).last->outcome, Outcome::ok);
    EXPECT_EQ(h.monitor.stats().probes_overlapped, 1u);
    EXPECT_EQ(h.monitor.stats().probes_in_flight, 0u);  // the hung one was cancelled
    h.run_for(300ms);                                   // past the hung probe's timeout
    EXPECT_EQ(h.state(0).probe_failures, 0u);
    EXPECT_EQ(h.state(0).failures, 0u);
    EXPECT_EQ(h.state(0).probes, probes_before + 1);  // two probes, one result
    EXPECT_EQ(h.state(0).observed, Observed::up);
}

// A streak broken short of fall: the fast re-probe succeeds and the address goes back to its
// normal schedule, not to one fast probe after another.
TEST(Monitor, BrokenStreakReturnsToTheNormalSchedule) {
    Backend backend("127.0.0.1", Behaviour::alternate);
    Harness h;
    const config::HealthCheck check = slow_check();
    h.monitor.configure(
        with_service(check, config::Startup::up, {node("a", "192.0.2.1", backend.port(), check)}));
    h.start();
    // The first periodic probe comes up to two intervals after the first round.
    const std::vector<Seen> seen = watch(h, 0, 5000ms);
    std::size_t failures = 0;
    for (std::size_t i = 0; i + 1 < seen.size(); ++i) {
        const auto gap = seen[i + 1].at - seen[i].at;
        if (seen[i].outcome != Outcome::ok) {
            ++failures;
            EXPECT_LT(gap, 300ms) << "re-probe after failure " << i;  // fast_interval 50 ms
        } else {
            EXPECT_GE(gap, 40ms) << "after success " << i;
            EXPECT_LT(gap, 1000ms + 100ms) << "after success " << i;  // never over an interval
        }
    }
    EXPECT_GE(failures, 2u);
    // About two probes per 0.6 s (50 ms, then a phase in 50 ms .. 1 s); a fast schedule that
    // never ended would make 100 in 5 s.
    EXPECT_LE(seen.size(), 30u);
    EXPECT_EQ(h.state(0).observed, Observed::up);
    EXPECT_TRUE(h.transitions.empty());
}

// ---- First-round pacing

// `count` nodes probed (TCP) on a closed loopback port, published on 10.0.x.y.
config::Config many_refusing(int count, const config::HealthCheck& check) {
    const std::uint16_t closed = test::closed_port();
    std::vector<config::Node> nodes;
    for (int i = 0; i < count; ++i) {
        std::string published = numbered("10.0.", i / 250);
        published += "." + std::to_string(i % 250 + 1);
        nodes.push_back(node(numbered("n", i), published.c_str(), closed, check));
    }
    return with_service(check, config::Startup::probe, nodes);
}

config::HealthCheck paced_check() {
    config::HealthCheck check = fast_check(config::HealthMode::tcp);
    check.interval = 5s;  // no periodic probe while the test runs
    check.timeout = 1s;
    return check;
}

TEST(Monitor, FirstRoundStartsOneBatchPerPassOfTheLoop) {
    Harness h;
    const int count = static_cast<int>(2 * kFirstRoundBatch + 44);
    h.monitor.configure(many_refusing(count, paced_check()));
    bool done = false;
    int changes_when_done = -1;
    h.monitor.start([&] {
        done = true;
        changes_when_done = h.changes;
    });
    EXPECT_EQ(h.monitor.stats().probes_sent, kFirstRoundBatch);
    EXPECT_EQ(h.monitor.stats().probes_in_flight, kFirstRoundBatch);
    // One pass: what came back is read, then the next batch starts.
    event_base_loop(h.base.get(), EVLOOP_ONCE);
    EXPECT_LE(h.monitor.stats().probes_sent, 2 * kFirstRoundBatch);
    EXPECT_GT(h.monitor.stats().probes_sent, kFirstRoundBatch);
    ASSERT_TRUE(h.run_until([&done] { return done; }, 5s));
    EXPECT_EQ(h.monitor.stats().probes_sent, static_cast<std::uint64_t>(count));
    EXPECT_EQ(h.monitor.stats().probes_in_flight, 0u);
    for (const AddressState& s : h.monitor.states()) {
        EXPECT_EQ(s.observed, Observed::down) << s.node_name;
        EXPECT_EQ(s.probes, 1u) << s.node_name;
    }
    // The round's transitions, over several passes, make one change, after it.
    EXPECT_EQ(h.transitions.size(), static_cast<std::size_t>(count));
    EXPECT_EQ(changes_when_done, 0);
    h.run_for(20ms);
    EXPECT_EQ(h.changes, 1);
}

TEST(Monitor, SmallFirstRoundStartsAtOnce) {
    Harness h;
    h.monitor.configure(many_refusing(static_cast<int>(kFirstRoundBatch), paced_check()));
    bool done = false;
    h.monitor.start([&done] { done = true; });
    EXPECT_EQ(h.monitor.stats().probes_sent, kFirstRoundBatch);
    ASSERT_TRUE(h.run_until([&done] { return done; }, 5s));
    EXPECT_EQ(h.monitor.stats().probes_sent, kFirstRoundBatch);
}

// A batch is due when the previous one asked for it: a loop that comes back 150 ms later has
// started that batch late, and says so. The batch started inside start() cannot be late.
TEST(Monitor, FirstRoundBatchesDelayedByABusyLoopCountAsLate) {
    Harness h;
    const int count = static_cast<int>(2 * kFirstRoundBatch + 44);
    h.monitor.configure(many_refusing(count, paced_check()));
    bool done = false;
    h.monitor.start([&done] { done = true; });
    EXPECT_EQ(h.monitor.stats().late_probes, 0u);
    std::this_thread::sleep_for(150ms);  // the loop's thread busy elsewhere
    ASSERT_TRUE(h.run_until([&done] { return done; }, 5s));
    EXPECT_GE(h.monitor.stats().late_probes, kFirstRoundBatch);
    EXPECT_LE(h.monitor.stats().late_probes, static_cast<std::uint64_t>(count) - kFirstRoundBatch);
}

// Addresses removed while their first-round probe waits for its batch are never probed, and
// the round ends with the results of those kept.
TEST(Monitor, ReloadDuringAPacedFirstRoundDropsTheWaitingProbes) {
    Harness h;
    const config::HealthCheck check = paced_check();
    config::Config all = many_refusing(static_cast<int>(2 * kFirstRoundBatch + 44), check);
    h.monitor.configure(all);
    bool done = false;
    h.monitor.start([&done] { done = true; });
    ASSERT_EQ(h.monitor.stats().probes_sent, kFirstRoundBatch);

    config::Config few = all;
    few.services[0].nodes.resize(10);
    h.monitor.configure(few);
    EXPECT_EQ(h.monitor.stats().probes_in_flight, 10u);  // the kept ones of the first batch
    ASSERT_TRUE(h.run_until([&done] { return done; }, 5s));
    h.run_for(100ms);
    EXPECT_EQ(h.monitor.stats().probes_sent, kFirstRoundBatch);
    EXPECT_EQ(h.monitor.stats().probes_in_flight, 0u);
    ASSERT_EQ(h.monitor.states().size(), 10u);
    for (const AddressState& s : h.monitor.states())
        EXPECT_EQ(s.observed, Observed::down) << s.node_name;
}

}  // namespace
}  // namespace nolb::health
