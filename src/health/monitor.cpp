// The monitor keeps one AddressState per configured service address and, for each probed one, a
// slot: its timer, its probe in flight and its place in the schedule. Everything runs on the
// loop the monitor was given; nothing here blocks or waits for a thread.
//
// Scheduling: each address's next probe is due interval * (1 + U(-jitter, +jitter)) after its
// previous probe *started*, so a backend that hangs costs its own address one timeout and never
// stretches the schedule. When a probe is due while the previous one still runs (the timeout
// close to the interval, or a starved loop), it is skipped and counted in probes_skipped: the
// running probe reports its own failure when its timeout ends, so counting the skip as a failure
// too would let one hung probe count twice against `fall`.
//
// Overlapping re-probes: a probe of an up address whose last probe succeeded within half of
// fast_interval is suspect once it has gone unanswered for fast_interval, and the next probe
// starts then instead of after the first one's timeout, up to the failures still needed for
// `fall` in flight at once (at most kMaxOverlap). A backend that hangs then leaves after
// timeout + (fall - 1) * fast_interval from its first unanswered probe, not fall timeouts, and
// hysteresis is kept: each probe still has to fail on its own. Results count in the order the
// probes started: a probe's result supersedes (cancels, without counting) the older ones still
// running, so one lost SYN answered by the next probe costs no failure. An address whose
// answers are slow anyway is not suspect, and neither are the addresses of an overloaded prober
// or backend once their answers slow down: overlapping never feeds on load.
//
// Fast re-probes (HAProxy's `fastinter`): a result that disagrees with the address's state (a
// failure while up, a success while down) without reaching fall or rise puts the address in
// transition, and its next probe is due fast_interval after that result rather than a whole
// interval after the last start. Detection then costs one interval (to the first failure) plus
// (fall - 1) fast intervals, not fall intervals. Once the transition completes or the streak
// breaks, the normal schedule resumes at a random phase between fast_interval and one interval
// on, so that addresses that failed together do not probe in step afterwards.
//
// The first round: start() probes every address once, kFirstRoundBatch probes (a few
// milliseconds of connects) per pass of the loop, so that the results and timeouts of the early
// probes are read between batches instead of waiting behind ten thousand connects, and backends
// are not met with every connection at once. Up to one batch starts at once. A batch is due when
// the previous one asked for it, so a loop too busy to come back within 100 ms shows as late
// probes. The round's transitions make one change callback, when it ends: nothing is served
// before then, and rendering ten thousand addresses after every batch would cost more than the
// probes. Each address's first periodic probe falls at its own random point of the interval
// after the one in which its first probe started, so that ten thousand addresses do not stay in
// step.
//
// Probes in flight are capped by the open-file limit (half of it; the rest is for DNS over TCP
// and the control socket): past the cap, due probes wait in a queue and start as others end,
// which shows as late_probes rather than as "Too many open files" failures.
#include "health/monitor.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <limits>
#include <unordered_map>
#include <utility>

#include "health/probe.hpp"
#include "util/event.hpp"
#include "util/log.hpp"
#include "util/rng.hpp"

namespace nolb::health {

namespace {

using Steady = std::chrono::steady_clock;

constexpr auto kLate = std::chrono::milliseconds(100);
// The most probes of one address in flight at once (overlapping re-probes).
constexpr std::size_t kMaxOverlap = 8;

timeval to_timeval(Steady::duration d) {
    if (d < Steady::duration::zero()) d = Steady::duration::zero();
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(us / 1'000'000);
    tv.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
    return tv;
}

// What makes an address "the same" across a reload, together with its check.
std::string identity(const AddressState& state) {
    std::string key{static_cast<char>(state.published.family),
                    static_cast<char>(state.probed.family)};
    key += state.service_name;
    key += '\0';
    key += state.node_name;
    key += '\0';
    key.append(reinterpret_cast<const char*>(state.published.bytes.data()), state.published.size());
    key += '\0';
    key.append(reinterpret_cast<const char*>(state.probed.bytes.data()), state.probed.size());
    return key;
}

std::size_t probe_budget() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 65536;
    return std::max<std::size_t>(16, static_cast<std::size_t>(limit.rlim_cur / 2));
}

std::string milliseconds_text(std::chrono::microseconds us) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", static_cast<double>(us.count()) / 1000.0);
    return text;
}

