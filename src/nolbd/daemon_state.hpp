// The running daemon: one object owning the main event loop and everything on it (signals,
// health monitor, control socket, metrics endpoint) plus the network server whose workers read
// the published snapshot. Everything here runs on the main thread, so nothing in it is locked;
// the only state shared with workers is the Published snapshot and their counters.
//
// Life: load (config + zone model) -> bind -> first probe round -> publish -> start workers ->
// loop. A health change, a drain or a reload re-plans what each service publishes, renders a
// new snapshot from the same zone model and publishes it with one swap.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "answer/respond.hpp"
#include "config/config.hpp"
#include "control/protocol.hpp"
#include "health/monitor.hpp"
#include "health/plan.hpp"
#include "nolbd/daemon.hpp"
#include "server/server.hpp"
#include "util/event.hpp"
#include "util/published.hpp"
#include "zone/model.hpp"
#include "zone/snapshot.hpp"

namespace nolb::control {
class Server;
class MetricsServer;
}  // namespace nolb::control

namespace nolb::nolbd {

// A loaded configuration and the zone model read from it: replaced whole on reload.
struct Loaded {
    config::Config config;
    std::shared_ptr<const zone::Model> model;
};

// Reads and checks the file and its zone files; throws config::Error.
Loaded load(const std::string& path);

// Drains kept in `state_file` across restarts, as {"drained": ["london", ...]}.
health::Drains read_drains(const std::string& path);
void write_drains(const std::string& path, const health::Drains& drains);  // throws on failure

class Daemon final : public control::Backend {
  public:
    Daemon(const Options& options, Loaded loaded);
    ~Daemon() override;

    int serve();

    // control::Backend (verbs.cpp)
    control::Json status(const std::optional<std::string>& service) override;
    control::Json drain(const std::string& node, bool drained) override;
    control::Json explain(const std::string& name, const std::string& type) override;
    control::Json reload() override;
    control::Json stats() override;
    control::Json check() override;
    int watch(std::function<void(const control::Json&)> listener) override;
    void unwatch(int id) override;

  private:
    static void on_stop(evutil_socket_t, short, void* self);
    static void on_reload(evutil_socket_t, short, void* self);

    // Plans from current health and drains, renders and publishes when anything changed (or
    // always, when `force`: a reload brings new data).
    void republish(const char* why, bool force);
    void on_transition(const health::Transition& t);
    answer::Totals query_totals() const;
    std::string address_key(const health::AddressState& s) const;

    const Options& options_;
    Loaded loaded_;
    util::EventBase base_;  // first in, last out: every event below belongs to it
    std::vector<util::Event> signals_;
    health::Monitor monitor_;
    health::Drains drains_;
    std::vector<health::ServicePlan> plan_;
    zone::Availability available_;
    std::vector<std::uint32_t> serials_;
    util::Published<zone::Snapshot> published_;
    std::uint64_t generation_ = 0;
    // When each address (by address_key) last left the answers: drains wait a TTL past it.
    std::map<std::string, health::Clock::time_point> left_at_;
    std::chrono::steady_clock::time_point started_;

    std::unique_ptr<server::Server> server_;
    std::unique_ptr<control::Server> control_;
    std::unique_ptr<control::MetricsServer> metrics_;

    // Workers register their counters as they start; read on the main thread.
    mutable std::mutex handlers_mutex_;
    std::vector<const answer::Counters*> handler_counters_;

    int next_watch_id_ = 1;
    std::map<int, std::function<void(const control::Json&)>> watchers_;
};

}  // namespace nolb::nolbd
