// A small HTTP backend for the health tests: raw sockets on loopback (port 0), served by one
// thread with poll(), whose behaviour the test switches between connections: a good answer, a
// bad status, a wrong body, silence, a byte a second, an endless body, endless headers, an endless
// header line, garbage, a reset in the middle of the response, an answer after the probe has given
// up, or any bytes the test gives. Raw sockets because the interesting behaviours are the ones a
// real HTTP server would never produce. The endless streams are sent from blocks made once, so
// that serving them allocates nothing: tests measure the heap while a probe reads them.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "util/ip.hpp"

namespace nolb::test {

enum class Behaviour {
    ok,          // 200, Content-Length, body "ok: healthy"
    ok_chunked,  // 200, chunked, "healthy" split across chunks
    ok_close,    // 200, no length: the body ends with the connection
    status_503,
    wrong_body,       // 200 with "nope"
    hang,             // reads the request, never answers
    drip,             // the ok response, one byte a second
    endless,          // 200 headers, then body bytes as fast as the socket takes them
    endless_headers,  // a 200 status line, then header lines as fast as the socket takes them
    huge_header,      // a 200 status line, then one header line that never ends
    garbage,          // not HTTP at all
    reset,            // part of a response, then RST
    late,             // the ok response, late_ms after the request
    alternate,        // ok and 503 on alternate connections
    raw,              // the bytes given to set_raw(), then a normal close
    raw_reset,        // the bytes given to set_raw(), then RST (SO_LINGER 0)
};

class Backend {
  public:
    using Clock = std::chrono::steady_clock;

