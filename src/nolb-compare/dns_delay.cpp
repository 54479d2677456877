// Each query gets a connected socket of its own towards the upstream, so the answer needs no
// matching by ID; the answer waits out the delay on a timer and leaves from the listening
// socket, the address the client asked.
#include "nolb-compare/dns_delay.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "nolb-compare/timeval.hpp"

namespace nolb::compare {
namespace {

constexpr std::size_t kMaxMessage = 65'535;
constexpr int kReadsPerWakeup = 64;
constexpr timeval kUpstreamPatience{5, 0};  // then the query is dropped, as a lost datagram

}  // namespace

struct DnsDelay::Exchange {
    DnsDelay* relay = nullptr;
    std::list<std::unique_ptr<Exchange>>::iterator self;
    sockaddr_storage client{};
    socklen_t client_length = 0;
    int fd = -1;
    std::vector<std::uint8_t> answer;  // empty while the upstream has not answered
    util::Event io;
    util::Event timer;

    ~Exchange() {
        io.reset();
        timer.reset();
        if (fd >= 0) ::close(fd);
    }
};

DnsDelay::DnsDelay(event_base* base, const sockaddr_in& listen, const sockaddr_in& upstream,
                   Seconds delay)
    : base_(base), upstream_(upstream), delay_(delay) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&listen), sizeof listen) != 0) {
        const int error = errno;
        ::close(fd_);
        throw std::runtime_error(std::string("the DNS delay relay cannot bind its port: ") +
                                 std::strerror(error));
    }
    readable_ = util::make_event(base, fd_, EV_READ | EV_PERSIST, &DnsDelay::on_query, this);
    event_add(readable_.get(), nullptr);
}

DnsDelay::~DnsDelay() {
    exchanges_.clear();
    readable_.reset();
    if (fd_ >= 0) ::close(fd_);
}

void DnsDelay::on_query(evutil_socket_t fd, short, void* arg) {
    auto* self = static_cast<DnsDelay*>(arg);
    std::array<std::uint8_t, kMaxMessage> buffer;
    for (int i = 0; i < kReadsPerWakeup; ++i) {
        sockaddr_storage client{};
        socklen_t length = sizeof client;
        const ssize_t n = ::recvfrom(fd, buffer.data(), buffer.size(), 0,
                                     reinterpret_cast<sockaddr*>(&client), &length);
        if (n < 0) return;  // EAGAIN, or an error the next datagram will not have
        self->forward(buffer.data(), static_cast<std::size_t>(n), client, length);
    }
}

void DnsDelay::forward(const std::uint8_t* query, std::size_t length,
                       const sockaddr_storage& client, socklen_t client_length) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    auto exchange = std::make_unique<Exchange>();
    exchange->fd = fd;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&upstream_), sizeof upstream_) != 0 ||
        ::send(fd, query, length, 0) != static_cast<ssize_t>(length))
        return;  // dropped, as the network would
    exchange->relay = this;
    exchange->client = client;
    exchange->client_length = client_length;
    Exchange* raw = exchange.get();
    raw->io = util::make_event(base_, fd, EV_READ, &DnsDelay::on_answer, raw);
    raw->timer = util::make_event(base_, -1, 0, &DnsDelay::on_timer, raw);
    event_add(raw->io.get(), nullptr);
    event_add(raw->timer.get(), &kUpstreamPatience);
    exchanges_.push_front(std::move(exchange));
    raw->self = exchanges_.begin();
}

void DnsDelay::on_answer(evutil_socket_t fd, short, void* arg) {
    auto* exchange = static_cast<Exchange*>(arg);
    std::vector<std::uint8_t> answer(kMaxMessage);
    const ssize_t n = ::recv(fd, answer.data(), answer.size(), 0);
    if (n <= 0) {
        // A refusal from a closed port (ICMP), or nothing after all: wait for the deadline.
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            event_add(exchange->io.get(), nullptr);
        return;
    }
    answer.resize(static_cast<std::size_t>(n));
    exchange->answer = std::move(answer);
    const timeval hold = to_timeval(exchange->relay->delay_);
    event_add(exchange->timer.get(), &hold);
}

void DnsDelay::on_timer(evutil_socket_t, short, void* arg) {
    auto* exchange = static_cast<Exchange*>(arg);
    DnsDelay* relay = exchange->relay;
    if (exchange->answer.empty()) {
        ++relay->lost_;
    } else {
        ::sendto(relay->fd_, exchange->answer.data(), exchange->answer.size(), 0,
                 reinterpret_cast<const sockaddr*>(&exchange->client), exchange->client_length);
        ++relay->relayed_;
    }
    relay->finish(exchange);
}

void DnsDelay::finish(Exchange* exchange) {
    exchanges_.erase(exchange->self);
}

}  // namespace nolb::compare
