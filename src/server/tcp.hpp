// The TCP path of one worker: its listening sockets and the connections it accepted.
// Messages are framed by a two-byte length (RFC 1035 4.2.2, RFC 7766); a client may pipeline
// as many as it likes, and every complete message in a read is answered in order, the
// responses of that read leaving in one send. Connection state comes from a pool that grows
// at accept time up to the worker's share of the connection cap and is reused afterwards, so
// nothing is allocated per message. Output is bounded: past a high-water mark the connection
// stops answering and stops reading until the client has taken what is queued.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "server/counters.hpp"
#include "server/handler.hpp"
#include "server/socket.hpp"
#include "util/event.hpp"

namespace nolb::server {

inline constexpr std::size_t kTcpMaxMessage = 65535;

struct TcpLimits {
    unsigned max_connections = 0;  // this worker's share; beyond it a connection is reset
    // A connection without a complete query or any output progress for this long is closed;
    // zero disables the timeout.
    std::chrono::milliseconds idle_timeout{10'000};
};

class TcpServer {
  public:
    TcpServer(event_base* base, TcpLimits limits, WorkerCounters& counters);
    ~TcpServer();
    TcpServer(const TcpServer&) = delete;
    TcpServer& operator=(const TcpServer&) = delete;

    // Starts accepting on a listening socket (from open_tcp).
    void add_listener(Fd fd);
    // The handler of this worker, set before the loop runs.
    void set_handler(Handler& handler) { handler_ = &handler; }

    unsigned open_connections() const { return open_; }

  private:
    struct Listener;
    struct Connection;

    static void on_accept(evutil_socket_t fd, short what, void* argument);
    static void on_resume_accept(evutil_socket_t fd, short what, void* argument);
    static void on_readable(evutil_socket_t fd, short what, void* argument);
    static void on_writable(evutil_socket_t fd, short what, void* argument);
    static void on_idle(evutil_socket_t fd, short what, void* argument);

    void accept_from(Listener& listener);
    void start(Connection& connection, Fd fd);
    void read_from(Connection& connection);
    std::size_t answer_complete(Connection& connection);
    void settle(Connection& connection, bool active);
    bool flush(Connection& connection, bool& progressed);
    void close(Connection& connection);
    Connection& acquire();

    event_base* base_;
    TcpLimits limits_;
    WorkerCounters& counters_;
    Handler* handler_ = nullptr;
    timeval idle_timeval_{};
    const timeval* idle_timeout_ = nullptr;    // a libevent common timeout: O(1) resets
    std::unique_ptr<std::uint8_t[]> scratch_;  // the handler writes each response here
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::vector<std::unique_ptr<Connection>> connections_;
    Connection* free_ = nullptr;
    unsigned open_ = 0;
};

}  // namespace nolb::server
