// The HTTP probe against backends that try to hold it, flood it or confuse it, each a real
// loopback server: every one fails the probe for what it did, within the probe's timeout (the
// floods and the garbage well before it), and what the probe reads and holds stays under its
// caps however much the backend sends.
//
// What the probe holds is measured as the process's heap in use (glibc's count, or ASan's when
// it owns the heap), sampled between passes of the loop while the probe runs, from before the
// probe is made: a probe that kept what it read would grow it by the response's size, while the
// probe's own state and its line buffer stay far under kMaxResponseBytes. The test backend sends
// its endless streams from blocks made once, so its thread adds next to nothing.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "health/probe.hpp"
#include "health/probe_socket.hpp"
#include "unit/health/backend.hpp"
#include "util/event.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define NOLB_HEAP_FROM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NOLB_HEAP_FROM_ASAN 1
#endif
#endif
#if defined(NOLB_HEAP_FROM_ASAN)
// From the sanitizer runtime's public interface (sanitizer/allocator_interface.h, which GCC does
// not install).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace nolb::health {
namespace {

using namespace std::chrono_literals;
using test::Backend;
using test::Behaviour;
using test::http_check;
using Steady = std::chrono::steady_clock;

// The most a probe may add to the heap while it runs: its line buffer (grown by doubling up to
// kMaxLineBytes) and a few small objects (the probe, its events, its result): 24 KiB, far
// under the 64 KiB a probe that kept what it read would hold before the response cap stops it.
constexpr std::int64_t kHeapBound = 2 * kMaxLineBytes + 8 * 1024;
// How late past its timeout a probe may report on a busy machine.
constexpr auto kSlack = 1000ms;

std::int64_t heap_in_use() {
#if defined(NOLB_HEAP_FROM_ASAN)
    return static_cast<std::int64_t>(__sanitizer_get_current_allocated_bytes());
#else
    const struct mallinfo2 info = ::mallinfo2();
    return static_cast<std::int64_t>(info.uordblks + info.hblkhd);
#endif
}

struct Seen {
    ProbeResult result;
    int reports = 0;
    std::size_t bytes_read = 0;
    std::int64_t heap_growth = 0;  // the most the heap grew while the probe ran
    Steady::duration took{};       // from the probe's start to its report
};

// Runs one probe against `backend` on a loop of its own, bounded by the timeout plus a margin;
// then, for `watch_after`, keeps the loop running to see that nothing more is reported.
Seen probe(Backend& backend, const config::HealthCheck& check,
           std::chrono::milliseconds watch_after = 0ms) {
    util::EventBase base = util::make_event_base();
    Seen seen;
    std::optional<ProbeResult> result;
    auto spec = make_probe_spec(backend.address(), check);
    const std::int64_t heap_before = heap_in_use();
    std::int64_t heap_most = heap_before;
    const auto t0 = Steady::now();
    auto running = start_probe(base.get(), std::move(spec), [&](ProbeResult r) {
        ++seen.reports;
        seen.took = Steady::now() - t0;
        result = std::move(r);
    });
    const auto give_up = t0 + check.timeout + 5s;
    while (!result && Steady::now() < give_up) {
        event_base_loop(base.get(), EVLOOP_ONCE);
        heap_most = std::max(heap_most, heap_in_use());
    }
    const auto* socket_probe = dynamic_cast<const SocketProbe*>(running.get());
    if (socket_probe != nullptr) seen.bytes_read = socket_probe->bytes_read();
    const auto watch_end = Steady::now() + watch_after;
    while (Steady::now() < watch_end) {
        event_base_loop(base.get(), EVLOOP_NONBLOCK);
        std::this_thread::sleep_for(10ms);
    }
    seen.heap_growth = heap_most - heap_before;
    if (!result) {
        ADD_FAILURE() << "the probe never reported";
        return seen;
    }
    seen.result = *result;
    return seen;
}

std::chrono::milliseconds ms(Steady::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

// What every hostile case shares: one report, a failure, the caps kept, and a report no later
// than the timeout allows.
void expect_bounded(const Seen& seen, const config::HealthCheck& check) {
    EXPECT_EQ(seen.reports, 1);
    EXPECT_NE(seen.result.outcome, Outcome::ok) << seen.result.detail;
    EXPECT_LE(seen.bytes_read, kMaxResponseBytes);
    EXPECT_LT(seen.heap_growth, kHeapBound) << "the probe held what it read";
    EXPECT_LT(ms(seen.took), check.timeout + kSlack);
}

TEST(HostileBackend, AcceptsAndNeverAnswers) {
    Backend backend("127.0.0.1", Behaviour::hang);
    const auto check = http_check(backend.port(), 300ms);
    const Seen seen = probe(backend, check);
    expect_bounded(seen, check);
    EXPECT_EQ(seen.result.outcome, Outcome::timeout);
    EXPECT_EQ(seen.result.detail, "timeout: no response after 300 ms");
    EXPECT_GE(ms(seen.took), 290ms);
    EXPECT_EQ(seen.bytes_read, 0u);
    EXPECT_EQ(backend.accepted(), 1);
}

// The deadline is fixed when the probe starts: every byte that arrives does not extend it.
TEST(HostileBackend, DripsOneByteASecond) {
    Backend backend("127.0.0.1", Behaviour::drip);
    const auto check = http_check(backend.port(), 1200ms);
    const Seen seen = probe(backend, check);
    expect_bounded(seen, check);
    EXPECT_EQ(seen.result.outcome, Outcome::timeout);
    EXPECT_EQ(seen.result.detail, "timeout: response incomplete after 1200 ms");
    EXPECT_GE(ms(seen.took), 1190ms);
    EXPECT_GE(seen.bytes_read, 1u);
    EXPECT_LE(seen.bytes_read, 3u);
}

// The probe stops reading at kMaxResponseBytes, long before its timeout: an endless body costs
// it 64 KiB of reading and nothing kept. A body check that never matches gives up at the same
// cap.
TEST(HostileBackend, EndlessBodyStopsAtTheCap) {
    Backend backend("127.0.0.1", Behaviour::endless);
    auto check = http_check(backend.port(), 5000ms);
    for (const char* body : {"", "healthy"}) {
        check.body = body;
        const Seen seen = probe(backend, check);
        expect_bounded(seen, check);
        EXPECT_EQ(seen.result.outcome, Outcome::protocol) << "body check \"" << body << '"';
        EXPECT_EQ(seen.result.detail, "response larger than 65536 bytes");
        EXPECT_EQ(seen.result.http_status, 200);
        EXPECT_EQ(seen.bytes_read, kMaxResponseBytes);
        EXPECT_LT(ms(seen.took), 1500ms) << "the cap, not the timeout, ends the probe";
        RecordProperty(std::string("endless_body_heap_growth") + (*body ? "_body_check" : ""),
                       static_cast<int>(seen.heap_growth));
    }
}

// Header lines that never end in a blank line: each line is dropped once read, and the whole
// response is capped like a body.
TEST(HostileBackend, EndlessHeadersStopAtTheCap) {
    Backend backend("127.0.0.1", Behaviour::endless_headers);
    const auto check = http_check(backend.port(), 5000ms);
    const Seen seen = probe(backend, check);
    expect_bounded(seen, check);
    EXPECT_EQ(seen.result.outcome, Outcome::protocol);
    EXPECT_EQ(seen.result.detail, "response larger than 65536 bytes");
    EXPECT_EQ(seen.bytes_read, kMaxResponseBytes);
    EXPECT_LT(ms(seen.took), 1500ms);
}

// One header line without an end: held up to kMaxLineBytes, then refused, well before the
// response cap.
TEST(HostileBackend, EnormousHeaderLineStopsAtTheLineCap) {
    Backend backend("127.0.0.1", Behaviour::huge_header);
    const auto check = http_check(backend.port(), 5000ms);
    const Seen seen = probe(backend, check);
    expect_bounded(seen, check);
    EXPECT_EQ(seen.result.outcome, Outcome::protocol);
    EXPECT_EQ(seen.result.detail, "line longer than 8192 bytes");
    EXPECT_GT(seen.bytes_read, kMaxLineBytes);
    EXPECT_LT(seen.bytes_read, kMaxResponseBytes / 2);
    EXPECT_LT(ms(seen.took), 1500ms);
    RecordProperty("huge_header_heap_growth", static_cast<int>(seen.heap_growth));
}

TEST(HostileBackend, GarbageStatusLines) {
    struct Case {
        std::string bytes;
        std::string detail;  // what the detail starts with
    };
    const Case cases[] = {
        // Letters O for zeros: it looks like HTTP, and its status is not a number.
        {"HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok", R"(bad status line "HTTP/1.1 2OO OK")"},
        // An SSH server on the probed port.
        {"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", R"(not an HTTP response: "SSH-2.0-OpenSSH_9.2p1)"},
        // A TLS server's alert to a plain-text client (protocol_version), NUL bytes and all.
        {std::string("\x15\x03\x01\x00\x02\x02\x46", 7), R"(not an HTTP response: "??????F")"},
    };
    Backend backend("127.0.0.1", Behaviour::raw);
    const auto check = http_check(backend.port(), 2000ms);
    for (const Case& c : cases) {
        backend.set_raw(c.bytes);
        const Seen seen = probe(backend, check);
        expect_bounded(seen, check);
        EXPECT_EQ(seen.result.outcome, Outcome::protocol) << seen.result.detail;
        EXPECT_EQ(seen.result.detail.rfind(c.detail, 0), 0u) << seen.result.detail;
        EXPECT_EQ(seen.result.http_status, 0);
        EXPECT_LT(ms(seen.took), 1000ms);
    }
}

// Half the headers, then an abortive close (SO_LINGER 0): a reset, whether the probe reads the
// bytes before the RST (ECONNRESET on the next read) or not.
TEST(HostileBackend, ResetsAfterHalfTheHeaders) {
    Backend backend("127.0.0.1", Behaviour::raw_reset);
    backend.set_raw("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Le");
    const auto check = http_check(backend.port(), 2000ms);
    const Seen seen = probe(backend, check);
    expect_bounded(seen, check);
    EXPECT_EQ(seen.result.outcome, Outcome::reset) << seen.result.detail;
    EXPECT_TRUE(seen.result.detail == "connection reset" ||
                seen.result.detail == "connection closed in the headers")
        << seen.result.detail;
    EXPECT_LT(ms(seen.took), 1000ms);
}

// A good answer that comes after the timeout is a timeout, reported once: the probe has closed
// its socket, and the answer goes nowhere.
TEST(HostileBackend, AnswersOnlyAfterTheTimeout) {
    Backend backend("127.0.0.1", Behaviour::late);
    backend.set_late(600ms);
    const auto check = http_check(backend.port(), 300ms);
    const Seen seen = probe(backend, check, 500ms);
    expect_bounded(seen, check);
    EXPECT_EQ(seen.result.outcome, Outcome::timeout);
    EXPECT_EQ(seen.result.detail, "timeout: no response after 300 ms");
    EXPECT_GE(ms(seen.took), 290ms);
    EXPECT_LT(ms(seen.took), 590ms);
    EXPECT_EQ(seen.bytes_read, 0u);
}

}  // namespace
}  // namespace nolb::health
