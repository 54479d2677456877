// The TCP path against real sockets on loopback: framing, pipelining, partial reads, large
// messages, backpressure, the idle and io timeouts, the connection caps and eviction.
#include "server/tcp.hpp"

#include <netinet/tcp.h>
#include <poll.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "unit/server/server_fixture.hpp"

namespace nolb::server {
namespace {

using namespace testing;

Settings tcp_config(unsigned workers = 2) {
    Settings settings = server_config({loopback4(), loopback6()}, workers);
    settings.tcp_idle_timeout = 5s;
    return settings;
}

// A connection from another loopback address, for the per-client cap.
Fd tcp_connect_from(const char* source, const util::Endpoint& to) {
    Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, source, &local.sin_addr);
    if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) return Fd();
    sockaddr_storage address;
    socklen_t length = to.to_sockaddr(address);
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) return Fd();
    return fd;
}

Bytes numbered(int i, std::size_t size = 12) {
    Bytes message = bytes("m-" + std::to_string(i) + "-");
    message.resize(std::max(size, message.size()), 'x');
    return message;
}

TEST(Tcp, RoundTripBothFamilies) {
    RunningServer running(tcp_config());
    for (std::size_t i = 0; i < 2; ++i) {
        Fd client = tcp_connect(running.at(i));
        ASSERT_TRUE(client);
        Bytes query = bytes("hello tcp");
        ASSERT_TRUE(write_all(client, frame(query)));
        EXPECT_EQ(read_frame(client), echoed(query));
    }
}

TEST(Tcp, PipelinedMessagesAnsweredInOrder) {
    RunningServer running(tcp_config());
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    // Far more than one read's worth, in one write.
    constexpr int kMessages = 300;
    Bytes burst;
    for (int i = 0; i < kMessages; ++i) {
        Bytes f = frame(numbered(i, 40));
        burst.insert(burst.end(), f.begin(), f.end());
    }
    ASSERT_TRUE(write_all(client, burst));
    for (int i = 0; i < kMessages; ++i)
        ASSERT_EQ(read_frame(client), echoed(numbered(i, 40)));
    EXPECT_EQ(running.server->counters().tcp_messages, std::uint64_t{kMessages});
}

