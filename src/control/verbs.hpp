// The control verbs' logic, as functions of the daemon's typed state: what `status`, `check`,
// `explain`, `drain`, `stats` and `watch` answer, computed from the running configuration, the
// health monitor's states and the publisher (plan, drains, snapshot, when addresses left the
// answers). nolbd's Daemon calls them from its control::Backend functions, on the main loop,
// and does the rest (saving drains, publishing); unit tests call them on hand-built state.
// They throw std::invalid_argument for the operator's mistakes (an unknown service, node or
// record type), which the socket answers as errors.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "answer/respond.hpp"
#include "config/config.hpp"
#include "control/documents.hpp"
#include "health/drains.hpp"
#include "health/monitor.hpp"
#include "health/state.hpp"
#include "publish/publisher.hpp"
#include "server/counters.hpp"
#include "transfer/notify.hpp"
#include "transfer/serve.hpp"

namespace nolb::control {

// What the verbs read; every part belongs to the daemon and outlives the call.
struct View {
    const config::Config& config;
    const std::vector<health::AddressState>& states;  // as health::Monitor::states()
    const publish::Publisher& publisher;
    std::vector<transfer::SecondaryRecord> secondaries = {};       // transfer::Secondaries::list()
    std::vector<std::vector<transfer::TargetStatus>> notify = {};  // by zone: Notifier::status
};

// Every service, or only `service` ("www.demo.test" or "www.demo.test.", any case).
Status status(const View& view, const std::optional<std::string>& service);

// A node counts as up when one of its addresses is; drained nodes are left out. 0: every
// service has all its nodes up; 1: some are down, or a secondary is further behind than its
// zone's max_lag; 2: a service has none up.
Check check(const View& view);

// What the published snapshot answers for NAME and TYPE, asked as a client over TCP would,
// and for a service behind the answer why each address is in or out.
Explain explain(const View& view, const std::string& name, const std::string& type);

// drain and undrain, in two steps around the daemon's saving and publishing: the drains after
// the change, then (once published) the answer with the time it is safe to stop the node.
struct DrainChange {
    health::Drains drains;            // the drains after the change
    health::DrainKey key;             // what `node` named, the service in canonical form
    std::vector<DrainMatch> matched;  // each (service, node) it names
};
// `node` is a node name ("london": in every service) or SERVICE/NODE.
DrainChange change_drains(const config::Config& config, const health::Drains& drains,
                          const std::string& node, bool drained);
DrainResult drain_result(const View& view, const DrainChange& change, const std::string& node,
                         bool drained, bool persisted, health::Clock::time_point now);

// The daemon's counters, each read by its owner.
struct Counts {
    answer::Totals queries;
    transfer::Totals transfers;
    health::MonitorStats monitor;
    server::Counters network;
    publish::PublishTimes publish;
    std::uint64_t generation = 0;
    double uptime_s = 0;
};
Stats stats(const Counts& counts);

WatchEvent watch_event(const health::Transition& transition);

}  // namespace nolb::control
