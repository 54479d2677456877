// The Prometheus endpoint: GET /metrics on the daemon's main loop, in the text exposition
// format 0.0.4, rendered on each scrape from the same stats and status documents the control
// socket serves, so the two never disagree.
#pragma once

#include <event2/event.h>

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "control/documents.hpp"
#include "control/protocol.hpp"
#include "util/ip.hpp"

struct evhttp;
struct evhttp_request;

namespace nolb::control {

// One family of the exposition as it is declared: its name, type, HELP text and label names.
struct FamilyDoc {
    std::string_view name;
    std::string_view type;  // counter or gauge
    std::string_view help;
    std::array<std::string_view, 3> labels = {};  // in the samples' order; unused ones empty
    std::string_view values = {};  // the first label's values when fixed: "received, sent"
};

// Every family the endpoint exposes, in the order it exposes them; the reference lists these.
std::span<const FamilyDoc> metric_families();

// The exposition text for the daemon's stats and status. A probe latency is exposed once the
// address has been probed; every other sample is always there.
std::string render_metrics(const Stats& stats, const Status& status);

class MetricsServer {
  public:
    // Nothing is opened until open(); `base` and `backend` must outlive the server.
    MetricsServer(event_base* base, const util::Endpoint& listen, Backend& backend);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Binds and listens; throws std::runtime_error ("cannot serve metrics on ...: ...").
    void open();
    // Where it listens; after open(), the real port when the configured one was 0.
    const util::Endpoint& endpoint() const { return endpoint_; }

  private:
    struct HttpFree {
        void operator()(evhttp* http) const;
    };
    static void on_request(evhttp_request* request, void* self);

    event_base* base_;
    util::Endpoint endpoint_;
    Backend& backend_;
    std::unique_ptr<evhttp, HttpFree> http_;
};

}  // namespace nolb::control
