// The UDP path against real sockets on loopback: round trips, bursts, dropped answers, and
// replies from the address a wildcard socket was queried on.
#include "server/udp.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "unit/server/server_fixture.hpp"

namespace nolb::server {
namespace {

using namespace testing;

class Udp : public ::testing::Test {
  protected:
    RunningServer running{server_config({loopback4(), loopback6()})};
};

TEST_F(Udp, RoundTripIpv4) {
    Fd client = udp_client(AF_INET);
    Bytes query = bytes("abcdef");
    ASSERT_TRUE(send_udp(client, running.at(0), query));
    util::Endpoint from;
    auto response = receive_udp(client, 2s, &from);
    ASSERT_TRUE(response);
    EXPECT_EQ(*response, echoed(query));
    EXPECT_EQ(from, running.at(0));
}

TEST_F(Udp, RoundTripIpv6) {
    Fd client = udp_client(AF_INET6);
    Bytes query = bytes("ghijkl");
    ASSERT_TRUE(send_udp(client, running.at(1), query));
    util::Endpoint from;
    auto response = receive_udp(client, 2s, &from);
    ASSERT_TRUE(response);
    EXPECT_EQ(*response, echoed(query));
    EXPECT_EQ(from, running.at(1));
}

TEST_F(Udp, BurstIsAnsweredInFull) {
    // Several clients so that both workers' sockets get traffic.
    constexpr int kClients = 4;
    constexpr int kPerClient = 100;
    std::vector<Fd> clients;
    for (int c = 0; c < kClients; ++c)
        clients.push_back(udp_client(AF_INET));
    for (int i = 0; i < kPerClient; ++i)
        for (int c = 0; c < kClients; ++c)
            ASSERT_TRUE(send_udp(clients[c], running.at(0),
                                 bytes("q" + std::to_string(c) + "-" + std::to_string(i))));
    for (int c = 0; c < kClients; ++c) {
        std::set<Bytes> expected;
        for (int i = 0; i < kPerClient; ++i)
            expected.insert(echoed(bytes("q" + std::to_string(c) + "-" + std::to_string(i))));
        std::set<Bytes> got;
        while (got.size() < expected.size()) {
            auto response = receive_udp(clients[c], 2s);
            if (!response) break;
            got.insert(*response);
        }
        EXPECT_EQ(got, expected) << "client " << c;
    }
    EXPECT_TRUE(eventually([&] {
        return running.server->counters().udp_sent == std::uint64_t{kClients * kPerClient};
    }));
    Counters counters = running.server->counters();
    EXPECT_EQ(counters.udp_received, std::uint64_t{kClients * kPerClient});
    EXPECT_EQ(counters.udp_sent, std::uint64_t{kClients * kPerClient});
    EXPECT_EQ(counters.udp_send_errors, 0u);
    // Batching: fewer batches than messages (recvmmsg took several at once) is likely but not
    // guaranteed under scheduling; every message was still seen.
    EXPECT_EQ(running.stats.messages.load(), std::uint64_t{kClients * kPerClient});
}

TEST_F(Udp, HandlerReturningZeroSendsNothing) {
    Fd client = udp_client(AF_INET);
    ASSERT_TRUE(send_udp(client, running.at(0), bytes("drop this")));
    EXPECT_FALSE(receive_udp(client, 300ms));
    // The next query still gets its own answer, and only that.
    Bytes query = bytes("keep this");
    ASSERT_TRUE(send_udp(client, running.at(0), query));
    auto response = receive_udp(client);
    ASSERT_TRUE(response);
    EXPECT_EQ(*response, echoed(query));
    EXPECT_EQ(running.server->counters().udp_dropped, 1u);
}

TEST(UdpWildcard, RepliesFromTheAddressQueried) {
    RunningServer running(server_config({endpoint("0.0.0.0"), endpoint("::")}));
    // 127.0.0.2 is local but not what routing would pick as a source towards 127.0.0.1.
    for (const char* address : {"127.0.0.2", "127.0.0.1"}) {
        Fd client = udp_client(AF_INET);
        util::Endpoint to{*util::IpAddress::parse(address), running.at(0).port};
        Bytes query = bytes("wildcard");
        ASSERT_TRUE(send_udp(client, to, query));
        util::Endpoint from;
        auto response = receive_udp(client, 2s, &from);
        ASSERT_TRUE(response) << address;
        EXPECT_EQ(*response, echoed(query));
        EXPECT_EQ(from, to) << from.to_string();
    }
    Fd client = udp_client(AF_INET6);
    util::Endpoint to{*util::IpAddress::parse("::1"), running.at(1).port};
    ASSERT_TRUE(send_udp(client, to, bytes("wildcard6")));
    util::Endpoint from;
    ASSERT_TRUE(receive_udp(client, 2s, &from));
    EXPECT_EQ(from, to);
}

TEST(UdpLarge, FullBufferGoesToTheHandler) {
    RunningServer running(server_config({loopback4()}, 1));
    Fd client = udp_client(AF_INET);
    Bytes query(kUdpBufferSize, 0x41);
    ASSERT_TRUE(send_udp(client, running.at(0), query));
    auto response = receive_udp(client);
    ASSERT_TRUE(response);
    EXPECT_EQ(*response, echoed(query));
    // One byte more than a buffer holds is not a query we answer.
    ASSERT_TRUE(send_udp(client, running.at(0), Bytes(kUdpBufferSize + 1, 0x41)));
    EXPECT_FALSE(receive_udp(client, 300ms));
}

}  // namespace
}  // namespace nolb::server
