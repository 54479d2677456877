// The calibration runs and their verdicts. Each fault is one scenario of the ordinary runner
// with the lab in calibration mode (the fixed-order name), the chosen profiles as one client
// each, and their real programs beside them; the figures come from the same records the
// comparison reports, so what calibration checks is what the comparison uses.
#include "nolb-compare/calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "nolb-compare/runner.hpp"

namespace nolb::compare {
namespace {

constexpr double kFaultAt = 3;  // seconds into the measured run
// Clients get their answers and connections first. The programs take seconds to start when
// they start together on two cores (chromium about 5 s, java's compile and JVM about 3 s), and a
// program still loading its first page when the fault comes measures its start, not its rules.
constexpr double kWarmup = 8;
constexpr std::uint32_t kTtl = 1;   // so that a client honouring TTLs follows a drain at once
constexpr double kQuickWindow = 6;  // seconds watched after the fault in a quick run
// Every DNS answer reaches the clients this much later, as from a resolver a network hop away:
// well past the 3 ms that decides how fast curl leaves a refused address (profiles.hpp), where
// a lookup on loopback (1 to 5 ms for a fresh curl process, depending on the machine) is not.
constexpr double kDnsDelay = 0.02;  // seconds
constexpr double kSuccessPoints = 3;
constexpr double kRecoveryShare = 0.2;
constexpr double kRecoverySlack = 0.1;  // seconds
constexpr double kStreamSlack = 0.5;    // seconds: the stream's rhythm

bool within(std::optional<double> a, std::optional<double> b, double share, double slack) {
    if (!a || !b) return !a && !b;
    return std::abs(*a - *b) <= std::max(share * std::max(*a, *b), slack);
}

std::string fixed(double v, int decimals) {
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(decimals);
    out << v;
    return out.str();
}

std::string seconds_or_censored(std::optional<double> s, double window) {
    return s ? fixed(*s, 2) : "> " + fixed(window, 0);
}

}  // namespace

CalibrationSide measure_side(std::span<const RequestRecord> records,
                             std::span<const StreamGap> gaps, Profile profile, bool real,
                             double fault_at, double end, bool stream, bool in_flight) {
    CalibrationSide side;
    std::uint64_t ok = 0;
    std::uint64_t on_node2 = 0;
    std::optional<double> first_start;  // of the first request that met the fault
    std::optional<double> first_node2;  // end of the first success from node2
    for (const RequestRecord& r : records) {
        // Every request the fault reached: those started after it, and those in flight when it
        // came but for the ones that still ended well on node1 (whether one that started a
        // moment before sent its SYN before or after the firewall rule is chance, and a
        // blackholed connect then decides 130 s). A request that resolved before a drain goes
        // to the drained node rightly: there only those that started after it count.
        if (r.profile != profile || r.real != real || r.end <= fault_at) continue;
        const bool untouched = r.outcome == Outcome::ok && r.node == 0;
        if (r.start < fault_at && (!in_flight || untouched)) continue;
        ++side.requests;
        const double met = std::max(r.start, fault_at);
        if (!first_start || met < *first_start) first_start = met;
        if (r.outcome != Outcome::ok) continue;
        ++ok;
        if (r.node == 1) {
            ++on_node2;
            if (!first_node2 || r.end < *first_node2) first_node2 = r.end;
        }
    }
    // Counted from the first request that met the fault, so that where the fault fell in a
    // client's period (up to a period of idling) is not taken for the client's behaviour.
    if (first_node2 && first_start) side.recovery_s = *first_node2 - *first_start;
    side.success_pct = side.requests == 0
                           ? 0
                           : 100.0 * static_cast<double>(ok) / static_cast<double>(side.requests);
    side.node2_pct = ok == 0 ? 0 : 100.0 * static_cast<double>(on_node2) / static_cast<double>(ok);
    if (stream) {
        double longest = 0;
        for (const StreamGap& g : gaps) {
            if (g.profile != profile || g.real != real || g.to < fault_at) continue;
            longest = std::max(longest, std::min(g.to, end) - std::max(g.from, fault_at));
        }
        side.stream_silent_s = longest;
    }
    return side;
}

void judge(CalibrationRow& row) {
    row.success_agrees = std::abs(row.real.success_pct - row.model.success_pct) <= kSuccessPoints;
    row.recovery_agrees =
        within(row.real.recovery_s, row.model.recovery_s, kRecoveryShare, kRecoverySlack);
    row.stream_agrees =
        !row.real.stream_silent_s || !row.model.stream_silent_s ||
        within(row.real.stream_silent_s, row.model.stream_silent_s, kRecoveryShare, kStreamSlack);
}

const std::vector<CalibrationCase>& calibration_cases() {
    static const std::vector<CalibrationCase> cases = {
        {"crash", FaultKind::crash, std::nullopt, true, 15},
        // Past the kernel's SYN give-up for the first address (127 s on Debian 12's kernel).
        {"blackhole", FaultKind::blackhole, std::nullopt, false, 150},
        {"http500", FaultKind::http500, std::nullopt, true, 15},
        {"hang", FaultKind::hang, std::nullopt, true, 15},
        // Past a browser's 60 s host cache.
        {"drain", FaultKind::drain, FaultKind::close, true, 75},
    };
    return cases;
}

double calibration_window(const CalibrationCase& c, bool quick) {
    return quick ? kQuickWindow : c.window_s;
}

std::vector<CalibrationRow> run_calibration(const CalibrationOptions& options) {
    std::vector<Profile> programs = options.programs;
    if (programs.empty())
        for (Profile p : kProfiles)
            if (profile_driver(p)) programs.push_back(p);
    std::vector<CalibrationCase> cases;
    for (const CalibrationCase& c : calibration_cases())
        if (options.faults.empty() ||
            std::find(options.faults.begin(), options.faults.end(), c.name) != options.faults.end())
            cases.push_back(c);

    std::vector<CalibrationRow> rows;
    for (const CalibrationCase& c : cases) {
        const double window = calibration_window(c, options.quick);
        Scenario scenario;
        scenario.name = "calibrate-" + c.name;
        scenario.models = {Model::zero_admin};
        scenario.nodes = 2;
        scenario.ttl = kTtl;
        scenario.resolver.delay = Seconds(kDnsDelay);
        scenario.keep_alive = c.keep_alive;
        scenario.warmup = Seconds(kWarmup);
        scenario.duration = scenario.written_duration = Seconds(kFaultAt + window);
        auto add_fault = [&](FaultKind kind, double at) {
            Fault f;
            f.at = f.written_at = Seconds(at);
            f.node = 0;
            f.kind = kind;
            scenario.faults.push_back(f);
        };
        if (c.before) add_fault(*c.before, kFaultAt - 1);
        add_fault(c.fault, kFaultAt);
        RunOptions run;
        run.lab = options.lab;
        run.lab.calibration = true;
        run.lab.work_dir = options.out / "work" / scenario.name;
        run.drivers = options.drivers;
        for (Profile p : programs) {
            ClientSpec spec = builtin_spec(p);
            spec.clients = 1;
            spec.rate = options.rate;
            // As the drivers run the programs: one request at a time, one period apart.
            spec.arrivals = Arrivals::closed;
            scenario.clients.push_back(spec);
            run.real.push_back(RealSpec{p, options.rate});
        }
        if (options.progress)
            options.progress(c.name + ": " + fixed(window, 0) + " s after the fault");
        const ScenarioResult result = run_scenario(scenario, run);
        const RunResult& r = result.runs.front();
        const double end = scenario.duration.count();
        // From when the fault was in force: a program that starts a request while nft or a
        // POST is still at work meets the node as it was.
        double fault_at = kFaultAt;
        for (const AppliedFault& applied : r.faults)
            if (applied.fault.kind == c.fault && applied.ok) fault_at = applied.done;
        for (Profile p : programs) {
            CalibrationRow row;
            row.profile = p;
            row.fault = c.name;
            row.window_s = window;
            const bool stream = builtin_spec(p).stream;
            const bool in_flight = c.fault != FaultKind::drain;
            row.real =
                measure_side(r.requests, r.stream_gaps, p, true, fault_at, end, stream, in_flight);
            row.model =
                measure_side(r.requests, r.stream_gaps, p, false, fault_at, end, stream, in_flight);
            judge(row);
            row.comparable =
                std::any_of(r.requests.begin(), r.requests.end(), [&](const RequestRecord& q) {
                    return q.profile == p && q.real && q.start < fault_at &&
                           q.outcome == Outcome::ok;
                });
            if (!row.comparable)
                row.notes.push_back(
                    "the real program had no answer before the fault (it started "
                    "late): the row measures its start, not its rules");
            for (const AppliedFault& applied : r.faults)
                if (!applied.ok) row.notes.push_back("fault not applied: " + applied.detail);
            for (const std::string& note : r.notes)
                if (note.find(profile_name(p)) != std::string::npos) row.notes.push_back(note);
            rows.push_back(std::move(row));
        }
    }

    std::filesystem::create_directories(options.out);
    for (const auto& [name, text] :
         {std::pair{"calibration.md", render_calibration_markdown(rows, options.quick)},
          std::pair{"calibration.json", render_calibration_json(rows, options.quick)}}) {
        std::ofstream file(options.out / name, std::ios::trunc);
        file << text;
        if (!file.flush())
            throw std::runtime_error("cannot write " + (options.out / name).string());
    }
    return rows;
}

std::string render_calibration_markdown(const std::vector<CalibrationRow>& rows, bool quick) {
    std::ostringstream md;
    md << "# nolb-compare calibration" << (quick ? " (quick)" : "") << "\n\n"
       << "Each program and its profile, one client each at the same rate, in one lab with two "
          "nodes whose name lists node1 then node2 (TTL "
       << kTtl << " s; every answer held " << fixed(kDnsDelay * 1000, 0)
       << " ms on its way, as from a resolver a hop away); node1 fails " << fixed(kFaultAt, 0)
       << " s into the run. Figures count the requests the fault reached: those started after "
          "it, and those in flight that did not end well on node1 (for the drain, a fault in DNS, "
          "only those started after it). Recovery: from the fault "
          "(or the first of them to start after it) to the end of the first success from node2 "
          "(> "
          "W: none within the W seconds watched). Agreement: success within "
       << fixed(kSuccessPoints, 0) << " points, recovery within " << fixed(kRecoveryShare * 100, 0)
       << " % or " << fixed(kRecoverySlack * 1000, 0) << " ms, stream silence within "
       << fixed(kRecoveryShare * 100, 0) << " % or " << fixed(kStreamSlack, 1) << " s.\n\n"
       << "| Program | Fault | Requests real / profile | Success % real / profile | Recovery s "
          "real / profile | Served by node2 % real / profile | Stream silent s real / profile "
          "| Agrees |\n"
       << "|---|---|--:|--:|--:|--:|--:|---|\n";
    for (const CalibrationRow& row : rows) {
        md << "| " << profile_name(row.profile) << " | " << row.fault << " | " << row.real.requests
           << " / " << row.model.requests << " | " << fixed(row.real.success_pct, 1) << " / "
           << fixed(row.model.success_pct, 1) << " | "
           << seconds_or_censored(row.real.recovery_s, row.window_s) << " / "
           << seconds_or_censored(row.model.recovery_s, row.window_s) << " | "
           << fixed(row.real.node2_pct, 0) << " / " << fixed(row.model.node2_pct, 0) << " | ";
        if (row.real.stream_silent_s && row.model.stream_silent_s)
            md << fixed(*row.real.stream_silent_s, 1) << " / "
               << fixed(*row.model.stream_silent_s, 1);
        else
            md << "-";
        md << " | ";
        if (row.agrees()) {
            md << "yes";
        } else {
            std::vector<std::string> what;
            if (!row.comparable) what.emplace_back("not comparable");
            if (!row.success_agrees) what.emplace_back("success");
            if (!row.recovery_agrees) what.emplace_back("recovery");
            if (!row.stream_agrees) what.emplace_back("stream");
            md << "**no**:";
            for (const std::string& w : what)
                md << " " << w;
        }
        md << " |\n";
    }
    bool any_note = false;
    for (const CalibrationRow& row : rows) {
        for (const std::string& note : row.notes) {
            if (!any_note) md << "\nNotes:\n\n";
            any_note = true;
            md << "- " << profile_name(row.profile) << ", " << row.fault << ": " << note << "\n";
        }
    }
    return md.str();
}

std::string render_calibration_json(const std::vector<CalibrationRow>& rows, bool quick) {
    using Json = nlohmann::json;
    auto side = [](const CalibrationSide& s) {
        return Json{
            {"requests", s.requests},
            {"success_pct", s.success_pct},
            {"recovery_s", s.recovery_s ? Json(*s.recovery_s) : Json(nullptr)},
            {"node2_pct", s.node2_pct},
            {"stream_silent_s", s.stream_silent_s ? Json(*s.stream_silent_s) : Json(nullptr)}};
    };
    Json out = {{"quick", quick}, {"fault_at_s", kFaultAt}, {"rows", Json::array()}};
    for (const CalibrationRow& row : rows) {
        out["rows"].push_back({{"profile", profile_name(row.profile)},
                               {"program", profile_program(row.profile)},
                               {"fault", row.fault},
                               {"window_s", row.window_s},
                               {"real", side(row.real)},
                               {"profile_side", side(row.model)},
                               {"success_agrees", row.success_agrees},
                               {"recovery_agrees", row.recovery_agrees},
                               {"comparable", row.comparable},
                               {"stream_agrees", row.stream_agrees},
                               {"agrees", row.agrees()},
                               {"notes", row.notes}});
    }
    return out.dump(2) + "\n";
}

}  // namespace nolb::compare
