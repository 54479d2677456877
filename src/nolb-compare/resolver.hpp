// Name resolution for the profiles that use glibc's getaddrinfo, which reads /etc/resolv.conf
// and sorts the addresses by RFC 6724, run on threads of their own because it blocks. Lookups
// are queued from the event loop and their answers handed back to it through an eventfd, in the
// order getaddrinfo returned them, since that order is what is being measured.
#pragma once

#include <event2/event.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/event.hpp"

namespace nolb::compare {

// One address to connect to, as the socket calls take it.
struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;

    void set_port(std::uint16_t port);
    std::string to_string() const;
};

class SystemResolver {
  public:
    // Called on the loop for every lookup submitted before the resolver is destroyed: the
    // addresses, or nullopt when the name did not resolve.
    using Done =
        std::function<void(std::uint64_t ticket, std::optional<std::vector<SocketAddress>>)>;

    SystemResolver(event_base* base, Done done);
    // Stops the threads and waits for them: at most one getaddrinfo call each, bounded by
    // resolv.conf's timeout and attempts. Their answers, and every lookup still queued, are
    // dropped.
    ~SystemResolver();
    SystemResolver(const SystemResolver&) = delete;
    SystemResolver& operator=(const SystemResolver&) = delete;

    void submit(std::uint64_t ticket, std::string name);

  private:
    struct Shared;
    static void on_ready(evutil_socket_t fd, short what, void* arg);
    void deliver();

    std::unique_ptr<Shared> shared_;  // what the threads share with the loop
    Done done_;
    util::Event ready_;              // the eventfd became readable: answers are waiting
    std::uint64_t outstanding_ = 0;  // lookups submitted and not yet delivered
};

}  // namespace nolb::compare
