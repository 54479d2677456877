// One worker: its own UDP and TCP sockets for every listen endpoint (the kernel spreads
// traffic across workers with SO_REUSEPORT), each UDP socket served by a thread of its own
// blocked in recvmmsg (server/udp.hpp), and one thread with an event loop for the TCP
// listeners and connections. Every thread has its own Handler, buffers and counters: nothing
// on the packet path is shared with another thread.
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

    // Serves TCP on the calling thread until request_stop(); `handler` must outlive the call.
    void run(Handler& handler);
    // One per UDP socket, each to be run on a thread of its own.
    const std::vector<std::unique_ptr<UdpLoop>>& udp() const { return udp_; }
    // Safe from any thread; run() and every UdpLoop::run() return soon after (at once if they
    // have not started yet).
    void request_stop();

    // The sum over this worker's threads.
    Counters counters() const;

  private:
    static void on_stop(evutil_socket_t fd, short what, void* argument);

    WorkerCounters counters_;
    util::EventBase base_;  // declared before every event, so it is freed after them
    Handler* handler_ = nullptr;
    std::vector<std::unique_ptr<UdpLoop>> udp_;
    std::unique_ptr<TcpServer> tcp_;
    Fd stop_fd_;  // an eventfd: the one way another thread reaches this loop
    util::Event stop_event_;
};

}  // namespace nolb::server
