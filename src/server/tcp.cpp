// TCP pipelining, backpressure, timeouts, eviction and the connection caps for one worker.
// Every callback runs on the worker's own thread; a connection is touched by nothing else.
// Only ClientLimiter is shared, and only on the accept and close paths.
#include "server/tcp.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <random>

namespace nolb::server {
namespace {

constexpr std::size_t kInitialInput = 1024;  // most queries, and a few pipelined ones
// Queued output past which a connection stops answering (and reading) until the client has
// taken all of it; with one maximal response on top this bounds a connection's output buffer.
constexpr std::size_t kOutputHighWater = 64 * 1024;
constexpr std::size_t kRetainedOutput = 16 * 1024;  // larger buffers are freed at close
constexpr unsigned kAcceptsPerWakeup = 64;
constexpr unsigned kReadsPerWakeup = 4;
// Rounds of writing a stream (a zone transfer) gets per wakeup while its client keeps up.
constexpr int kStreamRounds = 4;
constexpr timeval kAcceptPause = {0, 100'000};

// Closes with a reset, so a client over a cap fails at once and no TIME_WAIT stays here.
void reset_connection(Fd fd) {
    linger option{1, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &option, sizeof option);
}

bool would_block(int error) {
    return error == EAGAIN || error == EWOULDBLOCK;
}

std::uint64_t mix(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

timeval to_timeval(std::chrono::milliseconds ms) {
    return {static_cast<time_t>(ms.count() / 1000),
            static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

// A common timeout makes re-arming O(1) when many connections share the duration.
const timeval* common_timeout(event_base* base, std::chrono::milliseconds ms, timeval& storage) {
    if (ms.count() <= 0) return nullptr;
    storage = to_timeval(ms);
    const timeval* common = event_base_init_common_timeout(base, &storage);
    return common != nullptr ? common : &storage;
}

}  // namespace

ClientLimiter::ClientLimiter(unsigned max_per_client, std::size_t slots)
    : max_(max_per_client),
      mask_(std::bit_ceil(std::clamp<std::size_t>(slots, 1, 65'536)) - 1),
      key_((std::uint64_t{std::random_device{}()} << 32) | std::random_device{}()),
      slots_(std::make_unique<std::atomic<unsigned>[]>(2 * (mask_ + 1))) {}

std::uint32_t ClientLimiter::ticket_of(const sockaddr_storage& address) const {
    std::uint64_t hash = key_;
    if (address.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
        std::uint32_t word = 0;
        std::memcpy(&word, &v4.sin_addr, sizeof word);
        hash = mix(hash ^ word ^ (std::uint64_t{4} << 32));
    } else if (address.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
        std::uint64_t words[2];
        std::memcpy(words, &v6.sin6_addr, sizeof words);
        hash = mix(mix(hash ^ words[0]) ^ words[1] ^ 6);
    } else {
        hash = mix(hash);
    }
    return static_cast<std::uint32_t>(hash & 0x7fff'ffff);  // never kNoSlot
}

std::uint32_t ClientLimiter::acquire(const sockaddr_storage& address) {
    const std::uint32_t ticket = ticket_of(address);
    // Both counters move before the check, so a refusal gives its increments back. Workers
    // accepting from one address at the same instant may each see the other's increment in
    // one row only and both pass: the cap can be overshot by one per racing worker, briefly.
    const unsigned a = slots_[first(ticket)].fetch_add(1, std::memory_order_relaxed);
    const unsigned b = slots_[second(ticket)].fetch_add(1, std::memory_order_relaxed);
    if (std::min(a, b) >= max_) {
        release(ticket);
        return kNoSlot;
    }
    return ticket;
}

void ClientLimiter::release(std::uint32_t ticket) {
    if (ticket == kNoSlot) return;
    slots_[first(ticket)].fetch_sub(1, std::memory_order_relaxed);
    slots_[second(ticket)].fetch_sub(1, std::memory_order_relaxed);
}

unsigned ClientLimiter::held(const sockaddr_storage& address) const {
    const std::uint32_t ticket = ticket_of(address);
    return std::min(slots_[first(ticket)].load(std::memory_order_relaxed),
                    slots_[second(ticket)].load(std::memory_order_relaxed));
}

struct TcpServer::Listener {
    TcpServer* owner = nullptr;
    Fd fd;
    util::Event accept_event;
    util::Event resume_timer;  // re-arms accepting after running out of descriptors
};

struct TcpServer::Connection {
    TcpServer* owner = nullptr;
    Fd fd;
    util::Event read_event;
    util::Event write_event;
    util::Event idle_timer;
    util::Event io_timer;
    FrameBuffer in{kInitialInput};
    std::vector<std::uint8_t> out;   // length-prefixed responses not yet sent
    std::unique_ptr<Stream> stream;  // the rest of a response of several messages
    sockaddr_storage peer{};
    std::size_t out_sent = 0;
    std::uint32_t client_ticket = ClientLimiter::kNoSlot;
    IoWait io_wait = IoWait::none;
    bool waiting_to_write = false;  // reading is off until `out` drains
    bool peer_closed = false;
    bool broken = false;  // a zero-length message
    bool idle_linked = false;
    Connection* idle_prev = nullptr;
    Connection* idle_next = nullptr;
    Connection* next_free = nullptr;

    std::size_t pending() const { return out.size() - out_sent; }
};

TcpServer::TcpServer(event_base* base, TcpLimits limits, WorkerCounters& counters)
    : base_(base),
      limits_(limits),
      counters_(counters),
      scratch_(std::make_unique_for_overwrite<std::uint8_t[]>(kTcpMaxMessage)) {
    idle_timeout_ = common_timeout(base_, limits_.idle_timeout, idle_timeval_);
    io_timeout_ = common_timeout(base_, limits_.io_timeout, io_timeval_);
}

// The limiter outlives its servers, and must not go on counting connections that are gone.
TcpServer::~TcpServer() {
    if (limits_.clients == nullptr) return;
    for (const auto& connection : connections_)
        if (connection->fd) limits_.clients->release(connection->client_ticket);
}

void TcpServer::add_listener(Fd fd) {
    auto listener = std::make_unique<Listener>();
    listener->owner = this;
    listener->fd = std::move(fd);
    listener->accept_event = util::make_event(base_, listener->fd.get(), EV_READ | EV_PERSIST,
                                              &TcpServer::on_accept, listener.get());
    listener->resume_timer =
        util::make_event(base_, -1, 0, &TcpServer::on_resume_accept, listener.get());
    event_add(listener->accept_event.get(), nullptr);
    listeners_.push_back(std::move(listener));
}

void TcpServer::on_accept(evutil_socket_t, short, void* argument) {
    auto* listener = static_cast<Listener*>(argument);
    listener->owner->accept_from(*listener);
}

void TcpServer::on_resume_accept(evutil_socket_t, short, void* argument) {
    auto* listener = static_cast<Listener*>(argument);
    event_add(listener->accept_event.get(), nullptr);
}

void TcpServer::on_readable(evutil_socket_t, short, void* argument) {
    auto* connection = static_cast<Connection*>(argument);
    connection->owner->read_from(*connection);
}

void TcpServer::on_writable(evutil_socket_t, short, void* argument) {
    auto* connection = static_cast<Connection*>(argument);
    connection->owner->settle(*connection, false, false);
}

void TcpServer::on_idle(evutil_socket_t, short, void* argument) {
    auto* connection = static_cast<Connection*>(argument);
    connection->owner->counters_.tcp_timed_out.add();
    connection->owner->close(*connection);
}

void TcpServer::on_io_timeout(evutil_socket_t, short, void* argument) {
    auto* connection = static_cast<Connection*>(argument);
    connection->owner->counters_.tcp_io_timed_out.add();
    connection->owner->close(*connection);
}

void TcpServer::accept_from(Listener& listener) {
    for (unsigned i = 0; i < kAcceptsPerWakeup; ++i) {
        sockaddr_storage peer{};
        socklen_t peer_length = sizeof peer;
        Fd client(accept4(listener.fd.get(), reinterpret_cast<sockaddr*>(&peer), &peer_length,
                          SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!client) {
            int error = errno;
            if (would_block(error)) return;
            if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
                // Level-triggered readiness would spin on the waiting connection: pause.
                counters_.tcp_accept_errors.add();
                event_del(listener.accept_event.get());
                event_add(listener.resume_timer.get(), &kAcceptPause);
                return;
            }
            continue;  // the connection died in the queue (ECONNABORTED and friends)
        }
        // The per-client cap first: a client over it must not cost anyone else a connection.
        std::uint32_t ticket = ClientLimiter::kNoSlot;
        if (limits_.clients != nullptr) {
            ticket = limits_.clients->acquire(peer);
            if (ticket == ClientLimiter::kNoSlot) {
                counters_.tcp_refused_per_client.add();
                reset_connection(std::move(client));
                continue;
            }
        }
        if (open_ >= limits_.max_connections && !make_room()) {
            counters_.tcp_refused.add();
            if (limits_.clients != nullptr) limits_.clients->release(ticket);
            reset_connection(std::move(client));
            continue;
        }
        Connection* connection = nullptr;
        try {
            connection = &acquire();
        } catch (const std::exception&) {
            counters_.tcp_accept_errors.add();
            if (limits_.clients != nullptr) limits_.clients->release(ticket);
            continue;
        }
        connection->peer = peer;
        start(*connection, std::move(client), ticket);
    }
}

// At the cap, the connection idle the longest is closed for the new one; a worker whose every
// connection is busy sending or receiving refuses instead.
bool TcpServer::make_room() {
    if (idle_head_ == nullptr) return false;
    counters_.tcp_evicted.add();
    close(*idle_head_);
    return true;
}

TcpServer::Connection& TcpServer::acquire() {
    if (free_ != nullptr) {
        Connection* connection = free_;
        free_ = connection->next_free;
        connection->next_free = nullptr;
        return *connection;
    }
    auto connection = std::make_unique<Connection>();
    connection->owner = this;
    // Created unbound; start() points them at each accepted socket in turn.
    connection->read_event = util::make_event(base_, -1, EV_READ | EV_PERSIST,
                                              &TcpServer::on_readable, connection.get());
    connection->write_event = util::make_event(base_, -1, EV_WRITE | EV_PERSIST,
                                               &TcpServer::on_writable, connection.get());
    connection->idle_timer = util::make_event(base_, -1, 0, &TcpServer::on_idle, connection.get());
    connection->io_timer =
        util::make_event(base_, -1, 0, &TcpServer::on_io_timeout, connection.get());
    connections_.push_back(std::move(connection));
    return *connections_.back();
}

void TcpServer::start(Connection& connection, Fd fd, std::uint32_t client_ticket) {
    connection.fd = std::move(fd);
    connection.client_ticket = client_ticket;
    event_assign(connection.read_event.get(), base_, connection.fd.get(), EV_READ | EV_PERSIST,
                 &TcpServer::on_readable, &connection);
    event_assign(connection.write_event.get(), base_, connection.fd.get(), EV_WRITE | EV_PERSIST,
                 &TcpServer::on_writable, &connection);
    event_add(connection.read_event.get(), nullptr);
    if (idle_timeout_ != nullptr) event_add(connection.idle_timer.get(), idle_timeout_);
    link_idle(connection);
    ++open_;
    counters_.tcp_accepted.add();
}

void TcpServer::read_from(Connection& connection) {
    bool active = false;
    bool answered = false;
    for (unsigned round = 0; round < kReadsPerWakeup; ++round) {
        if (connection.pending() >= kOutputHighWater) break;
        std::span<std::uint8_t> room = connection.in.room();
        if (room.empty()) break;
        ssize_t got = recv(connection.fd.get(), room.data(), room.size(), MSG_DONTWAIT);
        if (got == 0) {
            // Whatever was complete has been answered; a partial message is dropped.
            connection.peer_closed = true;
            break;
        }
        if (got < 0) {
            if (errno == EINTR) continue;
            if (would_block(errno)) break;
            close(connection);
            return;
        }
        connection.in.commit(static_cast<std::size_t>(got));
        if (answer_complete(connection) > 0) active = answered = true;
        if (connection.broken) {
            close(connection);
            return;
        }
        if (static_cast<std::size_t>(got) < room.size()) break;  // drained, most likely
    }
    settle(connection, active, answered);
}

// Queues what the handler wrote to scratch_, length-prefixed.
void TcpServer::queue(Connection& connection, std::size_t response) {
    if (response == 0 || response > kTcpMaxMessage) return;
    const std::uint8_t prefix[2] = {static_cast<std::uint8_t>(response >> 8),
                                    static_cast<std::uint8_t>(response)};
    connection.out.insert(connection.out.end(), prefix, prefix + 2);
    connection.out.insert(connection.out.end(), scratch_.get(), scratch_.get() + response);
}

// Answers the complete messages that are in, in order, until the output reaches its high-water
// mark; a response of several messages goes on first, and the messages after it wait for its
// end. Returns the messages queued (answers and a stream's messages).
std::size_t TcpServer::answer_complete(Connection& connection) {
    std::size_t answered = 0, queued = 0;
    const std::span<std::uint8_t> scratch(scratch_.get(), kTcpMaxMessage);
    while (connection.pending() < kOutputHighWater) {
        if (connection.stream) {
            const std::size_t message = connection.stream->next(scratch);
            if (message == 0) {
                connection.stream.reset();
                continue;
            }
            queue(connection, message);
            ++queued;
            continue;
        }
        Frame frame = connection.in.next();
        if (frame.status == FrameStatus::zero_length) {
            connection.broken = true;
            break;
        }
        if (frame.status == FrameStatus::incomplete) break;
        if (answered == 0) handler_->begin_batch();
        queue(connection,
              handler_->answer_tcp(frame.message, connection.peer, scratch, connection.stream));
        ++answered;
        ++queued;
    }
    connection.in.compact();
    if (answered > 0) counters_.tcp_messages.add(answered);
    return queued;
}

// After reading or becoming writable: send what is queued, answer what the high-water mark
// held back once the queue drains, then wait for the right readiness (reading, or writing
// while output is pending), push the idle deadline back if anything happened and start or
// stop the io deadline.
void TcpServer::settle(Connection& connection, bool active, bool answered) {
    // A client that reads as fast as a stream writes would keep this loop going to the stream's
    // end; after a few rounds the rest waits for the next time the socket is writable, behind
    // the worker's other connections.
    for (int round = 0;; ++round) {
        bool progressed = false;
        if (!flush(connection, progressed)) return;
        active = active || progressed;
        if (connection.pending() > 0) break;
        if (connection.stream && round >= kStreamRounds) break;
        if (answer_complete(connection) == 0) break;
        active = answered = true;
        if (connection.broken) break;
    }
    if (connection.broken) {
        close(connection);
        return;
    }
    if (connection.pending() > 0 || connection.stream) {
        if (!connection.waiting_to_write) {
            event_del(connection.read_event.get());
            event_add(connection.write_event.get(), nullptr);
            connection.waiting_to_write = true;
        }
    } else {
        if (connection.peer_closed) {
            close(connection);
            return;
        }
        if (connection.waiting_to_write) {
            event_del(connection.write_event.get());
            event_add(connection.read_event.get(), nullptr);
            connection.waiting_to_write = false;
        }
    }
    if (active && idle_timeout_ != nullptr) event_add(connection.idle_timer.get(), idle_timeout_);
    watch_io(connection, answered);
}

// The io deadline runs while answers wait to be sent (from when they were queued to when the
// last is sent) or, with none waiting, while a query is part-way in (from its first byte, which
// arrived in this round if another query was just answered). A connection with neither is idle;
// having just answered it moves to the end of the eviction order.
void TcpServer::watch_io(Connection& connection, bool answered) {
    const IoWait now = connection.pending() > 0      ? IoWait::output
                       : connection.in.pending() > 0 ? IoWait::query
                                                     : IoWait::none;
    const IoWait before = connection.io_wait;
    connection.io_wait = now;
    if (now == IoWait::none) {
        if (before != IoWait::none) event_del(connection.io_timer.get());
        if (before != IoWait::none || answered) {
            unlink_idle(connection);
            link_idle(connection);
        }
        return;
    }
    if (before == IoWait::none) unlink_idle(connection);
    if ((now != before || (now == IoWait::query && answered)) && io_timeout_ != nullptr)
        event_add(connection.io_timer.get(), io_timeout_);
}

bool TcpServer::flush(Connection& connection, bool& progressed) {
    std::size_t pending = connection.pending();
    if (pending == 0) return true;
    ssize_t sent = send(connection.fd.get(), connection.out.data() + connection.out_sent, pending,
                        MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
        if (would_block(errno) || errno == EINTR) return true;
        close(connection);
        return false;
    }
    progressed = sent > 0;
    connection.out_sent += static_cast<std::size_t>(sent);
    if (connection.out_sent == connection.out.size()) {
        connection.out.clear();
        connection.out_sent = 0;
    }
    return true;
}

void TcpServer::close(Connection& connection) {
    event_del(connection.read_event.get());
    event_del(connection.write_event.get());
    event_del(connection.idle_timer.get());
    event_del(connection.io_timer.get());
    unlink_idle(connection);
    if (limits_.clients != nullptr) limits_.clients->release(connection.client_ticket);
    connection.client_ticket = ClientLimiter::kNoSlot;
    connection.fd.reset();
    connection.stream.reset();
    // Keep pooled memory proportional to ordinary traffic, not to the largest client seen.
    connection.in.reset();
    connection.out.clear();
    connection.out_sent = 0;
    connection.io_wait = IoWait::none;
    connection.waiting_to_write = false;
    connection.peer_closed = false;
    connection.broken = false;
    if (connection.out.capacity() > kRetainedOutput)
        std::vector<std::uint8_t>().swap(connection.out);
    connection.next_free = free_;
    free_ = &connection;
    --open_;
}

void TcpServer::link_idle(Connection& connection) {
    if (connection.idle_linked) return;
    connection.idle_prev = idle_tail_;
    connection.idle_next = nullptr;
    (idle_tail_ != nullptr ? idle_tail_->idle_next : idle_head_) = &connection;
    idle_tail_ = &connection;
    connection.idle_linked = true;
}

void TcpServer::unlink_idle(Connection& connection) {
    if (!connection.idle_linked) return;
    (connection.idle_prev != nullptr ? connection.idle_prev->idle_next : idle_head_) =
        connection.idle_next;
    (connection.idle_next != nullptr ? connection.idle_next->idle_prev : idle_tail_) =
        connection.idle_prev;
    connection.idle_prev = connection.idle_next = nullptr;
    connection.idle_linked = false;
}

}  // namespace nolb::server
