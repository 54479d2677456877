// One hung backend among many healthy ones, on the real monitor with real probes to loopback
// backends: the hung address's probes each hold a socket for their whole timeout, and nothing
// else waits for them. The healthy addresses keep their rate (also while the first round still
// waits for the hung one's result), no probe starts late, and probing adds no thread.
#include <dirent.h>
#include <gtest/gtest.h>

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

constexpr int kBackends = 4;
constexpr int kPerBackend = 40;  // under the test backend's listen backlog of 64
constexpr auto kInterval = 200ms;
constexpr auto kHungTimeout = 1000ms;

// The threads of this process, from /proc/self/task.
int thread_count() {
    int n = 0;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc/self/task"), &::closedir);
    if (!dir) return -1;
    while (dirent* entry = ::readdir(dir.get())) {
        if (entry->d_name[0] != '.') ++n;
    }
    return n;
}

config::HealthCheck check(std::uint16_t port, std::chrono::milliseconds interval,
                          std::chrono::milliseconds timeout) {
    config::HealthCheck c;
    c.type = config::HealthMode::http;
    c.port = port;
    c.path = "/health";
    c.host = "www.demo.test";
    c.interval = interval;
    c.timeout = timeout;
    c.jitter = 0.1;
    c.rise = 2;
    c.fall = 3;  // a single slow answer on a busy machine does not take a healthy address down
    return c;
}

config::Service service(std::string name, const config::HealthCheck& health,
                        const std::vector<std::string>& probed) {
    config::Service s;
    s.name = std::move(name);
    s.health = health;
    s.startup = config::Startup::probe;
    for (std::size_t i = 0; i < probed.size(); ++i) {
        config::Node n;
        n.name = "n" + std::to_string(i);
        n.addresses = {*util::IpAddress::parse("192.0.2.1")};
        n.probe_addresses = {*util::IpAddress::parse(probed[i])};
        n.health = health;
        s.nodes.push_back(std::move(n));
    }
    return s;
}

TEST(MonitorHung, OneHungBackendDoesNotDelayTheOthers) {
    // Healthy backends on every loopback address, each serving kPerBackend addresses of one
    // service; the hung one accepts and reads the request, and never answers.
    std::vector<std::unique_ptr<Backend>> healthy;
    for (int b = 0; b < kBackends; ++b)
        healthy.push_back(std::make_unique<Backend>("0.0.0.0", Behaviour::ok));
    Backend hung("127.0.0.1", Behaviour::hang);

    config::Config config;
    config.services.push_back(
        service("hung.demo.test.", check(hung.port(), 1200ms, kHungTimeout), {"127.0.0.1"}));
    for (int b = 0; b < kBackends; ++b) {
        std::vector<std::string> probed;
        for (int i = 0; i < kPerBackend; ++i)
            probed.push_back("127.3." + std::to_string(b) + "." + std::to_string(i + 1));
        config.services.push_back(service("s" + std::to_string(b) + ".demo.test.",
                                          check(healthy[b]->port(), kInterval, 150ms), probed));
    }
    constexpr std::size_t kHealthy = kBackends * kPerBackend;

    util::EventBase base = util::make_event_base();
    Monitor monitor(base.get());
    monitor.configure(config);
    ASSERT_EQ(monitor.states().size(), kHealthy + 1);
    const int threads_before = thread_count();
    int threads_most = threads_before;

    auto run_until = [&](const std::function<bool()>& done, std::chrono::milliseconds limit) {
        const auto end = Steady::now() + limit;
        while (!done()) {
            if (Steady::now() >= end) return false;
            timeval slice{0, 5000};
            event_base_loopexit(base.get(), &slice);
            event_base_dispatch(base.get());
            threads_most = std::max(threads_most, thread_count());
        }
        return true;
    };
    auto fewest_healthy_probes = [&] {
        std::uint64_t fewest = ~std::uint64_t{0};
        for (std::size_t i = 1; i < monitor.states().size(); ++i)
            fewest = std::min(fewest, monitor.states()[i].probes);
        return fewest;
    };

    // The first round waits for every first result, the hung one's too (its timeout); the
    // healthy addresses' periodic probes do not wait for the round.
    const auto t0 = Steady::now();
    bool round_done = false;
    monitor.start([&round_done] { round_done = true; });
    ASSERT_TRUE(run_until([&] { return round_done; }, 5s));
    const auto round = Steady::now() - t0;
    EXPECT_GE(round, kHungTimeout - 10ms);
    // Within that second: the first probe, the first periodic one within two intervals, then
    // one per interval (x 1.1 at most): at least 4, counted with one to spare.
    EXPECT_GE(fewest_healthy_probes(), 3u);
    EXPECT_EQ(monitor.states()[0].last->outcome, Outcome::timeout);

    // Two seconds of steady state: about ten probes per healthy address, on time.
    std::vector<std::uint64_t> before;
    for (const AddressState& s : monitor.states())
        before.push_back(s.probes);
    const MonitorStats stats_before = monitor.stats();
    const auto t1 = Steady::now();
    run_until([] { return false; }, 2000ms);
    const double seconds = std::chrono::duration<double>(Steady::now() - t1).count();
    const MonitorStats stats = monitor.stats();

    const double per_address = seconds / std::chrono::duration<double>(kInterval).count();
    std::uint64_t fewest = ~std::uint64_t{0}, most = 0;
    for (std::size_t i = 1; i < monitor.states().size(); ++i) {
        const AddressState& s = monitor.states()[i];
        fewest = std::min(fewest, s.probes - before[i]);
        most = std::max(most, s.probes - before[i]);
        EXPECT_EQ(s.observed, Observed::up) << s.service_name << " " << s.node_name;
    }
    // Each interval is drawn within +-10 %: 2 s hold 9 to 11 of them, and a boundary either
    // side.
    EXPECT_GE(static_cast<double>(fewest), per_address / 1.1 - 1.5);
    EXPECT_LE(static_cast<double>(most), per_address / 0.9 + 1.5);
    EXPECT_EQ(stats.late_probes, 0u);
    EXPECT_GE(stats.probes_sent - stats_before.probes_sent,
              static_cast<std::uint64_t>(kHealthy * (per_address / 1.1 - 1.5)));

    // The hung address: down, its probe a timeout held for the whole timeout, and probed again
    // on its own schedule (its first periodic probe falls 1.2 to 2.4 s after the start).
    const AddressState& h = monitor.states()[0];
    EXPECT_EQ(h.observed, Observed::down);
    EXPECT_EQ(h.last->outcome, Outcome::timeout);
    EXPECT_GE(h.last->latency, kHungTimeout - 10ms);
    EXPECT_GE(hung.accepted(), 2);

    // Every probe ran on this thread's loop: the process has the threads it had (the test
    // backends') however many probes were in flight.
    EXPECT_EQ(threads_most, threads_before);
    RecordProperty("healthy_probes_per_address_min", static_cast<int>(fewest));
    RecordProperty("healthy_probes_per_address_max", static_cast<int>(most));
}

}  // namespace
}  // namespace nolb::health