TEST(Tcp, MessageArrivingOneByteAtATime) {
    RunningServer running(tcp_config());
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    int one = 1;
    setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Bytes two = frame(numbered(1));
    Bytes second = frame(numbered(2));
    two.insert(two.end(), second.begin(), second.end());
    for (std::uint8_t byte : two) {
        ASSERT_TRUE(write_all(client, Bytes{byte}));
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(read_frame(client), echoed(numbered(1)));
    EXPECT_EQ(read_frame(client), echoed(numbered(2)));
}

TEST(Tcp, LargestMessageThenSmallOnes) {
    RunningServer running(tcp_config());
    Fd client = tcp_connect(running.at(1));
    ASSERT_TRUE(client);
    Bytes large = numbered(0, kTcpMaxMessage);
    Bytes burst = frame(large);
    for (int i = 1; i <= 3; ++i) {
        Bytes f = frame(numbered(i));
        burst.insert(burst.end(), f.begin(), f.end());
    }
    ASSERT_TRUE(write_all(client, burst));
    EXPECT_EQ(read_frame(client), echoed(large));
    for (int i = 1; i <= 3; ++i)
        EXPECT_EQ(read_frame(client), echoed(numbered(i)));
}

// A response of several messages: all of them in order, and the message pipelined after the
// one that started it answered only once the last has gone.
TEST(Tcp, AStreamGoesOnBeforeTheNextMessage) {
    RunningServer running(tcp_config(1));
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    Bytes burst = frame(bytes("stream 40"));
    Bytes after = frame(numbered(1));
    burst.insert(burst.end(), after.begin(), after.end());
    ASSERT_TRUE(write_all(client, burst));
    EXPECT_EQ(read_frame(client), echoed(bytes("stream 40")));
    for (int i = 1; i <= 40; ++i)
        ASSERT_EQ(read_frame(client), EchoHandler::stream_message(i)) << "message " << i;
    EXPECT_EQ(read_frame(client), echoed(numbered(1)));
}

// A client that starts a long stream and reads nothing holds only its own connection: another
// client of the same worker is answered meanwhile, and a stream cut short by its client ends
// with the connection.
TEST(Tcp, AStreamNobodyReadsDelaysNoOtherClient) {
    RunningServer running(tcp_config(1));
    Fd stalled = tcp_connect(running.at(0));
    ASSERT_TRUE(stalled);
    ASSERT_TRUE(write_all(stalled, frame(bytes("stream 5000"))));  // 100 MB, never read
    std::this_thread::sleep_for(100ms);
    for (int i = 0; i < 20; ++i) {
        Fd other = tcp_connect(running.at(0));
        ASSERT_TRUE(other);
        ASSERT_TRUE(write_all(other, frame(numbered(i))));
        ASSERT_TRUE(wait_readable(other.get(), 1000ms)) << "round trip " << i;
        EXPECT_EQ(read_frame(other), echoed(numbered(i)));
    }
    stalled.reset();
    Fd last = tcp_connect(running.at(0));
    ASSERT_TRUE(write_all(last, frame(numbered(99))));
    EXPECT_EQ(read_frame(last), echoed(numbered(99)));
}

// The most a TCP socket's receive or send buffer grows to ("tcp_rmem", "tcp_wmem": the third
// of the sysctl's values), 64 MiB if it cannot be read.
std::size_t largest_buffer(const char* sysctl) {
    std::ifstream file(std::string("/proc/sys/net/ipv4/") + sysctl);
    std::size_t low = 0, initial = 0, largest = 0;
    if (file >> low >> initial >> largest) return largest;
    return std::size_t{64} << 20;
}

bool wait_writable(int fd, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLOUT, 0};
    return poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

// A client that writes far more than it reads. The server must hold back: once the answers it
// could not send reach their cap it stops reading, so the client's writes stall for good (a
// server that went on reading would make room again within moments). Then, as the client reads,
// every answer arrives, in order.
TEST(Tcp, SlowReaderHoldsTheServerBackThenGetsEveryAnswerInOrder) {
    Settings settings = tcp_config(1);
    // Nothing but back-pressure may stop this connection while the client holds off.
    settings.tcp_idle_timeout = 0ms;
    settings.tcp_io_timeout = 0ms;
    RunningServer running(settings);
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    constexpr std::size_t kSize = 1000;
    // More than the kernel's buffers on both sides can take, each at its largest: a client that
    // gets this far was never held back.
    const std::size_t budget =
        2 * (largest_buffer("tcp_rmem") + largest_buffer("tcp_wmem")) + (std::size_t{16} << 20);

    int begun = 0;  // messages written, the last perhaps in part
    Bytes current;
    std::size_t offset = 0;  // of `current`, written
    std::size_t total = 0;
    bool held_back = false;
    while (total < budget) {
        if (offset == current.size()) {
            current = frame(numbered(begun++, kSize));
            offset = 0;
        }
        const ssize_t n = send(client.get(), current.data() + offset, current.size() - offset,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            offset += static_cast<std::size_t>(n);
            total += static_cast<std::size_t>(n);
            continue;
        }
        ASSERT_TRUE(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) << std::strerror(errno);
        if (!wait_writable(client.get(), 1s)) {
            held_back = true;
            break;
        }
    }
    ASSERT_TRUE(held_back) << total << " bytes written without the server ever holding back";
    // What the server holds unanswered: the queries in its receive buffer, at least.
    EXPECT_LT(running.stats.messages.load(), static_cast<std::uint64_t>(begun));

    // Reading lets the server go on, and the rest of the last query goes out meanwhile.
    std::vector<std::uint8_t> in;
    std::size_t parsed = 0;
    int answered = 0;
    std::vector<std::uint8_t> chunk(64 * 1024);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (answered < begun) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "answer " << answered;
        pollfd p{client.get(), static_cast<short>(POLLIN | (offset < current.size() ? POLLOUT : 0)),
                 0};
        ASSERT_EQ(poll(&p, 1, 5000), 1) << "stalled at answer " << answered;
        if (p.revents & POLLOUT) {
            const ssize_t n = send(client.get(), current.data() + offset, current.size() - offset,
                                   MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) offset += static_cast<std::size_t>(n);
        }
        if (!(p.revents & POLLIN)) continue;
        const ssize_t got = recv(client.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
        ASSERT_GT(got, 0) << "closed at answer " << answered;
        in.insert(in.end(), chunk.begin(), chunk.begin() + got);
        while (in.size() - parsed >= 2) {
            const std::size_t length = (std::size_t{in[parsed]} << 8) | in[parsed + 1];
            if (in.size() - parsed - 2 < length) break;
            const Bytes response(in.begin() + static_cast<std::ptrdiff_t>(parsed + 2),
                                 in.begin() + static_cast<std::ptrdiff_t>(parsed + 2 + length));
            ASSERT_EQ(response, echoed(numbered(answered, kSize))) << answered;
            parsed += 2 + length;
            ++answered;
        }
        in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(parsed));
        parsed = 0;
    }
    EXPECT_EQ(running.server->counters().tcp_messages, static_cast<std::uint64_t>(begun));
}

