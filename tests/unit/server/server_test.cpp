// Server lifecycle: open, start, stop, handlers per worker, bound endpoints, counters.
#include "server/server.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "unit/server/server_fixture.hpp"

namespace nolb::server {
namespace {

using namespace testing;

TEST(Server, PortZeroBecomesTheBoundPort) {
    RunningServer running(server_config({loopback4(), loopback6()}, 3));
    ASSERT_EQ(running.server->endpoints().size(), 2u);
    EXPECT_NE(running.at(0).port, 0);
    EXPECT_NE(running.at(1).port, 0);
    EXPECT_EQ(running.at(0).address, loopback4().address);
    EXPECT_EQ(running.at(1).address, loopback6().address);
    EXPECT_EQ(running.server->workers(), 3u);
}

// Each worker runs a TCP thread and a thread per UDP socket, each with a Handler of its own.
TEST(Server, OneHandlerPerThreadMadeOnThatThread) {
    HandlerStats stats;
    std::mutex mutex;
    std::vector<std::thread::id> threads;
    std::vector<unsigned> indexes;
    {
        Server server(server_config({loopback4()}, 4), [&](unsigned index) {
            std::lock_guard lock(mutex);
            threads.push_back(std::this_thread::get_id());
            indexes.push_back(index);
            return std::make_unique<EchoHandler>(stats);
        });
        server.open();
        server.start();
    }
    std::sort(indexes.begin(), indexes.end());
    EXPECT_EQ(indexes, (std::vector<unsigned>{0, 0, 1, 1, 2, 2, 3, 3}));
    std::sort(threads.begin(), threads.end());
    EXPECT_EQ(std::unique(threads.begin(), threads.end()), threads.end());
    EXPECT_EQ(std::count(threads.begin(), threads.end(), std::this_thread::get_id()), 0);
}

TEST(Server, FactoryFailureIsRethrownByStart) {
    HandlerStats stats;
    Server server(server_config({loopback4()}, 3), [&](unsigned index) -> std::unique_ptr<Handler> {
        if (index == 1) throw std::runtime_error("no handler today");
        return std::make_unique<EchoHandler>(stats);
    });
    server.open();
    EXPECT_THROW(
        {
            try {
                server.start();
            } catch (const std::runtime_error& e) {
                EXPECT_STREQ(e.what(), "no handler today");
                throw;
            }
        },
        std::runtime_error);
}

TEST(Server, StopIsPromptAndRepeatable) {
    RunningServer running(server_config({loopback4(), loopback6()}, 4));
    auto start = std::chrono::steady_clock::now();
    running.server->stop();
    running.server->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    // Nothing answers any more.
    Fd client = udp_client(AF_INET);
    ASSERT_TRUE(send_udp(client, running.at(0), bytes("anyone?")));
    EXPECT_FALSE(receive_udp(client, 200ms));
}

TEST(Server, StopWithOpenConnections) {
    RunningServer running(server_config({loopback4()}, 2));
    std::vector<Fd> clients;
    for (int i = 0; i < 10; ++i)
        clients.push_back(tcp_connect(running.at(0)));
    ASSERT_TRUE(write_all(clients[0], frame(bytes("hi there"))));
    ASSERT_TRUE(read_frame(clients[0]));
    running.server->stop();
    running.server.reset();  // closes every connection
    for (auto& client : clients)
        EXPECT_TRUE(closed_by_peer(client, 2s));
}

TEST(Server, CountersAddUpAcrossWorkers) {
    RunningServer running(server_config({loopback4()}, 2));
    for (int i = 0; i < 8; ++i) {
        Fd client = udp_client(AF_INET);
        ASSERT_TRUE(send_udp(client, running.at(0), bytes("count me")));
        ASSERT_TRUE(receive_udp(client));
        Fd connection = tcp_connect(running.at(0));
        ASSERT_TRUE(write_all(connection, frame(bytes("count me"))));
        ASSERT_TRUE(read_frame(connection));
    }
    EXPECT_TRUE(eventually([&] { return running.server->counters().udp_sent == 8; }));
    Counters counters = running.server->counters();
    EXPECT_EQ(counters.udp_received, 8u);
    EXPECT_EQ(counters.udp_sent, 8u);
    EXPECT_EQ(counters.tcp_accepted, 8u);
    EXPECT_EQ(counters.tcp_messages, 8u);
    EXPECT_EQ(running.stats.handlers.load(), 4u);  // 2 workers x (TCP + UDP)
}

TEST(Server, NoListenAddressIsAnError) {
    HandlerStats stats;
    Server server(server_config({}, 1),
                  [&](unsigned) { return std::make_unique<EchoHandler>(stats); });
    EXPECT_THROW(server.open(), std::runtime_error);
}

}  // namespace
}  // namespace nolb::server
