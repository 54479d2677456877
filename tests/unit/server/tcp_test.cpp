// The TCP path against real sockets on loopback: framing, pipelining, partial reads, large
// messages, backpressure, the idle timeout and the connection cap.
#include "server/tcp.hpp"

#include <netinet/tcp.h>

#include <gtest/gtest.h>

#include <thread>

#include "unit/server/server_fixture.hpp"

namespace nolb::server {
namespace {

using namespace testing;

config::Server tcp_config(unsigned workers = 2) {
    config::Server config = server_config({loopback4(), loopback6()}, workers);
    config.tcp_idle_timeout = 5s;
    return config;
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

// A client that writes far more than it reads: the server must hold back (bounded output)
// and still answer everything, in order, once the client reads.
TEST(Tcp, SlowReaderGetsEveryAnswerInOrder) {
    RunningServer running(tcp_config(1));
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    constexpr int kMessages = 3000;
    constexpr std::size_t kSize = 1000;
    std::thread writer([&client] {
        for (int i = 0; i < kMessages; ++i)
            if (!write_all(client, frame(numbered(i, kSize)))) return;
    });
    std::this_thread::sleep_for(300ms);  // let both directions fill up
    for (int i = 0; i < kMessages; ++i) {
        auto response = read_frame(client);
        ASSERT_TRUE(response) << i;
        ASSERT_EQ(*response, echoed(numbered(i, kSize))) << i;
    }
    writer.join();
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
    config::Server config = tcp_config();
    config.tcp_idle_timeout = 200ms;
    RunningServer running(config);
    Fd client = tcp_connect(running.at(0));
    ASSERT_TRUE(client);
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(closed_by_peer(client, 5s));
    EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
    EXPECT_EQ(running.server->counters().tcp_timed_out, 1u);
}

TEST(Tcp, QueriesKeepAConnectionOpen) {
    config::Server config = tcp_config();
    config.tcp_idle_timeout = 300ms;
    RunningServer running(config);
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
    config::Server config = tcp_config();
    config.tcp_idle_timeout = 300ms;
    RunningServer running(config);
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

TEST(Tcp, ConnectionCapRefusesTheExtraOne) {
    config::Server config = tcp_config(1);
    config.tcp_max_connections = 2;
    RunningServer running(config);
    Fd first = tcp_connect(running.at(0));
    Fd second = tcp_connect(running.at(1));
    ASSERT_TRUE(first);
    ASSERT_TRUE(second);
    ASSERT_TRUE(write_all(first, frame(numbered(1))));
    ASSERT_EQ(read_frame(first), echoed(numbered(1)));
    ASSERT_TRUE(write_all(second, frame(numbered(2))));
    ASSERT_EQ(read_frame(second), echoed(numbered(2)));

    Fd third = tcp_connect(running.at(0));
    if (third) {  // the kernel completes the handshake; the server then resets it
        write_all(third, frame(numbered(3)));
        EXPECT_TRUE(closed_by_peer(third, 2s));
    }
    EXPECT_TRUE(eventually([&] { return running.server->counters().tcp_refused == 1; }));

    // The others never noticed.
    ASSERT_TRUE(write_all(first, frame(numbered(4))));
    EXPECT_EQ(read_frame(first), echoed(numbered(4)));
    ASSERT_TRUE(write_all(second, frame(numbered(5))));
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

TEST(Tcp, ManyConnectionsAtOnce) {
    config::Server config = tcp_config(2);
    config.tcp_max_connections = 1000;
    RunningServer running(config);
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
