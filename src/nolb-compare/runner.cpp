// run_scenario: the order of events in one scenario, model after model. The timers live on one
// event loop: the progress tick, the end of the measured run (which ends the lab's schedule and
// asks the clients to finish what is in flight) and a hard deadline that ends the loop even if
// something never finishes. SIGINT and SIGTERM end the loop too; the Lab's destructor then
// stops every process it started.
#include "nolb-compare/runner.hpp"

#include <event2/event.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <optional>

#include "nolb-compare/checkpoint.hpp"
#include "nolb-compare/clients.hpp"
#include "nolb-compare/timeval.hpp"
#include "util/event.hpp"

namespace nolb::compare {

namespace {

// A one-shot or repeating timer whose callback is a lambda.
class Timer {
  public:
    Timer(event_base* base, bool repeat, std::function<void()> fire)
        : fire_(std::move(fire)),
          event_(util::make_event(base, -1, repeat ? EV_PERSIST : 0, &Timer::on_fire, this)) {}
    void arm(Clock::duration after) {
        timeval tv = to_timeval(after);
        event_add(event_.get(), &tv);
    }
    void disarm() { event_del(event_.get()); }

  private:
    static void on_fire(evutil_socket_t, short, void* self) { static_cast<Timer*>(self)->fire_(); }
    std::function<void()> fire_;
    util::Event event_;
};

// After the run, requests in flight may end this long; those still open then are unfinished.
constexpr Seconds kStopGrace{5};

}  // namespace

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options) {
    std::vector<RunResult> runs;  // one per model

    util::EventBase base = util::make_event_base();
    bool interrupted = false;
    auto on_signal = [](evutil_socket_t, short, void* arg) {
        auto* flag = static_cast<std::pair<bool*, event_base*>*>(arg);
        *flag->first = true;
        event_base_loopexit(flag->second, nullptr);
    };
    std::pair<bool*, event_base*> signal_arg{&interrupted, base.get()};
    util::Event sigint = util::make_signal_event(base.get(), SIGINT, on_signal, &signal_arg);
    util::Event sigterm = util::make_signal_event(base.get(), SIGTERM, on_signal, &signal_arg);
    event_add(sigint.get(), nullptr);
    event_add(sigterm.get(), nullptr);

    Lab lab(base.get(), scenario, options.lab);
    const auto run_length = std::chrono::duration_cast<Clock::duration>(scenario.duration);
    const auto warmup = std::chrono::duration_cast<Clock::duration>(scenario.warmup);
    // Past the run: the requests' grace, and a margin for lookups still out (evdns gives up on
    // a query within 2 s).
    const auto grace = std::chrono::duration_cast<Clock::duration>(kStopGrace + Seconds(5));

    for (std::size_t index = 0; index < scenario.models.size(); ++index) {
        const Model model = scenario.models[index];
        lab.start(model);

        const Clock::time_point origin = Clock::now() + warmup;
        Fleet fleet(base.get(), lab.target(), scenario.clients, origin, options.seed);
        RealFleet real(options.real, options.drivers,
                       options.lab.work_dir / model_name(model) / "real");
        std::uint64_t queries_at_origin = 0;
        Progress progress{&scenario, model, 0, index, 0};
        auto report = [&](bool finished) {
            if (!options.progress) return;
            progress.elapsed = std::chrono::duration<double>(Clock::now() - origin).count();
            progress.in_flight = fleet.in_flight();
            options.progress(progress, finished);
        };

        bool ended = false;
        Timer tick(base.get(), true, [&] { report(false); });
        Timer hard_stop(base.get(), false, [&] { event_base_loopexit(base.get(), nullptr); });
        // The real programs' last requests may still need the loop (the lab's DNS relay runs
        // on it): it runs until they have ended, or the hard stop.
        Timer wait_real(base.get(), true, [&] {
            if (real.exited()) event_base_loopexit(base.get(), nullptr);
        });
        Timer end_of_run(base.get(), false, [&] {
            ended = true;
            lab.end();
            fleet.stop(kStopGrace, [&] {
                if (options.real.empty())
                    event_base_loopexit(base.get(), nullptr);
                else
                    wait_real.arm(std::chrono::milliseconds(20));
            });
        });

        Timer at_origin(base.get(), false, [&] { queries_at_origin = fleet.dns_queries(); });
        fleet.start();
        if (!options.real.empty())
            real.start(lab.target(), origin,
                       std::chrono::duration<double>(warmup + run_length).count());
        lab.begin(origin);
        at_origin.arm(origin - Clock::now());
        tick.arm(std::chrono::milliseconds(500));
        end_of_run.arm(origin + run_length - Clock::now());
        hard_stop.arm(origin + run_length + grace - Clock::now());
        event_base_dispatch(base.get());
        tick.disarm();
        wait_real.disarm();
        end_of_run.disarm();
        hard_stop.disarm();
        at_origin.disarm();
        if (!options.real.empty()) real.stop(scenario.duration.count());

        if (interrupted) {
            lab.stop();
            throw Interrupted();
        }
        if (!ended) lab.end();

        RunResult run;
        run.repetition = options.repetition;
        run.seed = options.seed;
        run.model = model;
        run.duration = scenario.duration.count();
        run.requests = fleet.take_records();
        run.stream_gaps = fleet.take_stream_gaps();
        for (RequestRecord& r : real.take_records())
            run.requests.push_back(r);
        for (StreamGap& g : real.take_stream_gaps())
            run.stream_gaps.push_back(g);
        run.faults = lab.take_faults();
        run.published = lab.take_published();
        run.costs = lab.costs();
        run.costs.client_queries = fleet.dns_queries() - queries_at_origin;
        run.notes = fleet.notes();
        for (std::string& note : real.notes())
            run.notes.push_back(std::move(note));
        for (std::string& note : lab.notes())
            run.notes.push_back(std::move(note));
        if (fleet.in_flight() > 0)
            run.notes.push_back(std::to_string(fleet.in_flight()) +
                                " requests were still open when the run was cut off");
        report(true);
        lab.stop();
        runs.push_back(std::move(run));
    }
    return repetition_result(scenario, std::move(runs), options.repetition);
}

}  // namespace nolb::compare
