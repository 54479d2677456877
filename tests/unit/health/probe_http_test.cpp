// The HTTP probe against a backend that misbehaves in every way the probe must survive, on
// IPv4 and IPv6 loopback; and HttpReader fed by hand, split at every byte.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "health/probe.hpp"
#include "health/probe_socket.hpp"
#include "unit/health/backend.hpp"
#include "util/event.hpp"
#include "util/version.hpp"

namespace nolb::health {
namespace {

using namespace std::chrono_literals;
using test::Backend;
using test::Behaviour;
using test::http_check;

// Runs one probe to completion on `base`, or on its own loop (bounded by the probe's timeout plus
// a margin); `passes` counts the passes of the loop it took.
ProbeResult run(const util::IpAddress& address, const config::HealthCheck& check,
                event_base* base = nullptr, int* passes = nullptr) {
    util::EventBase own;
    if (base == nullptr) {
        own = util::make_event_base();
        base = own.get();
    }
    std::optional<ProbeResult> result;
    auto probe = start_probe(base, make_probe_spec(address, check),
                             [&result](ProbeResult r) { result = std::move(r); });
    const auto give_up = std::chrono::steady_clock::now() + check.timeout + 5s;
    int n = 0;
    for (; !result && std::chrono::steady_clock::now() < give_up; ++n)
        event_base_loop(base, EVLOOP_ONCE);
    if (passes != nullptr) *passes = n;
    if (!result) {
        ADD_FAILURE() << "the probe never reported";
        return {};
    }
    return *result;
}

ProbeResult run(Backend& backend, config::HealthCheck check, event_base* base = nullptr,
                int* passes = nullptr) {
    return run(backend.address(), check, base, passes);
}

std::chrono::milliseconds ms(std::chrono::microseconds us) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(us);
}

TEST(HttpProbe, RequestIsOneGetWithHostAndClose) {
    config::HealthCheck check = http_check(80);
    EXPECT_EQ(http_request(check), std::string("GET /health HTTP/1.1\r\nHost: www.demo.test\r\n"
                                               "User-Agent: nolbd/") +
                                       kVersion + "\r\nConnection: close\r\nAccept: */*\r\n\r\n");
    // Built without a host, the request names the address.
    check.host.clear();
    auto spec = make_probe_spec(*util::IpAddress::parse("::1"), check);
    EXPECT_NE(spec->request.find("\r\nHost: [::1]\r\n"), std::string::npos) << spec->request;
    EXPECT_EQ(spec->target.port, 80);
}

TEST(HttpProbe, OkOnIpv4AndIpv6) {
    for (const char* address : {"127.0.0.1", "::1"}) {
        Backend backend(address);
        ProbeResult r = run(backend, http_check(backend.port()));
        EXPECT_EQ(r.outcome, Outcome::ok) << address << ": " << r.detail;
        EXPECT_EQ(r.http_status, 200);
        EXPECT_EQ(r.detail, "status 200");
        EXPECT_GT(r.latency.count(), 0);
        EXPECT_LT(ms(r.latency), 500ms);
    }
}

TEST(HttpProbe, BodyCheck) {
    Backend backend;
    config::HealthCheck check = http_check(backend.port());
    check.body = "healthy";
    for (Behaviour b : {Behaviour::ok, Behaviour::ok_chunked, Behaviour::ok_close}) {
        backend.set(b);
        ProbeResult r = run(backend, check);
        EXPECT_EQ(r.outcome, Outcome::ok) << static_cast<int>(b) << ": " << r.detail;
    }
    backend.set(Behaviour::wrong_body);
    ProbeResult r = run(backend, check);
    EXPECT_EQ(r.outcome, Outcome::body);
    EXPECT_EQ(r.detail, "body mismatch");
    EXPECT_EQ(r.http_status, 200);
    // Without a body check, any body will do.
    EXPECT_EQ(run(backend, http_check(backend.port())).outcome, Outcome::ok);
}

TEST(HttpProbe, StatusNotAccepted) {
    Backend backend("127.0.0.1", Behaviour::status_503);
    ProbeResult r = run(backend, http_check(backend.port()));
    EXPECT_EQ(r.outcome, Outcome::status);
    EXPECT_EQ(r.detail, "status 503");
    EXPECT_EQ(r.http_status, 503);
    // ... unless listed.
    config::HealthCheck check = http_check(backend.port());
    check.status = {{200, 299}, {503, 503}};
    EXPECT_EQ(run(backend, check).outcome, Outcome::ok);
}

TEST(HttpProbe, NoAnswerTimesOutOnTime) {
    Backend backend("127.0.0.1", Behaviour::hang);
    int passes = 0;
    ProbeResult r = run(backend, http_check(backend.port(), 200ms), nullptr, &passes);
    EXPECT_EQ(r.outcome, Outcome::timeout);
    EXPECT_EQ(r.detail, "timeout: no response after 200 ms");
    EXPECT_GE(ms(r.latency), 190ms);
    EXPECT_LT(ms(r.latency), 700ms);
    EXPECT_LT(passes, 20);  // waiting costs the loop nothing
}

TEST(HttpProbe, DrippingBackendCannotExtendTheDeadline) {
    Backend backend("127.0.0.1", Behaviour::drip);
    ProbeResult r = run(backend, http_check(backend.port(), 1500ms));
    EXPECT_EQ(r.outcome, Outcome::timeout);
    EXPECT_EQ(r.detail, "timeout: response incomplete after 1500 ms");
    EXPECT_LT(ms(r.latency), 2000ms);
}

TEST(HttpProbe, AnswerAfterTheTimeoutIsATimeout) {
    Backend backend("127.0.0.1", Behaviour::late);
    backend.set_late(400ms);
    ProbeResult r = run(backend, http_check(backend.port(), 150ms));
    EXPECT_EQ(r.outcome, Outcome::timeout);
    EXPECT_LT(ms(r.latency), 390ms);
    // Given the time, the same backend is fine.
    EXPECT_EQ(run(backend, http_check(backend.port(), 2000ms)).outcome, Outcome::ok);
}

TEST(HttpProbe, EndlessBodyStopsAtTheCap) {
    Backend backend("127.0.0.1", Behaviour::endless);
    ProbeResult r = run(backend, http_check(backend.port(), 3000ms));
    EXPECT_EQ(r.outcome, Outcome::protocol);
    EXPECT_EQ(r.detail, "response larger than 65536 bytes");
    EXPECT_LT(ms(r.latency), 2000ms);
    // A body check that never matches stops at the same cap.
    config::HealthCheck check = http_check(backend.port(), 3000ms);
    check.body = "healthy";
    EXPECT_EQ(run(backend, check).outcome, Outcome::protocol);
}

TEST(HttpProbe, GarbageIsAProtocolError) {
    Backend backend("127.0.0.1", Behaviour::garbage);
    ProbeResult r = run(backend, http_check(backend.port()));
    EXPECT_EQ(r.outcome, Outcome::protocol);
    EXPECT_EQ(r.detail, R"(not an HTTP response: "SSH-2.0-OpenSSH_9.2")");
}

TEST(HttpProbe, ResetInTheMiddleOfTheResponse) {
    Backend backend("127.0.0.1", Behaviour::reset);
    ProbeResult r = run(backend, http_check(backend.port()));
    EXPECT_EQ(r.outcome, Outcome::reset) << r.detail;
}

TEST(HttpProbe, ClosedPortIsRefusedOnIpv4AndIpv6) {
    for (const char* address : {"127.0.0.1", "::1"}) {
        ProbeResult r =
            run(*util::IpAddress::parse(address), http_check(test::closed_port(address)));
        EXPECT_EQ(r.outcome, Outcome::refused) << address;
        EXPECT_EQ(r.detail, "connection refused");
    }
}

TEST(HttpProbe, HungBackendDoesNotDelayAnotherProbe) {
    Backend hung("127.0.0.1", Behaviour::hang);
    Backend good("127.0.0.1", Behaviour::ok);
    auto base = util::make_event_base();
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> hung_at, good_at;
    auto a = start_probe(base.get(), make_probe_spec(hung.address(), http_check(hung.port(), 1s)),
                         [&](ProbeResult) { hung_at = std::chrono::steady_clock::now(); });
    auto b = start_probe(base.get(), make_probe_spec(good.address(), http_check(good.port(), 1s)),
                         [&](ProbeResult) { good_at = std::chrono::steady_clock::now(); });
    while ((!hung_at || !good_at) && std::chrono::steady_clock::now() - t0 < 5s)
        event_base_loop(base.get(), EVLOOP_ONCE);
    ASSERT_TRUE(hung_at && good_at);
    EXPECT_LT(*good_at - t0, 300ms);
    EXPECT_GE(*hung_at - t0, 990ms);
}

// A loop that falls behind judges a probe by what its socket holds at the deadline: an answer
// that came in time is not a timeout because the loop was late to read it. Here the loop does
// not run until the answers of 48 probes wait in their sockets and every deadline has passed;
// libevent's epoll then reports at most 32 sockets in its first pass, while every deadline fires
// in that pass.
TEST(HttpProbe, AnswerWaitingAtTheDeadlineIsReadNotTimedOut) {
    Backend backend;
    auto base = util::make_event_base();
    const auto spec = make_probe_spec(backend.address(), http_check(backend.port(), 100ms));
    constexpr int kProbes = 48;  // under the test backend's listen backlog of 64
    std::vector<std::optional<ProbeResult>> results(kProbes);
    std::vector<std::unique_ptr<Probe>> probes;
    for (int i = 0; i < kProbes; ++i) {
        probes.push_back(start_probe(base.get(), spec, [&results, i](ProbeResult r) {
            results[static_cast<std::size_t>(i)] = std::move(r);
        }));
    }
    const auto t0 = std::chrono::steady_clock::now();
    while (backend.accepted() < kProbes && std::chrono::steady_clock::now() - t0 < 2s)
        std::this_thread::sleep_for(5ms);
    ASSERT_EQ(backend.accepted(), kProbes);
    std::this_thread::sleep_for(200ms);  // the answers are in; the deadlines have passed
    auto reported = [&] {
        return std::all_of(results.begin(), results.end(), [](const auto& r) { return r; });
    };
    while (!reported() && std::chrono::steady_clock::now() - t0 < 5s)
        event_base_loop(base.get(), EVLOOP_ONCE);
    ASSERT_TRUE(reported());
    for (int i = 0; i < kProbes; ++i) {
        const ProbeResult& r = *results[static_cast<std::size_t>(i)];
        EXPECT_EQ(r.outcome, Outcome::ok) << "probe " << i << ": " << r.detail;
        EXPECT_GE(r.latency, 100ms);  // judged when the loop came to it, after the deadline
    }
}

TEST(HttpProbe, DestroyingAProbeCancelsIt) {
    Backend backend("127.0.0.1", Behaviour::hang);
    auto base = util::make_event_base();
    bool called = false;
    auto probe = start_probe(base.get(),
                             make_probe_spec(backend.address(), http_check(backend.port(), 100ms)),
                             [&called](ProbeResult) { called = true; });
    event_base_loop(base.get(), EVLOOP_NONBLOCK);
    probe.reset();
    // Nothing is left on the loop: it returns at once instead of waiting for a timeout.
    EXPECT_EQ(event_base_loop(base.get(), 0), 1);
    EXPECT_FALSE(called);
}

// Without edge-triggered events (libevent's poll backend), a probe narrows its interest to what
// it waits for: the same results, and a silent backend costs a few passes of the loop, not one
// per writable moment.
TEST(HttpProbe, SameResultsWithoutEdgeTriggeredEvents) {
    std::unique_ptr<event_config, decltype(&event_config_free)> config(event_config_new(),
                                                                       &event_config_free);
    event_config_avoid_method(config.get(), "epoll");
    util::EventBase base(event_base_new_with_config(config.get()));
    ASSERT_TRUE(base);
    ASSERT_EQ(event_base_get_features(base.get()) & EV_FEATURE_ET, 0);

    for (Behaviour behaviour : {Behaviour::ok, Behaviour::ok_chunked, Behaviour::ok_close}) {
        Backend backend("127.0.0.1", behaviour);
        ProbeResult r = run(backend, http_check(backend.port()), base.get());
        EXPECT_EQ(r.outcome, Outcome::ok) << r.detail;
    }
    Backend unavailable("127.0.0.1", Behaviour::status_503);
    EXPECT_EQ(run(unavailable, http_check(unavailable.port()), base.get()).outcome,
              Outcome::status);
    Backend reset("127.0.0.1", Behaviour::reset);
    EXPECT_EQ(run(reset, http_check(reset.port()), base.get()).outcome, Outcome::reset);
    EXPECT_EQ(run(*util::IpAddress::parse("::1"), http_check(test::closed_port("::1")), base.get())
                  .outcome,
              Outcome::refused);

    Backend hung("127.0.0.1", Behaviour::hang);
    int passes = 0;
    ProbeResult r = run(hung, http_check(hung.port(), 200ms), base.get(), &passes);
    EXPECT_EQ(r.outcome, Outcome::timeout);
    EXPECT_EQ(r.detail, "timeout: no response after 200 ms");
    EXPECT_LT(passes, 20);
}

// A connection that is not made when connect() returns: the request cannot go out at once (the
// send fails with EAGAIN) and waits for the socket to be writable, then the probe waits for the
// response. The listener's accept queue is full when the probe connects, so the kernel drops its
// SYN and the connection is made by the SYN sent again a second later. With and without
// edge-triggered events; without, a probe that kept asking for writability after sending would
// spin the loop while the backend takes its time.
struct SlowHandshake {
    int listener = -1;
    int filler = -1;
    int peer = -1;
    std::string request;
    std::chrono::steady_clock::time_point started, asked{};
    bool answered = false;

