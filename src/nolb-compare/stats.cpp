// The arithmetic behind every figure nolb-compare reports: percentiles, outages, load shares, what
// each site served and when nolbd stopped naming a node. Kept free of I/O and clocks so that each
// rule (nearest-rank percentiles, failures in a row as one outage, an idle node making the share
// infinite) is pinned down by unit tests on hand-built records rather than rediscovered in a
// measured run.
#include "nolb-compare/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace nolb::compare {

namespace {

// The faults that take something away (the others undo one).
bool breaks(FaultKind kind) {
    switch (kind) {
        case FaultKind::restart:
        case FaultKind::recover:
        case FaultKind::unblackhole:
        case FaultKind::undrain:
            return false;
        default:
            return true;
    }
}

bool publishes(const PublishedSample& sample, unsigned node) {
    return std::any_of(sample.nodes.begin(), sample.nodes.end(),
                       [node](std::uint16_t n) { return n == node; });
}

double share_deviation(const std::vector<std::uint64_t>& per_node) {
    if (per_node.empty()) return 0;
    double total = 0;
    for (std::uint64_t n : per_node)
        total += static_cast<double>(n);
    const double mean = total / static_cast<double>(per_node.size());
    if (mean <= 0) return 0;
    double worst = 0;
    for (std::uint64_t n : per_node)
        worst = std::max(worst, std::abs(static_cast<double>(n) - mean));
    return worst / mean;
}

Summary summarize_profile(const RunResult& run, Profile profile, bool real, unsigned nodes,
                          std::span<const Site> sites) {
    Summary s;
    s.model = run.model;
    s.profile = profile;
    s.real = real;
    s.per_node.assign(nodes, 0);
    for (const StreamGap& g : run.stream_gaps) {
        if (g.profile != profile || g.real != real) continue;
        const double ms = std::max(0.0, g.to - g.from) * 1000.0;
        ++s.stream_gaps;
        s.stream_silent_ms += ms;
        s.stream_longest_ms = std::max(s.stream_longest_ms, ms);
    }

    std::set<std::uint16_t> clients;
    std::map<std::uint16_t, std::vector<RequestRecord>> by_client;
    std::vector<double> latencies;
    for (const RequestRecord& r : run.requests) {
        if (r.profile != profile || r.real != real) continue;
        clients.insert(r.client);
        by_client[r.client].push_back(r);
        ++s.requests;
        if (r.attempted) ++s.attempted;
        const auto kind = static_cast<std::size_t>(r.outcome);
        if (kind < s.outcomes.size()) ++s.outcomes[kind];
        if (r.resolved) ++s.lookups;
        if (r.outcome != Outcome::ok) continue;
        ++s.ok;
        const double took = std::max(0.0, r.end - r.start);
        if (took > kLateSeconds) ++s.late;
        latencies.push_back(took * 1000.0);
        // A success names its node; one that could not (no "site" in the body) still counts as
        // a success but is nobody's share.
        if (r.node >= 0 && static_cast<unsigned>(r.node) < nodes)
            ++s.per_node[static_cast<std::size_t>(r.node)];
    }

    s.clients = static_cast<unsigned>(clients.size());
    s.success_pct = s.requests == 0
                        ? 100.0
                        : 100.0 * static_cast<double>(s.ok) / static_cast<double>(s.requests);
    s.p50_ms = percentile(latencies, 50).value_or(0);
    s.p99_ms = percentile(latencies, 99).value_or(0);

    // The first fault that breaks something, and the next fault after it: the window whose
    // outages are its doing.
    std::optional<double> fault;
    double until = run.duration;
    for (const AppliedFault& f : run.faults) {
        if (!f.ok) continue;
        if (!fault) {
            if (breaks(f.fault.kind)) fault = f.at;
        } else if (f.at > *fault) {
            until = f.at;
            break;
        }
    }
    std::vector<double> recoveries;
    for (const auto& [client, records] : by_client) {
        const std::vector<Outage> list = outages(records, run.duration);
        for (const Outage& o : list) {
            s.longest_outage_ms = std::max(s.longest_outage_ms, (o.to - o.from) * 1000.0);
            s.client_seconds_down += o.to - o.from;
        }
        if (!fault) continue;
        const double r = recovery_s(list, *fault, until);
        if (r > 0) ++s.affected_clients;
        recoveries.push_back(r);
    }
    if (fault) {
        s.recover_p50_s = percentile(recoveries, 50);
        s.recover_p90_s = percentile(recoveries, 90);
        s.recover_p99_s = percentile(recoveries, 99);
    }
    s.share_max_min = share_ratio(s.per_node);
    s.share_deviation = share_deviation(s.per_node);
    for (const AppliedFault& f : run.faults) {
        if (f.fault.kind != FaultKind::drain || !f.ok) continue;
        s.avoid = avoidance(run.requests, profile, real, f.fault.node, f.done);
        break;
    }
    if (!sites.empty()) s.sites = site_figures(run.requests, profile, real, sites);
    return s;
}

}  // namespace

