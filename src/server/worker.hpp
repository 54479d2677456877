// One worker: a thread with its own event loop, its own UDP and TCP sockets for every listen
// endpoint (the kernel spreads traffic across workers with SO_REUSEPORT), its own buffers,
// connections, counters and Handler. Nothing on the packet path is shared with another worker.
#pragma once

#include <memory>
#include <vector>

#include "server/counters.hpp"
#include "server/handler.hpp"
#include "server/socket.hpp"
#include "server/tcp.hpp"
#include "server/udp.hpp"
#include "util/event.hpp"

namespace nolb::server {

// The sockets a worker serves, one of each kind per listen endpoint.
struct WorkerSockets {
    struct Udp {
        Fd fd;
        bool wildcard = false;  // answers must name their source address
    };
    std::vector<Udp> udp;
    std::vector<Fd> tcp;
};

class Worker {
  public:
    Worker(WorkerSockets sockets, TcpLimits limits);
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    ~Worker();

    // Serves on the calling thread until request_stop(); `handler` must outlive the call.
    void run(Handler& handler);
    // Safe from any thread; run() returns soon after (at once if it has not started yet).
    void request_stop();

    const WorkerCounters& counters() const { return counters_; }

  private:
    struct UdpSocket {
        Worker* owner = nullptr;
        Fd fd;
        bool wildcard = false;
        util::Event readable;
    };

    static void on_udp(evutil_socket_t fd, short what, void* argument);
    static void on_stop(evutil_socket_t fd, short what, void* argument);

    WorkerCounters counters_;
    util::EventBase base_;  // declared before every event, so it is freed after them
    Handler* handler_ = nullptr;
    std::unique_ptr<UdpBatch> batch_;
    std::vector<std::unique_ptr<UdpSocket>> udp_;
    std::unique_ptr<TcpServer> tcp_;
    Fd stop_fd_;  // an eventfd: the one way another thread reaches this loop
    util::Event stop_event_;
};

}  // namespace nolb::server
