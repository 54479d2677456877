// Calibration: each profile that is named after a real program is run beside that program, in
// the same lab, under the same fault, and the two are compared. The lab has two nodes and a name
// whose records list node1 then node2 for every client (a service's order is drawn per
// response), so every client starts on node1, and node1 is the one that fails: refused (crash),
// silent (blackhole), 500 (http500), accepting and never answering (hang), or taken out of DNS
// while it goes on serving, closing each connection after its answer as a draining server does
// (drain). What decides a client's fate is then its own rules alone. The nodes keep connections
// alive, as web servers do, but for the blackhole, where every request connects anew so that
// the connection attempts are what is compared (over a kept connection, a silent node leaves
// every program waiting for the kernel's retransmissions, about 15 minutes).
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

// One calibration case: what happens to node1, and how the lab is set.
struct CalibrationCase {
    std::string name;  // "crash", "blackhole", "http500", "hang", "drain"
    FaultKind fault = FaultKind::crash;
    // Applied a second before the fault, so that every connection kept from before is gone by
    // then (drain: node1 closes each connection after its answer from then on).
    std::optional<FaultKind> before;
    bool keep_alive = true;  // the nodes'
    double window_s = 15;    // watched after the fault in a full run
};
const std::vector<CalibrationCase>& calibration_cases();

struct CalibrationRow {
    Profile profile = Profile::curl;
    std::string fault;    // the case's name
    double window_s = 0;  // watched after the fault
    CalibrationSide real;
    CalibrationSide model;
    bool success_agrees = false;
    bool recovery_agrees = false;
    bool stream_agrees = true;
    // The real program had an answer before the fault: it was running as it does, not starting.
    bool comparable = true;
    bool agrees() const { return comparable && success_agrees && recovery_agrees && stream_agrees; }
    std::vector<std::string> notes;
};

// One side's figures from a run's records (real or not) for `profile`; the faulted node is
// node1 (index 0), the fault at `fault_at`, the run's end at `end` (seconds from its start).
// Counted: the requests the fault reached, those started after it and those in flight that
// did not end well on node1, or, for a fault in DNS (`in_flight` false: a drain), only those
// that started after it.
CalibrationSide measure_side(std::span<const RequestRecord> records,
                             std::span<const StreamGap> gaps, Profile profile, bool real,
                             double fault_at, double end, bool stream, bool in_flight = true);

// Fills in the verdicts by the tolerances above.
void judge(CalibrationRow& row);

struct CalibrationOptions {
    std::vector<Profile> programs;    // default: every profile with a driver
    std::vector<std::string> faults;  // case names; default: every case
    bool quick = false;               // 6 s after each fault instead of what each fault needs
    double rate = 5;                  // requests per second, each side
    std::filesystem::path out;        // calibration.md and calibration.json
    std::filesystem::path drivers;    // contrib/calibrate/
    LabOptions lab;
    std::function<void(const std::string&)> progress;
};

// How long a case is watched: its window in a full run, long enough for the slowest program to
// recover (the kernel's SYN retries, about 130 s, for a blackhole; a browser's 60 s host cache
// for a drain), or 6 s in a quick one.
double calibration_window(const CalibrationCase& c, bool quick);

// Runs every fault with every program and its profile; writes the report; returns the rows.
// Throws std::runtime_error when a program or the lab cannot start.
std::vector<CalibrationRow> run_calibration(const CalibrationOptions& options);

std::string render_calibration_markdown(const std::vector<CalibrationRow>& rows, bool quick);
std::string render_calibration_json(const std::vector<CalibrationRow>& rows, bool quick);

}  // namespace nolb::compare
