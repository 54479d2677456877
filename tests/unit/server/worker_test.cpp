// One worker on its own, without a Server around it: it serves the sockets it is handed (each UDP
// socket by a loop of its own, every TCP listener by its event loop), applies the TCP limits it
// was given, sums its threads' counters, and stops promptly when asked from another thread, or
// at once when asked before its loops ran.
#include "server/worker.hpp"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <vector>

#include "unit/server/server_fixture.hpp"

namespace nolb::server {
namespace {

using namespace testing;

// A worker's sockets, one UDP and one TCP per endpoint, and where each ended up bound.
struct OpenSockets {
    WorkerSockets sockets;
    std::vector<util::Endpoint> udp;
    std::vector<util::Endpoint> tcp;
};

OpenSockets open_sockets(const std::vector<util::Endpoint>& endpoints) {
    OpenSockets open;
    for (const auto& endpoint : endpoints) {
        Fd udp = open_udp(endpoint);
        open.udp.push_back(local_endpoint(udp.get()));
        open.sockets.udp.push_back({std::move(udp), false});
        Fd tcp = open_tcp(endpoint, 16);
        open.tcp.push_back(local_endpoint(tcp.get()));
        open.sockets.tcp.push_back(std::move(tcp));
    }
    return open;
}

TcpLimits limits(unsigned max_connections = 8) {
    TcpLimits limits;
    limits.max_connections = max_connections;
    return limits;
}

// A worker's loops on threads of their own, each with its handler, as Server runs them.
class Loops {
  public:
    Loops(Worker& worker, HandlerStats& stats) : worker_(worker) {
        handlers_.push_back(std::make_unique<EchoHandler>(stats));
        Handler* tcp = handlers_.back().get();
        done_.push_back(std::async(std::launch::async, [this, tcp] { worker_.run(*tcp); }));
        for (const auto& loop : worker.udp()) {
            handlers_.push_back(std::make_unique<EchoHandler>(stats));
            Handler* udp = handlers_.back().get();
            UdpLoop* serving = loop.get();
            done_.push_back(std::async(std::launch::async, [serving, udp] { serving->run(*udp); }));
        }
    }
    ~Loops() { stop(); }
    Loops(const Loops&) = delete;
    Loops& operator=(const Loops&) = delete;

    // Asks the worker to stop; true when every loop returned within `timeout`.
    bool stop(std::chrono::milliseconds timeout = 2s) {
        worker_.request_stop();
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        bool all = true;
        for (auto& done : done_)
            all = done.wait_until(deadline) == std::future_status::ready && all;
        return all;
    }

  private:
    Worker& worker_;
    std::vector<std::unique_ptr<Handler>> handlers_;
    std::vector<std::future<void>> done_;  // last: their destructors wait for the loops
};

TEST(Worker, ServesEverySocketItIsHandedAndSumsItsThreadsCounters) {
    OpenSockets open = open_sockets({loopback4(), loopback6()});
    Worker worker(std::move(open.sockets), limits());
    ASSERT_EQ(worker.udp().size(), 2u) << "a UDP loop per UDP socket";
    HandlerStats stats;
    Loops loops(worker, stats);

    for (std::size_t i = 0; i < 2; ++i) {
        Fd udp = udp_client(open.udp[i].address.family);
        const Bytes query = bytes("udp-query-" + std::to_string(i));
        ASSERT_TRUE(send_udp(udp, open.udp[i], query));
        EXPECT_EQ(receive_udp(udp), echoed(query)) << open.udp[i].to_string();

        Fd tcp = tcp_connect(open.tcp[i]);
        ASSERT_TRUE(tcp) << open.tcp[i].to_string();
        const Bytes message = bytes("tcp-query-" + std::to_string(i));
        ASSERT_TRUE(write_all(tcp, frame(message)));
        EXPECT_EQ(read_frame(tcp), echoed(message)) << open.tcp[i].to_string();
    }
    // The UDP loops count apart from the TCP loop; the worker's view is their sum.
    EXPECT_TRUE(eventually([&] {
        const Counters c = worker.counters();
        return c.udp_received == 2 && c.udp_sent == 2 && c.tcp_accepted == 2 && c.tcp_messages == 2;
    }));
    EXPECT_EQ(stats.handlers.load(), 3u) << "one for TCP, one per UDP loop";
    EXPECT_EQ(stats.messages.load(), 4u);
}

// With room for one connection, a second takes the place of the first, which sits idle.
TEST(Worker, KeepsToItsShareOfConnections) {
    OpenSockets open = open_sockets({loopback4()});
    Worker worker(std::move(open.sockets), limits(1));
    HandlerStats stats;
    Loops loops(worker, stats);

    Fd first = tcp_connect(open.tcp[0]);
    ASSERT_TRUE(first);
    ASSERT_TRUE(write_all(first, frame(bytes("first"))));
    ASSERT_EQ(read_frame(first), echoed(bytes("first")));
    Fd second = tcp_connect(open.tcp[0]);
    ASSERT_TRUE(second);
    ASSERT_TRUE(write_all(second, frame(bytes("second"))));
    EXPECT_EQ(read_frame(second), echoed(bytes("second")));
    EXPECT_TRUE(closed_by_peer(first, 2s));
    EXPECT_EQ(worker.counters().tcp_evicted, 1u);
    EXPECT_EQ(worker.counters().tcp_accepted, 2u);
}

TEST(Worker, StopFromAnotherThreadEndsEveryLoop) {
    OpenSockets open = open_sockets({loopback4(), loopback6()});
    Worker worker(std::move(open.sockets), limits());
    HandlerStats stats;
    Loops loops(worker, stats);
    Fd udp = udp_client(AF_INET);
    ASSERT_TRUE(send_udp(udp, open.udp[0], bytes("before")));
    ASSERT_EQ(receive_udp(udp), echoed(bytes("before")));
    Fd tcp = tcp_connect(open.tcp[0]);
    ASSERT_TRUE(tcp);

    EXPECT_TRUE(loops.stop());
    // Nothing answers any more, on either transport.
    ASSERT_TRUE(send_udp(udp, open.udp[0], bytes("after")));
    EXPECT_FALSE(receive_udp(udp, 200ms));
    write_all(tcp, frame(bytes("after")));
    EXPECT_FALSE(read_frame(tcp, 200ms));
}

// A stop that comes before the loops start (a Server stopped while starting) must not be lost.
TEST(Worker, StopBeforeTheLoopsRunEndsThemAtOnce) {
    OpenSockets open = open_sockets({loopback4()});
    Worker worker(std::move(open.sockets), limits());
    worker.request_stop();
    HandlerStats stats;
    Loops loops(worker, stats);
    EXPECT_TRUE(loops.stop(1s));
    EXPECT_EQ(stats.messages.load(), 0u);
}

}  // namespace
}  // namespace nolb::server
