// SocketProbe, the part every probe shares, driven by a probe of the test's own whose steps are
// scripted: a result found inside start() is reported from the loop, never from start itself;
// the deadline makes a timeout unless the last look decides; exactly one report, none once the
// probe is destroyed, and the callback may destroy the probe; the socket is closed with a reset
// unless the peer closed first. Also the mapping of socket errors and make_probe_spec. Real
// sockets on loopback, real event loops (epoll, and poll, which has no edge-triggered events).
#include "health/probe_socket.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>

#include "util/event.hpp"

namespace nolb::health {
namespace {

using namespace std::chrono_literals;

// A probe whose steps are the test's. By default it connects and finishes "connected" as soon
// as connect() says the connection is made, or fails with connect's error.
class ScriptedProbe : public SocketProbe {
  public:
    using SocketProbe::SocketProbe;
    using Step = std::function<void(ScriptedProbe&)>;

    Step on_issued = [](ScriptedProbe& p) { p.judge_connection(); };
    std::function<void(ScriptedProbe&, short)> on_ready = [](ScriptedProbe& p, short) {
        p.judge_connection();
    };
    Step on_last_look = [](ScriptedProbe&) {};
    int issued_calls = 0, ready_calls = 0, last_looks = 0;

    void judge_connection() {
        const int state = connection_state();
        if (state > 0) {
            ProbeResult r;
            r.detail = "connected";
            finish(std::move(r));
        } else if (state < 0) {
            finish(socket_failure(-state));
        }
    }
    void succeed(std::string detail) {
        ProbeResult r;
        r.detail = std::move(detail);
        finish(std::move(r));
    }
    using SocketProbe::fd;
    using SocketProbe::peer_closed;
    using SocketProbe::reading_only;

  protected:
    void issued() override {
        ++issued_calls;
        on_issued(*this);
    }
    void ready(short what) override {
        ++ready_calls;
        on_ready(*this, what);
    }
    void last_look() override {
        ++last_looks;
        on_last_look(*this);
    }
    std::string timeout_detail() const override { return "timeout after " + timeout_ms(); }
};

// A listening socket on 127.0.0.1 that the test accepts from by hand.
struct Listener {
    int fd = -1;
    std::uint16_t port = 0;
    Listener() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof sin;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&sin), len) != 0 || ::listen(fd, 16) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) != 0) {
            ::close(fd);
            fd = -1;
            return;
        }
        port = ntohs(sin.sin_port);
    }
    ~Listener() {
        if (fd >= 0) ::close(fd);
    }
    int accept() const { return ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC); }
};

// A port on 127.0.0.1 where nothing listens.
std::uint16_t closed_port() {
    Listener l;
    return l.port;  // closed when `l` goes
}

std::shared_ptr<const ProbeSpec> spec_for(std::uint16_t port, std::chrono::milliseconds timeout) {
    auto spec = std::make_shared<ProbeSpec>();
    spec->type = config::HealthMode::tcp;
    spec->target = util::Endpoint{*util::IpAddress::parse("127.0.0.1"), port};
    spec->timeout = timeout;
    return spec;
}

util::EventBase base_without_edges() {
    std::unique_ptr<event_config, decltype(&event_config_free)> config(event_config_new(),
                                                                       &event_config_free);
    event_config_avoid_method(config.get(), "epoll");
    return util::EventBase(event_base_new_with_config(config.get()));
}

// Runs `base` until `done` holds or `limit` passes.
bool run_until(event_base* base, const std::function<bool()>& done,
               std::chrono::milliseconds limit = 5s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= end) return false;
        timeval tick{0, 10'000};
        event_base_loopexit(base, &tick);
        event_base_dispatch(base);
    }
    return true;
}

