// Real programs as clients, in the same lab as the profiles and under the same faults: each one
// is a driver script in contrib/calibrate/ that runs the program with its defaults in a closed
// loop against the target and prints a line per request (`S id epoch_ms` when it starts,
// `E id epoch_ms status site error [took_ms]` when it ends, took_ms being the program's own time
// for it where the driver has one) and, for a page that holds an event stream, a line per event
// (`V epoch_ms site`). The lab starts each driver with the clients and stops it
// with them, by PID; its lines become records like the profiles' own, marked real, so that one
// set of statistics judges both.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nolb-compare/clients.hpp"
#include "nolb-compare/record.hpp"
#include "nolb-compare/scenario.hpp"

namespace nolb::compare {

struct RealSpec {
    Profile profile = Profile::curl;
    double rate = 5;  // requests per second, closed loop
};

// The command that runs `profile`'s real program through its driver, from `drivers`
// (contrib/calibrate/). Throws std::runtime_error naming what is missing, and the Debian package
// (or the command) that provides it, when the program, the driver or its node modules are not
// there.
std::vector<std::string> driver_command(Profile profile, const std::filesystem::path& drivers);

// A driver's output as records. `origin_ms`: the wall clock at the start of the measured run;
// `end`: the run's end in seconds from it, the time of a request that never ended. Requests that
// started before the origin (the warm-up) or after the end are left out, as the profiles' are;
// unknown lines are ignored.
struct DriverOutput {
    std::vector<RequestRecord> requests;
    std::vector<StreamGap> gaps;
};
DriverOutput parse_driver_output(std::string_view text, Profile profile, std::uint16_t client,
                                 double origin_ms, double end,
                                 const std::vector<std::string>& node_sites);

class RealFleet {
  public:
    RealFleet(std::vector<RealSpec> specs, std::filesystem::path drivers,
              std::filesystem::path work_dir);
    ~RealFleet();  // stops whatever still runs
    RealFleet(const RealFleet&) = delete;
    RealFleet& operator=(const RealFleet&) = delete;

    // Starts every driver against `target`, to run `seconds` (warm-up and run together) from
    // now; `origin` is the start of the measured run. Throws when a driver cannot start.
    void start(const Target& target, Clock::time_point origin, double seconds);
    // True once every driver has ended by itself (each does after its last request): the
    // caller keeps its loop, and with it the lab's DNS relay, running until then.
    bool exited();
    // Stops the drivers (each has ended by itself unless a request still hangs) and reads
    // their output; `end` is the run's length in seconds.
    void stop(double end);

    std::vector<RequestRecord> take_records();
    std::vector<StreamGap> take_stream_gaps();
    std::vector<std::string> notes() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nolb::compare
