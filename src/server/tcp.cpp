// TCP framing, pipelining, backpressure, idle timeout and the connection cap for one worker.
// Every callback runs on the worker's own thread; a connection is touched by nothing else.
#include "server/tcp.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace nolb::server {
namespace {

constexpr std::size_t kInitialInput = 1024;  // most queries, and a few pipelined ones
// Queued output past which a connection stops answering (and reading) until the client has
// taken some; with one maximal response on top this bounds a connection's output buffer.
constexpr std::size_t kOutputHighWater = 64 * 1024;
constexpr std::size_t kRetainedOutput = 16 * 1024;  // larger buffers are freed at close
constexpr unsigned kAcceptsPerWakeup = 64;
constexpr unsigned kReadsPerWakeup = 4;
constexpr timeval kAcceptPause = {0, 100'000};

std::size_t frame_length(const std::uint8_t* frame) {
    return (std::size_t{frame[0]} << 8) | frame[1];
}

// Closes with a reset, so a client over the cap fails at once and no TIME_WAIT stays here.
void reset_connection(Fd fd) {
    linger option{1, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &option, sizeof option);
}

bool would_block(int error) {
    return error == EAGAIN || error == EWOULDBLOCK;
}

}  // namespace

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
    std::vector<std::uint8_t> in;  // its size is the room to read into; grows for long messages
    std::size_t in_length = 0;
    std::vector<std::uint8_t> out;  // length-prefixed responses not yet sent
    std::size_t out_sent = 0;
    bool waiting_to_write = false;  // reading is off until `out` drains
    bool peer_closed = false;
    bool broken = false;  // a zero-length message
    Connection* next_free = nullptr;

    std::size_t pending() const { return out.size() - out_sent; }
};

TcpServer::TcpServer(event_base* base, TcpLimits limits, WorkerCounters& counters)
    : base_(base),
      limits_(limits),
      counters_(counters),
      scratch_(std::make_unique_for_overwrite<std::uint8_t[]>(kTcpMaxMessage)) {
    if (limits_.idle_timeout.count() > 0) {
        auto ms = limits_.idle_timeout.count();
        idle_timeval_ = {static_cast<time_t>(ms / 1000),
                         static_cast<suseconds_t>(ms % 1000 * 1000)};
        idle_timeout_ = event_base_init_common_timeout(base_, &idle_timeval_);
        if (idle_timeout_ == nullptr) idle_timeout_ = &idle_timeval_;
    }
}

TcpServer::~TcpServer() = default;

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
    connection->owner->settle(*connection, false);
}

void TcpServer::on_idle(evutil_socket_t, short, void* argument) {
    auto* connection = static_cast<Connection*>(argument);
    connection->owner->counters_.tcp_timed_out.add();
    connection->owner->close(*connection);
}

void TcpServer::accept_from(Listener& listener) {
    for (unsigned i = 0; i < kAcceptsPerWakeup; ++i) {
        Fd client(accept4(listener.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
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
        if (open_ >= limits_.max_connections) {
            counters_.tcp_refused.add();
            reset_connection(std::move(client));
            continue;
        }
        Connection* connection = nullptr;
        try {
            connection = &acquire();
        } catch (const std::exception&) {
            counters_.tcp_accept_errors.add();
            continue;
        }
        start(*connection, std::move(client));
    }
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
    connection->in.resize(kInitialInput);
    connections_.push_back(std::move(connection));
    return *connections_.back();
}

void TcpServer::start(Connection& connection, Fd fd) {
    connection.fd = std::move(fd);
    event_assign(connection.read_event.get(), base_, connection.fd.get(), EV_READ | EV_PERSIST,
                 &TcpServer::on_readable, &connection);
    event_assign(connection.write_event.get(), base_, connection.fd.get(), EV_WRITE | EV_PERSIST,
                 &TcpServer::on_writable, &connection);
    event_add(connection.read_event.get(), nullptr);
    if (idle_timeout_ != nullptr) event_add(connection.idle_timer.get(), idle_timeout_);
    ++open_;
    counters_.tcp_accepted.add();
}

void TcpServer::read_from(Connection& connection) {
    bool active = false;
    for (unsigned round = 0; round < kReadsPerWakeup; ++round) {
        if (connection.pending() >= kOutputHighWater) break;
        std::size_t room = connection.in.size() - connection.in_length;
        if (room == 0) break;
        ssize_t got = recv(connection.fd.get(), connection.in.data() + connection.in_length, room,
                           MSG_DONTWAIT);
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
        connection.in_length += static_cast<std::size_t>(got);
        if (answer_complete(connection) > 0) active = true;
        if (connection.broken) {
            close(connection);
            return;
        }
        if (static_cast<std::size_t>(got) < room) break;  // drained, most likely
    }
    settle(connection, active);
}

std::size_t TcpServer::answer_complete(Connection& connection) {
    std::size_t position = 0;
    std::size_t answered = 0;
    while (connection.in_length - position >= 2 && connection.pending() < kOutputHighWater) {
        const std::uint8_t* frame = connection.in.data() + position;
        std::size_t length = frame_length(frame);
        if (length == 0) {
            connection.broken = true;
            return answered;
        }
        if (connection.in_length - position - 2 < length) break;
        if (answered == 0) handler_->begin_batch();
        std::size_t response = handler_->answer(std::span(frame + 2, length), Transport::tcp,
                                                std::span(scratch_.get(), kTcpMaxMessage));
        if (response > 0 && response <= kTcpMaxMessage) {
            const std::uint8_t prefix[2] = {static_cast<std::uint8_t>(response >> 8),
                                            static_cast<std::uint8_t>(response)};
            connection.out.insert(connection.out.end(), prefix, prefix + 2);
            connection.out.insert(connection.out.end(), scratch_.get(), scratch_.get() + response);
        }
        position += 2 + length;
        ++answered;
    }
    if (position > 0) {
        std::memmove(connection.in.data(), connection.in.data() + position,
                     connection.in_length - position);
        connection.in_length -= position;
    }
    // Make room for the whole of a long message that has only begun to arrive.
    if (connection.in_length >= 2) {
        std::size_t needed = 2 + frame_length(connection.in.data());
        if (connection.in.size() < needed) connection.in.resize(needed);
    }
    if (answered > 0) counters_.tcp_messages.add(answered);
    return answered;
}

// After reading or becoming writable: send what is queued, answer what the high-water mark
// held back once the queue drains, then wait for the right readiness (reading, or writing
// while output is pending) and push the idle deadline back if anything happened.
void TcpServer::settle(Connection& connection, bool active) {
    for (;;) {
        bool progressed = false;
        if (!flush(connection, progressed)) return;
        active = active || progressed;
        if (connection.pending() > 0) break;
        if (answer_complete(connection) == 0) break;
        active = true;
        if (connection.broken) break;
    }
    if (connection.broken) {
        close(connection);
        return;
    }
    if (connection.pending() > 0) {
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
    connection.fd.reset();
    connection.in_length = 0;
    connection.out.clear();
    connection.out_sent = 0;
    connection.waiting_to_write = false;
    connection.peer_closed = false;
    connection.broken = false;
    // Keep pooled memory proportional to ordinary traffic, not to the largest client seen.
    if (connection.in.size() > kInitialInput) {
        connection.in.resize(kInitialInput);
        connection.in.shrink_to_fit();
    }
    if (connection.out.capacity() > kRetainedOutput)
        std::vector<std::uint8_t>().swap(connection.out);
    connection.next_free = free_;
    free_ = &connection;
    --open_;
}

}  // namespace nolb::server
