// The running daemon: one object owning the main event loop and everything on it (signals,
// health monitor, control socket, metrics endpoint) plus the network server whose workers read
// the published snapshot. Everything here runs on the main thread, so nothing in it is locked;
// the only state shared with workers is the Published snapshot and their counters.
//
// Life: load (config + zone model) -> bind -> first probe round -> publish -> start workers ->
// loop. A health change or a drain re-plans what each service publishes, renders again what
// that changes (zone::Compiler keeps the rest from the previous snapshot) and publishes the new
// snapshot with one swap; a reload brings a new zone model, rendered whole.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "answer/respond.hpp"
#include "config/config.hpp"
#include "control/protocol.hpp"
#include "health/monitor.hpp"
#include "health/plan.hpp"
#include "nolbd/daemon.hpp"
#include "nolbd/privileges.hpp"
#include "server/server.hpp"
#include "util/event.hpp"
#include "util/published.hpp"
#include "zone/compile.hpp"
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
    // `privileges`: whom to become once the sockets are open (nolbd/privileges.hpp).
    Daemon(const Options& options, Loaded loaded, PrivilegePlan privileges = {});
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
    // After a (re)load: a compiler for the new zone model (its first snapshot is rendered
    // whole) and a whole plan next.
    void adopt_loaded();
    // Marks the services whose drains changed since the last plan.
    void mark_drain_changes();
    void on_transition(const health::Transition& t);
    // Between opening the sockets and reading anything untrusted (privileges.cpp's rules).
    bool drop_privileges_now();
    answer::Totals query_totals() const;
    std::string address_key(const health::AddressState& s) const;

    const Options& options_;
    Loaded loaded_;
    PrivilegePlan privileges_;
    util::EventBase base_;  // first in, last out: every event below belongs to it
    std::vector<util::Event> signals_;
    health::Monitor monitor_;
    health::Drains drains_;
    // What each service publishes, as last planned and rendered (rows by service index).
    std::vector<health::ServicePlan> plan_;
    zone::Availability available_;
    // What to plan again at the next republish: the services of the transitions since the
    // last one, and those a drain or undrain named (drains_ against planned_drains_); all of
    // them after a (re)load.
    std::vector<std::size_t> dirty_;
    bool replan_all_ = true;
    health::Drains planned_drains_;
    std::unordered_map<std::string, std::size_t> service_index_;  // by service name
    std::vector<std::uint32_t> serials_;
    std::unique_ptr<zone::Compiler> compiler_;
    util::Published<zone::Snapshot> published_;
    std::uint64_t generation_ = 0;
    // How long publishing took, from planning to the swap: for changes (health, drains) the
    // last time and the longest since start; and the last whole rendering (start, reload).
    // The publish after the first probe round, planned whole, counts as neither. Reported by
    // `nolbctl stats`.
    struct PublishTimes {
        double last_ms = 0, max_ms = 0, full_ms = 0;
        std::uint64_t changes = 0;  // publishes of changes since start
    };
    PublishTimes publish_times_;
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