// The address is in transition: its last result disagreed with its state (failures and
// successes count consecutive results, so failures > 0 means the last one failed) and the streak
// is short of fall or rise. Asked before a completed streak changes the state.
bool in_transition(const AddressState& state) {
    switch (state.observed) {
        case Observed::up:
            return state.failures > 0 && state.failures < state.check.fall;
        case Observed::down:
            return state.successes > 0 && state.successes < state.check.rise;
        case Observed::unknown:
            return false;  // the first result decides at once
    }
    return false;
}

// Address index by identity(), for finding each address again after a reload.
std::unordered_map<std::string, std::size_t> by_identity(const std::vector<AddressState>& states) {
    std::unordered_map<std::string, std::size_t> out;
    out.reserve(states.size());
    for (std::size_t i = 0; i < states.size(); ++i)
        out.emplace(identity(states[i]), i);
    return out;
}

// Address `ai` of node `ni` of `service` (number `si`), as the configuration describes it.
AddressState configured_address(const config::Service& service, std::size_t si, std::size_t ni,
                                std::size_t ai) {
    const config::Node& node = service.nodes[ni];
    AddressState fresh;
    fresh.service = si;
    fresh.node = ni;
    fresh.address = ai;
    fresh.service_name = service.name;
    fresh.node_name = node.name;
    fresh.published = node.addresses[ai];
    fresh.probed = ai < node.probe_addresses.size() ? node.probe_addresses[ai] : fresh.published;
    fresh.check = node.health;
    return fresh;
}

// What a new address is taken to be until its first result: up when it is not health-checked,
// otherwise what the service's `startup` says.
void assume_before_probing(AddressState& state, config::Startup startup) {
    if (state.check.type == config::HealthMode::none) {
        state.observed = Observed::up;
        state.reason = "not health-checked";
        return;
    }
    switch (startup) {
        case config::Startup::probe:
            state.observed = Observed::unknown;
            state.reason = "not probed yet";
            break;
        case config::Startup::up:
            state.observed = Observed::up;
            state.reason = "startup = up";
            break;
        case config::Startup::down:
            state.observed = Observed::down;
            state.reason = "startup = down";
            break;
    }
}

}  // namespace

struct Monitor::Impl {
    struct InFlight {
        std::uint64_t seq = 0;  // start order
        std::unique_ptr<Probe> probe;
    };
    struct Slot {
        Impl* impl = nullptr;
        std::size_t index = 0;  // into Impl::states
        std::shared_ptr<const ProbeSpec> spec;
        std::chrono::milliseconds interval{1000};
        std::chrono::milliseconds fast_interval{200};
        double jitter = 0;
        util::Event timer;
        util::Event overdue;           // fast_interval after the newest probe started
        std::vector<InFlight> probes;  // in flight, oldest first
        std::uint64_t next_seq = 0;
        Steady::time_point due{};      // of the next periodic probe
        Steady::time_point started{};  // of the newest probe
        Steady::time_point queued_due{};
        bool queued = false;       // due, waiting for room under the probe budget
        bool first_round = false;  // its probe belongs to start()'s round
        bool paced = false;        // in start()'s round, waiting for its batch
        bool fast = false;         // in transition: its next probe is a fast re-probe
        bool retired = false;      // removed by configure(), about to be freed
    };

    explicit Impl(event_base* b)
        : base(b),
          change_event(util::make_event(b, -1, 0, &Impl::on_change_event, this)),
          round_event(util::make_event(b, -1, 0, &Impl::on_round_event, this)),
          pace_event(util::make_event(b, -1, 0, &Impl::on_pace_event, this)),
          budget(probe_budget()) {}

    void configure(const config::Config& config);
    // The steps of configure(). An address the reload leaves as it was keeps its state and slot.
    void carry_over(std::size_t previous_index, const AddressState& fresh,
                    std::vector<AddressState>& next_states,
                    std::vector<std::unique_ptr<Slot>>& next_slots);
    // A new address's slot (none when not health-checked), on the schedule once started.
    std::unique_ptr<Slot> admit(std::size_t index, const AddressState& state,
                                Steady::time_point now);
    void retire_left_over();
    void start(std::function<void()> done);

