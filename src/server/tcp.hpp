// The TCP path of one worker: its listening sockets and the connections it accepted.
// Messages are framed by a two-byte length (server/tcp_framing.hpp); a client may pipeline as
// many as it likes, and every complete message in a read is answered in order, the responses
// of that read leaving in one send. Connection state comes from a pool that grows at accept
// time up to the worker's share of the connection cap and is reused afterwards, so nothing is
// allocated per message.
//
// Against clients that hold connections without using them: a cap per client address shared
// by all workers (ClientLimiter); an idle timeout; an io timeout that bounds how long a query
// may take to arrive once begun and how long queued answers may wait for the client to read
// them; bounded output (past a high-water mark the connection stops answering and reading
// until the client takes what is queued); and, when the worker's share is full, the
// connection idle the longest makes room for a new one (RFC 7766 6.2.3).
#pragma once

#include <event2/event.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "server/counters.hpp"
#include "server/handler.hpp"
#include "server/socket.hpp"
#include "server/tcp_framing.hpp"
#include "util/event.hpp"

namespace nolb::server {

// Open connections per client address, shared by every worker's accept path (and nothing
// else): two rows of counters, each indexed by its own part of a keyed hash of the address,
// counting every connection in both; an address's count is the smaller of its two (a
// count-min sketch). Addresses that share both slots share a cap, which can only make it
// stricter, and with two rows that takes two collisions at once; the key, drawn at start, keeps
// a client from choosing addresses that collide with someone else's.
class ClientLimiter {
  public:
    static constexpr std::uint32_t kNoSlot = UINT32_MAX;

    // `slots` per row, rounded up to a power of two, at most 65,536.
    explicit ClientLimiter(unsigned max_per_client, std::size_t slots = 8192);

    // A ticket for one more connection from `address` (to give back to release()), or
    // kNoSlot when the address already holds max_per_client.
    std::uint32_t acquire(const sockaddr_storage& address);
    void release(std::uint32_t ticket);
    // Connections counted for `address`.
    unsigned held(const sockaddr_storage& address) const;

  private:
    std::uint32_t ticket_of(const sockaddr_storage& address) const;
    std::size_t first(std::uint32_t ticket) const { return ticket & mask_; }
    std::size_t second(std::uint32_t ticket) const { return mask_ + 1 + ((ticket >> 16) & mask_); }

    unsigned max_;
    std::size_t mask_;
    std::uint64_t key_;
    std::unique_ptr<std::atomic<unsigned>[]> slots_;  // both rows
};

struct TcpLimits {
    unsigned max_connections = 0;  // this worker's share
    // A connection without a complete query or any output progress for this long is closed;
    // zero disables the timeout.
    std::chrono::milliseconds idle_timeout{10'000};
    // From a query's first byte to its last, and from answers being queued to all of them
    // sent; zero disables it.
    std::chrono::milliseconds io_timeout{2'000};
    ClientLimiter* clients = nullptr;  // shared by the workers; null: no per-client cap
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
    enum class IoWait : std::uint8_t { none, query, output };

    static void on_accept(evutil_socket_t fd, short what, void* argument);
    static void on_resume_accept(evutil_socket_t fd, short what, void* argument);
    static void on_readable(evutil_socket_t fd, short what, void* argument);
    static void on_writable(evutil_socket_t fd, short what, void* argument);
    static void on_idle(evutil_socket_t fd, short what, void* argument);
    static void on_io_timeout(evutil_socket_t fd, short what, void* argument);

    void accept_from(Listener& listener);
    bool make_room();
    void start(Connection& connection, Fd fd, std::uint32_t client_ticket);
    void read_from(Connection& connection);
    void queue(Connection& connection, std::size_t response);
    std::size_t answer_complete(Connection& connection);
    void settle(Connection& connection, bool active, bool answered);
    void watch_io(Connection& connection, bool answered);
    bool flush(Connection& connection, bool& progressed);
    void close(Connection& connection);
    Connection& acquire();
    void link_idle(Connection& connection);
    void unlink_idle(Connection& connection);

    event_base* base_;
    TcpLimits limits_;
    WorkerCounters& counters_;
    Handler* handler_ = nullptr;
    timeval idle_timeval_{};
    const timeval* idle_timeout_ = nullptr;  // a libevent common timeout: O(1) resets
    timeval io_timeval_{};
    const timeval* io_timeout_ = nullptr;
    std::unique_ptr<std::uint8_t[]> scratch_;  // the handler writes each response here
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::vector<std::unique_ptr<Connection>> connections_;
    Connection* free_ = nullptr;
    // Connections waiting for a query with nothing buffered either way, the longest idle
    // first: the ones to close when a new connection needs the slot.
    Connection* idle_head_ = nullptr;
    Connection* idle_tail_ = nullptr;
    unsigned open_ = 0;
};

}  // namespace nolb::server