// Nearest rank: the value at rank ceil(p/100 * n) of the sorted values (1-based, at least 1).
// No interpolation, so every figure reported is a latency some request really had, and p100 is
// the maximum, p0 the minimum.
std::optional<double> percentile(std::vector<double>& values, double p) {
    if (values.empty()) return std::nullopt;
    std::sort(values.begin(), values.end());
    const double clamped = std::clamp(p, 0.0, 100.0);
    const double n = static_cast<double>(values.size());
    auto rank = static_cast<std::size_t>(std::ceil(clamped / 100.0 * n));
    rank = std::clamp<std::size_t>(rank, 1, values.size());
    return values[rank - 1];
}

std::vector<Outage> outages(std::span<const RequestRecord> records, double run_end) {
    // In start order: the order the client's user asked in. Requests overlap (open loop): a
    // success that started after a failure ends the outage, whenever the failure itself ended.
    std::vector<const RequestRecord*> ordered;
    ordered.reserve(records.size());
    for (const RequestRecord& r : records)
        ordered.push_back(&r);
    std::stable_sort(
        ordered.begin(), ordered.end(),
        [](const RequestRecord* a, const RequestRecord* b) { return a->start < b->start; });

    std::vector<Outage> out;
    bool failing = false;
    double since = 0;
    for (const RequestRecord* r : ordered) {
        if (r->outcome != Outcome::ok) {
            if (!failing) since = r->start;
            failing = true;
            continue;
        }
        if (failing) {
            out.push_back({since, std::max(r->end, since), true});
            failing = false;
        }
    }
    // Still failing when the run ended: the outage lasted at least that long.
    if (failing) out.push_back({since, std::max(run_end, since), false});
    return out;
}

double longest_outage_ms(std::span<const RequestRecord> records, double run_end) {
    double longest = 0;
    for (const Outage& o : outages(records, run_end))
        longest = std::max(longest, o.to - o.from);
    return longest * 1000.0;
}

double recovery_s(std::span<const Outage> client_outages, double fault, double until) {
    double recovered = 0;
    for (const Outage& o : client_outages)
        if (o.from >= fault && o.from < until) recovered = std::max(recovered, o.to - fault);
    return recovered;
}

// Scanned from the last request back: the earliest start from which on the requests that tried
// the node are at most 1 % of all. One pass over the requests sorted by start.
Avoidance avoidance(std::span<const RequestRecord> records, Profile profile, bool real,
                    unsigned node, double from) {
    std::vector<const RequestRecord*> after;
    for (const RequestRecord& r : records)
        if (r.profile == profile && r.real == real && r.start >= from) after.push_back(&r);
    std::sort(after.begin(), after.end(),
              [](const RequestRecord* a, const RequestRecord* b) { return a->start < b->start; });
    const std::uint64_t mask = node < 64 ? std::uint64_t{1} << node : 0;
    Avoidance out;
    std::size_t touched = 0;
    std::optional<std::size_t> first;  // index of the earliest start that qualifies
    for (std::size_t i = after.size(); i-- > 0;) {
        if (after[i]->touched & mask) ++touched;
        const std::size_t suffix = after.size() - i;
        if (100 * touched <= suffix) first = i;
    }
    const std::size_t until = first ? *first : after.size();
    if (first) out.after_s = after[*first]->start - from;
    for (std::size_t i = 0; i < until; ++i) {
        ++out.requests;
        if (after[i]->outcome != Outcome::ok) ++out.errors;
    }
    return out;
}