    std::unique_ptr<Slot> make_slot(std::size_t index, const AddressState& state);
    double uniform() { return static_cast<double>(rng.next() >> 11) * 0x1.0p-53; }
    Steady::duration jittered(const Slot& slot) {
        double factor = 1 + slot.jitter * (2 * uniform() - 1);
        return std::chrono::duration_cast<Steady::duration>(slot.interval * factor);
    }
    void schedule(Slot& slot, Steady::time_point due);
    void launch(Slot& slot, Steady::time_point due);
    void launch_waiting();
    void launch_first_batch(Steady::time_point due);
    void start_one(Slot& slot);
    void on_due(Slot& slot);
    bool may_overlap(const Slot& slot) const;
    void overlap(Slot& slot);
    void on_result(Slot& slot, std::uint64_t seq, ProbeResult result);
    std::optional<Observed> judge(AddressState& state, ProbeResult result);
    void follow_up(Slot& slot, const AddressState& state);
    void transition(AddressState& state, Observed to);
    void round_finished_soon();
    void changed();
    void release_changes();

    static void on_timer(evutil_socket_t, short, void* arg) {
        auto* slot = static_cast<Slot*>(arg);
        slot->impl->on_due(*slot);
    }
    static void on_overdue(evutil_socket_t, short, void* arg) {
        auto* slot = static_cast<Slot*>(arg);
        slot->impl->overlap(*slot);
    }
    static void on_change_event(evutil_socket_t, short, void* arg) {
        auto* self = static_cast<Impl*>(arg);
        if (self->change_fn) self->change_fn();
    }
    static void on_round_event(evutil_socket_t, short, void* arg) {
        auto* self = static_cast<Impl*>(arg);
        if (self->round_pending != 0 || !self->round_done) return;
        auto done = std::move(self->round_done);
        self->round_done = nullptr;
        done();
    }
    static void on_pace_event(evutil_socket_t, short, void* arg) {
        auto* self = static_cast<Impl*>(arg);
        self->launch_first_batch(self->pace_due);
    }

    event_base* base;
    // One ChangeFn per loop pass: transitions make this event active, and libevent runs it
    // after the callbacks already queued in the same pass.
    util::Event change_event;
    util::Event round_event;   // calls round_done from the loop
    util::Event pace_event;    // starts the next batch of the first round, on the next pass
    std::deque<Slot*> pacing;  // first-round slots not yet started, in order
    Steady::time_point pace_due{};
    std::vector<AddressState> states;
    std::vector<std::unique_ptr<Slot>> slots;  // parallel to states; null when not probed
    std::deque<Slot*> waiting;
    std::size_t budget;
    std::size_t in_flight = 0;
    bool warned_budget = false;
    bool started = false;
    std::function<void()> round_done;
    std::size_t round_pending = 0;
    bool holding_changes = false;  // start()'s round runs: its change comes when it ends
    bool change_held = false;      // a transition happened meanwhile
    ChangeFn change_fn;
    TransitionFn transition_fn;
    MonitorStats stats;
    util::Rng rng;
};

std::unique_ptr<Monitor::Impl::Slot> Monitor::Impl::make_slot(std::size_t index,
                                                              const AddressState& state) {
    auto slot = std::make_unique<Slot>();
    slot->impl = this;
    slot->index = index;
    slot->spec = make_probe_spec(state.probed, state.check);
    slot->interval = state.check.interval;
    slot->fast_interval = state.check.fast_interval_or_default();
    slot->jitter = state.check.jitter;
    slot->timer = util::make_event(base, -1, 0, &Impl::on_timer, slot.get());
    slot->overdue = util::make_event(base, -1, 0, &Impl::on_overdue, slot.get());
    return slot;
}

