// The sites' distance for real. As root, a child process of the test unshares a network
// namespace of its own (nothing it does reaches the host's network), brings its loopback up and
// runs the lab there: nolb-stats nodes in a near site (2 ms) and a far one (40 ms), nolbd, the
// iptables rules and the NFQUEUE delay. It measures, against a near and a far node, the time a
// TCP connect takes (a SYN and its SYN-ACK) and the time a GET /stats on the open connection
// takes (the request and its response), and whether the rules are gone once the lab is. The
// far node must be at least its round trip slower on both counts; nothing is asserted the other
// way, since a busy machine only ever adds time. A second test fills a tiny hold and checks that
// packets are let go early, in order, and counted. Without root both are skipped.
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nolb-compare/lab.hpp"
#include "nolb-compare/lab_process.hpp"
#include "nolb-compare/lab_servers.hpp"
#include "nolb-compare/scenario.hpp"
#include "nolb-compare/site_delay.hpp"
#include "util/event.hpp"

namespace nolb::compare {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr double kNearRtt = 0.002;
constexpr double kFarRtt = 0.040;
constexpr int kSamples = 10;
constexpr std::uint16_t kPort = 8080;  // the namespace is the test's own: every port is free

double ms_since(SteadyClock::time_point from) {
    return std::chrono::duration<double, std::milli>(SteadyClock::now() - from).count();
}

bool loopback_up() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    bool ok = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
    ::close(fd);
    return ok;
}

// Runs `body` in a child process inside a fresh network namespace and returns what it wrote to
// its pipe, or an "error" member when the child could not run or ended badly. Bounded: the
// child is killed after 60 s.
Json in_own_namespace(const std::function<Json()>& body) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return {{"error", "pipe"}};
    const pid_t pid = ::fork();
    if (pid < 0) return {{"error", "fork"}};
    if (pid == 0) {
        ::close(pipe_fds[0]);
        Json out;
        if (::unshare(CLONE_NEWNET) != 0)
            out = {{"error", std::string("unshare: ") + std::strerror(errno)}};
        else if (!loopback_up())
            out = {{"error", "cannot bring the namespace's loopback up"}};
        else {
            try {
                out = body();
            } catch (const std::exception& e) {
                out = {{"error", e.what()}};
            }
        }
        const std::string text = out.dump();
        const ssize_t written = ::write(pipe_fds[1], text.data(), text.size());
        ::_exit(written == static_cast<ssize_t>(text.size()) ? 0 : 1);
    }
    ::close(pipe_fds[1]);
    std::string text;
    char buffer[4096];
    const auto deadline = SteadyClock::now() + std::chrono::seconds(60);
    for (;;) {
        pollfd p{pipe_fds[0], POLLIN, 0};
        if (::poll(&p, 1, 200) > 0) {
            const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
            if (n <= 0) break;
            text.append(buffer, static_cast<std::size_t>(n));
        }
        if (SteadyClock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            break;
        }
    }
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    Json out = Json::parse(text, nullptr, false);
    if (out.is_discarded()) return {{"error", "the child wrote no result (" + text + ")"}};
    return out;
}

sockaddr_in address_of(const std::string& address) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(kPort);
    ::inet_pton(AF_INET, address.c_str(), &sin.sin_addr);
    return sin;
}

// One sample against a node: the connect's time, then a GET /stats on that connection until
// the first octet of the response. Blocking, bounded by SO_RCVTIMEO and the kernel's connect.
struct Sample {
    double connect_ms = -1;
    double request_ms = -1;
};

Sample measure(const std::string& address) {
    Sample s;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return s;
    const timeval patience{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);
    const sockaddr_in sin = address_of(address);
    auto start = SteadyClock::now();
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) == 0) {
        s.connect_ms = ms_since(start);
        const std::string request = "GET /stats HTTP/1.1\r\nHost: " + address + "\r\n\r\n";
        char byte;
        start = SteadyClock::now();
        if (::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()) &&
            ::recv(fd, &byte, 1, 0) == 1)
            s.request_ms = ms_since(start);
    }
    ::close(fd);
    return s;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? -1 : v[v.size() / 2];
}

double minimum(const std::vector<double>& v) {
    return v.empty() ? -1 : *std::min_element(v.begin(), v.end());
}