TEST(Tcp, DroppedMessageSendsNothing) {
    RunningServer running(tcp_config());
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    Bytes both = frame(bytes("drop me"));
    Bytes kept = frame(bytes("keep me"));
    both.insert(both.end(), kept.begin(), kept.end());
    ASSERT_TRUE(write_all(client, both));
    EXPECT_EQ(read_frame(client), echoed(bytes("keep me")));
    EXPECT_FALSE(read_frame(client, 200ms));
}

TEST(Tcp, ZeroLengthMessageCloses) {
    RunningServer running(tcp_config());
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    ASSERT_TRUE(write_all(client, Bytes{0, 0}));
    EXPECT_TRUE(closed_by_peer(client, 2s));
}

TEST(Tcp, ClientLeavingHalfWayIsJustClosed) {
    RunningServer running(tcp_config(1));
    {
        Fd client = tcp_connect(running.at(0));
        ASSERT_TRUE(client);
        Bytes partial = frame(numbered(0, 100));
        partial.resize(50);
        ASSERT_TRUE(write_all(client, partial));
    }
    // Still serving, and the message that never completed reached no handler.
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    ASSERT_TRUE(write_all(client, frame(numbered(1))));
    EXPECT_EQ(read_frame(client), echoed(numbered(1)));
    EXPECT_EQ(running.stats.messages.load(), 1u);
}

TEST(Tcp, AnswersThenClosesAfterClientShutsDownWriting) {
    RunningServer running(tcp_config());
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    Bytes two = frame(numbered(1));
    Bytes second = frame(numbered(2));
    two.insert(two.end(), second.begin(), second.end());
    ASSERT_TRUE(write_all(client, two));
    shutdown(client.get(), SHUT_WR);
    EXPECT_EQ(read_frame(client), echoed(numbered(1)));
    EXPECT_EQ(read_frame(client), echoed(numbered(2)));
    EXPECT_TRUE(closed_by_peer(client, 2s));
}

TEST(Tcp, IdleConnectionIsClosed) {
    Settings settings = tcp_config();
    settings.tcp_idle_timeout = 200ms;
    RunningServer running(settings);
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(closed_by_peer(client, 5s));
    EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
    EXPECT_EQ(running.server->counters().tcp_timed_out, 1u);
}

TEST(Tcp, QueriesKeepAConnectionOpen) {
    Settings settings = tcp_config();
    settings.tcp_idle_timeout = 300ms;
    RunningServer running(settings);
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    for (int i = 0; i < 8; ++i) {  // 800 ms in all, well past one timeout
        std::this_thread::sleep_for(100ms);
        ASSERT_TRUE(write_all(client, frame(numbered(i))));
        ASSERT_EQ(read_frame(client), echoed(numbered(i))) << i;
    }
    EXPECT_EQ(running.server->counters().tcp_timed_out, 0u);
}

