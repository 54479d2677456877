// Turns the runs of every scenario into the files people and programs read: a markdown page to
// read top to bottom, a CSV for spreadsheets, a JSON document whose snake_case keys tests and
// scripts depend on, and an SVG timeline per scenario drawn as plain text (no plotting library,
// no scripts) so it opens anywhere. Every figure is derived here from the summaries and the raw
// runs in one place, so the four files can never disagree about a number.
#include "nolb-compare/report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "nolb-compare/lab.hpp"
#include "util/markup.hpp"

namespace nolb::compare {

namespace {

// ---- numbers and text -------------------------------------------------------------------------

std::string fixed(double v, int decimals) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string signed_fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%+.*f", decimals, v);
    return buf;
}

// "http-error" as a column or key: snake_case like every other key of the JSON and CSV.
std::string snake(std::string_view name) {
    std::string out(name);
    std::replace(out.begin(), out.end(), '-', '_');
    return out;
}

// Free text in markdown: a '|' would split a table cell, a '<' could open an HTML tag, and a line
// break would end a table row or a paragraph. One line, nothing the renderer can take as markup.
std::string md_text(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '|':
                out += "\\|";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '\r':
            case '\n':
                out += ' ';
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string xml_text(std::string_view text) {
    return util::markup_escaped(text);
}

// RFC 4180: a field holding a separator, a quote or a line break is quoted, quotes doubled.
std::string csv_field(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

std::string csv_number(std::optional<double> v, int decimals = 3) {
    return v ? fixed(*v, decimals) : std::string();
}

// A file name from a scenario name: names come from file names or the TOML, but a '/' or a
// space must not make the SVG land elsewhere or break the markdown link.
std::string file_stem(std::string_view name) {
    std::string out;
    for (char c : name) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        out += plain ? c : '_';
    }
    if (out.empty() || out.front() == '.') out.insert(0, "scenario");
    return out;
}

// One SVG name per scenario, unique even if two scenarios share a name.
std::vector<std::string> svg_names(const std::vector<ScenarioResult>& results) {
    std::vector<std::string> names;
    std::set<std::string> used = {"results"};
    for (const ScenarioResult& r : results) {
        const std::string stem = file_stem(r.scenario.name);
        std::string name = stem;
        for (int i = 2; used.count(name) != 0; ++i)
            name = stem + "-" + std::to_string(i);
        used.insert(name);
        names.push_back(name + ".svg");
    }
    return names;
}

// ---- figures derived from a run ---------------------------------------------------------------

// The summaries of one run (a model in one repetition).
std::vector<const Summary*> summaries_of(const ScenarioResult& result, const RunResult& run) {
    std::vector<const Summary*> out;
    for (const Summary& s : result.summaries)
        if (s.model == run.model && s.repetition == run.repetition) out.push_back(&s);
    return out;
}

// The first repetition's: what the timeline draws.
const Summary* find_summary(const ScenarioResult& result, Model model, Profile profile) {
    for (const Summary& s : result.summaries)
        if (s.model == model && s.profile == profile && !s.real && s.repetition == 0) return &s;
    return nullptr;
}

const Aggregate* find_aggregate(const ScenarioResult& result, Model model, Profile profile,
                                bool real = false) {
    for (const Aggregate& a : result.aggregates)
        if (a.model == model && a.profile == profile && a.real == real) return &a;
    return nullptr;
}

std::string aggregate_label(const Aggregate& a) {
    return std::string(profile_name(a.profile)) + (a.real ? " (real)" : "");
}

// The runs of the first repetition: one per model, in the order run.
std::vector<const RunResult*> first_runs(const ScenarioResult& result) {
    std::vector<const RunResult*> out;
    for (const RunResult& run : result.runs)
        if (run.repetition == 0) out.push_back(&run);
    return out;
}

// Every repetition's run of one model.
std::vector<const RunResult*> runs_of(const ScenarioResult& result, Model model) {
    std::vector<const RunResult*> out;
    for (const RunResult& run : result.runs)
        if (run.model == model) out.push_back(&run);
    return out;
}

// "12.3 ± 0.4" (mean and the 95 % interval's half-width), "12.3" from one run or when every
// run gave the same, "-" from none.
std::string estimate_text(const Estimate& e, int decimals) {
    if (e.n == 0) return "-";
    std::string out = fixed(e.mean, decimals);
    if (e.n > 1 && e.half > 0) out += " ± " + fixed(e.half, decimals);
    return out;
}

// The profiles any run of the scenario has figures for, in kProfiles order: the timeline's
// columns, the same in every row so that a column compares models.
std::vector<Profile> profiles_present(const ScenarioResult& result) {
    std::vector<Profile> out;
    for (Profile p : kProfiles) {
        const bool in_summaries = std::any_of(result.summaries.begin(), result.summaries.end(),
                                              [p](const Summary& s) { return s.profile == p; });
        // A real program's records appear in the tables, beside its profile's; the timeline
        // draws the profiles.
        const bool in_records =
            std::any_of(result.runs.begin(), result.runs.end(), [p](const RunResult& run) {
                return std::any_of(
                    run.requests.begin(), run.requests.end(),
                    [p](const RequestRecord& r) { return r.profile == p && !r.real; });
            });
        if (in_summaries || in_records) out.push_back(p);
    }
    return out;
}

bool publishes_by_health(Model model) {
    return model != Model::load_balancer;
}

std::optional<double> nolbd_cpu_us_per_query(const RunResult& run) {
    if (run.costs.dns_queries == 0) return std::nullopt;
    return run.costs.nolbd_cpu_s * 1e6 / static_cast<double>(run.costs.dns_queries);
}

// HAProxy's own request counter when the lab could read it; otherwise the requests the clients
// made, which all went through it.
std::optional<double> lb_cpu_us_per_request(const RunResult& run) {
    if (run.model != Model::load_balancer) return std::nullopt;
    const std::uint64_t requests =
        run.costs.lb_requests != 0 ? run.costs.lb_requests : run.requests.size();
    if (requests == 0) return std::nullopt;
    return run.costs.lb_cpu_s * 1e6 / static_cast<double>(requests);
}

std::optional<double> requests_per_dns_query(const RunResult& run) {
    if (run.costs.dns_queries == 0) return std::nullopt;
    return static_cast<double>(run.requests.size()) / static_cast<double>(run.costs.dns_queries);
}

// The faults after which nolbd should take the node out of the answers: a health check's
// findings, or an operator's drain.
bool takes_node_out(FaultKind kind) {
    switch (kind) {
        case FaultKind::crash:
        case FaultKind::http500:
        case FaultKind::slow:
        case FaultKind::hang:
        case FaultKind::degrade:
        case FaultKind::blackhole:
        case FaultKind::drain:
            return true;
        default:
            return false;
    }
}

// What a fault hit: a node, or one of the servers.
std::string fault_target(const Fault& f) {
    if (!hits_server(f.kind)) return node_site(f.node);
    return f.kind == FaultKind::lb_crash || f.kind == FaultKind::lb_restart ? "HAProxy" : "ns1";
}

struct Detection {
    const AppliedFault* fault = nullptr;
    std::optional<double> after_ms;  // nullopt: nolbd never stopped publishing the node
};

// How long nolbd took to stop naming a node, or HAProxy to take it out of rotation, after each
// fault that should take it out; the lab samples both every 100 ms. For zero-admin the answer is
// "never" by design, and saying so is the comparison.
std::vector<Detection> detections(const RunResult& run) {
    std::vector<Detection> out;
    for (const AppliedFault& f : run.faults) {
        if (!takes_node_out(f.fault.kind)) continue;
        Detection d;
        d.fault = &f;
        if (auto at = removed_at(run.published, f.fault.node, f.at))
            d.after_ms = (*at - f.at) * 1000.0;
        out.push_back(d);
    }
    return out;
}

std::string models_run(const ScenarioResult& result) {
    std::string out;
    for (const RunResult* run : first_runs(result)) {
        if (!out.empty()) out += ", ";
        out += model_name(run->model);
    }
    return out.empty() ? "none" : out;
}

std::string fault_detail(const AppliedFault& f) {
    std::string out = f.ok ? "" : "failed";
    if (f.fault.kind == FaultKind::degrade && f.done > f.at) {
        if (!out.empty()) out += "; ";
        out += "exited at " + fixed(f.done, 2) + " s";
    }
    if (!f.detail.empty()) {
        if (!out.empty()) out += "; ";
        out += f.detail;
    }
    return out;
}

// ---- markdown ---------------------------------------------------------------------------------

// The summaries of one model x profile over the repetitions.
std::vector<const Summary*> repetitions_of(const ScenarioResult& result, const Aggregate& a) {
    std::vector<const Summary*> out;
    for (const Summary& s : result.summaries)
        if (s.model == a.model && s.profile == a.profile && s.real == a.real) out.push_back(&s);
    return out;
}

// "12.3 ± 1.1 s (4 errors)", with the runs in which the profile never left the node (censored
// at the run's end) counted apart, or "-" without a drain.
std::string avoid_text(const ScenarioResult& result, const Aggregate& a) {
    const std::vector<const Summary*> runs = repetitions_of(result, a);
    unsigned drained = 0, never = 0;
    double errors = 0;
    for (const Summary* s : runs) {
        if (!s->avoid) continue;
        ++drained;
        if (!s->avoid->after_s) ++never;
        errors += static_cast<double>(s->avoid->errors);
    }
    if (drained == 0) return "-";
    std::string out = a.avoid_after_s.n > 0 ? estimate_text(a.avoid_after_s, 1) + " s" : "";
    if (never > 0) {
        if (!out.empty()) out += "; ";
        out += "not by the end in " + std::to_string(never) + " of " + std::to_string(drained) +
               (drained == 1 ? " run" : " runs");
    }
    if (errors > 0)
        out += " (" + fixed(errors / drained, errors / drained < 10 ? 1 : 0) + " errors per run)";
    return out;
}

// What each site served each profile (stats.hpp, SiteFigures): its share of the successes and
// their latency, side by side, so the cost of a far site reads along a row.
void markdown_sites(std::ostringstream& md, const ScenarioResult& result) {
    const std::vector<Site>& sites = result.scenario.sites;
    if (sites.empty()) return;
    md << "### Sites\n\nThe share of each profile's successful requests each site served, and "
          "their latency (p50 / p99 ms), over the repetitions; round trips:";
    for (const Site& site : sites)
        md << " " << md_text(site.name) << " " << fixed(site.rtt.count() * 1000, 0) << " ms"
           << (&site == &sites.back() ? ".\n\n" : ",");
    md << "| Model | Profile |";
    for (const Site& site : sites)
        md << " " << md_text(site.name) << " % | " << md_text(site.name) << " ms |";
    md << "\n|---|---|";
    for (std::size_t i = 0; i < sites.size(); ++i)
        md << "--:|--:|";
    md << "\n";
    for (const Aggregate& a : result.aggregates) {
        md << "| " << model_name(a.model) << " | " << md_text(aggregate_label(a)) << " |";
        for (std::size_t i = 0; i < sites.size(); ++i) {
            // Over the repetitions; a latency only from runs in which the site served a success.
            std::vector<double> share, p50, p99;
            for (const Summary* s : repetitions_of(result, a)) {
                if (i >= s->sites.size()) continue;
                const SiteFigures& f = s->sites[i];
                share.push_back(f.share_pct);
                if (f.ok == 0) continue;
                p50.push_back(f.p50_ms);
                p99.push_back(f.p99_ms);
            }
            md << " " << estimate_text(estimate(share), 1) << " | "
               << (p50.empty()
                       ? std::string("-")
                       : estimate_text(estimate(p50), 1) + " / " + estimate_text(estimate(p99), 1))
               << " |";
        }
        md << "\n";
    }
    md << "\n";
}

// After a drain: when each profile's requests had left the node.
void markdown_avoidance(std::ostringstream& md, const ScenarioResult& result) {
    bool any = false;
    for (const Summary& s : result.summaries)
        any = any || s.avoid.has_value();
    if (!any) return;
    md << "### Leaving a drained node\n\n"
       << "From the drain: how long until 99 % of a profile's requests (those due then and "
          "later) no longer tried the node, with the errors before that time.\n\n"
       << "| Model | Profile | 99 % elsewhere after |\n"
       << "|---|---|--:|\n";
    for (const Aggregate& a : result.aggregates) {
        const std::string text = avoid_text(result, a);
        if (text == "-") continue;
        md << "| " << model_name(a.model) << " | " << md_text(aggregate_label(a)) << " | "
           << md_text(text) << " |\n";
    }
    md << "\n";
}

// Every variant of a swept scenario in one table: a row per resolver, TTL and model, a column
// per profile with the time its requests took to leave the drained node.
void markdown_sweeps(std::ostringstream& md, const std::vector<ScenarioResult>& results) {
    std::vector<std::string> bases;
    for (const ScenarioResult& r : results)
        if (!r.scenario.sweep_of.empty() &&
            std::find(bases.begin(), bases.end(), r.scenario.sweep_of) == bases.end())
            bases.push_back(r.scenario.sweep_of);
    for (const std::string& base : bases) {
        std::vector<Profile> profiles;
        for (Profile p : kProfiles)
            for (const ScenarioResult& r : results)
                for (const Aggregate& a : r.aggregates)
                    if (r.scenario.sweep_of == base && a.profile == p && !a.real &&
                        std::find(profiles.begin(), profiles.end(), p) == profiles.end())
                        profiles.push_back(p);
        md << "## Sweep: " << md_text(base) << "\n\n"
           << "Each variant is the scenario at one TTL and with one resolver tier. A cell: how "
              "long after the drain 99 % of the profile's requests had left the node, and the "
              "errors before then (see each variant's section).\n\n"
           << "| Resolver | TTL s | Model |";
        for (Profile p : profiles)
            md << " " << profile_name(p) << " |";
        md << "\n|---|--:|---|";
        for (std::size_t i = 0; i < profiles.size(); ++i)
            md << "--:|";
        md << "\n";
        for (const ScenarioResult& r : results) {
            if (r.scenario.sweep_of != base) continue;
            for (const RunResult* run : first_runs(r)) {
                md << "| " << resolver_name(r.scenario.resolver.kind) << " | " << r.scenario.ttl
                   << " | " << model_name(run->model) << " |";
                for (Profile p : profiles) {
                    const Aggregate* a = find_aggregate(r, run->model, p);
                    md << " " << (a ? md_text(avoid_text(r, *a)) : std::string("-")) << " |";
                }
                md << "\n";
            }
        }
        md << "\n";
    }
}

// Errors of every kind, added up over the repetitions: "refused 12, reset 3".
std::string errors_text(const ScenarioResult& result, const Aggregate& a) {
    std::array<std::uint64_t, kOutcomeCount> sum{};
    for (const Summary* s : repetitions_of(result, a))
        for (std::size_t i = 0; i < sum.size(); ++i)
            sum[i] += s->outcomes[i];
    std::string out;
    for (int i = 0; i < kOutcomeCount; ++i) {
        const auto kind = static_cast<Outcome>(i);
        if (kind == Outcome::ok || sum[static_cast<std::size_t>(i)] == 0) continue;
        if (!out.empty()) out += ", ";
        out += outcome_name(kind);
        out += ' ';
        out += std::to_string(sum[static_cast<std::size_t>(i)]);
    }
    return out.empty() ? "none" : out;
}

// Busiest node over least busy, over every repetition's successes.
double share_over_runs(const ScenarioResult& result, const Aggregate& a) {
    std::vector<std::uint64_t> per_node(result.scenario.nodes, 0);
    for (const Summary* s : repetitions_of(result, a))
        for (std::size_t n = 0; n < per_node.size() && n < s->per_node.size(); ++n)
            per_node[n] += s->per_node[n];
    return share_ratio(per_node);
}

// A figure of a run, over the repetitions of one model.
Estimate over_runs(const ScenarioResult& result, Model model,
                   const std::function<std::optional<double>(const RunResult&)>& of) {
    std::vector<double> values;
    for (const RunResult* run : runs_of(result, model))
        if (auto v = of(*run)) values.push_back(*v);
    return estimate(values);
}

// Which program, source and machine made the results, and how they were asked for.
void markdown_run_info(std::ostringstream& md, const RunInfo& info) {
    std::vector<std::pair<const char*, std::string>> rows = {
        {"nolb", info.version},    {"Source", info.commit},  {"Command", info.command},
        {"Started", info.started}, {"Ended", info.finished}, {"Machine", info.machine},
        {"HAProxy", info.haproxy}};
    if (info.repetitions > 0)
        rows.emplace_back("Repetitions", std::to_string(info.repetitions) + " (seeds " +
                                             std::to_string(info.seed) + ".." +
                                             std::to_string(info.seed + info.repetitions - 1) +
                                             ")");
    bool any = false;
    for (const auto& [key, value] : rows) {
        if (value.empty()) continue;
        md << "- " << key << ": " << (key == std::string("Command") ? "`" : "") << md_text(value)
           << (key == std::string("Command") ? "`" : "") << "\n";
        any = true;
    }
    if (any) md << "\n";
}

// What the same redundancy takes: the nodes, and two of whatever stands in front of them (two
// name servers, as a zone must have, or a load balancer pair, whose name still needs DNS).
std::string redundancy_text(const Scenario& sc, Model model) {
    const std::string nodes = std::to_string(sc.nodes) + " nodes";
    if (model == Model::load_balancer)
        return nodes + " + 2 balancers (HAProxy and keepalived each) + DNS for their address";
    return nodes + " + 2 name servers (nolbd)";
}

// Server CPU per thousand requests the model carried: nolbd's for the DNS models (the queries
// its clients and their resolvers sent, its probes included), HAProxy's and nolbd's for the load
// balancer's. In ms.
std::optional<double> server_cpu_ms_per_1000_requests(const RunResult& run) {
    std::uint64_t requests = 0;
    for (const RequestRecord& r : run.requests)
        if (!r.real) ++requests;
    if (run.model == Model::load_balancer && run.costs.lb_requests != 0)
        requests = run.costs.lb_requests;
    if (requests == 0) return std::nullopt;
    return (run.costs.nolbd_cpu_s + run.costs.lb_cpu_s) * 1e6 / static_cast<double>(requests);
}

void markdown_scenario(std::ostringstream& md, const ScenarioResult& result,
                       const std::string& svg) {
    const Scenario& sc = result.scenario;
    const std::vector<const RunResult*> runs = first_runs(result);
    md << "## " << md_text(sc.name) << "\n\n";
    if (!sc.description.empty()) md << md_text(sc.description) << "\n\n";
    md << sc.nodes << " nodes, " << fixed(sc.duration.count(), 0) << " s measured per model after "
       << fixed(sc.warmup.count(), 0) << " s of warm-up, TTL " << sc.ttl
       << " s. Models run: " << models_run(result) << ". ";
    if (result.repetitions > 1)
        md << result.repetitions
           << " repetitions, each with its own seed for the clients' arrivals: a figure is the "
              "mean over them ± the half-width of its 95 % confidence interval (Student's t).";
    else
        md << "One run: no confidence interval.";
    md << "\n\n![" << md_text(sc.name) << " timeline](" << svg << ")\n\n";
    md << "![" << md_text(sc.name) << ": means and 95 % intervals](" << intervals_svg_name(svg)
       << ")\n\n";

    md << "| Model | Profile | Clients | Due | Attempted % | Success % | Late % | Errors (all "
          "runs) | p50 ms | p99 ms | Recover p50 s | Recover p90 s | Recover p99 s | Clients "
          "affected | Client-seconds down | Longest outage s | Load max/min |\n";
    md << "|---|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
    for (const Aggregate& a : result.aggregates) {
        md << "| " << model_name(a.model) << " | " << md_text(aggregate_label(a)) << " | "
           << estimate_text(a.clients, 0) << " | " << estimate_text(a.requests, 0) << " | "
           << estimate_text(a.attempted_pct, 1) << " | " << estimate_text(a.success_pct, 1) << " | "
           << estimate_text(a.late_pct, 1) << " | " << md_text(errors_text(result, a)) << " | "
           << estimate_text(a.p50_ms, 1) << " | " << estimate_text(a.p99_ms, 1) << " | "
           << estimate_text(a.recover_p50_s, 2) << " | " << estimate_text(a.recover_p90_s, 2)
           << " | " << estimate_text(a.recover_p99_s, 2) << " | "
           << estimate_text(a.affected_clients, 0) << " | "
           << estimate_text(a.client_seconds_down, 1) << " | "
           << estimate_text(a.longest_outage_s, 2) << " | " << fixed(share_over_runs(result, a), 2)
           << " |\n";
    }
    md << "\n";

    md << "### Costs\n\n";
    md << "Memory: the largest VmRSS sampled over the run / VmHWM (the process's peak) at its "
          "end, MiB, every nolbd instance summed.\n\n";
    md << "| Model | DNS queries by clients | DNS queries at nolbd | nolbd CPU us/query | "
          "HAProxy CPU us/request | Requests per DNS query | nolbd RSS / peak MiB | "
          "HAProxy RSS / peak MiB |\n";
    md << "|---|--:|--:|--:|--:|--:|--:|--:|\n";
    // Memory as the largest resident size seen and the kernel's peak, each over the runs.
    auto memory = [&](Model m, std::uint64_t Costs::*rss, std::uint64_t Costs::*hwm) {
        const Estimate r = over_runs(result, m, [rss](const RunResult& run) {
            return run.costs.*rss ? std::optional(static_cast<double>(run.costs.*rss) / 1024.0)
                                  : std::nullopt;
        });
        const Estimate h = over_runs(result, m, [hwm](const RunResult& run) {
            return run.costs.*hwm ? std::optional(static_cast<double>(run.costs.*hwm) / 1024.0)
                                  : std::nullopt;
        });
        if (r.n == 0 && h.n == 0) return std::string("-");
        return estimate_text(r, 1) + " / " + estimate_text(h, 1);
    };
    for (const RunResult* run : runs) {
        const Model m = run->model;
        md << "| " << model_name(m) << " | "
           << estimate_text(over_runs(result, m,
                                      [](const RunResult& r) {
                                          return static_cast<double>(r.costs.client_queries);
                                      }),
                            0)
           << " | "
           << estimate_text(over_runs(result, m,
                                      [](const RunResult& r) {
                                          return static_cast<double>(r.costs.dns_queries);
                                      }),
                            0)
           << " | " << estimate_text(over_runs(result, m, nolbd_cpu_us_per_query), 1) << " | "
           << estimate_text(over_runs(result, m, lb_cpu_us_per_request), 1) << " | "
           << estimate_text(over_runs(result, m, requests_per_dns_query), 1) << " | "
           << memory(m, &Costs::nolbd_rss_kb, &Costs::nolbd_hwm_kb) << " | "
           << memory(m, &Costs::lb_rss_kb, &Costs::lb_hwm_kb) << " |\n";
    }
    md << "\n";

    md << "What the same redundancy takes, and what the servers spent per thousand requests "
          "carried at this scenario's TTL and resolver share (nolbd's CPU, its probes "
          "included; through the balancer, HAProxy's and nolbd's):\n\n"
       << "| Model | Machines for the same redundancy | Server CPU ms per 1000 requests |\n"
       << "|---|---|--:|\n";
    for (const RunResult* run : runs)
        md << "| " << model_name(run->model) << " | "
           << md_text(redundancy_text(result.scenario, run->model)) << " | "
           << estimate_text(over_runs(result, run->model, server_cpu_ms_per_1000_requests), 1)
           << " |\n";
    md << "\n";

    // The extra hop: the same profile's median with and without HAProxy in the path.
    std::ostringstream lines;
    for (Profile p : kProfiles) {
        const Aggregate* a = find_aggregate(result, Model::load_balancer, p);
        const Aggregate* b = find_aggregate(result, Model::health_checked, p);
        if (!a || !b || a->p50_ms.n == 0 || b->p50_ms.n == 0) continue;
        lines << "- " << profile_name(p) << ": " << signed_fixed(a->p50_ms.mean - b->p50_ms.mean, 1)
              << " ms (p50 " << estimate_text(a->p50_ms, 1) << " ms through HAProxy, "
              << estimate_text(b->p50_ms, 1) << " ms direct)\n";
    }
    if (!lines.str().empty())
        md << "The load balancer's extra hop (p50 of load-balancer minus p50 of "
              "health-checked):\n\n"
           << lines.str() << "\n";

    markdown_sites(md, result);
    markdown_avoidance(md, result);

    md << "### Faults\n\n";
    bool any_fault = false;
    for (const RunResult* run : runs)
        any_fault = any_fault || !run->faults.empty();
    if (!any_fault) {
        md << "No faults.\n\n";
    } else {
        md << "As applied in the first repetition. \"Out after\": how long after the fault nolbd "
              "stopped publishing the node (its checks, or a drain), or HAProxy's checks took it "
              "out of rotation, over the repetitions.\n\n";
        md << "| Model | At s | Target | Kind | Detail | Out after ms |\n";
        md << "|---|--:|---|---|---|--:|\n";
        for (const RunResult* run : runs) {
            for (std::size_t k = 0; k < run->faults.size(); ++k) {
                const AppliedFault& f = run->faults[k];
                std::string out_after;
                if (run->model != Model::zero_admin && takes_node_out(f.fault.kind)) {
                    std::vector<double> found;
                    unsigned never = 0;
                    for (const RunResult* rep : runs_of(result, run->model)) {
                        if (k >= rep->faults.size()) continue;
                        const AppliedFault& g = rep->faults[k];
                        if (auto at = removed_at(rep->published, g.fault.node, g.at))
                            found.push_back((*at - g.at) * 1000.0);
                        else
                            ++never;
                    }
                    out_after = found.empty() ? "never" : estimate_text(estimate(found), 0);
                    if (!found.empty() && never > 0)
                        out_after += " (never in " + std::to_string(never) + ")";
                }
                md << "| " << model_name(run->model) << " | " << fixed(f.at, 2) << " | "
                   << md_text(fault_target(f.fault)) << " | " << fault_name(f.fault.kind) << " | "
                   << md_text(fault_detail(f)) << " | " << out_after << " |\n";
            }
        }
        md << "\n";
    }

    // Each note once, with the runs it came from.
    std::vector<std::pair<std::string, std::string>> notes;  // text, where
    for (const RunResult& run : result.runs) {
        for (const std::string& note : run.notes) {
            std::string where = model_name(run.model);
            if (result.repetitions > 1) where += " run " + std::to_string(run.repetition + 1);
            auto it = std::find_if(notes.begin(), notes.end(),
                                   [&](const auto& n) { return n.first == note; });
            if (it == notes.end())
                notes.emplace_back(note, where);
            else
                it->second += ", " + where;
        }
    }
    if (!notes.empty()) {
        md << "### Notes\n\n";
        for (const auto& [note, where] : notes)
            md << "- " << md_text(where) << ": " << md_text(note) << "\n";
        md << "\n";
    }
}

// ---- SVG --------------------------------------------------------------------------------------

// Distinct on white and none of them red, which is kept for errors.
constexpr const char* kNodeColours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
                                        "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79"};
constexpr const char* kErrorColour = "#d62728";

const char* node_colour(unsigned node) {
    return kNodeColours[node % (sizeof kNodeColours / sizeof kNodeColours[0])];
}

constexpr double kWidth = 1200;
constexpr double kMargin = 16;
constexpr double kAxisRoom = 40;  // left of each plot, for the y labels
constexpr double kColumnGap = 14;
constexpr double kRowHeading = 24;
constexpr double kKeyLine = 13;
constexpr double kPanelTitle = 16;
constexpr double kPlotHeight = 120;
constexpr double kTickRoom = 16;
constexpr double kLaneHeight = 4;
constexpr double kLaneStep = 5;
constexpr double kRowGap = 18;

std::string num(double v) {
    return fixed(v, 1);
}

// The smallest 1, 2 or 5 times a power of ten at or above v: a y scale a reader can read.
double nice_ceiling(double v) {
    if (v <= 1) return 1;
    const double power = std::pow(10.0, std::floor(std::log10(v)));
    for (double step : {1.0, 2.0, 5.0, 10.0})
        if (step * power >= v) return step * power;
    return 10 * power;
}

double run_duration(const ScenarioResult& result, const RunResult& run) {
    double d = run.duration > 0 ? run.duration : result.scenario.duration.count();
    return d > 0 ? d : 1;
}

struct Plot {
    double x = 0, y = 0, w = 0, h = 0;  // the plot area, in pixels
    double duration = 1;                // seconds across it
    double px(double t) const { return x + w * std::clamp(t, 0.0, duration) / duration; }
};

void svg_panel(std::ostringstream& svg, const ScenarioResult& result, const RunResult& run,
               Profile profile, const Plot& plot) {
    const unsigned nodes = result.scenario.nodes;
    const auto bins = static_cast<std::size_t>(std::max(1.0, std::ceil(plot.duration)));
    std::vector<std::vector<double>> ok(nodes, std::vector<double>(bins, 0));
    std::vector<double> errors(bins, 0);
    // By start time: the moment the user asked, so errors line up with the fault that caused them.
    for (const RequestRecord& r : run.requests) {
        if (r.profile != profile || r.real) continue;
        const auto bin = static_cast<std::size_t>(
            std::clamp(std::floor(r.start), 0.0, static_cast<double>(bins - 1)));
        if (r.outcome != Outcome::ok)
            errors[bin] += 1;
        else if (r.node >= 0 && static_cast<unsigned>(r.node) < nodes)
            ok[static_cast<std::size_t>(r.node)][bin] += 1;
    }
    double peak = 0;
    for (const auto& series : ok)
        for (double v : series)
            peak = std::max(peak, v);
    for (double v : errors)
        peak = std::max(peak, v);
    const double top = nice_ceiling(peak);
    auto py = [&](double v) { return plot.y + plot.h - plot.h * v / top; };
    auto bin_x = [&](std::size_t b) { return plot.px(static_cast<double>(b) + 0.5); };

    const std::string id = std::string(model_name(run.model)) + "-" + profile_name(profile);
    svg << "<g class=\"panel\" id=\"panel-" << xml_text(id) << "\">\n";
    const Summary* s = find_summary(result, run.model, profile);
    std::string title = profile_name(profile);
    if (s)
        title +=
            ": " + std::to_string(s->clients) + " clients, " + fixed(s->success_pct, 1) + " % ok";
    svg << "<text x=\"" << num(plot.x) << "\" y=\"" << num(plot.y - 5)
        << "\" font-size=\"11\" font-weight=\"bold\">" << xml_text(title) << "</text>\n";
    svg << "<rect x=\"" << num(plot.x) << "\" y=\"" << num(plot.y) << "\" width=\"" << num(plot.w)
        << "\" height=\"" << num(plot.h) << "\" fill=\"#fbfbfb\" stroke=\"#bbbbbb\"/>\n";

    // Axes: the y scale at 0, half and top; time ticks every 5 s.
    for (double frac : {0.5, 1.0}) {
        svg << "<line x1=\"" << num(plot.x) << "\" y1=\"" << num(py(top * frac)) << "\" x2=\""
            << num(plot.x + plot.w) << "\" y2=\"" << num(py(top * frac))
            << "\" stroke=\"#e4e4e4\"/>\n";
    }
    for (double v : {0.0, top / 2, top}) {
        svg << "<text x=\"" << num(plot.x - 4) << "\" y=\"" << num(py(v) + 3)
            << "\" font-size=\"9\" text-anchor=\"end\" fill=\"#555555\">"
            << (v == std::floor(v) ? fixed(v, 0) : fixed(v, 1)) << "/s</text>\n";
    }
    // A tick every 5 s (a multiple of it on very long runs); labels only on every few when the
    // ticks are close, so that labels never touch.
    double step = 5;
    while (plot.duration / step > 120)
        step *= 2;
    const double tick_px = plot.w * step / plot.duration;
    const int label_every = static_cast<int>(std::max(1.0, std::ceil(30 / tick_px)));
    const int ticks = static_cast<int>(std::floor(plot.duration / step + 1e-9));
    for (int k = 0; k <= ticks; ++k) {
        const double t = step * k;
        svg << "<line x1=\"" << num(plot.px(t)) << "\" y1=\"" << num(plot.y + plot.h) << "\" x2=\""
            << num(plot.px(t)) << "\" y2=\"" << num(plot.y + plot.h + 3)
            << "\" stroke=\"#888888\"/>\n";
        if (k % label_every != 0) continue;
        svg << "<text x=\"" << num(plot.px(t)) << "\" y=\"" << num(plot.y + plot.h + 12)
            << "\" font-size=\"9\" text-anchor=\"middle\" fill=\"#555555\">" << fixed(t, 0)
            << " s</text>\n";
    }

    // Errors first, so the node lines stay visible over them.
    for (std::size_t b = 0; b < bins; ++b) {
        if (errors[b] == 0) continue;
        // 0.1 .. 0.9 of the second, cut at the plot's edge when the run ends mid-second.
        const double x = plot.px(static_cast<double>(b) + 0.1);
        const double w = std::max(0.5, plot.px(static_cast<double>(b) + 0.9) - x);
        svg << "<rect class=\"errors\" x=\"" << num(x) << "\" y=\"" << num(py(errors[b]))
            << "\" width=\"" << num(w) << "\" height=\"" << num(plot.y + plot.h - py(errors[b]))
            << "\" fill=\"" << kErrorColour << "\" fill-opacity=\"0.55\"/>\n";
    }
    for (unsigned n = 0; n < nodes; ++n) {
        svg << "<polyline class=\"node\" fill=\"none\" stroke=\"" << node_colour(n)
            << "\" stroke-width=\"1.5\" stroke-linejoin=\"round\" points=\"";
        for (std::size_t b = 0; b < bins; ++b)
            svg << (b ? " " : "") << num(bin_x(b)) << "," << num(py(ok[n][b]));
        svg << "\"/>\n";
    }

    // Fault markers, numbered: the row's heading says what each number is. Names would not fit
    // between faults a few seconds apart in a panel a fifth of the page wide.
    for (std::size_t i = 0; i < run.faults.size(); ++i) {
        const AppliedFault& f = run.faults[i];
        const double x = plot.px(f.at);
        svg << "<line class=\"fault\" x1=\"" << num(x) << "\" y1=\"" << num(plot.y) << "\" x2=\""
            << num(x) << "\" y2=\"" << num(plot.y + plot.h)
            << "\" stroke=\"#333333\" stroke-width=\"1\" stroke-dasharray=\"4,3\"/>\n";
        svg << "<text x=\"" << num(x + 2) << "\" y=\""
            << num(plot.y + 9 + static_cast<double>(i % 2) * 9)
            << "\" font-size=\"9\" font-weight=\"bold\" fill=\"#333333\">" << (i + 1)
            << "</text>\n";
        if (f.fault.kind == FaultKind::degrade && f.done > f.at) {
            const double xe = plot.px(f.done);
            svg << "<line class=\"fault-exit\" x1=\"" << num(xe) << "\" y1=\"" << num(plot.y)
                << "\" x2=\"" << num(xe) << "\" y2=\"" << num(plot.y + plot.h)
                << "\" stroke=\"#333333\" stroke-width=\"1\" stroke-dasharray=\"1,2\"/>\n";
        }
    }
    svg << "</g>\n";
}

// Which nodes nolbd named over time: a lane per node, coloured while published, grey while not.
void svg_published_strip(std::ostringstream& svg, const ScenarioResult& result,
                         const RunResult& run, const Plot& plot, double y) {
    const unsigned nodes = result.scenario.nodes;
    svg << "<g class=\"published\">\n";
    svg << "<text x=\"" << num(plot.x - 4) << "\" y=\"" << num(y + kLaneStep * nodes / 2.0 + 3)
        << "\" font-size=\"9\" text-anchor=\"end\" fill=\"#555555\">DNS</text>\n";
    std::vector<PublishedSample> samples = run.published;
    std::sort(samples.begin(), samples.end(),
              [](const PublishedSample& a, const PublishedSample& b) { return a.at < b.at; });
    for (unsigned n = 0; n < nodes; ++n) {
        const double lane = y + kLaneStep * n;
        svg << "<rect x=\"" << num(plot.x) << "\" y=\"" << num(lane) << "\" width=\"" << num(plot.w)
            << "\" height=\"" << num(kLaneHeight) << "\" fill=\"#e8e8e8\"/>\n";
        // Consecutive samples naming the node merge into one bar, each lasting to the next sample.
        std::optional<double> from;
        for (std::size_t i = 0; i <= samples.size(); ++i) {
            const bool named = i < samples.size() &&
                               std::find(samples[i].nodes.begin(), samples[i].nodes.end(), n) !=
                                   samples[i].nodes.end();
            if (named && !from) from = samples[i].at;
            if (!named && from) {
                const double to = i < samples.size() ? samples[i].at : plot.duration;
                svg << "<rect x=\"" << num(plot.px(*from)) << "\" y=\"" << num(lane)
                    << "\" width=\"" << num(std::max(0.5, plot.px(to) - plot.px(*from)))
                    << "\" height=\"" << num(kLaneHeight) << "\" fill=\"" << node_colour(n)
                    << "\"/>\n";
                from.reset();
            }
        }
    }
    if (samples.empty())
        svg << "<text x=\"" << num(plot.x + 4) << "\" y=\"" << num(y + kLaneStep * nodes / 2.0 + 3)
            << "\" font-size=\"9\" fill=\"#555555\">no samples of nolbd's answer</text>\n";
    svg << "</g>\n";
}

// The row's fault key: "1: crash node2 at 5.0 s", wrapped to lines that fit the page.
std::vector<std::string> fault_key_lines(const RunResult& run) {
    constexpr std::size_t kLineChars = 190;  // at font size 10, about the page's width
    std::vector<std::string> lines;
    std::string line;
    for (std::size_t i = 0; i < run.faults.size(); ++i) {
        const AppliedFault& f = run.faults[i];
        std::string item = std::to_string(i + 1) + ": " + fault_name(f.fault.kind) + " " +
                           node_site(f.fault.node) + " at " + fixed(f.at, 1) + " s";
        if (f.fault.kind == FaultKind::degrade && f.done > f.at)
            item += ", exited at " + fixed(f.done, 1) + " s";
        if (!f.ok) item += " (failed)";
        if (!line.empty() && line.size() + 2 + item.size() > kLineChars) {
            lines.push_back(line);
            line.clear();
        }
        line += (line.empty() ? "Faults: " : "; ") + item;
    }
    if (!line.empty()) lines.push_back(line);
    return lines;
}

double row_heading_height(const RunResult& run) {
    return kRowHeading + kKeyLine * static_cast<double>(fault_key_lines(run).size());
}

double strip_height(unsigned nodes) {
    return 6 + kLaneStep * nodes;
}

const char* model_hint(Model model) {
    switch (model) {
        case Model::zero_admin:
            return "nolbd publishes every node; clients fail over";
        case Model::health_checked:
            return "nolbd publishes the nodes its probes find healthy";
        case Model::load_balancer:
            return "HAProxy in front of the nodes; one address in DNS";
    }
    return "";
}

}  // namespace