    SlowHandshake() {
        listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address);
        ::listen(listener, 0);  // room for one connection waiting to be accepted
        socklen_t length = sizeof address;
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
        filler = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ::connect(filler, reinterpret_cast<sockaddr*>(&address), sizeof address);
        started = std::chrono::steady_clock::now();
    }
    ~SlowHandshake() {
        for (int fd : {listener, filler, peer})
            if (fd >= 0) ::close(fd);
    }
    std::uint16_t port() const {
        sockaddr_in address{};
        socklen_t length = sizeof address;
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
        return ntohs(address.sin_port);
    }
    // Every 10 ms: after 100 ms, takes the filler out of the queue; then accepts the probe's
    // connection, reads its request and answers 100 ms later.
    void tick() {
        const auto now = std::chrono::steady_clock::now();
        if (now - started < 100ms) return;
        for (int fd;
             (fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
            if (filler >= 0) {  // the first one accepted is the filler's
                ::close(filler);
                filler = -1;
                ::close(fd);
            } else if (peer < 0) {
                peer = fd;
            } else {
                ::close(fd);
            }
        }
        if (peer < 0 || answered) return;
        char buffer[1024];
        ssize_t n = ::recv(peer, buffer, sizeof buffer, 0);
        if (n > 0) request.append(buffer, static_cast<std::size_t>(n));
        if (asked == std::chrono::steady_clock::time_point{} &&
            request.find("\r\n\r\n") != std::string::npos) {
            asked = now;
        }
        if (asked != std::chrono::steady_clock::time_point{} && now - asked >= 100ms) {
            const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            [[maybe_unused]] ssize_t sent =
                ::send(peer, response.data(), response.size(), MSG_NOSIGNAL);
            answered = true;
        }
    }
    static void on_tick(evutil_socket_t, short, void* self) {
        static_cast<SlowHandshake*>(self)->tick();
    }
};

TEST(HttpProbe, ConnectionMadeAfterConnectReturnsWithAndWithoutEdgeTriggeredEvents) {
    for (bool edge : {true, false}) {
        std::unique_ptr<event_config, decltype(&event_config_free)> config(event_config_new(),
                                                                           &event_config_free);
        if (!edge) event_config_avoid_method(config.get(), "epoll");
        util::EventBase base(event_base_new_with_config(config.get()));
        ASSERT_TRUE(base);
        ASSERT_EQ((event_base_get_features(base.get()) & EV_FEATURE_ET) != 0, edge);

        SlowHandshake backend;
        util::Event ticker =
            util::make_event(base.get(), -1, EV_PERSIST, &SlowHandshake::on_tick, &backend);
        timeval every{0, 10'000};
        event_add(ticker.get(), &every);
        int passes = 0;
        ProbeResult r = run(*util::IpAddress::parse("127.0.0.1"),
                            http_check(backend.port(), 4000ms), base.get(), &passes);
        EXPECT_EQ(r.outcome, Outcome::ok) << (edge ? "epoll: " : "poll: ") << r.detail;
        // The SYN was sent again after about a second: the request did wait for the connection.
        EXPECT_GE(ms(r.latency), 800ms) << (edge ? "epoll" : "poll");
        EXPECT_EQ(backend.request.rfind("GET /health HTTP/1.1\r\n", 0), 0u);
        // About 120 ticks of 10 ms, and a few passes for the probe itself.
        EXPECT_LT(passes, 400) << (edge ? "epoll" : "poll");
    }
}

TEST(SocketFailure, ErrnoToOutcome) {
    EXPECT_EQ(socket_failure(ECONNREFUSED).outcome, Outcome::refused);
    EXPECT_EQ(socket_failure(ENETUNREACH).outcome, Outcome::unreachable);
    EXPECT_EQ(socket_failure(ENETUNREACH).detail, "network unreachable");
    EXPECT_EQ(socket_failure(EHOSTUNREACH).outcome, Outcome::unreachable);
    EXPECT_EQ(socket_failure(ECONNRESET).outcome, Outcome::reset);
    EXPECT_EQ(socket_failure(EPIPE).outcome, Outcome::reset);
    EXPECT_EQ(socket_failure(EMFILE).outcome, Outcome::error);
    EXPECT_EQ(socket_failure(EMFILE).detail, "Too many open files");
}

// ---- HttpReader

const std::vector<config::StatusRange> kOk{{200, 299}};

// Feeds `response` in pieces of `step` bytes, then the end of the connection if `close`.
ProbeResult read(std::string_view response, std::size_t step, bool close = true,
                 std::string_view body = "", const std::vector<config::StatusRange>& status = kOk) {
    HttpReader reader(status, body);
    for (std::size_t i = 0; i < response.size() && !reader.judged(); i += step)
        reader.feed(response.substr(i, step));
    if (!reader.judged() && close) reader.end();
    if (!reader.judged()) return ProbeResult{Outcome::error, 0, {}, "not judged"};
    return reader.result();
}

// The same outcome however the bytes are split.
void expect_at_every_split(std::string_view response, Outcome outcome, std::string_view body = "",
                           bool close = true) {
    for (std::size_t step = 1; step <= response.size(); ++step) {
        ProbeResult r = read(response, step, close, body);
        ASSERT_EQ(r.outcome, outcome) << "step " << step << ": " << r.detail;
    }
}

TEST(HttpReader, ContentLength) {
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nok: healthy";
    expect_at_every_split(response, Outcome::ok, "", false);
    expect_at_every_split(response, Outcome::ok, "healthy", false);
    expect_at_every_split(response, Outcome::body, "sick", false);
    // Short of its length, the response is incomplete: a reset when the peer closes.
    ProbeResult r = read("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nok: healthy", 64, true);
    EXPECT_EQ(r.outcome, Outcome::reset);
    EXPECT_EQ(r.detail, "connection closed before the end of the body");
    // ... and not judged while it stays open.
    HttpReader reader(kOk, "");
    EXPECT_FALSE(reader.feed("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nok: healthy"));
}

TEST(HttpReader, ChunkedBodyIsDecoded) {
    const std::string response =
        "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\nContent-Length: 3\r\n\r\n"
        "5\r\nall h\r\n3;ext=1\r\neal\r\n3\r\nthy\r\n0\r\n\r\n";
    // The match needs the chunks joined: "healthy" straddles three of them.
    expect_at_every_split(response, Outcome::ok, "healthy", false);
    expect_at_every_split(response, Outcome::body, "hea\r\n", true);
    expect_at_every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                          Outcome::protocol);
    EXPECT_EQ(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 100).detail,
              "connection closed before the end of the body");
}

