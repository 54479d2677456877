// The open GET /events streams (Server-Sent Events), one per page watching this site. The server
// hands a request over once its headers are chosen; from then on this class owns the stream's
// lifetime: it writes the events, notices through evhttp's close callback when the viewer goes
// away, and ends or detaches every stream when the site fails or stops. Their number is what
// the page shows as "viewers", and it is capped so a crowd of tabs cannot exhaust descriptors.
#pragma once

#include <event2/http.h>

#include <chrono>
#include <cstddef>
#include <list>
#include <string>

#include <nlohmann/json.hpp>

#include "nolb-stats/http.hpp"

namespace nolb::stats {

class ViewerStreams {
  public:
    explicit ViewerStreams(std::size_t capacity);
    ~ViewerStreams();
    ViewerStreams(const ViewerStreams&) = delete;
    ViewerStreams& operator=(const ViewerStreams&) = delete;

    bool full() const { return viewers_.size() >= capacity_; }
    std::size_t count() const { return viewers_.size(); }

    // Starts the stream with its retry hint and `first_event`, at once, so a page that has just
    // failed over shows the new site without waiting for the next tick.
    void open(evhttp_request* req, std::string address, nlohmann::json first_event);

    // Sends `event` (with each viewer's own "address" filled in) to every stream that has had
    // no event for `min_gap`, and a comment line to the others, so a slowed site still keeps
    // its connections warm while the page, which counts only events, sees it as stalled.
    void publish(nlohmann::json event, std::chrono::steady_clock::duration min_gap);

    // Drops the streams whose viewers have gone. Writing finds them too, but a silent (hung)
    // site writes nothing, and each page's watchdog opens a new stream every few seconds.
    void prune_closed();

    // Ends every stream cleanly, so each page reconnects (and meets whatever the site answers
    // now).
    void end_all();

  private:
    struct Viewer {
        ViewerStreams* owner;
        evhttp_request* req;
        evhttp_connection* conn;
        std::string address;
        std::chrono::steady_clock::time_point last_event;
        std::list<Viewer>::iterator self;
    };

    static void on_close(evhttp_connection* conn, void* arg);
    void write(Viewer& v, std::string_view text);
    void send_event(Viewer& v, nlohmann::json& event);
    void forget(std::list<Viewer>::iterator it);

    std::size_t capacity_;
    std::list<Viewer> viewers_;
    http::Buffer scratch_;
};

}  // namespace nolb::stats
