// The clients: many independent HTTP clients on one event loop, each following one profile
// (profiles.hpp) to turn a name into a connection: where its addresses come from (its own DNS
// queries to the resolver, or glibc's getaddrinfo), how long it keeps them, which of them it
// tries and when it moves on, whether it keeps connections alive and holds an event stream. The
// HTTP exchange is the same for all: `GET /stats`, the node named by the body's "site".
//
// A request moves to another address only while connecting (refused, unreachable, out of time,
// as its profile says). Once connected, a response with an error status, a reset or a close
// before the response is complete is final, as it is for the programs the profiles reproduce;
// the one exception is a kept-alive connection found closed before any byte of the response
// arrived, which is replaced by a new one, as HTTP clients do for a request that is safe to
// repeat.
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
    util::Endpoint dns;         // the server stub lookups ask: nolbd, or the resolver before it
    std::uint16_t port = 8080;  // HTTP port on every address
    std::vector<std::string> node_sites;      // "site" values, index = node number
    std::vector<std::string> node_addresses;  // each node's address, index = node number
    // System lookups use getaddrinfo, which reads /etc/resolv.conf: only meaningful inside the
    // namespace whose resolv.conf names the lab's resolver. When false, the profiles that
    // resolve that way are not started and a note says why.
    bool system_resolver = false;
};

class Fleet {
  public:
    // `origin`: the start of the measured run. Requests due before it are the warm-up and are
    // not recorded. `seed` decides every client's arrivals: the same seed, the same schedule.
    Fleet(event_base* base, Target target, const std::vector<ClientSpec>& specs,
          Clock::time_point origin, std::uint64_t seed);
    // Closes every connection at once. Lookups evdns still held are dropped; their callbacks,
    // which evdns always runs from the loop, find nothing to do when the loop next runs.
    ~Fleet();
    Fleet(const Fleet&) = delete;
    Fleet& operator=(const Fleet&) = delete;

    void start();
    // No request is due after this and event streams close; requests due and not begun are
    // recorded as unfinished at once, those in flight may end within `grace`, and those still
    // open then are recorded as unfinished. `drained` is called from the loop once every
    // request has ended.
    void stop(Seconds grace, std::function<void()> drained);

    std::vector<RequestRecord> take_records();
    std::vector<StreamGap> take_stream_gaps();
    std::uint64_t dns_queries() const;  // DNS queries the fleet sent (all profiles)
    std::uint64_t in_flight() const;
    std::vector<std::string> notes() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nolb::compare