Json measure_node(const std::string& address) {
    std::vector<double> connects, requests;
    for (int i = 0; i < kSamples; ++i) {
        Sample s = measure(address);
        if (s.connect_ms >= 0) connects.push_back(s.connect_ms);
        if (s.request_ms >= 0) requests.push_back(s.request_ms);
    }
    return {{"connects", connects.size()},         {"requests", requests.size()},
            {"connect_min_ms", minimum(connects)}, {"connect_median_ms", median(connects)},
            {"request_min_ms", minimum(requests)}, {"request_median_ms", median(requests)}};
}

// Child::spawn runs a path, not a name looked up in PATH.
std::string tool(const char* name) {
    for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin"})
        if (::access((std::string(dir) + "/" + name).c_str(), X_OK) == 0)
            return std::string(dir) + "/" + name;
    return name;
}

std::string mangle_rules() {
    std::string error;
    const fs::path log =
        fs::temp_directory_path() / ("nolb-sites-save-" + std::to_string(::getpid()) + ".txt");
    Child save = Child::spawn({tool("iptables-save"), "-t", "mangle"}, log);
    save.wait_for(std::chrono::seconds(5));
    std::string text = log_tail(log, 200);
    std::error_code ec;
    fs::remove(log, ec);
    return text;
}

bool root() {
    return ::geteuid() == 0;
}

TEST(CompareSites, TheFarSiteIsItsRoundTripAwayAndTheRulesLeaveWithTheLab) {
    if (!root()) GTEST_SKIP() << "needs root: a network namespace, iptables and NFQUEUE";
    char templ[] = "/tmp/nolb-sites-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    const fs::path work = templ;

    Json result = in_own_namespace([&]() -> Json {
        Scenario scenario = load_scenario_string(
            "nodes = 4\nmodels = [\"zero-admin\"]\n"
            "[[site]]\nname = \"near\"\nrtt = 0.002\nnodes = [1, 2]\n"
            "[[site]]\nname = \"far\"\nrtt = 0.040\nnodes = [3, 4]\n",
            "sites-test.toml");
        LabOptions options;
        options.bin_dir = fs::path(NOLBD_PATH).parent_path();
        options.work_dir = work;
        options.in_namespace = true;
        options.http_port = kPort;
        options.dns_port = 53;
        util::EventBase base = util::make_event_base();
        Json out;
        {
            Lab lab(base.get(), scenario, options);
            lab.start(Model::zero_admin);
            out["rules_during"] = mangle_rules();
            out["near"] = measure_node(node_address(scenario, 0));
            out["far"] = measure_node(node_address(scenario, 2));
            out["notes"] = lab.notes();
            lab.stop();
        }
        out["rules_after"] = mangle_rules();
        return out;
    });
    ASSERT_FALSE(result.contains("error")) << result.dump(2) << "\nlogs in " << work;
    std::cout << "near: " << result["near"].dump() << "\nfar: " << result["far"].dump() << "\n";

    const Json& near = result["near"];
    const Json& far = result["far"];
    ASSERT_EQ(near["connects"], kSamples);
    ASSERT_EQ(far["connects"], kSamples);
    ASSERT_EQ(near["requests"], kSamples);
    ASSERT_EQ(far["requests"], kSamples);
    // Each direction waits half the round trip: connect() returns after the SYN and the SYN-ACK,
    // the first octet of the answer after the request and the response. The hold may end up to
    // 20 us early per packet (site_delay.cpp), hence the 0.1 ms.
    EXPECT_GE(far["connect_min_ms"].get<double>(), kFarRtt * 1000 - 0.1);
    EXPECT_GE(far["request_min_ms"].get<double>(), kFarRtt * 1000 - 0.1);
    EXPECT_GE(near["connect_min_ms"].get<double>(), kNearRtt * 1000 - 0.1);
    EXPECT_GE(near["request_min_ms"].get<double>(), kNearRtt * 1000 - 0.1);
    // And the far one is slower than the near one by at least most of the difference.
    const double gap = (kFarRtt - kNearRtt) * 1000 * 0.9;
    EXPECT_GE(far["connect_median_ms"].get<double>() - near["connect_median_ms"].get<double>(),
              gap);
    EXPECT_GE(far["request_median_ms"].get<double>() - near["request_median_ms"].get<double>(),
              gap);

    const std::string during = result["rules_during"];
    EXPECT_NE(during.find("-A OUTPUT -j nolb-sites"), std::string::npos) << during;
    EXPECT_NE(during.find("-d 127.0.0.13/32 -j NFQUEUE --queue-num 101"), std::string::npos)
        << during;
    const std::string after = result["rules_after"];
    EXPECT_EQ(after.find("nolb-sites"), std::string::npos) << after;
    EXPECT_EQ(after.find("NFQUEUE"), std::string::npos) << after;
    EXPECT_TRUE(result["notes"].empty()) << result["notes"].dump();

    if (!HasFailure()) {
        std::error_code ec;
        fs::remove_all(work, ec);
    }
}

