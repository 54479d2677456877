// The running daemon: one object owning the main event loop and everything on it (signals,
// health monitor, publisher, control socket, metrics endpoint) plus the network server whose
// workers read the published snapshot. It wires those parts together: transitions and drains
// go to the publisher, the control verbs (control/verbs.hpp) read the monitor and the
// publisher. Everything here runs on the main thread, so nothing in it is locked; the only
// state shared with workers is the Published snapshot and their counters.
//
// Life: load (config + zone model) -> bind -> first probe round -> publish -> start workers ->
// loop; a reload (SIGHUP or `nolbctl reload`) brings a new zone model, rendered whole.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "answer/respond.hpp"
#include "config/config.hpp"
#include "control/protocol.hpp"
#include "control/verbs.hpp"
#include "health/monitor.hpp"
#include "nolbd/privileges.hpp"
#include "nolbd/run.hpp"
#include "publish/publisher.hpp"
#include "server/server.hpp"
#include "transfer/notify.hpp"
#include "transfer/serve.hpp"
#include "util/event.hpp"
#include "zone/model.hpp"

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

// The log level: the command line's, else server.log_level's.
void apply_log_level(const Options& options, const config::Server& server);

class Daemon final : public control::Backend {
  public:
    // `privileges`: whom to become once the sockets are open (nolbd/privileges.hpp).
    Daemon(const Options& options, Loaded loaded, PrivilegePlan privileges = {});
    ~Daemon() override;

    int serve();

    // control::Backend: the verbs of control/verbs.hpp over this daemon's state.
    control::Status status(const std::optional<std::string>& service) override;
    control::DrainResult drain(const std::string& node, bool drained) override;
    control::Explain explain(const std::string& name, const std::string& type) override;
    control::ReloadResult reload() override;
    control::Stats stats() override;
    control::Check check() override;
    int watch(std::function<void(const control::WatchEvent&)> listener) override;
    void unwatch(int id) override;

  private:
    static void on_stop(evutil_socket_t, short, void* self);
    static void on_reload(evutil_socket_t, short, void* self);

    control::View view() const {
        std::vector<std::vector<transfer::TargetStatus>> notify;
        for (std::size_t zi = 0; zi < loaded_.config.zones.size(); ++zi)
            notify.push_back(notifier_.status(zi));
        return {loaded_.config, monitor_.states(), publisher_, secondaries_.list(),
                std::move(notify)};
    }
    void publish(const char* why, bool force) {
        publisher_.publish(monitor_.states(), why, force);
        // Secondaries told before nolbd answers would ask for the zone in vain.
        if (answering_) notifier_.published(*publisher_.snapshot());
    }
    void on_transition(const health::Transition& t);
    // Writes the drains to control.state_file, if there is one; false (and logged) on failure.
    bool save_drains();
    bool open_sockets();
    // Between opening the sockets and reading anything untrusted (privileges.cpp's rules).
    bool drop_privileges_now();
    bool state_folder_writable() const;
    answer::Totals query_totals() const;

    const Options& options_;
    Loaded loaded_;
    PrivilegePlan privileges_;
    util::EventBase base_;  // first in, last out: every event below belongs to it
    std::vector<util::Event> signals_;
    health::Monitor monitor_;
    publish::Publisher publisher_;
    transfer::Notifier notifier_;
    bool answering_ = false;
    std::chrono::steady_clock::time_point started_;
    // Written by the workers when they serve a transfer: declared before them, to outlive them.
    transfer::Secondaries secondaries_;

    std::unique_ptr<server::Server> server_;
    std::unique_ptr<control::Server> control_;
    std::unique_ptr<control::MetricsServer> metrics_;

    // Workers register their counters as they start; read on the main thread.
    mutable std::mutex handlers_mutex_;
    std::vector<const answer::Counters*> handler_counters_;
    std::vector<const transfer::Tally*> handler_tallies_;

    int next_watch_id_ = 1;
    std::map<int, std::function<void(const control::WatchEvent&)>> watchers_;
};

}  // namespace nolb::nolbd
