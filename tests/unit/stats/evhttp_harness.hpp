// What the tests of nolb-stats's evhttp parts share: a real evhttp server on a kernel-chosen
// 127.0.0.1 port, driven by a real event_base in the test's own thread, and plain blocking
// client sockets that write raw requests and read raw bytes back.
#pragma once

#include <arpa/inet.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "nolb-stats/http.hpp"
#include "util/event.hpp"

namespace nolb::stats::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class HttpHarness {
  public:
    using Handler = std::function<void(evhttp_request*)>;

    explicit HttpHarness(const char* address = "127.0.0.1")
        : base_(util::make_event_base()), http_(evhttp_new(base_.get())) {
        evhttp_bound_socket* bound = evhttp_bind_socket_with_handle(http_.get(), address, 0);
        if (!bound) return;
        fd_ = evhttp_bound_socket_get_fd(bound);
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
        port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
        evhttp_set_gencb(http_.get(), &HttpHarness::on_request, this);
    }

    bool ok() const { return fd_ >= 0; }
    event_base* base() const { return base_.get(); }
    evutil_socket_t listen_fd() const { return fd_; }
    std::uint16_t port() const { return port_; }
    void on(Handler handler) { handler_ = std::move(handler); }

    // Runs the loop until `done` holds or `limit` has passed; returns `done`'s last answer.
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
        const auto end = Clock::now() + limit;
        while (!done()) {
            if (Clock::now() >= end) return false;
            timeval tick{0, 5'000};
            event_base_loopexit(base_.get(), &tick);
            event_base_dispatch(base_.get());
        }
        return true;
    }
    void run_for(std::chrono::milliseconds duration) {
        run_until([] { return false; }, duration);
    }

  private:
    static void on_request(evhttp_request* req, void* arg) {
        auto* self = static_cast<HttpHarness*>(arg);
        if (self->handler_) {
            self->handler_(req);
        } else {
            evhttp_send_reply(req, HTTP_OK, "OK", nullptr);
        }
    }

    util::EventBase base_;  // freed last
    http::Http http_;
    evutil_socket_t fd_ = -1;
    std::uint16_t port_ = 0;
    Handler handler_;
};

// One client connection, blocking for writes, read without waiting.
class RawClient {
  public:
    explicit RawClient(std::uint16_t port, const char* address = "127.0.0.1") {
        sockaddr_storage ss{};
        socklen_t len;
        if (std::string_view(address).find(':') != std::string_view::npos) {
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
            sin6->sin6_family = AF_INET6;
            sin6->sin6_port = htons(port);
            ::inet_pton(AF_INET6, address, &sin6->sin6_addr);
            len = sizeof *sin6;
        } else {
            auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
            sin->sin_family = AF_INET;
            sin->sin_port = htons(port);
            ::inet_pton(AF_INET, address, &sin->sin_addr);
            len = sizeof *sin;
        }
        fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) close();
    }
    ~RawClient() { close(); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool ok() const { return fd_ >= 0; }
    void send(std::string_view bytes) {
        ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(bytes.size()));
    }
    // The client's own port, as the server sees it.
    std::uint16_t local_port() const {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
        return ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
    // Reads what has arrived into received(); true once the server has closed.
    bool poll() {
        char buffer[8192];
        for (;;) {
            ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
            if (n > 0) {
                received_.append(buffer, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) eof_ = true;
            return eof_;
        }
    }
    const std::string& received() const { return received_; }
    bool eof() const { return eof_; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_ = -1;
    std::string received_;
    bool eof_ = false;
};

// The body of a raw response: what follows the blank line after the headers.
inline std::string body_of(const std::string& response) {
    auto end = response.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : response.substr(end + 4);
}

inline std::string headers_of(const std::string& response) {
    auto end = response.find("\r\n\r\n");
    return end == std::string::npos ? response : response.substr(0, end + 2);
}

}  // namespace nolb::stats::test
