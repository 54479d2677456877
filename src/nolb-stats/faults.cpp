// Held requests: a timer per slow request, none for a hung one; the connection's close callback
// and prune_closed() on the server's tick make a client that gives up take its entry with it.
#include "nolb-stats/faults.hpp"

#include "nolb-stats/http.hpp"

namespace nolb::stats {

std::optional<FaultMode> parse_fault_mode(std::string_view name) {
    for (FaultMode m : {FaultMode::http500, FaultMode::slow, FaultMode::hang, FaultMode::close})
        if (name == fault_mode_name(m)) return m;
    return std::nullopt;
}

const char* fault_mode_name(FaultMode mode) {
    switch (mode) {
        case FaultMode::none:
            return "none";
        case FaultMode::http500:
            return "http500";
        case FaultMode::slow:
            return "slow";
        case FaultMode::hang:
            return "hang";
        case FaultMode::close:
            return "close";
    }
    return "none";
}

HeldRequests::HeldRequests(event_base* base, std::size_t capacity, Release release)
    : base_(base), capacity_(capacity), release_(std::move(release)) {}

HeldRequests::~HeldRequests() {
    for (Held& h : held_)
        evhttp_connection_set_closecb(h.conn, nullptr, nullptr);
}

void HeldRequests::hold(evhttp_request* req, std::optional<std::chrono::milliseconds> delay) {
    auto it =
        held_.insert(held_.end(), Held{this, req, evhttp_request_get_connection(req), nullptr, {}});
    it->self = it;
    evhttp_connection_set_closecb(it->conn, &HeldRequests::on_close, &*it);
    if (delay) {
        it->timer = util::make_event(base_, -1, 0, &HeldRequests::on_timer, &*it);
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(*delay).count();
        timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
        event_add(it->timer.get(), &tv);
    }
}

void HeldRequests::release_all() {
    while (!held_.empty())
        release(held_.begin());
}

void HeldRequests::prune_closed() {
    for (auto it = held_.begin(); it != held_.end();) {
        auto next = std::next(it);
        if (http::peer_closed(it->conn)) {
            evhttp_connection* conn = it->conn;
            evhttp_connection_set_closecb(conn, nullptr, nullptr);
            held_.erase(it);
            evhttp_connection_free(conn);  // frees the request with it
        }
        it = next;
    }
}

void HeldRequests::on_timer(evutil_socket_t, short, void* arg) {
    auto* h = static_cast<Held*>(arg);
    h->owner->release(h->self);
}

void HeldRequests::on_close(evhttp_connection*, void* arg) {
    auto* h = static_cast<Held*>(arg);
    // An unanswered request on a failed connection is detached, not freed, by evhttp.
    if (evhttp_request_get_connection(h->req) == nullptr) evhttp_request_free(h->req);
    h->owner->held_.erase(h->self);
}

void HeldRequests::release(std::list<Held>::iterator it) {
    evhttp_request* req = it->req;
    evhttp_connection_set_closecb(it->conn, nullptr, nullptr);
    held_.erase(it);  // frees the timer; safe from within its own callback
    release_(req);
}

}  // namespace nolb::stats