    explicit Backend(const char* address = "127.0.0.1", Behaviour behaviour = Behaviour::ok)
        : behaviour_(behaviour) {
        address_ = *util::IpAddress::parse(address);
        util::Endpoint endpoint{address_, 0};
        sockaddr_storage ss{};
        socklen_t length = endpoint.to_sockaddr(ss);
        listener_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&ss), length) != 0 ||
            ::listen(listener_, 64) != 0) {
            throw std::runtime_error(std::string("backend: ") + std::strerror(errno));
        }
        length = sizeof ss;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&ss), &length);
        port_ = ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                              : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
        if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe");
        blocks();
        arrivals_.reserve(kMaxArrivals);
        thread_ = std::thread([this] { run(); });
    }

    ~Backend() {
        stop_ = true;
        char x = 0;
        [[maybe_unused]] auto n = ::write(wake_[1], &x, 1);
        thread_.join();
        for (Connection& c : connections_)
            ::close(c.fd);
        if (listener_ >= 0) ::close(listener_);
        ::close(wake_[0]);
        ::close(wake_[1]);
    }
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;

    void set(Behaviour b) { behaviour_ = b; }
    void set_late(std::chrono::milliseconds ms) { late_ms_ = static_cast<int>(ms.count()); }
    // The bytes of the raw behaviours; set before the connection that is to send them.
    void set_raw(std::string bytes) {
        std::lock_guard lock(mutex_);
        raw_ = std::move(bytes);
    }
    // Closes the listening socket: new connections are refused from now on.
    void stop_listening() {
        std::lock_guard lock(mutex_);
        close_listener_ = true;
        char x = 0;
        [[maybe_unused]] auto n = ::write(wake_[1], &x, 1);
    }
    std::uint16_t port() const { return port_; }
    const util::IpAddress& address() const { return address_; }
    int accepted() const { return accepted_; }
    // When each connection was accepted (the first kMaxArrivals of them).
    std::vector<Clock::time_point> arrivals() const {
        std::lock_guard lock(mutex_);
        return arrivals_;
    }

  private:
    struct Connection {
        int fd = -1;
        Behaviour behaviour = Behaviour::ok;
        std::string request;
        std::string out;        // still to send
        std::string drip;       // sent one byte at a time
        bool answered = false;  // the request was read and acted on
        bool close_after = false;
        std::string_view fill;  // sent over and over once `out` is: an endless stream
        std::size_t fill_at = 0;
        bool rst_after = false;
        Clock::time_point next{};  // of the next drip byte, or of the late answer
        bool timed = false;
        bool done = false;
    };

    static constexpr std::size_t kMaxArrivals = 4096;

    // The endless streams, 16 KiB each and made once: any offset into a block continues it.
    struct Blocks {
        std::string body = std::string(16 * 1024, 'x');
        std::string headers;
        Blocks() {
            const std::string line = "X-Filler: " + std::string(52, 'f') + "\r\n";  // 64 bytes
            while (headers.size() < 16 * 1024)
                headers += line;
        }
    };
    static const Blocks& blocks() {
        static const Blocks made;
        return made;
    }

    static std::string response(int code, std::string_view body) {
        return "HTTP/1.1 " + std::to_string(code) + (code == 200 ? " OK" : " Nope") +
               "\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\nConnection: close\r\n\r\n" + std::string(body);
    }

    void answer(Connection& c) {
        c.answered = true;
        const std::string ok = response(200, "ok: healthy");
        switch (c.behaviour) {
            case Behaviour::ok:
                c.out = ok;
                c.close_after = true;
                break;
            case Behaviour::ok_chunked:
                c.out =
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nall h\r\n3;x=y\r\neal\r\n3\r\nthy\r\n0\r\nTrailer: 1\r\n\r\n";
                c.close_after = true;
                break;
            case Behaviour::ok_close:
                c.out = "HTTP/1.0 200 OK\r\n\r\nstill healthy";
                c.close_after = true;
                break;
            case Behaviour::status_503:
                c.out = response(503, "down");
                c.close_after = true;
                break;
            case Behaviour::wrong_body:
                c.out = response(200, "nope");
                c.close_after = true;
                break;
            case Behaviour::hang:
                break;
            case Behaviour::drip:
                c.drip = ok;
                c.timed = true;
                c.next = Clock::now();
                break;
            case Behaviour::endless:
                c.out = "HTTP/1.1 200 OK\r\n\r\n";
                c.fill = blocks().body;
                break;
            case Behaviour::endless_headers:
                c.out = "HTTP/1.1 200 OK\r\n";
                c.fill = blocks().headers;
                break;
            case Behaviour::huge_header:
                c.out = "HTTP/1.1 200 OK\r\nX-Huge: ";
                c.fill = blocks().body;
                break;
            case Behaviour::garbage:
                c.out = "SSH-2.0-OpenSSH_9.2\r\n\r\n";
                c.close_after = true;
                break;
            case Behaviour::reset:
                c.out = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart";
                c.rst_after = true;
                break;
            case Behaviour::late:
                c.timed = true;
                c.next = Clock::now() + std::chrono::milliseconds(late_ms_.load());
                break;
            case Behaviour::alternate:
                c.out = (alternate_++ % 2 == 0) ? ok : response(503, "down");
                c.close_after = true;
                break;
            case Behaviour::raw:
            case Behaviour::raw_reset:
                c.out = raw();
                c.close_after = c.behaviour == Behaviour::raw;
                c.rst_after = c.behaviour == Behaviour::raw_reset;
                break;
        }
    }

    void close(Connection& c, bool rst) {
        if (rst) {
            linger hard{1, 0};
            ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        }
        ::close(c.fd);
        c.done = true;
    }

    // Sends what it can: false when the connection is closed (the peer went away).
    bool send_some(Connection& c, std::string_view bytes, std::size_t& sent) {
        ssize_t n = ::send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
            close(c, false);
            return false;
        }
        sent = static_cast<std::size_t>(n);
        return true;
    }

    void flush(Connection& c) {
        while (!c.out.empty()) {
            std::size_t sent = 0;
            if (!send_some(c, c.out, sent)) return;
            if (sent == 0) return;
            c.out.erase(0, sent);
        }
        if (!c.fill.empty()) {
            // One write per wake-up; poll says when to go on.
            std::size_t sent = 0;
            if (send_some(c, c.fill.substr(c.fill_at), sent))
                c.fill_at = (c.fill_at + sent) % c.fill.size();
            return;
        }
        if (c.rst_after) {
            close(c, true);
        } else if (c.close_after) {
            close(c, false);
        }
    }

    void on_readable(Connection& c) {
        char buffer[4096];
        ssize_t n = ::recv(c.fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            close(c, false);
            return;
        }
        if (n < 0) return;
        if (c.answered) return;  // a probe sends one request; anything more is ignored
        c.request.append(buffer, static_cast<std::size_t>(n));
        if (c.request.find("\r\n\r\n") != std::string::npos) answer(c);
    }

    void on_time(Connection& c, Clock::time_point now) {
        if (!c.timed || now < c.next) return;
        if (c.behaviour == Behaviour::drip) {
            if (c.drip.empty()) {
                c.timed = false;
                close(c, false);
                return;
            }
            c.out += c.drip.front();
            c.drip.erase(0, 1);
            c.next = now + std::chrono::seconds(1);
        } else {
            c.out = response(200, "ok: healthy");
            c.close_after = true;
            c.timed = false;
        }
        flush(c);
    }

    void run() {
        while (!stop_) {
            {
                std::lock_guard lock(mutex_);
                if (close_listener_ && listener_ >= 0) {
                    ::close(listener_);
                    listener_ = -1;
                }
            }
            std::vector<pollfd> fds;
            fds.push_back({wake_[0], POLLIN, 0});
            if (listener_ >= 0) fds.push_back({listener_, POLLIN, 0});
            std::vector<Connection*> order;
            for (Connection& c : connections_) {
                short events = POLLIN;
                if (!c.out.empty() || !c.fill.empty()) events |= POLLOUT;
                fds.push_back({c.fd, events, 0});
                order.push_back(&c);
            }
            ::poll(fds.data(), fds.size(), 10);  // short: timed behaviours need no precision
            std::size_t first = 1;
            if (listener_ >= 0) {
                first = 2;
                if (fds[1].revents & POLLIN) {
                    for (int i = 0; i < 64; ++i) {
                        int fd =
                            ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                        if (fd < 0) break;
                        ++accepted_;
                        record_arrival();
                        Connection c;
                        c.fd = fd;
                        c.behaviour = behaviour_;
                        connections_.push_back(std::move(c));
                    }
                }
            }
            if (fds[0].revents & POLLIN) {
                char drain[64];
                [[maybe_unused]] auto n = ::read(wake_[0], drain, sizeof drain);
            }
            const auto now = Clock::now();
            for (std::size_t i = 0; i < order.size(); ++i) {
                Connection& c = *order[i];
                short revents = fds[first + i].revents;
                if (!c.done && (revents & (POLLIN | POLLHUP | POLLERR))) on_readable(c);
                if (!c.done && (revents & POLLOUT)) flush(c);
                if (!c.done) on_time(c, now);
            }
            connections_.remove_if([](const Connection& c) { return c.done; });
        }
    }

    std::string raw() const {
        std::lock_guard lock(mutex_);
        return raw_;
    }

    void record_arrival() {
        std::lock_guard lock(mutex_);
        if (arrivals_.size() < kMaxArrivals) arrivals_.push_back(Clock::now());
    }

    std::atomic<Behaviour> behaviour_;
    std::atomic<int> late_ms_{400};
    std::atomic<int> accepted_{0};
    std::atomic<bool> stop_{false};
    int alternate_ = 0;
    util::IpAddress address_;
    std::uint16_t port_ = 0;
    int listener_ = -1;
    int wake_[2] = {-1, -1};
    mutable std::mutex mutex_;
    bool close_listener_ = false;
    std::string raw_;
    std::vector<Clock::time_point> arrivals_;
    std::list<Connection> connections_;
    std::thread thread_;
};

// An HTTP check of GET /health on `port`, Host www.demo.test, with `timeout` (and an interval
// no shorter).
inline config::HealthCheck http_check(std::uint16_t port,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(1)) {
    config::HealthCheck check;
    check.type = config::HealthMode::http;
    check.port = port;
    check.path = "/health";
    check.host = "www.demo.test";
    check.timeout = timeout;
    check.interval = std::max(timeout, check.interval);
    return check;
}

// A port on `address` with nothing listening: connections are refused.
inline std::uint16_t closed_port(const char* address = "127.0.0.1") {
    util::Endpoint endpoint{*util::IpAddress::parse(address), 0};
    sockaddr_storage ss{};
    socklen_t length = endpoint.to_sockaddr(ss);
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ::bind(fd, reinterpret_cast<sockaddr*>(&ss), length);
    length = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &length);
    std::uint16_t port =
        ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                      : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    ::close(fd);
    return port;
}

}  // namespace nolb::test