TEST(HttpReader, CloseDelimitedBody) {
    const std::string response = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall healthy here";
    expect_at_every_split(response, Outcome::ok, "", true);
    expect_at_every_split(response, Outcome::ok, "healthy", true);
    expect_at_every_split(response, Outcome::body, "sick", true);
    EXPECT_EQ(read(response, 1, false).outcome, Outcome::error);  // not judged before the close
}

TEST(HttpReader, StatusIsJudgedAsSoonAsItsLineEnds) {
    HttpReader reader(kOk, "");
    EXPECT_FALSE(reader.feed("HTTP/1.1 503 Service Unavail"));
    EXPECT_TRUE(reader.feed("able\r\n"));
    EXPECT_EQ(reader.result().outcome, Outcome::status);
    EXPECT_EQ(reader.result().detail, "status 503");
    EXPECT_EQ(reader.result().http_status, 503);
    // Bare LF line ends and no reason phrase are fine.
    EXPECT_EQ(read("HTTP/1.1 204\nX: y\n\n", 3, false).outcome, Outcome::ok);
    EXPECT_EQ(read("HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n", 5, false, "",
                   {{301, 301}, {200, 200}})
                  .outcome,
              Outcome::ok);
}

TEST(HttpReader, InterimResponsesAreSkipped) {
    expect_at_every_split(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Outcome::ok,
        "", false);
    EXPECT_EQ(read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 No\r\n\r\n", 4, false).detail,
              "status 500");
}