class SocketProbeTest : public ::testing::TestWithParam<bool> {
  protected:
    void SetUp() override {
        base_ = GetParam() ? util::make_event_base() : base_without_edges();
        ASSERT_TRUE(base_);
        const bool edge = (event_base_get_features(base_.get()) & EV_FEATURE_ET) != 0;
        ASSERT_EQ(edge, GetParam()) << event_base_get_method(base_.get());
    }
    // A probe whose results are kept in `results`.
    std::unique_ptr<ScriptedProbe> probe(std::uint16_t port, std::chrono::milliseconds timeout) {
        return std::make_unique<ScriptedProbe>(
            base_.get(), spec_for(port, timeout),
            [this](ProbeResult r) { results.push_back(std::move(r)); });
    }
    event_base* base() { return base_.get(); }
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
        return nolb::health::run_until(base(), done, limit);
    }

    std::vector<ProbeResult> results;

  private:
    util::EventBase base_;
};

TEST_P(SocketProbeTest, AResultFoundInStartIsReportedFromTheLoop) {
    Listener listener;
    ASSERT_GE(listener.fd, 0);
    auto p = probe(listener.port, 1000ms);
    p->start();
    EXPECT_EQ(p->issued_calls, 1);
    // On loopback the connection is made inside connect(): judged, but not yet reported.
    EXPECT_TRUE(results.empty());
    EXPECT_EQ(p->fd(), -1);  // finished: the socket is already closed
    ASSERT_TRUE(run_until([&] { return !results.empty(); }));
    EXPECT_EQ(results[0].outcome, Outcome::ok);
    EXPECT_EQ(results[0].detail, "connected");
    EXPECT_LT(results[0].latency, 1s);
    EXPECT_EQ(p->ready_calls, 0);
    // Exactly once.
    run_until([] { return false; }, 50ms);
    EXPECT_EQ(results.size(), 1u);
}

TEST_P(SocketProbeTest, RefusedConnectionIsReportedOnceFromTheLoop) {
    auto p = probe(closed_port(), 1000ms);
    p->start();
    EXPECT_TRUE(results.empty());
    ASSERT_TRUE(run_until([&] { return !results.empty(); }));
    EXPECT_EQ(results[0].outcome, Outcome::refused);
    EXPECT_EQ(results[0].detail, "connection refused");
    run_until([] { return false; }, 50ms);
    EXPECT_EQ(results.size(), 1u);
}

TEST_P(SocketProbeTest, WaitingProbeTimesOutAtItsDeadline) {
    Listener listener;  // accepts in the kernel; nobody ever answers
    ASSERT_GE(listener.fd, 0);
    auto p = probe(listener.port, 150ms);
    p->on_issued = [](ScriptedProbe& self) { self.reading_only(); };
    p->on_ready = [](ScriptedProbe&, short) {};  // an answer that never decides
    const auto start = std::chrono::steady_clock::now();
    p->start();
    EXPECT_GE(p->fd(), 0);  // waiting: the socket is open
    ASSERT_TRUE(run_until([&] { return !results.empty(); }));
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(results[0].outcome, Outcome::timeout);
    EXPECT_EQ(results[0].detail, "timeout after 150 ms");
    EXPECT_EQ(p->last_looks, 1);
    EXPECT_GE(waited, 140ms);
    EXPECT_LT(waited, 3s);
    EXPECT_GE(results[0].latency, 140ms);
    EXPECT_EQ(p->fd(), -1);
    run_until([] { return false; }, 100ms);
    EXPECT_EQ(results.size(), 1u);
}

TEST_P(SocketProbeTest, ReadinessReachesTheProbe) {
    Listener listener;
    ASSERT_GE(listener.fd, 0);
    auto p = probe(listener.port, 2000ms);
    p->on_issued = [](ScriptedProbe& self) { self.reading_only(); };
    p->on_ready = [](ScriptedProbe& self, short what) {
        if (!(what & EV_READ)) return;
        char buffer[16];
        ssize_t n = ::recv(self.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0) self.succeed(std::string(buffer, static_cast<std::size_t>(n)));
    };
    p->start();
    int server = listener.accept();
    ASSERT_GE(server, 0);
    ASSERT_EQ(::send(server, "hello", 5, MSG_NOSIGNAL), 5);
    ASSERT_TRUE(run_until([&] { return !results.empty(); }));
    EXPECT_EQ(results[0].outcome, Outcome::ok);
    EXPECT_EQ(results[0].detail, "hello");
    EXPECT_EQ(p->last_looks, 0);
    ::close(server);
}

