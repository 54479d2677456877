// Socket creation and options for the listeners. Options that only tune behaviour are
// best-effort; binding and listening must succeed or the endpoint is reported as unusable.
#include "server/socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nolb::server {
namespace {

constexpr int kUdpReceiveBuffer = 1 << 20;

int family_of(const util::Endpoint& endpoint) {
    return endpoint.address.family;
}

bool set_option(int fd, int level, int name, int value) {
    return setsockopt(fd, level, name, &value, sizeof value) == 0;
}

[[noreturn]] void fail(const util::Endpoint& endpoint, Protocol protocol, int error_code) {
    throw ListenError(endpoint, protocol, error_code);
}

Fd make_socket(const util::Endpoint& endpoint, Protocol protocol) {
    // UDP sockets block: their thread waits in recvmmsg (sends pass MSG_DONTWAIT). TCP
    // sockets serve an event loop.
    int type = protocol == Protocol::udp ? SOCK_DGRAM : SOCK_STREAM | SOCK_NONBLOCK;
    Fd fd(socket(family_of(endpoint), type | SOCK_CLOEXEC, 0));
    if (!fd) fail(endpoint, protocol, errno);
    // Without this an IPv6 wildcard would also claim IPv4 and collide with "0.0.0.0".
    if (!endpoint.address.is_v4() && !set_option(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1))
        fail(endpoint, protocol, errno);
    return fd;
}

void bind_to(const Fd& fd, const util::Endpoint& endpoint, Protocol protocol) {
    sockaddr_storage address;
    socklen_t length = endpoint.to_sockaddr(address);
    if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0)
        fail(endpoint, protocol, errno);
}

}  // namespace

void Fd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

std::string describe(const util::Endpoint& endpoint, Protocol protocol) {
    return endpoint.to_string() + (protocol == Protocol::udp ? "/udp" : "/tcp");
}

ListenError::ListenError(const util::Endpoint& endpoint, Protocol protocol, int error_code)
    : std::runtime_error("cannot listen on " + describe(endpoint, protocol) + ": " +
                         std::strerror(error_code)),
      error_code_(error_code) {}

bool is_wildcard(const util::IpAddress& address) {
    for (std::size_t i = 0; i < address.size(); ++i)
        if (address.bytes[i] != 0) return false;
    return true;
}

void check_port_free(const util::Endpoint& endpoint, Protocol protocol) {
    Fd fd = make_socket(endpoint, protocol);
    // TIME_WAIT leftovers of a previous run must not count as "taken".
    if (protocol == Protocol::tcp) set_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1);
    bind_to(fd, endpoint, protocol);
}

Fd open_udp(const util::Endpoint& endpoint) {
    Fd fd = make_socket(endpoint, Protocol::udp);
    if (!set_option(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1)) fail(endpoint, Protocol::udp, errno);
    if (is_wildcard(endpoint.address)) {
        bool ok = endpoint.address.is_v4()
                      ? set_option(fd.get(), IPPROTO_IP, IP_PKTINFO, 1)
                      : set_option(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
        if (!ok) fail(endpoint, Protocol::udp, errno);
    }
    // Large answers are fragmented at the interface MTU rather than at a path MTU that a forged
    // ICMP message could lower (a known aid to fragmentation-based spoofing).
    if (endpoint.address.is_v4())
        set_option(fd.get(), IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT);
    else
        set_option(fd.get(), IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_OMIT);
    // Room for a burst while the worker is busy elsewhere; only ever raised, and the kernel
    // caps it at net.core.rmem_max.
    int current = 0;
    socklen_t size = sizeof current;
    if (getsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &current, &size) == 0 &&
        current < kUdpReceiveBuffer)
        set_option(fd.get(), SOL_SOCKET, SO_RCVBUF, kUdpReceiveBuffer);
    bind_to(fd, endpoint, Protocol::udp);
    return fd;
}

Fd open_tcp(const util::Endpoint& endpoint, int backlog) {
    Fd fd = make_socket(endpoint, Protocol::tcp);
    if (!set_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1) ||
        !set_option(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1))
        fail(endpoint, Protocol::tcp, errno);
    // Responses go out in one write per batch; Nagle would only delay the next batch.
    set_option(fd.get(), IPPROTO_TCP, TCP_NODELAY, 1);
    bind_to(fd, endpoint, Protocol::tcp);
    if (listen(fd.get(), backlog) != 0) fail(endpoint, Protocol::tcp, errno);
    return fd;
}

util::Endpoint local_endpoint(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    util::Endpoint endpoint;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return endpoint;
    if (address.ss_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&address);
        endpoint.address.family = AF_INET;
        std::memcpy(endpoint.address.bytes.data(), &sin->sin_addr, 4);
        endpoint.port = ntohs(sin->sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&address);
        endpoint.address.family = AF_INET6;
        std::memcpy(endpoint.address.bytes.data(), &sin6->sin6_addr, 16);
        endpoint.port = ntohs(sin6->sin6_port);
    }
    return endpoint;
}

}  // namespace nolb::server
