// The lab with the real servers: nolb-stats nodes, nolbd and /usr/sbin/haproxy on loopback, on
// ports picked free for each test (not root's 53 and 8080), driving the faults through begin()
// on a real event loop that each test runs for a bounded time. What is checked is what the
// comparison relies on: the service answers with every node, a crashed node leaves the answers
// of the health-checked model and a restarted one comes back, injected 500s start and stop, a
// degraded node ends with its own exit status, HAProxy spreads requests and counts them, a
// blackhole outside a namespace is reported instead of applied, and nothing outlives stop().
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nolb-compare/lab.hpp"
#include "nolb-compare/lab_io.hpp"
#include "util/event.hpp"

namespace nolb::compare {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool can_bind(const char* address, std::uint16_t port, int type) {
    int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &sin.sin_addr);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0;
    ::close(fd);
    return ok;
}

// A port free on every address the lab binds with it; below the ephemeral range so that no
// client socket takes it meanwhile.
std::uint16_t free_port(const std::vector<const char*>& addresses, bool udp_too) {
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> pick(12000, 30000);
    for (int attempt = 0; attempt < 200; ++attempt) {
        auto port = static_cast<std::uint16_t>(pick(rng));
        bool free = true;
        for (const char* a : addresses)
            free = free && can_bind(a, port, SOCK_STREAM) &&
                   (!udp_too || can_bind(a, port, SOCK_DGRAM));
        if (free) return port;
    }
    return 0;
}

// Direct children of this process, from /proc.
std::vector<pid_t> child_pids() {
    std::vector<pid_t> out;
    const std::string me = std::to_string(::getpid());
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
        std::ifstream in(entry.path() / "stat");
        std::string line;
        if (!std::getline(in, line)) continue;
        std::size_t close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream fields(line.substr(close + 2));
        std::string state, ppid;
        fields >> state >> ppid;
        if (ppid == me) out.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return out;
}

// Runs `fn` on the loop `after` from now.
class At {
  public:
    At(event_base* base, Clock::duration after, std::function<void()> fn)
        : fn_(std::move(fn)), ev_(util::make_event(base, -1, 0, &At::fire, this)) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(after).count();
        timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
        event_add(ev_.get(), &tv);
    }

  private:
    static void fire(evutil_socket_t, short, void* arg) { static_cast<At*>(arg)->fn_(); }
    std::function<void()> fn_;
    util::Event ev_;
};

void run_loop(event_base* base, Clock::duration length) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(length).count();
    timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

bool has(const PublishedSample& s, std::uint16_t node) {
    return std::find(s.nodes.begin(), s.nodes.end(), node) != s.nodes.end();
}

Fault fault(double at, unsigned node, FaultKind kind, double hold = 3.0) {
    Fault f;
    f.at = Seconds(at);
    f.node = node;
    f.kind = kind;
    f.hold = Seconds(hold);
    return f;
}

class CompareLab : public ::testing::Test {
  protected:
    void SetUp() override {
        char templ[] = "/tmp/nolb-lab-XXXXXX";
        ASSERT_NE(::mkdtemp(templ), nullptr);
        work_ = templ;
        options_.bin_dir = fs::path(NOLBD_PATH).parent_path();
        ASSERT_TRUE(fs::exists(options_.bin_dir / "nolb-stats")) << NOLB_STATS_PATH;
        options_.work_dir = work_;
        options_.http_port =
            free_port({"127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.100"}, false);
        options_.dns_port = free_port({"127.0.0.1"}, true);
        ASSERT_NE(options_.http_port, 0);
        ASSERT_NE(options_.dns_port, 0);
        scenario_.name = "lab-test";
        scenario_.nodes = 3;
        scenario_.ttl = 1;
        scenario_.health.interval = Seconds(0.2);
        scenario_.health.timeout = Seconds(0.15);
        scenario_.health.rise = 2;
        scenario_.health.fall = 2;
    }
    void TearDown() override {
        if (HasFailure()) {
            std::cerr << "logs kept in " << work_ << "\n";
        } else {
            std::error_code ec;
            fs::remove_all(work_, ec);
        }
    }

    HttpReply get(unsigned node, const char* target = "/stats") const {
        return http_exchange(node_address(node), options_.http_port, "GET", target, 2s);
    }