TEST_P(SocketProbeTest, LastLookDecidesWhatArrivedInTime) {
    Listener listener;
    ASSERT_GE(listener.fd, 0);
    auto p = probe(listener.port, 100ms);
    p->on_issued = [](ScriptedProbe& self) { self.reading_only(); };
    p->on_ready = [](ScriptedProbe&, short) {};  // as if the loop fell behind
    p->on_last_look = [](ScriptedProbe& self) { self.succeed("seen at the deadline"); };
    p->start();
    ASSERT_TRUE(run_until([&] { return !results.empty(); }));
    EXPECT_EQ(results[0].outcome, Outcome::ok);
    EXPECT_EQ(results[0].detail, "seen at the deadline");
    run_until([] { return false; }, 50ms);
    EXPECT_EQ(results.size(), 1u);
}

TEST_P(SocketProbeTest, TheCallbackMayDestroyTheProbe) {
    Listener listener;
    ASSERT_GE(listener.fd, 0);
    for (bool at_deadline : {false, true}) {
        SCOPED_TRACE(at_deadline ? "from the last look" : "from the loop");
        std::unique_ptr<ScriptedProbe> p;
        int reports = 0;
        p = std::make_unique<ScriptedProbe>(base(), spec_for(listener.port, 100ms),
                                            [&](ProbeResult) {
                                                ++reports;
                                                p.reset();
                                            });
        if (at_deadline) {
            p->on_issued = [](ScriptedProbe&) {};
            p->on_ready = [](ScriptedProbe&, short) {};
            p->on_last_look = [](ScriptedProbe& self) { self.succeed("late"); };
        }
        p->start();
        ASSERT_TRUE(run_until([&] { return p == nullptr; }));
        run_until([] { return false; }, 50ms);
        EXPECT_EQ(reports, 1);
    }
}

TEST_P(SocketProbeTest, DestroyingAProbeCancelsItsReport) {
    Listener listener;
    ASSERT_GE(listener.fd, 0);
    // One judged inside start() (its report pending in the loop), one waiting for its deadline.
    auto judged = probe(listener.port, 100ms);
    judged->start();
    auto waiting = probe(listener.port, 100ms);
    waiting->on_issued = [](ScriptedProbe&) {};
    waiting->on_ready = [](ScriptedProbe&, short) {};
    waiting->start();
    judged.reset();
    waiting.reset();
    run_until([] { return false; }, 300ms);
    EXPECT_TRUE(results.empty());
}

TEST_P(SocketProbeTest, ClosesWithAResetUnlessThePeerClosedFirst) {
    Listener listener;
    ASSERT_GE(listener.fd, 0);
    for (bool peer_first : {false, true}) {
        SCOPED_TRACE(peer_first ? "peer closed first" : "probe closes");
        results.clear();
        auto p = probe(listener.port, 2000ms);
        p->on_issued = [](ScriptedProbe& self) { self.reading_only(); };
        p->on_ready = [peer_first](ScriptedProbe& self, short) {
            // Read what came first: closing on unread bytes would reset in any case.
            char buffer[16];
            if (::recv(self.fd(), buffer, sizeof buffer, MSG_DONTWAIT) <= 0) return;
            if (peer_first) self.peer_closed();
            self.succeed("done");
        };
        p->start();
        int server = listener.accept();
        ASSERT_GE(server, 0);
        ASSERT_EQ(::send(server, "x", 1, MSG_NOSIGNAL), 1);
        ASSERT_TRUE(run_until([&] { return !results.empty(); }));
        // The server's end sees how the probe closed: a reset, or (after the peer's own close)
        // a plain end of stream.
        char byte;
        ::shutdown(server, SHUT_WR);
        ssize_t n = -1;
        for (int i = 0; i < 100; ++i) {
            n = ::recv(server, &byte, 1, MSG_DONTWAIT);
            if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) break;
            ::usleep(10'000);
        }
        if (peer_first) {
            EXPECT_EQ(n, 0);
        } else {
            EXPECT_EQ(n, -1);
            EXPECT_EQ(errno, ECONNRESET);
        }
        ::close(server);
    }
}