// Bytes that never make a whole message are not activity: a trickle is closed like silence.
TEST(Tcp, TricklingClientIsClosed) {
    Settings settings = tcp_config();
    settings.tcp_idle_timeout = 300ms;
    RunningServer running(settings);
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    Bytes message = frame(numbered(0, 200));
    auto start = std::chrono::steady_clock::now();
    bool closed = false;
    for (std::uint8_t byte : message) {
        if (!write_all(client, Bytes{byte}) || wait_readable(client.get(), 50ms)) {
            closed = true;
            break;
        }
    }
    EXPECT_TRUE(closed || closed_by_peer(client, 2s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_EQ(running.server->counters().tcp_timed_out, 1u);
}

// At the cap with every connection in the middle of a query, there is nothing to evict: the
// extra connection is refused and the others never notice.
TEST(Tcp, ConnectionCapRefusesWhenNoneIsIdle) {
    Settings settings = tcp_config(1);
    settings.tcp_max_connections = 2;
    RunningServer running(settings);
    Fd first = tcp_connect(running.at(0));
    Fd second = tcp_connect(running.at(1));
    ASSERT_TRUE(first);
    ASSERT_TRUE(second);
    ASSERT_TRUE(write_all(first, frame(numbered(1))));
    ASSERT_EQ(read_frame(first), echoed(numbered(1)));
    ASSERT_TRUE(write_all(second, frame(numbered(2))));
    ASSERT_EQ(read_frame(second), echoed(numbered(2)));
    // Half a query each: busy, not idle.
    Bytes four = frame(numbered(4));
    Bytes five = frame(numbered(5));
    ASSERT_TRUE(write_all(first, Bytes(four.begin(), four.begin() + 3)));
    ASSERT_TRUE(write_all(second, Bytes(five.begin(), five.begin() + 3)));
    std::this_thread::sleep_for(50ms);

    Fd third = tcp_connect(running.at(0));
    if (third) {  // the kernel completes the handshake; the server then resets it
        write_all(third, frame(numbered(3)));
        EXPECT_TRUE(closed_by_peer(third, 2s));
    }
    EXPECT_TRUE(eventually([&] { return running.server->counters().tcp_refused == 1; }));
    EXPECT_EQ(running.server->counters().tcp_evicted, 0u);

    ASSERT_TRUE(write_all(first, Bytes(four.begin() + 3, four.end())));
    EXPECT_EQ(read_frame(first), echoed(numbered(4)));
    ASSERT_TRUE(write_all(second, Bytes(five.begin() + 3, five.end())));
    EXPECT_EQ(read_frame(second), echoed(numbered(5)));

    // A freed slot is reused.
    first.reset();
    std::this_thread::sleep_for(100ms);
    Fd fourth = tcp_connect(running.at(0));
    ASSERT_TRUE(fourth);
    ASSERT_TRUE(write_all(fourth, frame(numbered(6))));
    EXPECT_EQ(read_frame(fourth), echoed(numbered(6)));
    EXPECT_EQ(running.server->counters().tcp_accepted, 3u);
}

// At the cap, a new connection takes the slot of the one idle the longest (RFC 7766 6.2.3).
TEST(Tcp, FullCapEvictsTheLongestIdle) {
    Settings settings = tcp_config(1);
    settings.tcp_max_connections = 2;
    RunningServer running(settings);
    Fd oldest = tcp_connect(running.at(0));
    ASSERT_TRUE(oldest);
    ASSERT_TRUE(write_all(oldest, frame(numbered(1))));
    ASSERT_EQ(read_frame(oldest), echoed(numbered(1)));
    Fd newer = tcp_connect(running.at(0));
    ASSERT_TRUE(newer);
    ASSERT_TRUE(write_all(newer, frame(numbered(2))));
    ASSERT_EQ(read_frame(newer), echoed(numbered(2)));
    // Activity on the older connection makes it the more recently idle one.
    ASSERT_TRUE(write_all(oldest, frame(numbered(3))));
    ASSERT_EQ(read_frame(oldest), echoed(numbered(3)));

    Fd fresh = tcp_connect(running.at(0));
    ASSERT_TRUE(fresh);
    ASSERT_TRUE(write_all(fresh, frame(numbered(4))));
    EXPECT_EQ(read_frame(fresh), echoed(numbered(4)));
    EXPECT_TRUE(closed_by_peer(newer, 2s));
    ASSERT_TRUE(write_all(oldest, frame(numbered(5))));
    EXPECT_EQ(read_frame(oldest), echoed(numbered(5)));
    EXPECT_EQ(running.server->counters().tcp_evicted, 1u);
    EXPECT_EQ(running.server->counters().tcp_refused, 0u);
}

sockaddr_storage address_of(const char* text) {
    sockaddr_storage storage{};
    if (inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in&>(storage).sin_addr) == 1) {
        storage.ss_family = AF_INET;
    } else {
        storage.ss_family = AF_INET6;
        inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6&>(storage).sin6_addr);
    }
    return storage;
}