    util::EventBase base_ = util::make_event_base();
    Scenario scenario_;
    LabOptions options_;
    fs::path work_;
};

TEST_F(CompareLab, ZeroAdminAnswersWithEveryNode) {
    Lab lab(base_.get(), scenario_, options_);
    lab.start(Model::zero_admin);

    auto addresses = dns_lookup(options_.dns_port, kServiceName, 2s);
    ASSERT_TRUE(addresses);
    std::sort(addresses->begin(), addresses->end());
    EXPECT_EQ(*addresses, (std::vector<std::string>{"127.0.0.11", "127.0.0.12", "127.0.0.13"}));
    auto balancer = dns_lookup(options_.dns_port, kBalancerName, 2s);
    ASSERT_TRUE(balancer);
    EXPECT_EQ(*balancer, std::vector<std::string>{kBalancerAddress});
    for (unsigned i = 0; i < 3; ++i) {
        HttpReply r = get(i);
        EXPECT_EQ(r.status, 200) << r.error;
        EXPECT_EQ(nlohmann::json::parse(r.body, nullptr, false).value("site", ""), node_site(i));
    }
    EXPECT_TRUE(fs::exists(work_ / "zero-admin" / "nolbd.toml"));
    EXPECT_TRUE(fs::exists(work_ / "zero-admin" / "node2.log"));

    Target t = lab.target();
    EXPECT_EQ(t.name, kServiceName);
    EXPECT_EQ(t.dns.to_string(), "127.0.0.1:" + std::to_string(options_.dns_port));
    EXPECT_EQ(t.port, options_.http_port);
    EXPECT_EQ(t.node_sites, (std::vector<std::string>{"node1", "node2", "node3"}));
    EXPECT_FALSE(t.system_resolver);

    // A measured run with nobody but the sampler asking: every sample names every node, and the
    // sampler's own queries are not counted as the clients'.
    const auto origin = Clock::now() + 100ms;
    lab.begin(origin);
    run_loop(base_.get(), 800ms);
    lab.end();
    auto samples = lab.take_published();
    ASSERT_GE(samples.size(), 4u);
    for (const PublishedSample& s : samples)
        EXPECT_EQ(s.nodes, (std::vector<std::uint16_t>{0, 1, 2})) << "at " << s.at;
    EXPECT_GE(samples.front().at, 0.0);
    EXPECT_LT(samples.back().at, 0.8);
    Costs c = lab.costs();
    EXPECT_EQ(c.dns_queries, 0u);
    EXPECT_GE(c.nolbd_cpu_s, 0.0);
    EXPECT_EQ(c.lb_requests, 0u);
    EXPECT_TRUE(lab.notes().empty()) << lab.notes().front();
}

TEST_F(CompareLab, ZeroAdminCountsQueriesOtherThanTheSamplers) {
    Lab lab(base_.get(), scenario_, options_);
    lab.start(Model::zero_admin);
    const auto origin = Clock::now() + 100ms;
    lab.begin(origin);
    At ask(base_.get(), 300ms, [&] {
        for (int i = 0; i < 7; ++i)
            dns_lookup(options_.dns_port, kServiceName, 1s);
    });
    run_loop(base_.get(), 700ms);
    lab.end();
    EXPECT_EQ(lab.costs().dns_queries, 7u);
}

