// Blocking loopback exchanges with a deadline: non-blocking sockets and poll(), so a server
// that accepts and then says nothing costs the caller its timeout and no more. ldns builds and
// reads the DNS messages, as it does in every test of nolbd: an implementation independent of
// the one being measured.
#include "nolb-compare/lab_io.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "util/ldns.hpp"

namespace nolb::compare {
namespace {

using Clock = std::chrono::steady_clock;

struct Socket {
    int fd = -1;
    explicit Socket(int f) : fd(f) {}
    ~Socket() {
        if (fd >= 0) ::close(fd);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
};

struct PktFree {
    void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits for `events` on fd; false on timeout (error set) or poll failure.
bool wait_for(int fd, short events, Clock::time_point deadline, std::string& error) {
    for (;;) {
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, remaining_ms(deadline));
        if (n > 0) return true;
        if (n == 0) {
            error = "timed out";
            return false;
        }
        if (errno != EINTR) {
            error = std::string("poll: ") + std::strerror(errno);
            return false;
        }
    }
}

// Connects a non-blocking socket; the error is the kernel's word for it ("Connection refused").
bool connect_by(int fd, const sockaddr* address, socklen_t length, Clock::time_point deadline,
                std::string& error) {
    if (::connect(fd, address, length) == 0) return true;
    if (errno != EINPROGRESS && errno != EAGAIN) {
        error = std::strerror(errno);
        return false;
    }
    if (!wait_for(fd, POLLOUT, deadline, error)) {
        error = "connect " + error;
        return false;
    }
    int so_error = 0;
    socklen_t len = sizeof so_error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) {
        error = std::strerror(so_error);
        return false;
    }
    return true;
}

bool send_all(int fd, std::string_view data, Clock::time_point deadline, std::string& error) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(fd, POLLOUT, deadline, error)) return false;
            continue;
        }
        error = std::string("send: ") + std::strerror(errno);
        return false;
    }
    return true;
}

// Reads until the peer closes, or (with `stop_at_newline`) up to the first newline.
bool receive(int fd, std::string& out, bool stop_at_newline, Clock::time_point deadline,
             std::string& error) {
    constexpr std::size_t kMaxReply = 4 << 20;  // a stats CSV of a few servers is a few KiB
    char buffer[8192];
    for (;;) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            out.append(buffer, static_cast<std::size_t>(n));
            if (stop_at_newline && out.find('\n') != std::string::npos) return true;
            if (out.size() > kMaxReply) {
                error = "reply too long";
                return false;
            }
            continue;
        }
        if (n == 0) return true;
        if (errno == EAGAIN || errno == EINTR) {
            if (!wait_for(fd, POLLIN, deadline, error)) return false;
            continue;
        }
        error = std::string("recv: ") + std::strerror(errno);
        return false;
    }
}

}  // namespace

HttpReply http_exchange(const std::string& address, std::uint16_t port, std::string_view method,
                        std::string_view target, std::chrono::milliseconds timeout) {
    HttpReply reply;
    const auto deadline = Clock::now() + timeout;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &sin.sin_addr) != 1) {
        reply.error = "not an IPv4 address: " + address;
        return reply;
    }
    Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (s.fd < 0) {
        reply.error = std::string("socket: ") + std::strerror(errno);
        return reply;
    }
    if (!connect_by(s.fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin, deadline,
                    reply.error))
        return reply;
    std::string request = std::string(method) + " " + std::string(target) +
                          " HTTP/1.1\r\nHost: " + address + ":" + std::to_string(port) +
                          "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    if (!send_all(s.fd, request, deadline, reply.error)) return reply;
    std::string response;
    if (!receive(s.fd, response, false, deadline, reply.error)) return reply;
    // "HTTP/1.1 200 OK"
    if (response.compare(0, 5, "HTTP/") != 0 || response.size() < 12) {
        reply.error = response.empty() ? "closed without a response" : "not an HTTP response";
        return reply;
    }
    std::size_t space = response.find(' ');
    if (space == std::string::npos || space + 4 > response.size()) {
        reply.error = "no status";
        return reply;
    }
    reply.status = std::atoi(response.substr(space + 1, 3).c_str());
    std::size_t body = response.find("\r\n\r\n");
    if (body != std::string::npos) reply.body = response.substr(body + 4);
    return reply;
}