INSTANTIATE_TEST_SUITE_P(Loops, SocketProbeTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& param) {
                             return param.param ? "EdgeTriggered" : "LevelTriggered";
                         });

// The errors probe_http_test's SocketFailure.ErrnoToOutcome leaves out.
TEST(SocketFailure, DetailsAndTheRarerErrors) {
    EXPECT_EQ(socket_failure(ECONNREFUSED).detail, "connection refused");
    EXPECT_EQ(socket_failure(ENETDOWN).outcome, Outcome::unreachable);
    EXPECT_EQ(socket_failure(ENETDOWN).detail, "network unreachable");
    for (int e : {EHOSTUNREACH, EHOSTDOWN}) {
        EXPECT_EQ(socket_failure(e).outcome, Outcome::unreachable);
        EXPECT_EQ(socket_failure(e).detail, "host unreachable");
    }
    EXPECT_EQ(socket_failure(ECONNRESET).detail, "connection reset");
    EXPECT_EQ(socket_failure(EPIPE).detail, "connection reset");
    EXPECT_EQ(socket_failure(ETIMEDOUT).outcome, Outcome::timeout);
    EXPECT_EQ(socket_failure(ETIMEDOUT).detail, "connection timed out");
    EXPECT_EQ(socket_failure(EACCES).outcome, Outcome::error);
    EXPECT_EQ(socket_failure(EACCES).detail, std::strerror(EACCES));
}

TEST(MakeProbeSpec, TcpTakesTheAddressPortAndTimeout) {
    config::HealthCheck check;
    check.type = config::HealthMode::tcp;
    check.port = 8443;
    check.timeout = 250ms;
    auto spec = make_probe_spec(*util::IpAddress::parse("2001:db8::7"), check);
    EXPECT_EQ(spec->type, config::HealthMode::tcp);
    EXPECT_EQ(spec->target.to_string(), "[2001:db8::7]:8443");
    EXPECT_EQ(spec->timeout, 250ms);
    EXPECT_EQ(spec->request, "");
}

TEST(MakeProbeSpec, HttpHostDefaultsToTheAddressBracketedForIpv6) {
    config::HealthCheck check;
    check.type = config::HealthMode::http;
    check.port = 80;
    check.path = "/health";
    check.status = {{200, 204}};
    check.body = "ok";
    auto v4 = make_probe_spec(*util::IpAddress::parse("192.0.2.1"), check);
    EXPECT_NE(v4->request.find("\r\nHost: 192.0.2.1\r\n"), std::string::npos) << v4->request;
    auto v6 = make_probe_spec(*util::IpAddress::parse("2001:db8::1"), check);
    EXPECT_NE(v6->request.find("\r\nHost: [2001:db8::1]\r\n"), std::string::npos) << v6->request;
    EXPECT_EQ(v6->request.rfind("GET /health HTTP/1.1\r\n", 0), 0u) << v6->request;
    EXPECT_EQ(v6->status, check.status);
    EXPECT_EQ(v6->body, "ok");

    check.host = "www.demo.test";
    auto named = make_probe_spec(*util::IpAddress::parse("2001:db8::1"), check);
    EXPECT_NE(named->request.find("\r\nHost: www.demo.test\r\n"), std::string::npos);
    EXPECT_EQ(named->request.find("[2001:db8::1]"), std::string::npos);
}

}  // namespace
}  // namespace nolb::health
