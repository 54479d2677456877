// What one comparison run is made of: the scenario (nodes, faults on a schedule, the client
// profiles and their numbers), read from a TOML file in conf/scenarios/ and checked as strictly
// as nolbd's own configuration (every problem as file:line:column: key: message). Everything
// else in nolb-compare reads these plain structs; only scenario.cpp sees the TOML.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nolb::compare {

using Seconds = std::chrono::duration<double>;

// The three ways of keeping a service available that are compared.
enum class Model : std::uint8_t {
    zero_admin,      // nolbd publishes every node, health = "none"; clients fail over
    health_checked,  // nolbd publishes the nodes its HTTP probes find healthy
    load_balancer,   // HAProxy in front of the nodes, its own checks; one address in DNS
};
inline constexpr Model kModels[] = {Model::zero_admin, Model::health_checked, Model::load_balancer};
const char* model_name(Model);  // "zero-admin", "health-checked", "load-balancer"
std::optional<Model> parse_model(std::string_view);

// How a client turns a name into a connection: the behaviours that decide the outcome.
enum class Profile : std::uint8_t {
    single,          // first address only, kept for the TTL or a fixed time; never another
    try_all,         // each address in order, per-attempt connect timeout, next on failure
    happy_eyeballs,  // next attempt after a fixed delay without waiting; first to connect wins
    browser,         // try-all without per-attempt timeout; answers kept at least 60 s
    system,          // glibc getaddrinfo through resolv.conf (RFC 6724 sorting), then try-all
};
inline constexpr Profile kProfiles[] = {Profile::single, Profile::try_all, Profile::happy_eyeballs,
                                        Profile::browser, Profile::system};
const char* profile_name(Profile);  // "single", "try-all", "happy-eyeballs", "browser", "system"
std::optional<Profile> parse_profile(std::string_view);

// One client profile as a scenario runs it.
struct ClientSpec {
    Profile profile = Profile::try_all;
    unsigned clients = 4;  // independent clients of this profile, each with its own cache
    double rate = 10;      // requests per second per client (closed loop: never two at once)
    // Per connection attempt; zero: none (the kernel's SYN retries, about 2 minutes, decide).
    Seconds connect_timeout{1.0};
    // The whole request, from the first attempt to the end of the response; its expiry is an
    // error. Bounds every request, so no run waits on the kernel.
    Seconds request_timeout{3.0};
    // Answers are kept max(TTL, min_cache); a fixed cache ignores the TTL altogether (Java keeps
    // positive answers 30 s). Zero: unset.
    Seconds min_cache{0};
    Seconds fixed_cache{0};
    Seconds attempt_delay{0.25};  // happy-eyeballs: the delay before the next attempt starts
};

enum class FaultKind : std::uint8_t {
    crash,        // SIGKILL: the address refuses connections until `restart`
    restart,      // the node's process starts again
    http500,      // POST /fail?mode=http500: up, but every answer (and /health) is a 500
    slow,         // POST /fail?mode=slow: answers delayed past any client's timeout
    recover,      // POST /recover: back to normal after http500 or slow
    degrade,      // POST /malloc until /health answers 503; then, after `hold`, until it exits
    blackhole,    // nftables drops every packet to the node's address: connects time out
    unblackhole,  // the rule is removed
};
const char* fault_name(FaultKind);
std::optional<FaultKind> parse_fault(std::string_view);

struct Fault {
    Seconds at{0};      // from the start of the measured run
    unsigned node = 0;  // 0-based index into the scenario's nodes
    FaultKind kind = FaultKind::crash;
    Seconds hold{3.0};  // degrade: how long the node stays degraded before it is pushed over
};

// The health checks nolbd (health-checked model) and HAProxy (load-balancer model) run against
// the nodes: the same settings for both, so the comparison is fair.
struct HealthSpec {
    Seconds interval{0.5};
    Seconds timeout{0.4};
    unsigned rise = 2;
    unsigned fall = 2;
};

struct Scenario {
    std::string name;         // from the file name unless set: "crash"
    std::string description;  // one paragraph for results.md
    std::string file;         // where it was read from ("" for built-in ones)

    std::vector<Model> models{std::begin(kModels), std::end(kModels)};
    unsigned nodes = 4;     // nolb-stats processes, node1..nodeN
    Seconds duration{20};   // the measured run, per model
    Seconds warmup{2};      // clients run, but nothing is recorded
    std::uint32_t ttl = 5;  // of the service's A records (and the load balancer's name)
    HealthSpec health;
    std::vector<ClientSpec> clients;  // default: one entry per profile
    std::vector<Fault> faults;        // in time order
};

// Reads and validates a scenario; throws config::Error listing every problem.
Scenario load_scenario(const std::string& path);
Scenario load_scenario_string(std::string_view text, const std::string& path);

}  // namespace nolb::compare