std::string render_markdown(const std::vector<ScenarioResult>& results, const RunInfo& info) {
    std::ostringstream md;
    md << "# nolb-compare results\n\n";
    markdown_run_info(md, info);
    md << "Three ways of keeping a service available, measured side by side on loopback: "
          "**zero-admin** (nolbd publishes every node, clients fail over), **health-checked** "
          "(nolbd publishes the nodes its probes find healthy) and **load-balancer** (HAProxy "
          "in front of the nodes, one address in DNS).\n\n";
    md << "Clients are independent users, each with its own cache, address order and "
          "connections; their requests are due on a Poisson schedule whatever became of the "
          "earlier ones (open loop). Due: requests due in the measured run. Attempted: of those, "
          "begun before it ended (a program's connection limit can hold them back). Success: "
          "ended with a 2xx answer, of all due. Late: successes slower than 1 s. An outage of "
          "a client: from the start of a failed request to the end of the next successful one "
          "(failures in a row are one outage); client-seconds down add every client's outages "
          "up, and the longest outage is the longest any client had. Recover: over the "
          "clients, the time from the first fault to the end of the last outage it caused a "
          "client (0 for clients it spared), by nearest rank; clients affected had one. Load "
          "max/min: successful requests of the busiest node over the least busy one's (inf: a "
          "node served none). Latencies are of successful requests, from when they were due, "
          "percentiles by nearest rank. With repetitions, a figure is a mean ± the half-width of "
          "its 95 % interval; one without ± was the same in every run.\n\n";
    const std::vector<std::string> svgs = svg_names(results);
    markdown_sweeps(md, results);
    for (std::size_t i = 0; i < results.size(); ++i)
        markdown_scenario(md, results[i], svgs[i]);
    return md.str();
}