// A hold of two packets against a stream of them: the oldest go early, the connection still
// works (nothing reordered, nothing dropped), and the early ones are counted.
TEST(CompareSites, AFullHoldLetsTheOldestGoEarlyAndCountsThem) {
    if (!root()) GTEST_SKIP() << "needs root: a network namespace, iptables and NFQUEUE";
    Json result = in_own_namespace([]() -> Json {
        Scenario scenario = load_scenario_string(
            "nodes = 2\n[[site]]\nname = \"far\"\nrtt = 0.2\nnodes = [2]\n", "full.toml");
        SiteDelay delay({{site_queue(0), Seconds(0.1)}}, 2);
        const fs::path log =
            fs::temp_directory_path() / ("nolb-sites-full-" + std::to_string(::getpid()) + ".log");
        Child rules =
            Child::spawn({tool("iptables-restore"), "--noflush"}, log, site_rules(scenario));
        const bool added = rules.wait_for(std::chrono::seconds(5)) && *rules.status() == 0;
        const std::string why = log_tail(log);
        std::error_code ec;
        fs::remove(log, ec);
        if (!added) return {{"error", "iptables-restore failed: " + why}};
        // A listener on the far node's address and a client sending it 64 KiB in small writes.
        const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const sockaddr_in sin = address_of(node_address(scenario, 1));
        const int on = 1;
        ::setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (::bind(server, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0 ||
            ::listen(server, 4) != 0)
            return {{"error", "listen"}};
        const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const timeval patience{10, 0};
        ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);
        ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        if (::connect(client, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0)
            return {{"error", "connect"}};
        const int accepted = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
        ::setsockopt(accepted, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
        std::vector<std::uint8_t> sent(64 * 1024);
        for (std::size_t i = 0; i < sent.size(); ++i)
            sent[i] = static_cast<std::uint8_t>(i * 7);
        std::vector<std::uint8_t> received;
        std::size_t offset = 0;
        std::vector<std::uint8_t> buffer(sent.size());
        while (received.size() < sent.size()) {
            if (offset < sent.size()) {
                const std::size_t chunk = std::min<std::size_t>(1024, sent.size() - offset);
                const ssize_t n = ::send(client, sent.data() + offset, chunk, MSG_DONTWAIT);
                if (n > 0) offset += static_cast<std::size_t>(n);
            }
            const ssize_t n = ::recv(accepted, buffer.data(), buffer.size(),
                                     offset < sent.size() ? MSG_DONTWAIT : 0);
            if (n > 0) received.insert(received.end(), buffer.begin(), buffer.begin() + n);
            if (n == 0 || (n < 0 && errno != EAGAIN && offset >= sent.size())) break;
        }
        ::close(accepted);
        ::close(client);
        ::close(server);
        const SiteDelayCounts counts = delay.counts();
        return {{"intact", received == sent},
                {"received", received.size()},
                {"released_early", counts.released_early},
                {"most_held", counts.most_held},
                {"held", counts.held},
                {"failure", counts.failure}};
    });
    ASSERT_FALSE(result.contains("error")) << result.dump(2);
    std::cout << result.dump() << "\n";
    EXPECT_TRUE(result["intact"].get<bool>()) << result.dump();
    EXPECT_GT(result["released_early"].get<std::uint64_t>(), 0u);
    EXPECT_LE(result["most_held"].get<std::uint64_t>(), 2u);
    EXPECT_EQ(result["failure"], "");
}

}  // namespace
}  // namespace nolb::compare