TEST_F(CompareLab, HealthCheckedCrashLeavesTheAnswersAndRestartBringsItBack) {
    scenario_.faults = {fault(0.3, 1, FaultKind::crash), fault(2.5, 1, FaultKind::restart)};
    Lab lab(base_.get(), scenario_, options_);
    lab.start(Model::health_checked);
    const auto origin = Clock::now();
    lab.begin(origin);
    HttpReply while_down;
    At look(base_.get(), 1s, [&] { while_down = get(1); });
    run_loop(base_.get(), 6s);
    lab.end();

    auto faults = lab.take_faults();
    ASSERT_EQ(faults.size(), 2u);
    EXPECT_EQ(faults[0].fault.kind, FaultKind::crash);
    EXPECT_TRUE(faults[0].ok) << faults[0].detail;
    EXPECT_NEAR(faults[0].at, 0.3, 0.25);
    EXPECT_EQ(faults[1].fault.kind, FaultKind::restart);
    EXPECT_TRUE(faults[1].ok) << faults[1].detail;
    EXPECT_NE(faults[1].detail.find("answered GET /health"), std::string::npos) << faults[1].detail;
    EXPECT_EQ(while_down.status, 0);
    EXPECT_NE(while_down.error.find("refused"), std::string::npos) << while_down.error;

    auto samples = lab.take_published();
    ASSERT_FALSE(samples.empty());
    std::optional<double> removed, back;
    for (const PublishedSample& s : samples) {
        if (s.at > faults[0].at && !has(s, 1) && !removed) removed = s.at;
        if (removed && s.at > faults[1].at && has(s, 1) && !back) back = s.at;
        EXPECT_TRUE(has(s, 0) && has(s, 2)) << "at " << s.at;
    }
    ASSERT_TRUE(removed) << "node2 never left the answers";
    EXPECT_LT(*removed - faults[0].at, 2.0);
    ASSERT_TRUE(back) << "node2 never came back";
    EXPECT_LT(*back - faults[1].at, 3.0);
    EXPECT_TRUE(has(samples.back(), 1));
    EXPECT_TRUE(lab.notes().empty()) << lab.notes().front();
    EXPECT_EQ(get(1).status, 200);
}

TEST_F(CompareLab, Http500UntilRecover) {
    scenario_.faults = {fault(0.1, 0, FaultKind::http500), fault(0.8, 0, FaultKind::recover)};
    Lab lab(base_.get(), scenario_, options_);
    lab.start(Model::zero_admin);
    lab.begin(Clock::now());
    HttpReply during, health_during;
    At look(base_.get(), 500ms, [&] {
        during = get(0);
        health_during = get(0, "/health");
    });
    run_loop(base_.get(), 1200ms);
    lab.end();
    EXPECT_EQ(during.status, 500) << during.error;
    EXPECT_EQ(health_during.status, 500);
    EXPECT_EQ(get(0).status, 200);
    EXPECT_EQ(get(1).status, 200);
    auto faults = lab.take_faults();
    ASSERT_EQ(faults.size(), 2u);
    EXPECT_TRUE(faults[0].ok) << faults[0].detail;
    EXPECT_TRUE(faults[1].ok) << faults[1].detail;
    // In force once the node has answered the POST: a moment after it was sent.
    EXPECT_GE(faults[0].done, faults[0].at);
    EXPECT_LT(faults[0].done - faults[0].at, 0.1);
}

TEST_F(CompareLab, DegradeEndsWithTheNodeExited) {
    scenario_.faults = {fault(0.1, 2, FaultKind::degrade, 1.5)};
    Lab lab(base_.get(), scenario_, options_);
    lab.start(Model::health_checked);
    lab.begin(Clock::now());
    HttpReply health_during;
    At look(base_.get(), 600ms, [&] { health_during = get(2, "/health"); });
    run_loop(base_.get(), 4s);
    lab.end();

    EXPECT_EQ(health_during.status, 503);
    auto faults = lab.take_faults();
    ASSERT_EQ(faults.size(), 1u);
    const AppliedFault& f = faults[0];
    EXPECT_TRUE(f.ok) << f.detail;
    EXPECT_GE(f.done - f.at, 1.4) << f.detail;
    EXPECT_LT(f.done - f.at, 3.5) << f.detail;
    EXPECT_NE(f.detail.find("degraded after 2 allocations"), std::string::npos) << f.detail;
    EXPECT_NE(f.detail.find("exit status 3"), std::string::npos) << f.detail;
    // An exit the lab caused is no surprise.
    EXPECT_TRUE(lab.notes().empty()) << lab.notes().front();
    HttpReply after = get(2);
    EXPECT_EQ(after.status, 0);

    // The health checks took it out while degraded, before it died.
    auto samples = lab.take_published();
    std::optional<double> removed;
    for (const PublishedSample& s : samples)
        if (s.at > f.at && !has(s, 2) && !removed) removed = s.at;
    ASSERT_TRUE(removed);
    EXPECT_LT(*removed, f.done);
}

