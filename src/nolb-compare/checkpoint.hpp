// A scenario's repetition kept on disk as soon as it is measured, so that a long run cut short
// (interrupted, or the machine restarted) goes on where it stopped: `nolb-compare --resume` takes
// every repetition already measured by the same build with the same settings from its file and
// measures only the rest. The file holds the runs whole (every request record, fault, sample and
// cost), so a report made from it is the report the uninterrupted run would have written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "nolb-compare/record.hpp"
#include "nolb-compare/report.hpp"
#include "nolb-compare/scenario.hpp"

namespace nolb::compare {

// What decides whether a repetition on disk can stand for one about to be measured: all of it
// must be equal.
struct CheckpointKey {
    std::string commit;    // of the build ("7f405f2"; "-dirty" when it had changes)
    std::string settings;  // the command line as it bears on the measurement, and the
                           // scenario's file as read
    std::string scenario;  // its name, a sweep's variant included ("withdraw-ttl5-none")
    unsigned repetition = 0;
    std::uint64_t seed = 0;
};

// One measured repetition: when it began, and its runs (one per model).
struct Checkpoint {
    std::string started;  // UTC, ISO 8601
    std::vector<RunResult> runs;
};

// "<work_dir>/repetition-<k+1>.msgpack".
std::filesystem::path checkpoint_path(const std::filesystem::path& work_dir, unsigned repetition);

// Writes the file whole or not at all (a temporary file renamed over it); throws
// std::runtime_error naming the file when it cannot.
void save_checkpoint(const std::filesystem::path& file, const CheckpointKey& key,
                     const Checkpoint& checkpoint);

// The repetition in `file` when it was made under `key`; nullopt when there is no such file, or
// when it was made by another build or with other settings (`why` says which). Throws
// std::runtime_error naming the file when it cannot be read or is not a checkpoint.
std::optional<Checkpoint> load_checkpoint(const std::filesystem::path& file,
                                          const CheckpointKey& key, std::string* why = nullptr);

// A repetition's result from its runs: the runs, and their summaries (stats.hpp) marked with the
// repetition. run_scenario builds its result with it too.
ScenarioResult repetition_result(const Scenario& scenario, std::vector<RunResult> runs,
                                 unsigned repetition);

}  // namespace nolb::compare
