// Runs one scenario: for each model in turn, the lab starts the nodes and the model's servers,
// the clients run through a warm-up and the measured run while the faults fire on schedule, and
// everything is stopped before the next model starts, so the models never share a node's state.
// One event loop carries the clients, the faults and the sampler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "nolb-compare/lab.hpp"
#include "nolb-compare/real_clients.hpp"
#include "nolb-compare/report.hpp"
#include "nolb-compare/scenario.hpp"

namespace nolb::compare {

struct Progress {
    const Scenario* scenario = nullptr;
    Model model = Model::zero_admin;
    double elapsed = 0;           // seconds into the measured run (negative during the warm-up)
    std::size_t model_index = 0;  // 0-based, of scenario->models.size()
    std::uint64_t in_flight = 0;  // client requests open right now
};

struct RunOptions {
    LabOptions lab;
    // Decides the clients' arrivals. Every model of a run gets the same schedule, so the models
    // are compared on the same requests.
    std::uint64_t seed = 1;
    unsigned repetition = 0;  // recorded with the results
    // Real programs run beside the profiles, one client each (real_clients.hpp), with their
    // drivers from `drivers`.
    std::vector<RealSpec> real;
    std::filesystem::path drivers;
    // Called about twice a second while a model runs, and once when it ends (finished = true).
    std::function<void(const Progress&, bool finished)> progress;
};

// Throws std::runtime_error when a server cannot be started, and Interrupted on SIGINT or
// SIGTERM (everything started is stopped first).
ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options);

struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted") {}
};

}  // namespace nolb::compare
