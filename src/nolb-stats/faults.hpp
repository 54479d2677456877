// Failures a site can be told to fake (POST /fail?mode=..., only with --allow-fault-injection),
// so the demonstration and the system tests can show how clients and health checks meet each
// kind: a server that answers 500, one that answers late, one that accepts and never answers.
// HeldRequests keeps the requests a slow or hung site is sitting on until their time comes or
// the site recovers.
#pragma once

#include <event2/event.h>
#include <event2/http.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <optional>
#include <string_view>

#include "util/event.hpp"

namespace nolb::stats {

// close is not a failure: a site started with --keep-alive serves as usual but closes every
// connection after its answer (as a server does once told to drain), so that a client's next
// request needs a new connection, and with it an address from its DNS cache.
enum class FaultMode { none, http500, slow, hang, close };

std::optional<FaultMode> parse_fault_mode(std::string_view name);
const char* fault_mode_name(FaultMode mode);

class HeldRequests {
  public:
    using Release = std::function<void(evhttp_request*)>;
    HeldRequests(event_base* base, std::size_t capacity, Release release);
    ~HeldRequests();
    HeldRequests(const HeldRequests&) = delete;
    HeldRequests& operator=(const HeldRequests&) = delete;

    bool full() const { return held_.size() >= capacity_; }
    std::size_t count() const { return held_.size(); }

    // Keeps `req` unanswered; with a delay, hands it to `release` when that has passed,
    // without one, until release_all().
    void hold(evhttp_request* req, std::optional<std::chrono::milliseconds> delay);
    void release_all();
    // Drops the requests whose clients have given up; evhttp does not watch a connection while
    // its request is unanswered, and a hung site would otherwise collect descriptors until it
    // ran out.
    void prune_closed();

  private:
    struct Held {
        HeldRequests* owner;
        evhttp_request* req;
        evhttp_connection* conn;
        util::Event timer;
        std::list<Held>::iterator self;
    };

    static void on_timer(evutil_socket_t, short, void* arg);
    static void on_close(evhttp_connection*, void* arg);
    void release(std::list<Held>::iterator it);

    event_base* base_;
    std::size_t capacity_;
    Release release_;
    std::list<Held> held_;
};

}  // namespace nolb::stats
