// Every kind of hostile backend at once, beside healthy ones, in one monitor on one loop: the
// hostile addresses go down, each for what its backend did, and the healthy ones stay up and are
// probed on schedule, as their backends see it (the times their connections are accepted).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "health/monitor.hpp"
#include "unit/health/backend.hpp"
#include "util/event.hpp"

namespace nolb::health {
namespace {

using namespace std::chrono_literals;
using test::Backend;
using test::Behaviour;
using Steady = std::chrono::steady_clock;

constexpr auto kInterval = 250ms;
constexpr double kJitter = 0.1;
constexpr auto kTimeout = 200ms;
constexpr int kHealthy = 6;
constexpr auto kRun = 3000ms;
// Loop passes, thread wake-ups and a shared machine (sanitizers, CI): how late a healthy
// probe may be. Generous, yet a probe held up behind the six hostile ones (each takes up to
// kTimeout) would be over a second late.
constexpr auto kMargin = 150ms;
constexpr auto kStarved = 600ms;

config::HealthCheck check(std::uint16_t port) {
    config::HealthCheck c;
    c.type = config::HealthMode::http;
    c.port = port;
    c.path = "/health";
    c.host = "www.demo.test";
    c.interval = kInterval;
    c.timeout = kTimeout;
    c.jitter = kJitter;
    c.rise = 2;
    c.fall = 2;
    return c;
}

config::Node node(std::string name, std::uint16_t port) {
    config::Node n;
    n.name = std::move(name);
    n.addresses = {*util::IpAddress::parse("192.0.2.1")};
    n.probe_addresses = {*util::IpAddress::parse("127.0.0.1")};
    n.health = check(port);
    return n;
}

struct Hostile {
    const char* name;
    Behaviour behaviour;
    Outcome outcome;
    const char* reason;  // what the address's reason starts with
};

std::chrono::milliseconds ms(Steady::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

TEST(MonitorHostile, HostileBackendsGoDownAndTheOthersStayOnSchedule) {
    const std::vector<Hostile> hostile = {
        {"silent", Behaviour::hang, Outcome::timeout, "timeout: no response after 200 ms"},
        {"drip", Behaviour::drip, Outcome::timeout, "timeout: response incomplete after 200 ms"},
        {"endless", Behaviour::endless, Outcome::protocol, "response larger than 65536 bytes"},
        {"garbage", Behaviour::raw, Outcome::protocol, "bad status line \"HTTP/1.1 2OO OK\""},
        {"reset", Behaviour::raw_reset, Outcome::reset, "connection "},
        {"late", Behaviour::late, Outcome::timeout, "timeout: no response after 200 ms"},
    };
    std::vector<std::unique_ptr<Backend>> hostile_backends;
    for (const Hostile& h : hostile) {
        hostile_backends.push_back(std::make_unique<Backend>("127.0.0.1", h.behaviour));
        if (h.behaviour == Behaviour::raw) hostile_backends.back()->set_raw("HTTP/1.1 2OO OK\r\n");
        if (h.behaviour == Behaviour::raw_reset)
            hostile_backends.back()->set_raw("HTTP/1.1 200 OK\r\nContent-Type: text/pl");
        hostile_backends.back()->set_late(kTimeout + 200ms);
    }
    std::vector<std::unique_ptr<Backend>> healthy;
    for (int i = 0; i < kHealthy; ++i)
        healthy.push_back(std::make_unique<Backend>("127.0.0.1", Behaviour::ok));

    config::Config config;
    config::Service bad;
    bad.name = "hostile.demo.test.";
    bad.health = check(0);
    bad.startup = config::Startup::probe;
    for (std::size_t i = 0; i < hostile.size(); ++i)
        bad.nodes.push_back(node(hostile[i].name, hostile_backends[i]->port()));
    config::Service good;
    good.name = "healthy.demo.test.";
    good.health = check(0);
    good.startup = config::Startup::probe;
    for (int i = 0; i < kHealthy; ++i)
        good.nodes.push_back(node("ok" + std::to_string(i), healthy[i]->port()));
    config.services = {bad, good};

    util::EventBase base = util::make_event_base();
    Monitor monitor(base.get());
    monitor.configure(config);
    ASSERT_EQ(monitor.states().size(), hostile.size() + kHealthy);
    const auto t0 = Steady::now();
    bool round_done = false;
    monitor.start([&round_done] { round_done = true; });
    while (Steady::now() - t0 < kRun) {
        timeval slice{0, 5000};
        event_base_loopexit(base.get(), &slice);
        event_base_dispatch(base.get());
    }
    EXPECT_TRUE(round_done);

    for (std::size_t i = 0; i < hostile.size(); ++i) {
        const AddressState& s = monitor.states()[i];
        SCOPED_TRACE(hostile[i].name);
        EXPECT_EQ(s.observed, Observed::down);
        ASSERT_TRUE(s.last.has_value());
        EXPECT_EQ(s.last->outcome, hostile[i].outcome) << s.last->detail;
        EXPECT_EQ(s.reason.rfind(hostile[i].reason, 0), 0u) << s.reason;
        EXPECT_EQ(s.successes, 0u);
        EXPECT_GE(s.probes, 8u) << "hostile addresses keep their own schedule too";
    }

    // The healthy ones: up throughout, and probed every interval * (1 +- jitter). Their first
    // periodic probe falls at a random point of the interval after the first one, so the gaps
    // are counted from the second probe on.
    const auto longest = std::chrono::duration_cast<Steady::duration>(kInterval * (1 + kJitter));
    const auto shortest = std::chrono::duration_cast<Steady::duration>(kInterval * (1 - kJitter));
    for (int i = 0; i < kHealthy; ++i) {
        const AddressState& s = monitor.states()[hostile.size() + static_cast<std::size_t>(i)];
        SCOPED_TRACE(s.node_name);
        EXPECT_EQ(s.observed, Observed::up) << s.reason;
        EXPECT_EQ(s.transitions, 1u);  // unknown to up, and no more
        const std::vector<Steady::time_point> arrivals = healthy[i]->arrivals();
        // 3 s of intervals of at most 275 ms, less the first one's random phase (and less
        // what a loaded machine takes from the start).
        ASSERT_GE(arrivals.size(), 6u);
        std::vector<Steady::duration> gaps;
        for (std::size_t k = 2; k < arrivals.size(); ++k)
            gaps.push_back(arrivals[k] - arrivals[k - 1]);
        std::sort(gaps.begin(), gaps.end());
        const Steady::duration median = gaps[gaps.size() / 2];
        EXPECT_LE(ms(median), ms(longest + kMargin));
        EXPECT_GE(ms(median), ms(shortest - kMargin));
        EXPECT_LE(ms(gaps.back()), ms(longest + kStarved)) << "a probe starved";
        if (i == 0) {
            RecordProperty("healthy_gap_median_ms", static_cast<int>(ms(median).count()));
            RecordProperty("healthy_gap_max_ms", static_cast<int>(ms(gaps.back()).count()));
        }
    }
    const MonitorStats stats = monitor.stats();
    RecordProperty("late_probes", static_cast<int>(stats.late_probes));
    RecordProperty("probes_skipped", static_cast<int>(stats.probes_skipped));
}

}  // namespace
}  // namespace nolb::health