TEST(ClientLimiter, CountsPerAddressAndGivesBack) {
    ClientLimiter limiter(2);
    const auto a = address_of("192.0.2.1");
    const auto b = address_of("2001:db8::1");
    const std::uint32_t a1 = limiter.acquire(a);
    const std::uint32_t a2 = limiter.acquire(a);
    ASSERT_NE(a1, ClientLimiter::kNoSlot);
    ASSERT_NE(a2, ClientLimiter::kNoSlot);
    EXPECT_EQ(limiter.acquire(a), ClientLimiter::kNoSlot);
    EXPECT_EQ(limiter.held(a), 2u);  // the refusal gave its count back
    EXPECT_NE(limiter.acquire(b), ClientLimiter::kNoSlot);
    limiter.release(a1);
    EXPECT_EQ(limiter.held(a), 1u);
    EXPECT_NE(limiter.acquire(a), ClientLimiter::kNoSlot);
    limiter.release(ClientLimiter::kNoSlot);  // a refused connection has nothing to give back
    EXPECT_EQ(limiter.held(a), 2u);
}

// With a single slot per row every address collides: the cap becomes one for all of them,
// stricter, never looser.
TEST(ClientLimiter, CollisionsOnlyTighten) {
    ClientLimiter limiter(3, 1);
    unsigned admitted = 0;
    for (int i = 1; i <= 10; ++i) {
        const std::string text = "198.51.100." + std::to_string(i);
        if (limiter.acquire(address_of(text.c_str())) != ClientLimiter::kNoSlot) ++admitted;
    }
    EXPECT_EQ(admitted, 3u);
}

// Workers racing at the cap: between them they fill it, and overshoot it by no more than one
// each, which is the only looseness the two rows allow; closing gives every place back.
TEST(ClientLimiter, RacingAccepts) {
    ClientLimiter limiter(50);
    const auto a = address_of("203.0.113.7");
    constexpr int kThreads = 4;
    std::vector<std::vector<std::uint32_t>> tickets(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 40; ++i) {
                std::uint32_t ticket = limiter.acquire(a);
                if (ticket != ClientLimiter::kNoSlot) tickets[t].push_back(ticket);
            }
        });
    for (auto& thread : threads)
        thread.join();
    std::size_t admitted = 0;
    for (const auto& held : tickets)
        admitted += held.size();
    EXPECT_GE(admitted, 50u);
    EXPECT_LE(admitted, 50u + kThreads - 1);
    EXPECT_EQ(limiter.held(a), admitted);
    for (const auto& held : tickets)
        for (std::uint32_t ticket : held)
            limiter.release(ticket);
    EXPECT_EQ(limiter.held(a), 0u);
}

// The per-client cap holds across workers (the kernel spreads one client over all of them)
// and leaves other addresses alone; a closed connection gives its place back.
TEST(Tcp, PerClientCapRefusesTheExtraOne) {
    Settings settings = tcp_config(2);
    settings.tcp_max_connections = 100;
    settings.tcp_max_per_client = 3;
    RunningServer running(settings);
    std::vector<Fd> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(tcp_connect_from("127.0.0.9", running.at(0)));
        ASSERT_TRUE(held.back());
        ASSERT_TRUE(write_all(held.back(), frame(numbered(i))));
        ASSERT_EQ(read_frame(held.back()), echoed(numbered(i)));
    }
    Fd extra = tcp_connect_from("127.0.0.9", running.at(0));
    if (extra) {
        write_all(extra, frame(numbered(3)));
        EXPECT_TRUE(closed_by_peer(extra, 2s));
    }
    EXPECT_TRUE(eventually([&] { return running.server->counters().tcp_refused_per_client == 1; }));
    EXPECT_EQ(running.server->counters().tcp_evicted, 0u);

    Fd other = tcp_connect_from("127.0.0.10", running.at(0));
    ASSERT_TRUE(other);
    ASSERT_TRUE(write_all(other, frame(numbered(4))));
    EXPECT_EQ(read_frame(other), echoed(numbered(4)));

    held.front().reset();
    bool served = false;
    for (int attempt = 0; attempt < 50 && !served; ++attempt) {  // the close lands soon after
        std::this_thread::sleep_for(20ms);
        Fd again = tcp_connect_from("127.0.0.9", running.at(0));
        served = again && write_all(again, frame(numbered(5))) &&
                 read_frame(again, 500ms) == echoed(numbered(5));
    }
    EXPECT_TRUE(served);
}

