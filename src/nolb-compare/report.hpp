// Writes what a comparison found, for people and for programs: results.md (a table per
// scenario, the costs, the faults as applied and how fast each model reacted), results.csv (one
// row per scenario x model x profile), results.json (the same plus the per-node counts, for
// tests and scripts), and one SVG timeline per scenario (requests per node over time and errors,
// a panel per model x profile, fault markers), drawn by hand: no plotting library.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "nolb-compare/aggregate.hpp"
#include "nolb-compare/record.hpp"
#include "nolb-compare/scenario.hpp"
#include "nolb-compare/stats.hpp"

namespace nolb::compare {

struct ScenarioResult {
    Scenario scenario;
    unsigned repetitions = 1;
    std::vector<RunResult> runs;        // one per model and repetition, in the order run
    std::vector<Summary> summaries;     // summarize() of every run, concatenated
    std::vector<Aggregate> aggregates;  // of the summaries over the repetitions
};

// What made a set of results: the program and source it came from, how it was run and where.
// Empty fields are left out of the report.
struct RunInfo {
    std::string version;   // nolb's, of this build ("0.9.0")
    std::string commit;    // of the source tree, from git ("536ef36", "-dirty" when changed)
    std::string command;   // the command line, as typed
    std::string started;   // UTC, ISO 8601
    std::string finished;  // UTC, ISO 8601
    std::string machine;   // "2 cores, Linux 6.18.44, ..."
    std::string haproxy;   // `haproxy -v`'s first line
    unsigned repetitions = 0;
    std::uint64_t seed = 0;
};

// Adds one more repetition's runs and summaries to `into` (the first one sets it) and
// recomputes the aggregates.
void merge_repetition(ScenarioResult& into, ScenarioResult repetition);

// Writes every file into `out` (created if missing): results.md, results.csv, results.json and
// <scenario name>.svg per scenario (characters other than letters, digits, '-', '_' and '.'
// become '_'); throws std::runtime_error naming the file on I/O errors.
//
// results.md links <scenario>-intervals.svg beside each timeline.
//
// results.json, which tests and scripts read: {"scenarios": [{"name", "description", "nodes",
// "timeline" (the SVG's file name), "runs": [{"model", "duration_s", "costs": {"nolbd_cpu_s",
// "lb_cpu_s", "dns_queries", "lb_requests", "nolbd_cpu_us_per_query", "lb_cpu_us_per_request",
// "requests_per_dns_query", "nolbd_rss_kb", "nolbd_hwm_kb", "lb_rss_kb", "lb_hwm_kb",
// "dns_queries_by_server" (ns1, ns2: null for one killed during the run)}, "faults":
// [{"at_s", "done_s", "node", "kind", "ok", "detail"}], "detection_ms": [{"node", "kind", "at_s",
// "removed_after_ms"}], "notes": [...], "profiles":
// [{"model", "profile", "clients", "requests", "ok", "outcomes": {"ok", "http_error", ...},
// "success_pct", "p50_ms", "p99_ms", "longest_outage_ms", "per_node": [...], "share_max_min",
// "share_deviation", "lookups"}]}]}]}. Nodes are 0-based indices. A figure that cannot be
// computed (per-query cost without queries, an infinite share ratio, a node never removed) is
// null. detection_ms lists every crash, http500, slow, hang, degrade, blackhole and drain fault
// with how long nolbd took to stop publishing the node (the DNS models) or HAProxy to take it out
// of rotation (the load-balancer model). Server faults (lb-crash, dns-crash, ...) give "node" 0.
void write_report(const std::filesystem::path& out, const std::vector<ScenarioResult>& results,
                  const RunInfo& info = {});

// The pieces, for tests.
std::string render_markdown(const std::vector<ScenarioResult>& results, const RunInfo& info = {});
std::string render_csv(const std::vector<ScenarioResult>& results);
std::string render_json(const std::vector<ScenarioResult>& results, const RunInfo& info = {});
std::string render_timeline_svg(const ScenarioResult& result);
// Means and 95 % intervals over the repetitions (success %, client-seconds down), a dot and a
// bar per model and profile; written beside the timeline as <name>-intervals.svg.
std::string render_intervals_svg(const ScenarioResult& result);
std::string intervals_svg_name(const std::string& timeline_svg);

}  // namespace nolb::compare
