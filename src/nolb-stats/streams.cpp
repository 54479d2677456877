// Server-Sent Events over evhttp's chunked replies. A viewer that leaves is noticed either by
// evhttp, when a write fails (its close callback), or by prune_closed() on the server's tick. The
// callback is set when a stream opens and cleared before this class lets go of a stream in any
// other way, so evhttp never calls back into a viewer that is gone.
#include "nolb-stats/streams.hpp"

#include "util/log.hpp"

namespace nolb::stats {

ViewerStreams::ViewerStreams(std::size_t capacity)
    : capacity_(capacity), scratch_(http::make_buffer()) {}

ViewerStreams::~ViewerStreams() {
    // Each open reply is ended, so evhttp owns every request from here on: a viewer that only
    // left its callback behind would leave its request to nobody if the viewer hung up before
    // evhttp itself is freed.
    end_all();
}

void ViewerStreams::open(evhttp_request* req, std::string address, nlohmann::json first_event) {
    evkeyvalq* headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Content-Type", "text/event-stream");
    // Proxies that buffer would hold events back; this asks them not to.
    evhttp_add_header(headers, "X-Accel-Buffering", "no");
    // As for every reply (see http::reply): a stream that ends takes its connection with it.
    evhttp_add_header(headers, "Connection", "close");
    evhttp_send_reply_start(req, HTTP_OK, "OK");

    auto it = viewers_.insert(
        viewers_.end(),
        Viewer{this, req, evhttp_request_get_connection(req), std::move(address), {}, {}});
    it->self = it;
    evhttp_connection_set_closecb(it->conn, &ViewerStreams::on_close, &*it);
    // A browser reconnects on its own after this many milliseconds; the page also runs its own
    // watchdog, since a site that dies silently never closes the stream.
    write(*it, "retry: 500\n\n");
    send_event(*it, first_event);
    log::debug("viewer joined", {{"viewers", viewers_.size()}, {"address", it->address}});
}

void ViewerStreams::publish(nlohmann::json event, std::chrono::steady_clock::duration min_gap) {
    auto now = std::chrono::steady_clock::now();
    for (auto it = viewers_.begin(); it != viewers_.end();) {
        auto next = std::next(it);
        if (now - it->last_event >= min_gap) {
            send_event(*it, event);
        } else {
            write(*it, ": heartbeat\n\n");
        }
        it = next;
    }
}

void ViewerStreams::prune_closed() {
    for (auto it = viewers_.begin(); it != viewers_.end();) {
        auto next = std::next(it);
        if (http::peer_closed(it->conn)) {
            evhttp_connection* conn = it->conn;
            evhttp_connection_set_closecb(conn, nullptr, nullptr);
            forget(it);
            evhttp_connection_free(conn);
        }
        it = next;
    }
}

void ViewerStreams::end_all() {
    while (!viewers_.empty()) {
        Viewer& v = viewers_.front();
        evhttp_connection_set_closecb(v.conn, nullptr, nullptr);
        evhttp_send_reply_end(v.req);
        viewers_.pop_front();
    }
}

void ViewerStreams::send_event(Viewer& v, nlohmann::json& event) {
    event["address"] = v.address;
    v.last_event = std::chrono::steady_clock::now();
    write(v, "data: " + event.dump() + "\n\n");
}

void ViewerStreams::write(Viewer& v, std::string_view text) {
    evbuffer_add(scratch_.get(), text.data(), text.size());
    evhttp_send_reply_chunk(v.req, scratch_.get());
    // evhttp moves the bytes out; drain anyway so nothing leaks into the next viewer's chunk.
    evbuffer_drain(scratch_.get(), evbuffer_get_length(scratch_.get()));
}

void ViewerStreams::on_close(evhttp_connection*, void* arg) {
    auto* v = static_cast<Viewer*>(arg);
    // When the connection fails mid-reply, evhttp detaches the unfinished request instead of
    // freeing it, leaving that to whoever would have ended the reply: us.
    if (evhttp_request_get_connection(v->req) == nullptr) evhttp_request_free(v->req);
    v->owner->forget(v->self);
}

void ViewerStreams::forget(std::list<Viewer>::iterator it) {
    log::debug("viewer left", {{"address", it->address}});
    viewers_.erase(it);
}

}  // namespace nolb::stats