// Busiest over least busy node. A node that answered nothing while another did is the whole
// point of the figure (load all on the others), so it reads as infinity, not as a huge number.
double share_ratio(const std::vector<std::uint64_t>& per_node) {
    if (per_node.empty()) return 0;
    auto [lo, hi] = std::minmax_element(per_node.begin(), per_node.end());
    if (*hi == 0) return 0;
    if (*lo == 0) return std::numeric_limits<double>::infinity();
    return static_cast<double>(*hi) / static_cast<double>(*lo);
}

std::string summary_label(const Summary& s) {
    return std::string(profile_name(s.profile)) + (s.real ? " (real)" : "");
}

std::vector<SiteFigures> site_figures(std::span<const RequestRecord> records, Profile profile,
                                      bool real, std::span<const Site> sites) {
    std::vector<SiteFigures> out(sites.size());
    std::vector<std::vector<double>> latencies(sites.size());
    // Which site each node is in: a node is in one at most (the scenario checks it).
    std::map<unsigned, std::size_t> site_of_node;
    for (std::size_t i = 0; i < sites.size(); ++i) {
        out[i].name = sites[i].name;
        for (unsigned node : sites[i].nodes)
            site_of_node.emplace(node, i);
    }
    std::uint64_t all_ok = 0;
    for (const RequestRecord& r : records) {
        if (r.profile != profile || r.real != real) continue;
        if (r.outcome == Outcome::ok) ++all_ok;
        if (r.node < 0) continue;
        auto site = site_of_node.find(static_cast<unsigned>(r.node));
        if (site == site_of_node.end()) continue;
        SiteFigures& f = out[site->second];
        ++f.requests;
        if (r.outcome != Outcome::ok) continue;
        ++f.ok;
        latencies[site->second].push_back(std::max(0.0, r.end - r.start) * 1000.0);
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        SiteFigures& f = out[i];
        f.share_pct =
            all_ok == 0 ? 0 : 100.0 * static_cast<double>(f.ok) / static_cast<double>(all_ok);
        f.p50_ms = percentile(latencies[i], 50).value_or(0);
        f.p99_ms = percentile(latencies[i], 99).value_or(0);
    }
    return out;
}

std::vector<Summary> summarize(const RunResult& run, unsigned nodes, std::span<const Site> sites) {
    std::vector<Summary> out;
    for (Profile profile : kProfiles) {
        for (bool real : {false, true}) {
            const bool present = std::any_of(run.requests.begin(), run.requests.end(),
                                             [profile, real](const RequestRecord& r) {
                                                 return r.profile == profile && r.real == real;
                                             });
            if (present) out.push_back(summarize_profile(run, profile, real, nodes, sites));
        }
    }
    return out;
}

// A sample at `after` itself counts: the lab applies a fault and samples on the same loop, so a
// sample taken at the fault's time already lacking the node means it was out by then. A node
// already missing when the fault came (an earlier fault took it out) is "removed" at the first
// sample, which is what a client asking then would have seen.
std::optional<double> removed_at(std::span<const PublishedSample> samples, unsigned node,
                                 double after) {
    std::optional<double> first;
    for (const PublishedSample& sample : samples) {
        if (sample.at < after || publishes(sample, node)) continue;
        if (!first || sample.at < *first) first = sample.at;
    }
    return first;
}

}  // namespace nolb::compare