// A query trickling in a byte at a time is closed after the io timeout, however recent the
// last byte: only a whole query counts.
TEST(Tcp, IoTimeoutClosesATrickle) {
    Settings settings = tcp_config(1);
    settings.tcp_idle_timeout = 10s;
    settings.tcp_io_timeout = 300ms;
    RunningServer running(settings);
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    int one = 1;
    setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // A first query in one piece, answered; the trickle's clock starts at its own first byte.
    ASSERT_TRUE(write_all(client, frame(numbered(0))));
    ASSERT_EQ(read_frame(client), echoed(numbered(0)));
    Bytes message = frame(numbered(1, 200));
    auto start = std::chrono::steady_clock::now();
    bool closed = false;
    for (std::uint8_t byte : message) {
        if (!write_all(client, Bytes{byte}) || wait_readable(client.get(), 50ms)) {
            closed = true;
            break;
        }
    }
    EXPECT_TRUE(closed || closed_by_peer(client, 2s));
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_GE(elapsed, 250ms);
    EXPECT_LT(elapsed, 2s);
    EXPECT_EQ(running.server->counters().tcp_io_timed_out, 1u);
    EXPECT_EQ(running.server->counters().tcp_timed_out, 0u);
}

// Queries one after another, each sent whole, never trip the io timeout.
TEST(Tcp, IoTimeoutSparesPromptClients) {
    Settings settings = tcp_config(1);
    settings.tcp_io_timeout = 100ms;
    RunningServer running(settings);
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    for (int i = 0; i < 5; ++i) {  // 500 ms of gaps between queries, each past the io timeout
        std::this_thread::sleep_for(100ms);
        ASSERT_TRUE(write_all(client, frame(numbered(i))));
        ASSERT_EQ(read_frame(client), echoed(numbered(i))) << i;
    }
    EXPECT_EQ(running.server->counters().tcp_io_timed_out, 0u);
}

// A client that asks and never reads: once nolbd cannot push its answers out, the connection
// is closed after the io timeout instead of holding its buffers for ever.
TEST(Tcp, IoTimeoutClosesAClientThatDoesNotRead) {
    Settings settings = tcp_config(1);
    settings.tcp_idle_timeout = 30s;
    settings.tcp_io_timeout = 300ms;
    RunningServer running(settings);
    Fd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int small = 4096;
    setsockopt(client.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_storage address;
    socklen_t length = running.at(0).to_sockaddr(address);
    ASSERT_EQ(connect(client.get(), reinterpret_cast<const sockaddr*>(&address), length), 0);
    timeval limit{5, 0};  // a send that can no longer progress must not hang the test
    setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    auto start = std::chrono::steady_clock::now();
    // More answers than the kernel's buffers on both sides hold.
    const Bytes query = frame(numbered(0, 60'000));
    for (int i = 0; i < 300 && write_all(client, query); ++i) {
        if (running.server->counters().tcp_io_timed_out > 0) break;
    }
    EXPECT_TRUE(eventually([&] { return running.server->counters().tcp_io_timed_out == 1; }, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    EXPECT_EQ(running.server->counters().tcp_timed_out, 0u);
    Fd fresh = tcp_connect(running.at(0));
    ASSERT_TRUE(fresh);
    ASSERT_TRUE(write_all(fresh, frame(numbered(1))));
    EXPECT_EQ(read_frame(fresh), echoed(numbered(1)));
}

TEST(Tcp, ManyConnectionsAtOnce) {
    Settings settings = tcp_config(2);
    settings.tcp_max_connections = 1000;
    settings.tcp_max_per_client = 1000;  // all from 127.0.0.1 and ::1
    RunningServer running(settings);
    std::vector<Fd> clients;
    for (int i = 0; i < 200; ++i) {
        clients.push_back(tcp_connect(running.at(i % 2)));
        ASSERT_TRUE(clients.back());
        ASSERT_TRUE(write_all(clients.back(), frame(numbered(i))));
    }
    for (int i = 0; i < 200; ++i)
        EXPECT_EQ(read_frame(clients[i]), echoed(numbered(i)));
    EXPECT_EQ(running.server->counters().tcp_accepted, 200u);
}

}  // namespace
}  // namespace nolb::server
