// What the control verbs answer, as typed values: the daemon's verbs (control/verbs.hpp) build
// them, the metrics endpoint renders them, and nolbctl shows them to people. They cross the
// control socket as JSON (control/encoding.hpp); nothing else in nolb reads or writes that
// JSON, so a field added here and forgotten by a reader is a compile error, not a key
// silently missing. Times are Unix seconds, latencies milliseconds, as on the socket.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nolb::control {

// ---- status ----------------------------------------------------------------------------------

struct LastProbe {
    std::string outcome;  // health::outcome_name
    int http_status = 0;  // 0: no status line was read
    double latency_ms = 0;
    std::string detail;
    double at = 0;

    bool operator==(const LastProbe&) const = default;
};

struct AddressStatus {
    std::string address, probe;
    std::string state;  // up, down, unknown
    bool published = false;
    double since = 0;
    std::string reason;
    std::uint64_t successes = 0, failures = 0;  // consecutive
    std::uint64_t probes = 0, probe_failures = 0, transitions = 0;
    std::optional<LastProbe> last;  // none before the first probe

    bool operator==(const AddressStatus&) const = default;
};

struct NodeStatus {
    std::string name;
    bool drained = false;
    std::vector<AddressStatus> addresses;

    bool operator==(const NodeStatus&) const = default;
};

struct ServiceStatus {
    std::string name;
    std::uint32_t ttl = 0;
    std::string health;    // http, tcp, none
    std::string all_down;  // all, none
    bool all_down_fired = false;
    std::vector<NodeStatus> nodes;

    bool operator==(const ServiceStatus&) const = default;
};

// A secondary of a zone, as nolbd has seen it: its last transfer request (transfer::Secondaries).
struct SecondaryStatus {
    std::string address;
    std::string last;  // what its last request got: axfr, ixfr, up_to_date, refused
    double last_at = 0;
    std::optional<std::uint32_t> held;  // the serial its last IXFR said it held
    std::optional<std::uint32_t> sent;  // the serial it was last sent
    // It was last sent an older serial than the zone's; for how long the zone has had a newer
    // one (0 when that time is no longer known).
    bool behind = false;
    double behind_s = 0;

    bool operator==(const SecondaryStatus&) const = default;
};

// A NOTIFY target of a zone (daemon side: transfer::TargetStatus).
struct NotifyStatus {
    std::string target;                     // "192.0.2.54:53"
    std::optional<std::uint32_t> sent;      // the serial of the last message sent
    std::optional<std::uint32_t> answered;  // of the last one answered
    std::optional<double> sent_at, answered_at;
    std::optional<std::string> rcode;  // of the last answer
    std::uint64_t in_flight = 0;       // messages of the NOTIFY waiting for its answer
    std::uint64_t messages = 0, notifies_answered = 0, notifies_failed = 0;

    bool operator==(const NotifyStatus&) const = default;
};

struct ZoneStatus {
    std::string origin;
    std::uint32_t serial = 0;
    std::vector<SecondaryStatus> secondaries;
    std::vector<NotifyStatus> notify;

    bool operator==(const ZoneStatus&) const = default;
};

struct Status {
    std::vector<ServiceStatus> services;
    std::vector<ZoneStatus> zones;  // every zone, unless one service was asked for

    bool operator==(const Status&) const = default;
};

// ---- drain and undrain -------------------------------------------------------------------------

struct DrainMatch {
    std::string service, node;

    bool operator==(const DrainMatch&) const = default;
};

struct DrainResult {
    std::string node;  // as the operator wrote it
    bool drained = false;
    std::vector<DrainMatch> matched;
    bool persisted = true;  // the state file was written (or there is none)
    // When every resolver's copy of the node's addresses has expired; undrain: none.
    std::optional<double> safe_at, safe_in_s;

    bool operator==(const DrainResult&) const = default;
};

// ---- explain -----------------------------------------------------------------------------------

struct ExplainAddress {
    std::string node, address;
    int family = 4;
    bool included = false;
    std::string reason;

    bool operator==(const ExplainAddress&) const = default;
};

struct Explain {
    std::string name, type, rcode;
    bool aa = false;
    std::vector<std::string> answer, authority, additional;  // zone-file lines
    std::optional<std::uint32_t> ttl;
    std::string ttl_source;
    std::optional<std::string> service;  // the service behind the answer, if one is
    bool all_down_fired = false;
    std::vector<ExplainAddress> addresses;

    bool operator==(const Explain&) const = default;
};

// ---- reload, check -----------------------------------------------------------------------------

struct ReloadResult {
    bool reloaded = false;
    std::vector<std::string> problems;  // "file:line:col: key: message"

    bool operator==(const ReloadResult&) const = default;
};

struct CheckService {
    std::string name;
    std::uint64_t up = 0, total = 0;  // nodes, drained ones left out

    bool operator==(const CheckService&) const = default;
};

// A secondary further behind than its zone's max_lag.
struct CheckSecondary {
    std::string zone, address;
    double behind_s = 0;

    bool operator==(const CheckSecondary&) const = default;
};

struct Check {
    int status = 0;  // 0 every node up, 1 some down or a secondary lagging, 2 a service has none up
    std::vector<CheckService> services;
    std::vector<CheckSecondary> lagging;

    bool operator==(const Check&) const = default;
};

// ---- stats -------------------------------------------------------------------------------------

struct QueryStats {
    std::uint64_t total = 0, dropped = 0, truncated = 0;
    std::map<std::string, std::uint64_t> by_type;   // "A" -> count, nonzero ones only
    std::map<std::string, std::uint64_t> by_rcode;  // "NOERROR" -> count, ditto

    bool operator==(const QueryStats&) const = default;
};

struct ProbeStats {
    std::uint64_t sent = 0, failed = 0, late = 0, overlapped = 0;

    bool operator==(const ProbeStats&) const = default;
};

// How long publishing took (daemon side: publish::PublishTimes).
struct PublishStats {
    double last_ms = 0, max_ms = 0;
    std::uint64_t changes = 0;
    double full_ms = 0;

    bool operator==(const PublishStats&) const = default;
};

struct TcpStats {
    std::uint64_t accepted = 0, refused = 0, refused_per_client = 0, evicted = 0, timed_out = 0,
                  io_timed_out = 0;

    bool operator==(const TcpStats&) const = default;
};

struct UdpStats {
    std::uint64_t received = 0, sent = 0, errors = 0;

    bool operator==(const UdpStats&) const = default;
};

struct RrlStats {
    std::uint64_t limited = 0, slipped = 0, dropped = 0;

    bool operator==(const RrlStats&) const = default;
};

// Zone transfers and signed messages served (daemon side: transfer::Totals).
struct TransferStats {
    std::uint64_t axfr = 0, ixfr = 0, up_to_date = 0, refused = 0, not_zone = 0, tsig_errors = 0,
                  signed_other = 0;

    bool operator==(const TransferStats&) const = default;
};

struct Stats {
    std::uint64_t generation = 0;
    double uptime_s = 0;
    QueryStats queries;
    ProbeStats probes;
    std::uint64_t transitions = 0;
    PublishStats publish;
    TcpStats tcp;
    UdpStats udp;
    RrlStats rrl;
    TransferStats transfers;

    bool operator==(const Stats&) const = default;
};

// ---- watch
// ---------------------------------------------------------------------------------------

// One health transition, pushed to every watcher as it happens.
struct WatchEvent {
    double at = 0;
    std::string service, node, address;
    std::string from, to;  // up, down, unknown
    std::string reason;

    bool operator==(const WatchEvent&) const = default;
};

}  // namespace nolb::control
