// Listening sockets: how each worker's UDP and TCP sockets are opened, with the options that
// let several workers share one address (SO_REUSEPORT), let "0.0.0.0" and "[::]" coexist
// (IPV6_V6ONLY) and let a wildcard socket answer from the address a query was sent to
// (IP_PKTINFO / IPV6_RECVPKTINFO). Everything here runs at open time and throws on failure.
#pragma once

#include <stdexcept>
#include <string>

#include "util/ip.hpp"

namespace nolb::server {

// Owns one file descriptor.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1);

  private:
    int fd_ = -1;
};

enum class Protocol { udp, tcp };

// "127.0.0.1:53/udp"
std::string describe(const util::Endpoint& endpoint, Protocol protocol);

// Why an endpoint could not be opened: "cannot listen on 127.0.0.1:53/udp: Address already in
// use". `error_code()` is the errno behind it.
class ListenError : public std::runtime_error {
  public:
    ListenError(const util::Endpoint& endpoint, Protocol protocol, int error_code);
    int error_code() const { return error_code_; }

  private:
    int error_code_;
};

bool is_wildcard(const util::IpAddress& address);

// Binds a throwaway socket without SO_REUSEPORT, so a port that another process already holds
// (even one that also set SO_REUSEPORT, such as a second nolbd) fails here instead of silently
// sharing its traffic with us. Throws ListenError.
void check_port_free(const util::Endpoint& endpoint, Protocol protocol);

// A bound, blocking UDP socket with SO_REUSEPORT; on a wildcard address it also asks for
// the destination address of every datagram. Throws ListenError.
Fd open_udp(const util::Endpoint& endpoint);

// A bound, listening, non-blocking TCP socket with SO_REUSEPORT and TCP_NODELAY (inherited by
// accepted connections). Throws ListenError.
Fd open_tcp(const util::Endpoint& endpoint, int backlog);

// The address and port a socket is bound to (the real port after binding port 0).
util::Endpoint local_endpoint(int fd);

}  // namespace nolb::server