TEST_F(CompareLab, LoadBalancerServesThroughHaproxyAndCountsRequests) {
    Lab lab(base_.get(), scenario_, options_);
    lab.start(Model::load_balancer);
    Target t = lab.target();
    EXPECT_EQ(t.name, kBalancerName);
    EXPECT_TRUE(fs::exists(work_ / "load-balancer" / "haproxy.cfg"));

    lab.begin(Clock::now() + 50ms);
    std::set<std::string> sites;
    int ok = 0;
    At ask(base_.get(), 300ms, [&] {
        for (int i = 0; i < 12; ++i) {
            HttpReply r = http_exchange(kBalancerAddress, options_.http_port, "GET", "/stats", 2s);
            if (r.status != 200) continue;
            ++ok;
            sites.insert(nlohmann::json::parse(r.body, nullptr, false).value("site", ""));
        }
    });
    run_loop(base_.get(), 700ms);
    lab.end();
    EXPECT_EQ(ok, 12);
    EXPECT_EQ(sites, (std::set<std::string>{"node1", "node2", "node3"}));
    Costs c = lab.costs();
    EXPECT_EQ(c.lb_requests, 12u);
    EXPECT_GE(c.lb_cpu_s, 0.0);
    // HAProxy's servers in rotation, sampled as nolbd's answers are: every node, every time.
    std::vector<PublishedSample> samples = lab.take_published();
    EXPECT_GE(samples.size(), 5u);
    for (const PublishedSample& s : samples)
        EXPECT_EQ(s.nodes, (std::vector<std::uint16_t>{0, 1, 2})) << "at " << s.at;
    EXPECT_GT(c.lb_rss_kb, 1000u);
    EXPECT_GE(c.lb_hwm_kb, c.lb_rss_kb);
    EXPECT_GT(c.nolbd_rss_kb, 1000u);
    EXPECT_TRUE(lab.notes().empty()) << lab.notes().front();
}

TEST_F(CompareLab, LoadBalancerCrashRefusesUntilTheRestartServes) {
    Fault crash;
    crash.at = Seconds(0.1);
    crash.kind = FaultKind::lb_crash;
    Fault restart = crash;
    restart.at = Seconds(0.4);
    restart.kind = FaultKind::lb_restart;
    scenario_.faults = {crash, restart};
    Lab lab(base_.get(), scenario_, options_);
    lab.start(Model::load_balancer);
    lab.begin(Clock::now());
    int down_status = -1;
    At ask(base_.get(), 250ms, [&] {
        down_status =
            http_exchange(kBalancerAddress, options_.http_port, "GET", "/stats", 1s).status;
    });
    run_loop(base_.get(), 1200ms);
    const int up_status =
        http_exchange(kBalancerAddress, options_.http_port, "GET", "/stats", 1s).status;
    lab.end();
    EXPECT_EQ(down_status, 0) << "HAProxy killed: the address refuses";
    EXPECT_EQ(up_status, 200);
    std::vector<AppliedFault> faults = lab.take_faults();
    ASSERT_EQ(faults.size(), 2u);
    EXPECT_TRUE(faults[0].ok) << faults[0].detail;
    EXPECT_TRUE(faults[1].ok) << faults[1].detail;
    EXPECT_NE(faults[1].detail.find("served after"), std::string::npos) << faults[1].detail;
    EXPECT_GE(faults[1].done, faults[1].at);
    // A different HAProxy at the end: its CPU is not counted, and a note says so.
    EXPECT_EQ(lab.costs().lb_cpu_s, 0.0);
    ASSERT_EQ(lab.notes().size(), 1u);
    EXPECT_NE(lab.notes()[0].find("not the same process"), std::string::npos);
}

TEST_F(CompareLab, LoadBalancerFaultsAreNoOpsInTheDnsModels) {
    Fault crash;
    crash.at = Seconds(0.05);
    crash.kind = FaultKind::lb_crash;
    scenario_.faults = {crash};
    Lab lab(base_.get(), scenario_, options_);
    lab.start(Model::zero_admin);
    lab.begin(Clock::now());
    run_loop(base_.get(), 200ms);
    lab.end();
    std::vector<AppliedFault> faults = lab.take_faults();
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_TRUE(faults[0].ok);
    EXPECT_EQ(faults[0].detail, "no-op: the zero-admin model has no load balancer");
    ASSERT_FALSE(lab.notes().empty());
    EXPECT_NE(lab.notes()[0].find("no-op"), std::string::npos);
}