void Monitor::Impl::configure(const config::Config& config) {
    budget = probe_budget();
    std::unordered_map<std::string, std::size_t> previous = by_identity(states);
    std::vector<AddressState> next_states;
    std::vector<std::unique_ptr<Slot>> next_slots;
    const auto now = Clock::now();
    const auto steady_now = Steady::now();
    for (std::size_t si = 0; si < config.services.size(); ++si) {
        const config::Service& service = config.services[si];
        for (std::size_t ni = 0; ni < service.nodes.size(); ++ni) {
            for (std::size_t ai = 0; ai < service.nodes[ni].addresses.size(); ++ai) {
                AddressState fresh = configured_address(service, si, ni, ai);
                auto it = previous.find(identity(fresh));
                if (it != previous.end() && states[it->second].check == fresh.check) {
                    carry_over(it->second, fresh, next_states, next_slots);
                    previous.erase(it);
                    continue;
                }
                fresh.since = now;
                assume_before_probing(fresh, service.startup);
                next_slots.push_back(admit(next_states.size(), fresh, steady_now));
                next_states.push_back(std::move(fresh));
            }
        }
    }
    retire_left_over();
    states = std::move(next_states);
    slots = std::move(next_slots);  // frees the retired slots, closing their sockets
    if (started) {
        round_finished_soon();
        launch_waiting();
    }
}

void Monitor::Impl::carry_over(std::size_t previous_index, const AddressState& fresh,
                               std::vector<AddressState>& next_states,
                               std::vector<std::unique_ptr<Slot>>& next_slots) {
    AddressState& kept = states[previous_index];
    kept.service = fresh.service;
    kept.node = fresh.node;
    kept.address = fresh.address;
    std::unique_ptr<Slot>& slot = slots[previous_index];
    if (slot) slot->index = next_states.size();
    next_states.push_back(std::move(kept));
    next_slots.push_back(std::move(slot));
}

std::unique_ptr<Monitor::Impl::Slot> Monitor::Impl::admit(std::size_t index,
                                                          const AddressState& state,
                                                          Steady::time_point now) {
    if (state.check.type == config::HealthMode::none) return nullptr;
    std::unique_ptr<Slot> slot = make_slot(index, state);
    if (started) {
        // Unknown addresses are unpublished until probed: probe them now. Others join the
        // schedule at a random phase.
        Steady::duration delay{};
        if (state.observed != Observed::unknown) {
            delay = std::chrono::duration_cast<Steady::duration>(slot->interval * uniform());
        }
        schedule(*slot, now + delay);
    }
    return slot;
}

void Monitor::Impl::retire_left_over() {
    // What is left in `slots` was removed or changed: cancel its probes. A first-round slot
    // whose result is not in is running, queued or paced; either way the round stops waiting.
    for (std::unique_ptr<Slot>& slot : slots) {
        if (!slot) continue;
        slot->retired = true;
        in_flight -= slot->probes.size();
        if (slot->first_round) --round_pending;
    }
    std::erase_if(waiting, [](const Slot* slot) { return slot->retired; });
    std::erase_if(pacing, [](const Slot* slot) { return slot->retired; });
    if (round_pending == 0) release_changes();
}

void Monitor::Impl::start(std::function<void()> done) {
    round_done = std::move(done);
    if (!started) {
        started = true;
        budget = probe_budget();
        for (std::unique_ptr<Slot>& slot : slots) {
            if (!slot) continue;
            slot->first_round = true;
            slot->paced = true;
            ++round_pending;
            pacing.push_back(slot.get());
        }
        holding_changes = round_pending > 0;
        launch_first_batch(Steady::now());
    }
    round_finished_soon();
}

void Monitor::Impl::launch_first_batch(Steady::time_point due) {
    for (std::size_t n = 0; n < kFirstRoundBatch && !pacing.empty(); ++n) {
        Slot& slot = *pacing.front();
        pacing.pop_front();
        slot.paced = false;
        launch(slot, due);
        // Periodic probes start one interval on, each at its own random phase within one
        // interval, so that ten thousand addresses do not stay in step.
        schedule(slot,
                 (slot.probes.empty() ? due : slot.started) +
                     std::chrono::duration_cast<Steady::duration>(slot.interval * (1 + uniform())));
    }
    if (pacing.empty()) return;
    // A zero timeout, not event_active: timers are run after the loop has polled its sockets,
    // so the probes already started are read before the next batch.
    pace_due = Steady::now();
    timeval now{};
    event_add(pace_event.get(), &now);
}

void Monitor::Impl::round_finished_soon() {
    if (round_pending != 0 || !round_done) return;
    timeval now{};
    event_add(round_event.get(), &now);
}

void Monitor::Impl::schedule(Slot& slot, Steady::time_point due) {
    slot.due = due;
    timeval delay = to_timeval(due - Steady::now());
    event_add(slot.timer.get(), &delay);
}