std::string render_csv(const std::vector<ScenarioResult>& results) {
    std::ostringstream csv;
    csv << "scenario,repetition,seed,model,profile,clients,requests,attempted,ok,late,success_pct";
    for (int i = 0; i < kOutcomeCount; ++i)
        if (static_cast<Outcome>(i) != Outcome::ok)
            csv << ',' << snake(outcome_name(static_cast<Outcome>(i)));
    csv << ",p50_ms,p99_ms,longest_outage_ms,client_seconds_down,affected_clients,recover_p50_s,"
           "recover_p90_s,recover_p99_s,share_max_min,share_deviation,lookups,dns_queries,"
           "nolbd_cpu_us_per_query,lb_cpu_us_per_request\r\n";
    for (const ScenarioResult& result : results) {
        for (const RunResult& run : result.runs) {
            for (const Summary* s : summaries_of(result, run)) {
                csv << csv_field(result.scenario.name) << ',' << run.repetition << ',' << run.seed
                    << ',' << model_name(s->model) << ',' << summary_label(*s) << ',' << s->clients
                    << ',' << s->requests << ',' << s->attempted << ',' << s->ok << ',' << s->late
                    << ',' << fixed(s->success_pct, 3);
                for (int i = 0; i < kOutcomeCount; ++i)
                    if (static_cast<Outcome>(i) != Outcome::ok)
                        csv << ',' << s->outcomes[static_cast<std::size_t>(i)];
                csv << ',' << fixed(s->p50_ms, 3) << ',' << fixed(s->p99_ms, 3) << ','
                    << fixed(s->longest_outage_ms, 3) << ',' << fixed(s->client_seconds_down, 3)
                    << ',' << s->affected_clients << ',' << csv_number(s->recover_p50_s) << ','
                    << csv_number(s->recover_p90_s) << ',' << csv_number(s->recover_p99_s) << ','
                    << fixed(s->share_max_min, 3) << ',' << fixed(s->share_deviation, 4) << ','
                    << s->lookups << ',' << run.costs.dns_queries << ','
                    << csv_number(nolbd_cpu_us_per_query(run)) << ','
                    << csv_number(lb_cpu_us_per_request(run)) << "\r\n";
            }
        }
    }
    return csv.str();
}