TEST_F(CompareLab, BlackholeOutsideANamespaceIsReportedNotApplied) {
    scenario_.faults = {fault(0.1, 0, FaultKind::blackhole), fault(0.2, 0, FaultKind::unblackhole),
                        fault(0.3, 1, FaultKind::blackhole)};
    Lab lab(base_.get(), scenario_, options_);
    lab.start(Model::zero_admin);
    lab.begin(Clock::now());
    run_loop(base_.get(), 600ms);
    lab.end();
    auto faults = lab.take_faults();
    ASSERT_EQ(faults.size(), 3u);
    const std::string why =
        "blackhole needs root: run nolb-compare as root; it then runs in a network namespace of "
        "its own";
    for (const AppliedFault& f : faults) {
        EXPECT_FALSE(f.ok);
        EXPECT_EQ(f.detail, why);
    }
    EXPECT_EQ(lab.notes(), std::vector<std::string>{why});
    EXPECT_EQ(get(0).status, 200);
}

TEST_F(CompareLab, ANodeThatDiesOnItsOwnIsNoted) {
    Lab lab(base_.get(), scenario_, options_);
    lab.start(Model::zero_admin);
    auto body = nlohmann::json::parse(get(0).body, nullptr, false);
    const auto pid = static_cast<pid_t>(body.value("pid", 0L));
    ASSERT_GT(pid, 0);
    lab.begin(Clock::now());
    At kill(base_.get(), 100ms, [&] { ::kill(pid, SIGKILL); });
    run_loop(base_.get(), 800ms);
    lab.end();
    auto notes = lab.notes();
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("node1 exited unexpectedly"), std::string::npos) << notes[0];
    EXPECT_NE(notes[0].find("killed by signal 9"), std::string::npos) << notes[0];
}

TEST_F(CompareLab, StopLeavesNoProcessBehind) {
    Lab lab(base_.get(), scenario_, options_);
    lab.start(Model::load_balancer);
    std::vector<pid_t> pids = child_pids();
    EXPECT_EQ(pids.size(), 5u);  // three nodes, nolbd, HAProxy
    lab.stop();
    for (pid_t pid : pids) {
        errno = 0;
        EXPECT_EQ(::kill(pid, 0), -1) << "pid " << pid << " is still there";
        EXPECT_EQ(errno, ESRCH);
    }
    EXPECT_TRUE(child_pids().empty());
    // Each one stopped on SIGTERM, with a clean status.
    EXPECT_TRUE(lab.notes().empty()) << lab.notes().front();

    // The lab starts again after a stop, and its destructor stops what runs.
    lab.start(Model::zero_admin);
    pids = child_pids();
    EXPECT_EQ(pids.size(), 4u);
}

TEST_F(CompareLab, DestructorStopsEverything) {
    std::vector<pid_t> pids;
    {
        Lab lab(base_.get(), scenario_, options_);
        lab.start(Model::health_checked);
        pids = child_pids();
        lab.begin(Clock::now());
        run_loop(base_.get(), 200ms);
    }
    EXPECT_EQ(pids.size(), 4u);
    for (pid_t pid : pids)
        EXPECT_EQ(::kill(pid, 0), -1) << "pid " << pid << " is still there";
    EXPECT_TRUE(child_pids().empty());
}

TEST_F(CompareLab, StartNamesTheNodeThatCannotStart) {
    // Something else holds node2's address and port: nolb-stats cannot listen and exits 1.
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(options_.http_port);
    ::inet_pton(AF_INET, "127.0.0.12", &sin.sin_addr);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    Lab lab(base_.get(), scenario_, options_);
    try {
        lab.start(Model::zero_admin);
        ADD_FAILURE() << "start() did not throw";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("node2"), std::string::npos) << what;
        EXPECT_NE(what.find("exit status 1"), std::string::npos) << what;
        EXPECT_NE(what.find("cannot listen"), std::string::npos) << what;
    }
    ::close(fd);
    EXPECT_TRUE(child_pids().empty());
}

}  // namespace
}  // namespace nolb::compare
