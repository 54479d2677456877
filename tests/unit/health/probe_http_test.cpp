// The HTTP probe against a backend that misbehaves in every way the probe must survive, on
// IPv4 and IPv6 loopback; and HttpReader fed by hand, split at every byte.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

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

config::HealthCheck http_check(std::uint16_t port, std::chrono::milliseconds timeout = 1000ms) {
    config::HealthCheck check;
    check.type = config::HealthMode::http;
    check.port = port;
    check.path = "/health";
    check.host = "www.demo.test";
    check.timeout = timeout;
    check.interval = std::max(timeout, check.interval);
    return check;
}

// Runs one probe to completion on its own loop (bounded by the probe's timeout plus a margin).
ProbeResult run(const util::IpAddress& address, const config::HealthCheck& check) {
    auto base = util::make_event_base();
    std::optional<ProbeResult> result;
    auto probe = start_probe(base.get(), make_probe_spec(address, check),
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

ProbeResult run(Backend& backend, config::HealthCheck check) {
    return run(backend.address(), check);
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
    ProbeResult r = run(backend, http_check(backend.port(), 200ms));
    EXPECT_EQ(r.outcome, Outcome::timeout);
    EXPECT_EQ(r.detail, "timeout: no response after 200 ms");
    EXPECT_GE(ms(r.latency), 190ms);
    EXPECT_LT(ms(r.latency), 700ms);
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