namespace {

nlohmann::json estimate_json(const Estimate& e) {
    if (e.n == 0) return nullptr;
    return {{"mean", e.mean}, {"ci95", e.half}, {"n", e.n}};
}

// Per model x profile over the repetitions: each figure as {"mean", "ci95" (the half-width of
// the 95 % interval), "n" (runs with a value)}, or null when no run had one.
nlohmann::json aggregates_json(const ScenarioResult& result) {
    nlohmann::json out = nlohmann::json::array();
    for (const Aggregate& a : result.aggregates) {
        out.push_back({{"model", model_name(a.model)},
                       {"profile", profile_name(a.profile)},
                       {"real", a.real},
                       {"runs", a.runs},
                       {"clients", estimate_json(a.clients)},
                       {"requests", estimate_json(a.requests)},
                       {"attempted_pct", estimate_json(a.attempted_pct)},
                       {"success_pct", estimate_json(a.success_pct)},
                       {"late_pct", estimate_json(a.late_pct)},
                       {"p50_ms", estimate_json(a.p50_ms)},
                       {"p99_ms", estimate_json(a.p99_ms)},
                       {"longest_outage_s", estimate_json(a.longest_outage_s)},
                       {"client_seconds_down", estimate_json(a.client_seconds_down)},
                       {"recover_p50_s", estimate_json(a.recover_p50_s)},
                       {"recover_p90_s", estimate_json(a.recover_p90_s)},
                       {"recover_p99_s", estimate_json(a.recover_p99_s)},
                       {"affected_clients", estimate_json(a.affected_clients)},
                       {"avoid_after_s", estimate_json(a.avoid_after_s)},
                       {"lookups", estimate_json(a.lookups)}});
    }
    return out;
}

nlohmann::json avoid_json(const std::optional<Avoidance>& avoid) {
    using nlohmann::json;
    if (!avoid) return nullptr;
    return {{"after_s", avoid->after_s ? json(*avoid->after_s) : json(nullptr)},
            {"requests", avoid->requests},
            {"errors", avoid->errors}};
}

nlohmann::json sites_json(const Summary& s) {
    nlohmann::json sites = nlohmann::json::array();
    for (const SiteFigures& f : s.sites)
        sites.push_back({{"name", f.name},
                         {"requests", f.requests},
                         {"ok", f.ok},
                         {"share_pct", f.share_pct},
                         {"p50_ms", f.p50_ms},
                         {"p99_ms", f.p99_ms}});
    return sites;
}

}  // namespace

