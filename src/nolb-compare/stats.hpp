// The figures a run comes down to, per model and client profile: how many requests, how many
// succeeded, how slow they were, the longest outage any one client lived through, how the load
// spread over the nodes, and what the service cost (DNS queries, CPU per request). Pure
// functions over records, so the arithmetic is tested apart from any network.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nolb-compare/record.hpp"
#include "nolb-compare/scenario.hpp"

namespace nolb::compare {

// How the requests of one client profile left a node withdrawn from DNS at `from`: the time
// after which at most 1 % of the requests (started then or later, to the run's end) still tried
// it, counted from `from`; nullopt when even the last requests tried it (censored). Errors and
// requests count those started between `from` and that time (or the end).
struct Avoidance {
    std::optional<double> after_s;
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;
};
Avoidance avoidance(std::span<const RequestRecord> records, Profile profile, bool real,
                    unsigned node, double from);

// A successful request slower than this is late: an answer, but not one a user waited for
// gladly. Counted apart; it is still a success.
inline constexpr double kLateSeconds = 1.0;

// What one site served one profile: the requests a node of the site answered (a response with
// its name), how many of them succeeded, their share of the profile's successes, and the
// latency of those successes: beside the other sites', the cost of being sent far.
struct SiteFigures {
    std::string name;
    std::uint64_t requests = 0;
    std::uint64_t ok = 0;
    double share_pct = 0;  // 100 * ok / the profile's successes; 0 when it had none
    double p50_ms = 0;     // 0 when the site served no success
    double p99_ms = 0;
};

// One row per site, in the scenario's order, over the records of `profile` (its real program's
// when `real`); a success whose node the response did not name is in the total, no site's row.
std::vector<SiteFigures> site_figures(std::span<const RequestRecord> records, Profile profile,
                                      bool real, std::span<const Site> sites);

struct Summary {
    unsigned repetition = 0;  // of the scenario, 0-based
    Model model = Model::zero_admin;
    Profile profile = Profile::try_all;
    bool real = false;  // the real program's requests, not its profile's
    unsigned clients = 0;
    std::uint64_t requests = 0;   // due in the measured run
    std::uint64_t attempted = 0;  // of those, begun before it ended
    std::uint64_t ok = 0;
    std::uint64_t late = 0;                               // ok, but slower than kLateSeconds
    std::array<std::uint64_t, kOutcomeCount> outcomes{};  // indexed by Outcome
    double success_pct = 0;  // 100 * ok / requests; 100 when there were none
    double p50_ms = 0;       // latency of the successful requests
    double p99_ms = 0;
    // The longest time one client could not get an answer: from the start of a failed request
    // to the end of that client's next successful one (or the run's end), failures in a row
    // counted as one outage. 0 when no request failed.
    double longest_outage_ms = 0;
    // Every client's outages (as above) added up: the service time the fault took from users.
    double client_seconds_down = 0;
    // Time to recover, over the clients: from the run's first fault to the end of the last
    // outage a client had that began before the next fault (or the run's end); 0 for a client
    // that had none. Nearest-rank percentiles; unset when the run had no fault.
    unsigned affected_clients = 0;
    std::optional<double> recover_p50_s;
    std::optional<double> recover_p90_s;
    std::optional<double> recover_p99_s;
    std::vector<std::uint64_t> per_node;  // successful requests answered by each node
    double share_max_min = 0;             // busiest node / least busy; infinity if one got none
    double share_deviation = 0;  // largest |count - mean| / mean over the nodes, as a fraction
    std::uint64_t lookups = 0;   // requests that began with a DNS lookup
    // Event streams: how many silences longer than the stream's rhythm, their total and the
    // longest (a silence still going on at the end counts up to the end).
    std::uint64_t stream_gaps = 0;
    double stream_silent_ms = 0;
    double stream_longest_ms = 0;
    // After the run's first drain: how long until 99 % of the requests avoid the drained node
    // (avoidance()), and the errors from the drain until then. Unset without a drain.
    std::optional<Avoidance> avoid;
    std::vector<SiteFigures> sites;  // site_figures(), when the scenario has sites
};

// Successful requests of the busiest node over the least busy one's: infinity when one served
// none while another did, 0 when none served any.
double share_ratio(const std::vector<std::uint64_t>& per_node);

// "curl", or "curl (real)" for the program itself.
std::string summary_label(const Summary& s);

// The p-th percentile (0..100) by nearest rank: the sorted value at rank ceil(p/100 * n), at
// least 1, no interpolation (p0 is the minimum, p100 the maximum); nullopt for no values. Sorts
// `values`.
std::optional<double> percentile(std::vector<double>& values, double p);

// One client's outages: each from the start of a failed request to the end of the first
// successful request after it in start order (failures in a row are one outage), or to the
// run's end (`ended` false). Records in any order; outages in time order.
struct Outage {
    double from = 0;
    double to = 0;
    bool ended = true;
};
std::vector<Outage> outages(std::span<const RequestRecord> records, double run_end);

// The longest outage in one client's records (any order), per Summary::longest_outage_ms.
double longest_outage_ms(std::span<const RequestRecord> records, double run_end);

// A client's time to recover from a fault at `fault` (Summary::recover_p50_s): the end of its
// last outage that began in [fault, until), minus `fault`; 0 when none did.
double recovery_s(std::span<const Outage> client_outages, double fault, double until);

// One Summary per profile that made requests in the run, in kProfiles order, each followed by
// its real program's when one ran.
std::vector<Summary> summarize(const RunResult& run, unsigned nodes,
                               std::span<const Site> sites = {});

// The first time after `after` when nolbd stopped publishing `node` (seconds), from the
// samples; nullopt if it never did. Detection time = this - the fault's time.
std::optional<double> removed_at(std::span<const PublishedSample> samples, unsigned node,
                                 double after);

}  // namespace nolb::compare
