// What one model's run leaves behind: a record per client request, the faults as applied, what
// nolbd published over time, and the costs read from /proc and nolbd. The clients and the lab
// write these; stats.cpp reduces them and report.cpp draws them. Times are seconds from the start
// of the measured run (after the warm-up), on the monotonic clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nolb-compare/scenario.hpp"

namespace nolb::compare {

// How a request ended. Everything but `ok` is an error the client's user sees.
enum class Outcome : std::uint8_t {
    ok,               // a 2xx response, read to its end
    http_error,       // a complete response with another status (500, 503, ...)
    refused,          // every address tried refused the connection
    connect_timeout,  // the last attempt's connect timed out (per-attempt timeout)
    reset,            // the connection closed or reset before a complete response
    request_timeout,  // the request's overall deadline passed
    dns_error,        // the name did not resolve (timeout, SERVFAIL, no addresses)
    local_error,      // out of sockets or the like: the harness's fault, reported apart
    unfinished,       // no timeout ended it, and it was still waiting when the run ended
};
inline constexpr int kOutcomeCount = 9;
const char* outcome_name(Outcome);  // "ok", "http-error", "refused", ...

struct RequestRecord {
    Profile profile = Profile::try_all;
    std::uint16_t client = 0;  // index within its profile
    double start = 0;          // seconds: when the request was due (open loop) or began
    double end = 0;
    // When its client began it: later than `start` while the client had as many requests open
    // as its program allows.
    double began = 0;
    bool attempted = true;  // false: due, but the run ended before it began (unfinished)
    Outcome outcome = Outcome::ok;
    std::uint16_t http_status = 0;  // when a status line was read
    std::int16_t node = -1;         // 0-based node that answered (from the body's "site"); -1
    std::uint8_t attempts = 0;      // connection attempts made (0 when resolution failed)
    bool resolved = false;          // this request started with a DNS lookup (not the cache)
    bool reused = false;            // it went over a kept-alive connection
    // Bit n: the request tried node n (connected to it or attempted to): what "avoiding" a
    // withdrawn node is measured by.
    std::uint64_t touched = 0;
    bool real = false;  // made by the real program (calibration), not by its profile
};

// A silence in one client's event stream longer than the stream's rhythm explains: from the
// last event before it to the first after it (or the run's end, `ended` false).
struct StreamGap {
    Profile profile = Profile::chromium;
    std::uint16_t client = 0;
    double from = 0;  // seconds
    double to = 0;
    std::int16_t node_before = -1;  // the node whose event came last before the gap
    std::int16_t node_after = -1;   // and first after it; -1 when none came
    bool ended = true;
    bool real = false;
};

// A fault as the lab applied it, with what it took.
struct AppliedFault {
    Fault fault;
    double at = 0;    // when applying it began (seconds)
    double done = 0;  // when it was in force (degrade: when the node exited)
    bool ok = true;
    std::string detail;  // what went wrong, or what happened ("degraded after 3 allocations")
};

// One observation of what the model sends traffic to (the lab looks every 100 ms): the nodes
// nolbd's answer for the service named, or, for the load-balancer model, the servers HAProxy's
// `show stat` had UP (a server failing checks but not yet down still takes requests).
struct PublishedSample {
    double at = 0;
    std::vector<std::uint16_t> nodes;  // 0-based, sorted
};

struct Costs {
    double nolbd_cpu_s = 0;  // user+sys of nolbd over the measured run (every instance)
    double lb_cpu_s = 0;     // user+sys of HAProxy (load-balancer model)
    // Memory, sampled with the answers every 100 ms (kB, every nolbd instance summed): the
    // largest VmRSS seen over the run, and VmHWM (the peak the kernel noted since the process
    // started) at its end. 0: not measured (no such process, or it was gone).
    std::uint64_t nolbd_rss_kb = 0;
    std::uint64_t nolbd_hwm_kb = 0;
    std::uint64_t lb_rss_kb = 0;
    std::uint64_t lb_hwm_kb = 0;
    std::uint64_t dns_queries = 0;  // received by nolbd over the run, the lab's own excluded
    // Sent by the profiles' clients over the run (to the resolver, or to nolbd without one);
    // a getaddrinfo counts two (A and AAAA).
    std::uint64_t client_queries = 0;
    std::uint64_t lb_requests = 0;  // requests HAProxy forwarded (from its own counters), or 0
    // dns_queries by name server (ns1, ns2, ...): which one the resolver tier asked. Unset for
    // one that was not the same process at the start and the end of the run (killed).
    std::vector<std::optional<std::uint64_t>> dns_queries_by_server;
};

struct RunResult {
    unsigned repetition = 0;  // of the scenario, 0-based
    std::uint64_t seed = 0;   // of the clients' arrivals
    Model model = Model::zero_admin;
    double duration = 0;  // measured seconds
    std::vector<RequestRecord> requests;
    std::vector<StreamGap> stream_gaps;
    std::vector<AppliedFault> faults;
    std::vector<PublishedSample> published;
    Costs costs;
    std::vector<std::string> notes;  // e.g. "profile system skipped: not in a namespace"
};

}  // namespace nolb::compare