std::string render_json(const std::vector<ScenarioResult>& results, const RunInfo& info) {
    using nlohmann::json;
    auto number_or_null = [](std::optional<double> v) -> json {
        if (!v || !std::isfinite(*v)) return nullptr;
        return *v;
    };
    const std::vector<std::string> svgs = svg_names(results);
    json scenarios = json::array();
    for (std::size_t i = 0; i < results.size(); ++i) {
        const ScenarioResult& result = results[i];
        json runs = json::array();
        for (const RunResult& run : result.runs) {
            json costs = {
                {"nolbd_cpu_s", run.costs.nolbd_cpu_s},
                {"lb_cpu_s", run.costs.lb_cpu_s},
                {"dns_queries", run.costs.dns_queries},
                {"client_queries", run.costs.client_queries},
                {"lb_requests", run.costs.lb_requests},
                {"nolbd_cpu_us_per_query", number_or_null(nolbd_cpu_us_per_query(run))},
                {"lb_cpu_us_per_request", number_or_null(lb_cpu_us_per_request(run))},
                {"requests_per_dns_query", number_or_null(requests_per_dns_query(run))},
                {"server_cpu_ms_per_1000_requests",
                 number_or_null(server_cpu_ms_per_1000_requests(run))},
                {"nolbd_rss_kb", run.costs.nolbd_rss_kb},
                {"nolbd_hwm_kb", run.costs.nolbd_hwm_kb},
                {"lb_rss_kb", run.costs.lb_rss_kb},
                {"lb_hwm_kb", run.costs.lb_hwm_kb},
                {"dns_queries_by_server", json::array()},
            };
            for (const std::optional<std::uint64_t>& q : run.costs.dns_queries_by_server)
                costs["dns_queries_by_server"].push_back(q ? json(*q) : json(nullptr));
            json faults = json::array();
            for (const AppliedFault& f : run.faults) {
                faults.push_back({{"at_s", f.at},
                                  {"done_s", f.done},
                                  {"node", f.fault.node},
                                  {"kind", fault_name(f.fault.kind)},
                                  {"ok", f.ok},
                                  {"detail", f.detail}});
            }
            json detection = json::array();
            for (const Detection& d : detections(run)) {
                detection.push_back({{"node", d.fault->fault.node},
                                     {"kind", fault_name(d.fault->fault.kind)},
                                     {"at_s", d.fault->at},
                                     {"removed_after_ms", number_or_null(d.after_ms)}});
            }
            json profiles = json::array();
            for (const Summary* s : summaries_of(result, run)) {
                json outcomes = json::object();
                for (int k = 0; k < kOutcomeCount; ++k)
                    outcomes[snake(outcome_name(static_cast<Outcome>(k)))] =
                        s->outcomes[static_cast<std::size_t>(k)];
                profiles.push_back({
                    {"model", model_name(s->model)},
                    {"profile", profile_name(s->profile)},
                    {"real", s->real},
                    {"stream_gaps", s->stream_gaps},
                    {"stream_silent_ms", s->stream_silent_ms},
                    {"stream_longest_ms", s->stream_longest_ms},
                    {"clients", s->clients},
                    {"requests", s->requests},
                    {"attempted", s->attempted},
                    {"ok", s->ok},
                    {"late", s->late},
                    {"outcomes", outcomes},
                    {"success_pct", s->success_pct},
                    {"p50_ms", s->p50_ms},
                    {"p99_ms", s->p99_ms},
                    {"longest_outage_ms", s->longest_outage_ms},
                    {"client_seconds_down", s->client_seconds_down},
                    {"affected_clients", s->affected_clients},
                    {"recover_p50_s", number_or_null(s->recover_p50_s)},
                    {"recover_p90_s", number_or_null(s->recover_p90_s)},
                    {"recover_p99_s", number_or_null(s->recover_p99_s)},
                    {"per_node", s->per_node},
                    // JSON has no infinity: null means a node served nothing while another did.
                    {"share_max_min", number_or_null(s->share_max_min)},
                    {"share_deviation", s->share_deviation},
                    {"lookups", s->lookups},
                    {"avoid", avoid_json(s->avoid)},
                    {"sites", sites_json(*s)},
                });
            }
            runs.push_back({{"model", model_name(run.model)},
                            {"repetition", run.repetition},
                            {"seed", run.seed},
                            {"duration_s", run.duration},
                            {"costs", costs},
                            {"faults", faults},
                            {"detection_ms", detection},
                            {"notes", run.notes},
                            {"profiles", profiles}});
        }
        scenarios.push_back({{"name", result.scenario.name},
                             {"description", result.scenario.description},
                             {"sweep_of", result.scenario.sweep_of},
                             {"ttl", result.scenario.ttl},
                             {"resolver", resolver_name(result.scenario.resolver.kind)},
                             {"nodes", result.scenario.nodes},
                             {"timeline", svgs[i]},
                             {"repetitions", result.repetitions},
                             {"runs", runs},
                             {"aggregates", aggregates_json(result)}});
    }
    json doc = {{"run",
                 {{"version", info.version},
                  {"commit", info.commit},
                  {"command", info.command},
                  {"started", info.started},
                  {"finished", info.finished},
                  {"machine", info.machine},
                  {"haproxy", info.haproxy},
                  {"repetitions", info.repetitions},
                  {"seed", info.seed}}},
                {"scenarios", scenarios}};
    // Replace invalid UTF-8 (a note quoting a log line) rather than throw halfway through a report.
    return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string intervals_svg_name(const std::string& timeline) {
    return timeline.substr(0, timeline.size() - 4) + "-intervals.svg";
}

// Two panels, success % and client-seconds down: per profile a dot per model at the mean over
// the repetitions, with a bar over its 95 % interval.
std::string render_intervals_svg(const ScenarioResult& result) {
    constexpr double kPanelH = 170, kTop = 64, kGap = 46, kLeft = 64, kRight = 16;
    constexpr const char* kModelColours[] = {"#1f77b4", "#2ca02c", "#9467bd"};
    std::vector<Profile> profiles;
    for (Profile p : kProfiles)
        if (std::any_of(result.aggregates.begin(), result.aggregates.end(),
                        [p](const Aggregate& a) { return a.profile == p && !a.real; }))
            profiles.push_back(p);
    std::vector<Model> models;
    for (const RunResult* run : first_runs(result))
        models.push_back(run->model);
    const double height = kTop + 2 * kPanelH + kGap + 40;
    const double plot_w = kWidth - kLeft - kRight;
    const double slot = plot_w / static_cast<double>(std::max<std::size_t>(1, profiles.size()));

    std::ostringstream svg;
    svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << num(kWidth)
        << "\" height=\"" << num(height) << "\" viewBox=\"0 0 " << num(kWidth) << " " << num(height)
        << "\" font-family=\"sans-serif\">\n"
        << "<title>" << xml_text(result.scenario.name) << ": means and 95 % intervals</title>\n"
        << "<rect x=\"0\" y=\"0\" width=\"" << num(kWidth) << "\" height=\"" << num(height)
        << "\" fill=\"#ffffff\"/>\n"
        << "<text x=\"" << num(kMargin) << "\" y=\"24\" font-size=\"16\" font-weight=\"bold\">"
        << xml_text(result.scenario.name) << "</text>\n"
        << "<text x=\"" << num(kMargin) << "\" y=\"42\" font-size=\"11\" fill=\"#444444\">"
        << xml_text(
               "Mean over " + std::to_string(result.repetitions) +
               (result.repetitions == 1 ? " run (no interval)" : " runs, bars the 95 % interval") +
               "; a dot per model:")
        << "</text>\n";
    double lx = kMargin + 400;
    for (std::size_t m = 0; m < models.size(); ++m) {
        svg << "<circle cx=\"" << num(lx) << "\" cy=\"38\" r=\"4\" fill=\"" << kModelColours[m % 3]
            << "\"/><text x=\"" << num(lx + 8) << "\" y=\"42\" font-size=\"11\">"
            << xml_text(model_name(models[m])) << "</text>\n";
        lx += 140;
    }

    struct Panel {
        const char* title;
        Estimate Aggregate::*figure;
    };
    const Panel panels[] = {{"Success %", &Aggregate::success_pct},
                            {"Client-seconds down", &Aggregate::client_seconds_down}};
    for (std::size_t k = 0; k < 2; ++k) {
        const double top = kTop + static_cast<double>(k) * (kPanelH + kGap);
        // The scale: from the lowest interval's bottom (at most 90 for success) to its top.
        double lo = k == 0 ? 100 : 0, hi = k == 0 ? 100 : 0;
        for (const Aggregate& a : result.aggregates) {
            const Estimate& e = a.*(panels[k].figure);
            if (a.real || e.n == 0) continue;
            lo = std::min(lo, e.mean - e.half);
            hi = std::max(hi, e.mean + e.half);
        }
        if (k == 0) {
            lo = std::max(0.0, std::min(90.0, std::floor(lo)));
            hi = 100;
        } else {
            lo = 0;
            hi = nice_ceiling(std::max(1.0, hi));
        }
        auto py = [&](double v) {
            return top + kPanelH - kPanelH * (std::clamp(v, lo, hi) - lo) / (hi - lo);
        };
        svg << "<g class=\"intervals\">\n<text x=\"" << num(kLeft) << "\" y=\"" << num(top - 6)
            << "\" font-size=\"12\" font-weight=\"bold\">" << panels[k].title << "</text>\n"
            << "<rect x=\"" << num(kLeft) << "\" y=\"" << num(top) << "\" width=\"" << num(plot_w)
            << "\" height=\"" << num(kPanelH) << "\" fill=\"#fbfbfb\" stroke=\"#bbbbbb\"/>\n";
        for (double v : {lo, (lo + hi) / 2, hi})
            svg << "<text x=\"" << num(kLeft - 4) << "\" y=\"" << num(py(v) + 3)
                << "\" font-size=\"9\" text-anchor=\"end\" fill=\"#555555\">" << fixed(v, 1)
                << "</text>\n";
        for (std::size_t i = 0; i < profiles.size(); ++i) {
            const double x0 = kLeft + slot * static_cast<double>(i);
            svg << "<text x=\"" << num(x0 + slot / 2) << "\" y=\"" << num(top + kPanelH + 13)
                << "\" font-size=\"10\" text-anchor=\"middle\">" << profile_name(profiles[i])
                << "</text>\n";
            for (std::size_t m = 0; m < models.size(); ++m) {
                const Aggregate* a = find_aggregate(result, models[m], profiles[i]);
                if (!a) continue;
                const Estimate& e = a->*(panels[k].figure);
                if (e.n == 0) continue;
                const double x = x0 + slot * (static_cast<double>(m) + 1) /
                                          static_cast<double>(models.size() + 1);
                const char* colour = kModelColours[m % 3];
                if (e.half > 0)
                    svg << "<line class=\"ci\" x1=\"" << num(x) << "\" y1=\""
                        << num(py(e.mean - e.half)) << "\" x2=\"" << num(x) << "\" y2=\""
                        << num(py(e.mean + e.half)) << "\" stroke=\"" << colour
                        << "\" stroke-width=\"2\"/>\n";
                svg << "<circle class=\"mean\" cx=\"" << num(x) << "\" cy=\"" << num(py(e.mean))
                    << "\" r=\"3.5\" fill=\"" << colour << "\"/>\n";
            }
        }
        svg << "</g>\n";
    }
    svg << "</svg>\n";
    return svg.str();
}

std::string render_timeline_svg(const ScenarioResult& result) {
    const Scenario& sc = result.scenario;
    const std::vector<Profile> columns = profiles_present(result);
    const std::size_t cols = std::max<std::size_t>(1, columns.size());
    const double column_w = (kWidth - 2 * kMargin) / static_cast<double>(cols);

    // Heights first: the document's size goes in the root element.
    const double header = 78;
    double height = header;
    const std::vector<const RunResult*> runs = first_runs(result);
    for (const RunResult* row : runs) {
        const RunResult& run = *row;
        height += row_heading_height(run) + kPanelTitle + kPlotHeight + kTickRoom + kRowGap;
        if (publishes_by_health(run.model)) height += strip_height(sc.nodes);
    }
    height += kMargin;

    std::ostringstream svg;
    svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << num(kWidth)
        << "\" height=\"" << num(height) << "\" viewBox=\"0 0 " << num(kWidth) << " " << num(height)
        << "\" font-family=\"sans-serif\">\n";
    svg << "<title>" << xml_text(sc.name) << ": nolb-compare timeline</title>\n";
    svg << "<rect x=\"0\" y=\"0\" width=\"" << num(kWidth) << "\" height=\"" << num(height)
        << "\" fill=\"#ffffff\"/>\n";
    svg << "<text x=\"" << num(kMargin) << "\" y=\"26\" font-size=\"18\" font-weight=\"bold\">"
        << xml_text(sc.name) << "</text>\n";
    svg << "<text x=\"" << num(kMargin) << "\" y=\"44\" font-size=\"11\" fill=\"#444444\">"
        << xml_text(
               "Successful requests per node per second (lines), errors per second (red "
               "bars), faults (dashed lines, numbered as listed under each model). " +
               std::to_string(sc.nodes) +
               " nodes; one row per model, one column per "
               "client profile.")
        << "</text>\n";

    // Legend: a swatch per node, then errors and faults.
    double lx = kMargin;
    const double ly = 62;
    auto legend_text = [&](const std::string& text) {
        svg << "<text x=\"" << num(lx) << "\" y=\"" << num(ly + 4) << "\" font-size=\"11\">"
            << xml_text(text) << "</text>\n";
        lx += 7.0 * static_cast<double>(text.size()) + 16;
    };
    svg << "<g class=\"legend\">\n";
    for (unsigned n = 0; n < sc.nodes && lx < kWidth - 200; ++n) {
        svg << "<line x1=\"" << num(lx) << "\" y1=\"" << num(ly) << "\" x2=\"" << num(lx + 16)
            << "\" y2=\"" << num(ly) << "\" stroke=\"" << node_colour(n)
            << "\" stroke-width=\"3\"/>\n";
        lx += 20;
        legend_text(node_site(n));
    }
    svg << "<rect x=\"" << num(lx) << "\" y=\"" << num(ly - 5) << "\" width=\"12\" height=\"10\" "
        << "fill=\"" << kErrorColour << "\" fill-opacity=\"0.55\"/>\n";
    lx += 16;
    legend_text("errors");
    svg << "<line x1=\"" << num(lx) << "\" y1=\"" << num(ly - 6) << "\" x2=\"" << num(lx)
        << "\" y2=\"" << num(ly + 6) << "\" stroke=\"#333333\" stroke-dasharray=\"4,3\"/>\n";
    lx += 6;
    legend_text("fault");
    svg << "<rect x=\"" << num(lx) << "\" y=\"" << num(ly - 2) << "\" width=\"16\" height=\"4\" "
        << "fill=\"#e8e8e8\"/>\n";
    lx += 20;
    legend_text("DNS strip: nodes nolbd published");
    svg << "</g>\n";

    double y = header;
    for (const RunResult* row : runs) {
        const RunResult& run = *row;
        svg << "<g class=\"row\" id=\"row-" << xml_text(model_name(run.model)) << "\">\n";
        svg << "<text x=\"" << num(kMargin) << "\" y=\"" << num(y + 16)
            << "\" font-size=\"14\" font-weight=\"bold\">" << xml_text(model_name(run.model))
            << "<tspan font-size=\"11\" font-weight=\"normal\" fill=\"#555555\"> ("
            << xml_text(model_hint(run.model)) << ")</tspan></text>\n";
        const std::vector<std::string> key = fault_key_lines(run);
        for (std::size_t k = 0; k < key.size(); ++k) {
            svg << "<text class=\"fault-key\" x=\"" << num(kMargin) << "\" y=\""
                << num(y + kRowHeading + 6 + kKeyLine * static_cast<double>(k))
                << "\" font-size=\"10\" fill=\"#333333\">" << xml_text(key[k]) << "</text>\n";
        }
        const double plot_y = y + row_heading_height(run) + kPanelTitle;
        for (std::size_t c = 0; c < columns.size(); ++c) {
            Plot plot;
            plot.x = kMargin + column_w * static_cast<double>(c) + kAxisRoom;
            plot.w = column_w - kAxisRoom - kColumnGap;
            plot.y = plot_y;
            plot.h = kPlotHeight;
            plot.duration = run_duration(result, run);
            svg_panel(svg, result, run, columns[c], plot);
            if (publishes_by_health(run.model))
                svg_published_strip(svg, result, run, plot, plot_y + kPlotHeight + kTickRoom + 2);
        }
        y += row_heading_height(run) + kPanelTitle + kPlotHeight + kTickRoom + kRowGap;
        if (publishes_by_health(run.model)) y += strip_height(sc.nodes);
        svg << "</g>\n";
    }
    svg << "</svg>\n";
    return svg.str();
}

void merge_repetition(ScenarioResult& into, ScenarioResult repetition) {
    if (into.runs.empty() && into.summaries.empty()) into.scenario = repetition.scenario;
    for (RunResult& run : repetition.runs)
        into.runs.push_back(std::move(run));
    for (const Summary& s : repetition.summaries)
        into.summaries.push_back(s);
    unsigned count = 0;
    for (const RunResult& run : into.runs)
        count = std::max(count, run.repetition + 1);
    into.repetitions = std::max(1u, count);
    into.aggregates = aggregate(into.summaries);
}

void write_report(const std::filesystem::path& out, const std::vector<ScenarioResult>& results,
                  const RunInfo& info) {
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec)
        throw std::runtime_error("cannot create directory " + out.string() + ": " + ec.message());
    auto write = [](const std::filesystem::path& path, const std::string& text) {
        std::ofstream file(path, std::ios::binary | std::ios::trunc);
        file << text;
        file.close();
        if (!file) throw std::runtime_error("cannot write " + path.string());
    };
    write(out / "results.md", render_markdown(results, info));
    write(out / "results.csv", render_csv(results));
    write(out / "results.json", render_json(results, info));
    const std::vector<std::string> svgs = svg_names(results);
    for (std::size_t i = 0; i < results.size(); ++i) {
        write(out / svgs[i], render_timeline_svg(results[i]));
        write(out / intervals_svg_name(svgs[i]), render_intervals_svg(results[i]));
    }
}

}  // namespace nolb::compare
