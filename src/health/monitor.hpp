// The health monitor: owns one AddressState per published service address and keeps it current
// by probing on the event loop it is given (never a worker's). Transitions are reported one by
// one (logs, `nolbctl watch`) and, coalesced, as one change callback per burst, which the
// daemon answers by rendering and publishing a new snapshot.
#pragma once

#include <event2/event.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "health/state.hpp"

namespace nolb::health {

// start() launches the first round this many probes per pass of the loop: a configuration of
// up to one batch is probed at once, a larger one without every connect in one go.
inline constexpr std::size_t kFirstRoundBatch = 128;

struct MonitorStats {
    std::uint64_t probes_sent = 0;
    std::uint64_t probes_failed = 0;
    std::uint64_t transitions = 0;
    std::uint64_t late_probes = 0;  // started more than 100 ms after they were due
    // Probes not started because the address's previous probe was still running (it reports
    // its own failure when its timeout ends, so a skip is not counted as one).
    std::uint64_t probes_skipped = 0;
    // Probes started beside one of the same address that was still unanswered fast_interval
    // after it started (overlapping re-probes).
    std::uint64_t probes_overlapped = 0;
    std::uint64_t probes_in_flight = 0;  // now
};

class Monitor {
  public:
    using ChangeFn = std::function<void()>;
    using TransitionFn = std::function<void(const Transition&)>;

    explicit Monitor(event_base* base);
    ~Monitor();
    Monitor(const Monitor&) = delete;
    Monitor& operator=(const Monitor&) = delete;

    // Installs the services of `config`. An address whose service name, node name, published
    // and probed address and check are all unchanged keeps its state and counters; others
    // start afresh per their service's `startup`. Probing of removed addresses stops.
    void configure(const config::Config& config);

    // Probes every probed address once and calls `done` when every result is in (bounded by
    // the longest timeout, plus the passes of the loop that pacing takes). The probes start
    // kFirstRoundBatch at a time, the first batch here and one more per pass of the loop, so
    // that ten thousand connects do not keep the loop from the results of the first ones.
    // Addresses of `startup = "probe"` services take their first result as their state. Then
    // periodic probing starts. `done` is always called from the event loop, never from inside
    // start().
    void start(std::function<void()> done);

    // Indexed like the configured services' addresses: for each service, its nodes in order,
    // each node's addresses in order.
    const std::vector<AddressState>& states() const;
    MonitorStats stats() const;

    // Once per burst of transitions (those of one pass of the loop; the whole first round is
    // one burst, reported when it ends).
    void on_change(ChangeFn fn);
    void on_transition(TransitionFn fn);  // each transition, as it happens

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nolb::health