void Monitor::Impl::launch(Slot& slot, Steady::time_point due) {
    if (in_flight >= budget) {
        if (!warned_budget) {
            warned_budget = true;
            log::warning("probes wait for sockets",
                         {{"in_flight", in_flight}, {"why", "half the open-file limit in use"}});
        }
        if (!slot.queued) {
            slot.queued = true;
            slot.queued_due = due;
            waiting.push_back(&slot);
        }
        return;
    }
    if (Steady::now() - due > kLate) ++stats.late_probes;
    start_one(slot);
}

// Starts a probe of `slot` now, beside any in flight, and arms the overlap check for it.
void Monitor::Impl::start_one(Slot& slot) {
    slot.started = Steady::now();
    ++stats.probes_sent;
    ++in_flight;
    Slot* target = &slot;
    const std::uint64_t seq = slot.next_seq++;
    slot.probes.push_back({seq, start_probe(base, slot.spec, [target, seq](ProbeResult result) {
                               target->impl->on_result(*target, seq, std::move(result));
                           })});
    if (may_overlap(slot)) {
        timeval delay = to_timeval(slot.fast_interval);
        event_add(slot.overdue.get(), &delay);
    }
}

// Whether a probe of `slot` still unanswered after fast_interval would be suspect: the address
// is up, takes more than one failure to go down, and answered its last probe quickly (so never
// in the first round, which has no result yet).
bool Monitor::Impl::may_overlap(const Slot& slot) const {
    const AddressState& state = states[slot.index];
    return state.observed == Observed::up && state.check.fall > 1 && state.last &&
           state.last->outcome == Outcome::ok && state.last->latency * 2 < slot.fast_interval;
}

// The newest probe of `slot` is still unanswered fast_interval after it started: start the
// next one beside it while more failures than are in flight would be needed to reach fall.
void Monitor::Impl::overlap(Slot& slot) {
    const AddressState& state = states[slot.index];
    if (slot.probes.empty() || !may_overlap(slot)) return;
    const std::size_t needed = state.check.fall - std::min(state.failures, state.check.fall);
    if (slot.probes.size() >= std::min(needed, kMaxOverlap) || in_flight >= budget) return;
    ++stats.probes_overlapped;
    start_one(slot);
}

void Monitor::Impl::launch_waiting() {
    while (!waiting.empty() && in_flight < budget) {
        Slot* slot = waiting.front();
        waiting.pop_front();
        slot->queued = false;
        launch(*slot, slot->queued_due);
    }
}

void Monitor::Impl::on_due(Slot& slot) {
    const Steady::time_point due = slot.due;
    if (!slot.probes.empty() || slot.queued) {
        ++stats.probes_skipped;
        schedule(slot, due + jittered(slot));
        return;
    }
    launch(slot, due);
    schedule(slot, (slot.probes.empty() ? due : slot.started) + jittered(slot));
}

void Monitor::Impl::on_result(Slot& slot, std::uint64_t seq, ProbeResult result) {
    // This probe and the older ones still running end here: a newer result supersedes them.
    // The calling probe is destroyed in its own callback, which it allows.
    auto newer = std::find_if(slot.probes.begin(), slot.probes.end(),
                              [seq](const InFlight& p) { return p.seq > seq; });
    in_flight -= static_cast<std::size_t>(newer - slot.probes.begin());
    slot.probes.erase(slot.probes.begin(), newer);
    if (slot.probes.empty()) event_del(slot.overdue.get());
    const bool first = std::exchange(slot.first_round, false);
    AddressState& state = states[slot.index];
    const std::optional<Observed> to = judge(state, std::move(result));
    // With newer probes still running, their results continue the streak.
    if (slot.probes.empty()) follow_up(slot, state);
    // transition() calls the transition callback, which may reconfigure: neither `slot` nor
    // `state` is used after this line.
    if (to) transition(state, *to);
    launch_waiting();
    if (first) {
        --round_pending;
        if (round_pending == 0) release_changes();
        if (round_pending == 0 && round_done) {
            auto done = std::move(round_done);
            round_done = nullptr;
            done();
        }
    }
}

