// The TCP probe: a listener accepts (ok), a closed port refuses, a listener whose queue is full
// lets the connection time out.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

#include "health/probe.hpp"
#include "unit/health/backend.hpp"
#include "util/event.hpp"

namespace nolb::health {
namespace {

using namespace std::chrono_literals;

config::HealthCheck tcp_check(std::uint16_t port, std::chrono::milliseconds timeout = 1000ms) {
    config::HealthCheck check;
    check.type = config::HealthMode::tcp;
    check.port = port;
    check.timeout = timeout;
    return check;
}

ProbeResult run(const char* address, const config::HealthCheck& check) {
    auto base = util::make_event_base();
    std::optional<ProbeResult> result;
    auto probe = start_probe(base.get(), make_probe_spec(*util::IpAddress::parse(address), check),
                             [&result](ProbeResult r) { result = std::move(r); });
    const auto give_up = std::chrono::steady_clock::now() + check.timeout + 5s;
    while (!result && std::chrono::steady_clock::now() < give_up)
        event_base_loop(base.get(), EVLOOP_ONCE);
    if (!result) {
        ADD_FAILURE() << "the probe never reported";
        return {};
    }
    return *result;
}

TEST(TcpProbe, ConnectedOnIpv4AndIpv6) {
    for (const char* address : {"127.0.0.1", "::1"}) {
        test::Backend backend(address, test::Behaviour::hang);  // accepts, says nothing
        ProbeResult r = run(address, tcp_check(backend.port()));
        EXPECT_EQ(r.outcome, Outcome::ok) << address << ": " << r.detail;
        EXPECT_EQ(r.detail, "connected");
        EXPECT_EQ(r.http_status, 0);
    }
}

TEST(TcpProbe, ClosedPortIsRefused) {
    for (const char* address : {"127.0.0.1", "::1"}) {
        ProbeResult r = run(address, tcp_check(test::closed_port(address)));
        EXPECT_EQ(r.outcome, Outcome::refused) << address;
    }
}

// A listener that never accepts, its queue filled: the kernel drops further SYNs, so the
// connection is neither made nor refused.
TEST(TcpProbe, ConnectionThatNeverCompletesTimesOut) {
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(listener, 0), 0);
    socklen_t length = sizeof address;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    std::vector<int> fillers;
    for (int i = 0; i < 8; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
        fillers.push_back(fd);
    }
    ProbeResult r = run("127.0.0.1", tcp_check(ntohs(address.sin_port), 150ms));
    for (int fd : fillers)
        ::close(fd);
    ::close(listener);
    if (r.outcome == Outcome::ok) GTEST_SKIP() << "this kernel accepted beyond the backlog";
    EXPECT_EQ(r.outcome, Outcome::timeout);
    EXPECT_EQ(r.detail, "timeout: no connection after 150 ms");
    EXPECT_GE(r.latency, 140ms);
    EXPECT_LT(r.latency, 1000ms);
}

}  // namespace
}  // namespace nolb::health