std::optional<std::string> unix_exchange(const std::filesystem::path& socket,
                                         std::string_view request, bool one_line,
                                         std::chrono::milliseconds timeout, std::string& error) {
    const auto deadline = Clock::now() + timeout;
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    const std::string path = socket.string();
    if (path.size() >= sizeof sun.sun_path) {
        error = "socket path too long: " + path;
        return std::nullopt;
    }
    std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
    Socket s(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (s.fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return std::nullopt;
    }
    if (!connect_by(s.fd, reinterpret_cast<const sockaddr*>(&sun), sizeof sun, deadline, error) ||
        !send_all(s.fd, request, deadline, error))
        return std::nullopt;
    std::string reply;
    if (!receive(s.fd, reply, one_line, deadline, error)) return std::nullopt;
    if (one_line) {
        std::size_t end = reply.find('\n');
        if (end == std::string::npos) {
            error = "closed before a complete line";
            return std::nullopt;
        }
        reply.resize(end);
    }
    return reply;
}

std::vector<std::uint8_t> dns_query(const std::string& name, std::uint16_t id, bool recursion) {
    ldns_pkt* raw = nullptr;
    if (ldns_pkt_query_new_frm_str(&raw, name.c_str(), LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN,
                                   recursion ? LDNS_RD : 0) != LDNS_STATUS_OK)
        return {};
    Pkt pkt(raw);
    ldns_pkt_set_id(pkt.get(), id);
    std::uint8_t* wire = nullptr;
    std::size_t size = 0;
    if (ldns_pkt2wire(&wire, pkt.get(), &size) != LDNS_STATUS_OK) return {};
    std::vector<std::uint8_t> out(wire, wire + size);
    std::free(wire);
    return out;
}

std::optional<std::vector<std::string>> dns_addresses(std::span<const std::uint8_t> message,
                                                      std::uint16_t id) {
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, message.data(), message.size()) != LDNS_STATUS_OK) return std::nullopt;
    Pkt pkt(raw);
    if (!ldns_pkt_qr(pkt.get()) || ldns_pkt_id(pkt.get()) != id ||
        ldns_pkt_get_rcode(pkt.get()) != LDNS_RCODE_NOERROR)
        return std::nullopt;
    std::vector<std::string> out;
    ldns_rr_list* answer = ldns_pkt_answer(pkt.get());
    for (std::size_t i = 0; answer && i < ldns_rr_list_rr_count(answer); ++i) {
        ldns_rr* rr = ldns_rr_list_rr(answer, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A || ldns_rr_rd_count(rr) < 1) continue;
        ldns_rdf* rdf = ldns_rr_rdf(rr, 0);
        if (ldns_rdf_size(rdf) != 4) continue;
        char text[INET_ADDRSTRLEN];
        if (::inet_ntop(AF_INET, ldns_rdf_data(rdf), text, sizeof text)) out.emplace_back(text);
    }
    return out;
}

std::optional<std::vector<std::string>> dns_lookup(std::uint16_t port, const std::string& name,
                                                   std::chrono::milliseconds timeout) {
    return dns_lookup("127.0.0.1", port, name, timeout, false);
}

std::optional<std::vector<std::string>> dns_lookup(const std::string& address, std::uint16_t port,
                                                   const std::string& name,
                                                   std::chrono::milliseconds timeout,
                                                   bool recursion) {
    const auto deadline = Clock::now() + timeout;
    const auto id = static_cast<std::uint16_t>(::getpid() ^ 0x5a5a);
    std::vector<std::uint8_t> query = dns_query(name, id, recursion);
    if (query.empty()) return std::nullopt;
    Socket s(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (s.fd < 0) return std::nullopt;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &sin.sin_addr) != 1) return std::nullopt;
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0 ||
        ::send(s.fd, query.data(), query.size(), 0) < 0)
        return std::nullopt;
    std::vector<std::uint8_t> buffer(65535);
    std::string error;
    for (;;) {
        ssize_t n = ::recv(s.fd, buffer.data(), buffer.size(), 0);
        if (n > 0) {
            auto addresses =
                dns_addresses(std::span(buffer.data(), static_cast<std::size_t>(n)), id);
            if (addresses) return addresses;
            continue;  // not ours; keep waiting
        }
        // ECONNREFUSED: nothing listens yet; the caller asks again.
        if (n < 0 && errno != EAGAIN && errno != EINTR) return std::nullopt;
        if (!wait_for(s.fd, POLLIN, deadline, error)) return std::nullopt;
    }
}

}  // namespace nolb::compare
