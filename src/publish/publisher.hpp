// The publisher: from health states and drains to the snapshot the workers answer from. It
// holds what publishing needs between two publishes: the plan of each service, the
// availability last rendered, which services to plan again, the drains, the zone serials, the
// zone::Compiler of the loaded model, the Published<Snapshot> the workers read, and when each
// address last left the answers (drain's "safe to stop" time). The daemon builds one, hands
// it each (re)load, health transition and drain change, and asks it to publish; the control
// verbs read its plan, drains and snapshot. It runs on the daemon's main loop only.
//
// Change detection happens once, here: planning again yields each service's row of
// availability, a row that differs from the last one rendered is a change, and the compiler
// is told which rows changed rather than comparing them again.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "health/drains.hpp"
#include "health/plan.hpp"
#include "health/state.hpp"
#include "transfer/state.hpp"
#include "util/published.hpp"
#include "zone/compile.hpp"
#include "zone/model.hpp"
#include "zone/snapshot.hpp"

namespace nolb::publish {

// How long publishing took, from planning to the swap: for changes (health, drains) the last
// time and the longest since start; and the last whole rendering (start, reload). A forced
// publish that renders from the previous snapshot (after the first probe round) counts as
// neither. Reported by `nolbctl stats`.
struct PublishTimes {
    double last_ms = 0, max_ms = 0, full_ms = 0;
    std::uint64_t changes = 0;  // publishes of changes since start
};

class Publisher {
  public:
    Publisher();
    ~Publisher();
    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;

    // A (re)loaded configuration and its zone model: a new compiler, whose first snapshot is
    // rendered whole, and a whole plan at the next publish. `config` is kept by reference
    // until the next adopt().
    void adopt(const config::Config& config, std::shared_ptr<const zone::Model> model);

    // A health transition in the named service: plan it again at the next publish (every
    // service, when the name is not configured).
    void mark(const std::string& service_name);

    const health::Drains& drains() const { return drains_; }
    // Replaces the drains and marks the services whose drains changed.
    void set_drains(health::Drains drains);

    // Plans what is marked (everything when `force` or after adopt()) from `states`, as
    // health::Monitor::states() gives them for the adopted config, and publishes a new
    // snapshot when a service's availability changed, or always when `force` (a reload brings
    // new data). `why` is logged. Returns whether it published.
    bool publish(const std::vector<health::AddressState>& states, const char* why, bool force,
                 health::Clock::time_point now = health::Clock::now());

    const std::vector<health::ServicePlan>& plan() const { return plan_; }
    const util::Published<zone::Snapshot>& published() const { return published_; }
    // Who may transfer and each zone's journal, published just before each snapshot: a
    // worker that reads a journal newer than its snapshot stops at the snapshot's serial.
    const util::Published<transfer::State>& transfers() const { return transfers_; }
    // When zone `zone` first published a serial newer than `serial` (seconds since the epoch):
    // since when a secondary that holds `serial` has been behind. nullopt when not known.
    std::optional<double> newer_since(std::size_t zone, std::uint32_t serial) const;
    std::shared_ptr<const zone::Snapshot> snapshot() const { return published_.get(); }
    std::uint64_t generation() const { return generation_; }
    const PublishTimes& times() const { return times_; }
    // When the address last left the answers while this publisher ran; none if it never did.
    std::optional<health::Clock::time_point> left_at(const health::AddressState& state) const;

  private:
    std::vector<std::size_t> replan(const std::vector<health::AddressState>& states, bool force);
    std::vector<std::size_t> take_changes(const std::vector<health::AddressState>& states,
                                          const std::vector<std::size_t>& planned,
                                          health::Clock::time_point now);
    void record(const char* why, bool force, double ms);
    // Adds what changed in each zone from `before` to `after` to its journal, and publishes
    // the journals with the access rules.
    void record_changes(const zone::Snapshot* before, const zone::Snapshot& after);

    const config::Config* config_ = nullptr;
    std::unique_ptr<zone::Compiler> compiler_;
    std::unordered_map<std::string, std::size_t> service_index_;  // by service name
    health::Drains drains_;
    std::vector<health::ServicePlan> plan_;  // rows by service index
    zone::Availability available_;           // as last rendered
    // What to plan again at the next publish: services of transitions and drain changes since
    // the last one; all of them after adopt().
    std::vector<std::size_t> dirty_;
    bool replan_all_ = true;
    std::vector<std::uint32_t> serials_;
    util::Published<zone::Snapshot> published_;
    std::shared_ptr<const transfer::Access> access_;
    std::vector<transfer::Journal> journals_;  // by zone
    // By zone: its recent serials and when each was published, oldest first.
    std::vector<std::deque<std::pair<std::uint32_t, double>>> serial_times_;
    util::Published<transfer::State> transfers_;
    std::uint64_t generation_ = 0;
    PublishTimes times_;
    // By "service/node/address": drains wait a TTL past the moment an address left.
    std::map<std::string, health::Clock::time_point> left_at_;
};

}  // namespace nolb::publish
