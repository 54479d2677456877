// Repetitions: a scenario run several times (each with its own seed for the clients' arrivals)
// comes down, per model and profile, to each figure's mean over the runs and the 95 %
// confidence interval of that mean (Student's t, since five or so runs are far too few for the
// normal approximation). A figure a run could not compute (a time to recover without a fault)
// is left out of that figure's runs, and `n` says how many remained.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "nolb-compare/stats.hpp"

namespace nolb::compare {

struct Estimate {
    double mean = 0;
    double half = 0;  // half-width of the 95 % interval: mean - half .. mean + half; 0 for n < 2
    unsigned n = 0;   // runs that gave a value
};

// The two-sided 95 % quantile of Student's t with `df` degrees of freedom (df >= 1).
double t975(unsigned df);

// Mean and 95 % confidence interval of the values (n = 0: mean 0).
Estimate estimate(std::span<const double> values);

// One model x profile over the repetitions.
struct Aggregate {
    Model model = Model::zero_admin;
    Profile profile = Profile::try_all;
    bool real = false;
    unsigned runs = 0;
    Estimate clients;
    Estimate requests;       // due per run
    Estimate attempted_pct;  // 100 * attempted / due
    Estimate success_pct;
    Estimate late_pct;  // 100 * late / due
    Estimate p50_ms;
    Estimate p99_ms;
    Estimate longest_outage_s;
    Estimate client_seconds_down;
    Estimate recover_p50_s;
    Estimate recover_p90_s;
    Estimate recover_p99_s;
    Estimate affected_clients;
    Estimate avoid_after_s;  // runs whose profile came to avoid the drained node
    Estimate lookups;
};

// One Aggregate per model x profile x real found in the summaries (all repetitions of one
// scenario), in the order they first appear.
std::vector<Aggregate> aggregate(std::span<const Summary> summaries);

}  // namespace nolb::compare
