// A UDP relay that holds every DNS answer for a fixed time before passing it on: the round trip
// to a resolver a network hop away, which the loopback does not have. The lab puts it between
// the clients (model and real) and their resolver when a scenario sets [resolver] delay, so
// that programs whose behaviour depends on how long a lookup takes (curl's, see profiles.cpp)
// meet a lookup of known length. UDP only: the lab's answers are small.
#pragma once

#include <event2/event.h>
#include <netinet/in.h>

#include <cstdint>
#include <list>
#include <memory>

#include "nolb-compare/profiles.hpp"
#include "util/event.hpp"

namespace nolb::compare {

class DnsDelay {
  public:
    // Listens on listen (IPv4) and forwards each query to upstream, on the loop of `base`.
    // Throws when the socket cannot be bound.
    DnsDelay(event_base* base, const sockaddr_in& listen, const sockaddr_in& upstream,
             Seconds delay);
    ~DnsDelay();
    DnsDelay(const DnsDelay&) = delete;
    DnsDelay& operator=(const DnsDelay&) = delete;

    std::uint64_t relayed() const { return relayed_; }  // answers passed back
    std::uint64_t lost() const { return lost_; }        // queries the upstream never answered

  private:
    struct Exchange;
    static void on_query(evutil_socket_t fd, short, void* arg);
    static void on_answer(evutil_socket_t fd, short, void* arg);
    static void on_timer(evutil_socket_t, short, void* arg);
    void forward(const std::uint8_t* query, std::size_t length, const sockaddr_storage& client,
                 socklen_t client_length);
    void finish(Exchange* exchange);

    event_base* base_;
    sockaddr_in upstream_;
    Seconds delay_;
    int fd_ = -1;
    util::Event readable_;
    std::list<std::unique_ptr<Exchange>> exchanges_;
    std::uint64_t relayed_ = 0;
    std::uint64_t lost_ = 0;
};

}  // namespace nolb::compare
