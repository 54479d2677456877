// The clients: many independent HTTP clients on one event loop, each following one profile
// (scenario.hpp) to turn a name into a connection. Each has its own answer cache, asks nolbd
// itself (or glibc's getaddrinfo for the `system` profile), and records every request it makes.
// The profiles differ only in how they pick and try addresses; the HTTP exchange is the same:
// one `GET /stats` per connection (Connection: close), the node named by the body's "site".
//
// A request is retried on the next address when the connection fails before any byte of the
// response arrives (refused, connect timeout, reset or closed early): the request never reached
// the application, or the node died. A complete response with an error status, or a response
// that is not complete by the request's deadline, is final: that is what HTTP clients do, and
// why a node answering 500 hurts clients that a node refusing connections does not.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nolb-compare/record.hpp"
#include "nolb-compare/scenario.hpp"
#include "util/ip.hpp"

namespace nolb::compare {

using Clock = std::chrono::steady_clock;

// What the clients aim at.
struct Target {
    std::string name;           // the name resolved: "www.compare.test"
    util::Endpoint dns;         // the name server asked directly (all profiles but `system`)
    std::uint16_t port = 8080;  // HTTP port on every address
    std::vector<std::string> node_sites;  // "site" values, index = node number
    // The `system` profile resolves with getaddrinfo, which reads /etc/resolv.conf: only
    // meaningful inside the namespace whose resolv.conf names `dns` (on port 53). When false,
    // system clients are not started and a note says why.
    bool system_resolver = false;
};

class Fleet {
  public:
    // `origin`: the start of the measured run. Requests that start before it are the warm-up
    // and are not recorded.
    Fleet(event_base* base, Target target, const std::vector<ClientSpec>& specs,
          Clock::time_point origin);
    // Closes every connection at once. Lookups evdns still held are dropped; their callbacks,
    // which evdns always runs from the loop, find nothing to do when the loop next runs.
    ~Fleet();
    Fleet(const Fleet&) = delete;
    Fleet& operator=(const Fleet&) = delete;

    void start();
    // No request starts after this; `drained` is called from the loop once every request in
    // flight has ended (each is bounded by its request timeout).
    void stop(std::function<void()> drained);

    std::vector<RequestRecord> take_records();
    std::uint64_t dns_queries() const;  // DNS queries the fleet sent (all profiles)
    std::uint64_t in_flight() const;
    std::vector<std::string> notes() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nolb::compare
