// Calibration: each profile that is named after a real program is run beside that program, in
// the same lab, under the same fault, and the two are compared. The lab has two nodes and a name
// whose records list node1 then node2 for every client (a service's order is drawn per
// response), so every client starts on node1, and node1 is the one that fails: refused (crash),
// silent (blackhole), 500 (http500), accepting and never answering (hang), or taken out of DNS
// while it goes on serving (drain). What decides a client's fate is then its own rules alone.
//
// Per program and fault, for the requests that started after the fault: the share that
// succeeded, the time from the start of the first of them to the end of the first success served
// by node2 (the recovery; none within the window is "censored", known only to exceed it), which
// node served the successes, and, for a page with an event stream, how long the stream went
// silent after the fault. The profile
// agrees with its program when the success shares are within 3 points and the recoveries within
// 20 % or 100 ms (the stream's silences within 20 % or 0.5 s, its rhythm), both censored counting
// as agreement.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nolb-compare/lab.hpp"
#include "nolb-compare/record.hpp"
#include "nolb-compare/scenario.hpp"

namespace nolb::compare {

// What one side (the program, or its profile) did after the fault.
struct CalibrationSide {
    std::uint64_t requests = 0;  // started after the fault
    double success_pct = 0;
    std::optional<double> recovery_s;  // nullopt: censored (no success from node2 in the window)
    double node2_pct = 0;              // of the successes after the fault
    std::optional<double> stream_silent_s;  // the longest silence after the fault; streams only
};

struct CalibrationRow {
    Profile profile = Profile::curl;
    FaultKind fault = FaultKind::crash;
    double window_s = 0;  // watched after the fault
    CalibrationSide real;
    CalibrationSide model;
    bool success_agrees = false;
    bool recovery_agrees = false;
    bool stream_agrees = true;
    bool agrees() const { return success_agrees && recovery_agrees && stream_agrees; }
    std::vector<std::string> notes;
};

// One side's figures from a run's records (real or not) for `profile`; the faulted node is
// node1 (index 0), the fault at `fault_at`, the run's end at `end` (seconds from its start).
CalibrationSide measure_side(std::span<const RequestRecord> records,
                             std::span<const StreamGap> gaps, Profile profile, bool real,
                             double fault_at, double end, bool stream);

// Fills in the verdicts by the tolerances above.
void judge(CalibrationRow& row);

struct CalibrationOptions {
    std::vector<Profile> programs;  // default: every profile with a driver
    std::vector<FaultKind> faults;  // default: crash blackhole http500 hang drain
    bool quick = false;             // 6 s after each fault instead of what each fault needs
    double rate = 5;                // requests per second, each side
    std::filesystem::path out;      // calibration.md and calibration.json
    std::filesystem::path drivers;  // contrib/calibrate/
    LabOptions lab;
    std::function<void(const std::string&)> progress;
};

// The faults calibration knows, and how long each is watched in a full run: long enough for
// the slowest program to recover (the kernel's SYN retries, about 130 s, for a blackhole; a
// browser's 60 s host cache for a drain).
std::vector<FaultKind> calibration_faults();
double calibration_window(FaultKind fault, bool quick);

// Runs every fault with every program and its profile; writes the report; returns the rows.
// Throws std::runtime_error when a program or the lab cannot start.
std::vector<CalibrationRow> run_calibration(const CalibrationOptions& options);

std::string render_calibration_markdown(const std::vector<CalibrationRow>& rows, bool quick);
std::string render_calibration_json(const std::vector<CalibrationRow>& rows, bool quick);

}  // namespace nolb::compare