TEST(HttpReader, Garbage) {
    EXPECT_EQ(read("garbage\r\n", 100).detail, R"(not an HTTP response: "garbage")");
    EXPECT_EQ(read("garbage\r\n", 1).detail, R"(not an HTTP response: "g")");
    // Told apart at the first wrong byte, without waiting for a line end.
    HttpReader reader(kOk, "");
    EXPECT_FALSE(reader.feed("HTT"));
    EXPECT_TRUE(reader.feed("X"));
    EXPECT_EQ(reader.result().outcome, Outcome::protocol);
    EXPECT_EQ(read("HTTP/2 200 OK\r\n\r\n", 100).outcome, Outcome::protocol);
    EXPECT_EQ(read("HTTP/1.1 2000 OK\r\n\r\n", 100).detail,
              R"(bad status line "HTTP/1.1 2000 OK")");
    EXPECT_EQ(read("HTTP/1.1 099 Low\r\n\r\n", 100).outcome, Outcome::protocol);
    EXPECT_EQ(read("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 100).detail,
              R"(bad Content-Length "-1")");
}

TEST(HttpReader, EarlyCloseIsAReset) {
    EXPECT_EQ(read("", 1).detail, "connection closed without a response");
    EXPECT_EQ(read("", 1).outcome, Outcome::reset);
    EXPECT_EQ(read("HTTP/1.1 20", 100).detail, "connection closed in the status line");
    EXPECT_EQ(read("HTTP/1.1 200 OK\r\nA: b\r\n", 100).detail, "connection closed in the headers");
}

TEST(HttpReader, MemoryIsBounded) {
    // An endless body is cut at the cap, however it arrives.
    HttpReader reader(kOk, "never there");
    ASSERT_FALSE(reader.feed("HTTP/1.1 200 OK\r\n\r\n"));
    const std::string chunk(1000, 'x');
    int feeds = 0;
    while (!reader.feed(chunk) && feeds < 1000)
        ++feeds;
    EXPECT_EQ(reader.result().outcome, Outcome::protocol);
    EXPECT_GE(reader.bytes_read(), kMaxResponseBytes);
    EXPECT_LT(reader.bytes_read(), kMaxResponseBytes + chunk.size());
    // A line is never held beyond kMaxLineBytes, even without a line end.
    HttpReader lines(kOk, "");
    ASSERT_FALSE(lines.feed("HTTP/1.1 200 OK\r\nX-Long: "));
    const std::string filler(1024, 'a');
    int n = 0;
    while (!lines.feed(filler) && n < 100)
        ++n;
    EXPECT_EQ(lines.result().outcome, Outcome::protocol);
    EXPECT_EQ(lines.result().detail, "line longer than 8192 bytes");
    EXPECT_LE(lines.bytes_read(), kMaxLineBytes + 2 * filler.size());
}

}  // namespace
}  // namespace nolb::health