// After a result: a fast re-probe while in transition; when the transition has just settled
// (completed or broken), back to the normal schedule at a random phase no later than one
// interval; otherwise the schedule on_due() set stands.
void Monitor::Impl::follow_up(Slot& slot, const AddressState& state) {
    const auto now = Steady::now();
    if (in_transition(state)) {
        slot.fast = true;
        schedule(slot, now + slot.fast_interval);
    } else if (std::exchange(slot.fast, false)) {
        const auto spread = std::max(slot.interval - slot.fast_interval, decltype(slot.interval){});
        schedule(slot, now + slot.fast_interval +
                           std::chrono::duration_cast<Steady::duration>(spread * uniform()));
    }
}

// rise/fall: consecutive results move the counters; an unknown address (startup = "probe")
// takes its first result as its state. Returns the state to move to, which the caller applies
// with transition() once the address's next probe is scheduled.
std::optional<Observed> Monitor::Impl::judge(AddressState& state, ProbeResult result) {
    ++state.probes;
    state.last_at = Clock::now();
    const bool ok = result.outcome == Outcome::ok;
    std::optional<Observed> to;
    if (ok) {
        state.failures = 0;
        if (state.successes < std::numeric_limits<unsigned>::max()) ++state.successes;
        if (state.observed == Observed::unknown ||
            (state.observed == Observed::down && state.successes >= state.check.rise)) {
            to = Observed::up;
        }
    } else {
        ++state.probe_failures;
        ++stats.probes_failed;
        state.successes = 0;
        if (state.failures < std::numeric_limits<unsigned>::max()) ++state.failures;
        if (state.observed == Observed::unknown ||
            (state.observed == Observed::up && state.failures >= state.check.fall)) {
            to = Observed::down;
        }
    }
    if (log::enabled(log::Level::debug)) {  // thousands a second: build nothing unless wanted
        log::debug("probe", {{"service", state.service_name},
                             {"node", state.node_name},
                             {"address", state.probed.to_string()},
                             {"outcome", outcome_name(result.outcome)},
                             {"detail", result.detail},
                             {"latency_ms", milliseconds_text(result.latency)}});
    }
    state.last = std::move(result);
    return to;
}

void Monitor::Impl::transition(AddressState& state, Observed to) {
    const auto now = Clock::now();
    const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(now - state.since);
    Transition t;
    t.service_name = state.service_name;
    t.node_name = state.node_name;
    t.published = state.published;
    t.from = state.observed;
    t.to = to;
    t.reason = state.last ? state.last->detail : "";
    t.at = now;

    state.observed = to;
    state.since = now;
    state.reason = t.reason;
    ++state.transitions;
    ++stats.transitions;
    log::info(to == Observed::up ? "address up" : "address down",
              {{"service", t.service_name},
               {"node", t.node_name},
               {"address", t.published.to_string()},
               {"probe", state.probed.to_string()},
               {"from", observed_name(t.from)},
               {"reason", t.reason},
               {"after_ms", after.count()},
               {"latency_ms", milliseconds_text(state.last ? state.last->latency
                                                           : std::chrono::microseconds{})}});
    changed();
    if (transition_fn) transition_fn(t);
}

// One change callback per pass of the loop, or one for the whole first round.
void Monitor::Impl::changed() {
    if (holding_changes) {
        change_held = true;
        return;
    }
    event_active(change_event.get(), EV_TIMEOUT, 0);
}

void Monitor::Impl::release_changes() {
    holding_changes = false;
    if (std::exchange(change_held, false)) event_active(change_event.get(), EV_TIMEOUT, 0);
}

// ---- Monitor

Monitor::Monitor(event_base* base) : impl_(std::make_unique<Impl>(base)) {}
Monitor::~Monitor() = default;

void Monitor::configure(const config::Config& config) {
    impl_->configure(config);
}

void Monitor::start(std::function<void()> done) {
    impl_->start(std::move(done));
}

const std::vector<AddressState>& Monitor::states() const {
    return impl_->states;
}

MonitorStats Monitor::stats() const {
    MonitorStats stats = impl_->stats;
    stats.probes_in_flight = impl_->in_flight;
    return stats;
}

void Monitor::on_change(ChangeFn fn) {
    impl_->change_fn = std::move(fn);
}

void Monitor::on_transition(TransitionFn fn) {
    impl_->transition_fn = std::move(fn);
}

}  // namespace nolb::health
