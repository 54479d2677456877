// The validated configuration: plain structs that config::load fills from TOML and everything
// else reads. Nothing here parses or validates; by the time a Config exists it is known good
// (names absolute and lower-cased, addresses parsed, every service inside a zone).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/ip.hpp"

namespace nolb::config {

// Where a value came from, for messages that point at the line an operator must fix.
struct Source {
    std::string file;
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    std::string to_string() const;  // "file:line:column" (or just "file" when line is 0)
};

struct Server {
    std::vector<util::Endpoint> listen;  // UDP and TCP are both opened on each
    unsigned workers = 1;
    std::uint16_t edns_payload = 1232;
    std::chrono::milliseconds tcp_idle_timeout{10'000};
    // From a query's first octet to its last, and from an answer's first write to its last:
    // a client that trickles its query or does not read its answers is cut off after this.
    std::chrono::milliseconds tcp_io_timeout{2'000};
    unsigned tcp_max_connections = 256;  // in total, across workers
    unsigned tcp_max_per_client = 32;    // from one client address, across workers
    // Started as root, nolbd binds its sockets and then runs as this user (and group; "": the
    // user's primary group). Empty while root: nolbd refuses to start. "root" keeps root.
    std::string user;
    std::string group;
    bool chaos = false;    // answer version.bind / id.server in class CH
    std::string identity;  // id.server / hostname.bind answer; default: hostname
    std::string version;   // version.bind answer; default: "nolbd <version>"
    std::string log_level = "info";
};

struct Soa {
    std::string mname;                    // absolute; defaults to the first NS
    std::string rname;                    // absolute mailbox name; default hostmaster.<origin>
    std::optional<std::uint32_t> serial;  // nullopt: "auto" (seconds since the epoch at load)
    std::uint32_t refresh = 3600;
    std::uint32_t retry = 600;
    std::uint32_t expire = 1'209'600;
    std::uint32_t minimum = 60;        // negative-caching TTL (RFC 2308)
    std::optional<std::uint32_t> ttl;  // SOA RR TTL; default: the zone's ttl
};

struct NameServer {
    std::string name;                        // absolute
    std::vector<util::IpAddress> addresses;  // glue, published when name is inside the zone
    Source where;
};

// A record in zone-file syntax ("mail 300 IN MX 10 mx1"), relative to the zone origin.
struct RecordText {
    std::string text;
    Source where;
};

// A TSIG key (RFC 8945), which signs transfers and NOTIFY.
struct Key {
    std::string name;                  // absolute, lower case, with the trailing dot
    std::string algorithm;             // "hmac-sha256", "hmac-sha512" or "hmac-sha1"
    std::vector<std::uint8_t> secret;  // decoded from secret_file (base64)
    std::string secret_file;           // resolved against the config's folder
    Source where;
};

// Who may take a zone by transfer (AXFR, IXFR), how much history IXFR keeps, and whom NOTIFY
// (RFC 1996) tells of each new serial.
struct Transfer {
    std::vector<util::Prefix> allow;  // client addresses that may transfer; empty: nobody
    std::vector<std::string> keys;    // when not empty, a transfer must be signed by one of these
    std::size_t journal_changes = 1000;    // serials IXFR can start from
    std::size_t journal_bytes = 16 << 20;  // and the most their differences may take
    std::vector<util::Endpoint> notify;    // secondaries told of each new serial
    bool notify_ns = true;   // and the glue addresses of the zone's name servers but the mname's
    std::string notify_key;  // the key NOTIFY is signed with (default: keys' first); "": none
    std::chrono::milliseconds notify_gap{1000};  // the least time between two to one target
    // `nolbctl check` warns of a secondary last sent a serial this much older than the zone's.
    std::chrono::milliseconds max_lag{60'000};
    unsigned notify_retries = 5;  // unanswered, sent again this many times
    std::chrono::milliseconds notify_retry_interval{1000};  // the first wait; it doubles
    bool enabled() const { return !allow.empty(); }
};

struct Zone {
    std::string origin;  // absolute, lower case, with the trailing dot
    std::uint32_t ttl = 3600;
    Soa soa;
    std::vector<NameServer> ns;
    std::optional<std::string> file;  // master file, path resolved against the config's folder
    std::vector<RecordText> records;
    Transfer transfer;
    Source where;
};

// How a node's addresses are checked. `none` is zero-admin: publish every address.
enum class HealthMode { none, http, tcp };

struct StatusRange {  // accepted HTTP status codes, inclusive
    std::uint16_t low = 200;
    std::uint16_t high = 299;
    bool operator==(const StatusRange&) const = default;
};

struct HealthCheck {
    HealthMode type = HealthMode::none;
    std::uint16_t port = 80;
    std::string path = "/";  // http: the request target
    std::string host;        // http: Host header; default: service name
    // http: accepted codes; one default range, 200-299 (the {{200, 299}} spelling trips a false
    // maybe-uninitialized warning in GCC 12 at -O2 wherever a HealthCheck is built inline)
    std::vector<StatusRange> status = std::vector<StatusRange>(1);
    std::string body;                          // http: substring the body must hold ("" = any)
    std::chrono::milliseconds interval{1000};  // between probes of one address
    // From a result to the next probe while the address is in transition (a failure while up,
    // a success while down, short of fall or rise), and from the start of a probe of an up
    // address still unanswered to the next one, overlapping it. Unset: a fifth of interval,
    // which a node that changes only its interval then follows. At most interval.
    std::optional<std::chrono::milliseconds> fast_interval;
    std::chrono::milliseconds timeout{1000};  // connect + response
    double jitter = 0.1;                      // each interval drawn in interval * (1 +- jitter)
    unsigned rise = 2;                        // consecutive successes to go up
    unsigned fall = 2;                        // consecutive failures to go down
    bool operator==(const HealthCheck&) const = default;

    std::chrono::milliseconds fast_interval_or_default() const {
        return fast_interval.value_or(interval / 5);
    }
};

// What a service publishes for an address family whose every address is down.
enum class AllDown {
    all,   // every address (fail open: clients may still find one that works)
    none,  // nothing (NODATA)
};

// An address's state before its first probe completes.
enum class Startup {
    probe,  // the first probe result decides at once (nolbd waits for it before answering)
    up,     // assume up; `fall` failures take it out
    down,   // assume down; `rise` successes bring it in
};

struct Node {
    std::string name;
    std::vector<util::IpAddress> addresses;        // published
    std::vector<util::IpAddress> probe_addresses;  // empty: probe `addresses`; else paired by index
    HealthCheck health;  // the service's check with this node's [service.node.health] overrides
    Source where;
};

struct Service {
    std::string name;  // absolute, lower case; inside exactly one configured zone (the deepest)
    std::uint32_t ttl = 20;
    HealthCheck health;  // [service.health], or `health = "none"`
    AllDown all_down = AllDown::all;
    Startup startup = Startup::probe;
    std::vector<Node> nodes;
    Source where;
};

struct Control {
    std::string socket = "/run/nolb/nolbd.sock";  // Unix socket for nolbctl ("" = none)
    unsigned mode = 0660;                         // its permission bits
    std::string state_file;  // where drains are kept across restarts ("" = not kept)
};

// Response rate limiting (RRL, as NSD and Knot offer it): UDP responses to one client prefix
// beyond `responses_per_second` are dropped, except every `slip`-th, which goes out truncated
// (TC=1, no records) so a real client retries over TCP. Each UDP thread keeps its own buckets.
struct Rrl {
    unsigned responses_per_second = 0;  // per prefix; 0: off
    unsigned slip = 2;                  // 0: never slip; 1: every limited response slips
    unsigned ipv4_prefix = 24;
    unsigned ipv6_prefix = 56;
    unsigned buckets = 65'536;  // per UDP thread; prefixes that share a bucket share a limit
    bool operator==(const Rrl&) const = default;
};

struct Metrics {
    std::optional<util::Endpoint> listen;  // Prometheus text endpoint, off when unset
};

struct Config {
    std::string path;  // the file it was loaded from
    Server server;
    std::vector<Key> keys;
    std::vector<Zone> zones;
    std::vector<Service> services;
    Control control;
    Rrl rrl;
    Metrics metrics;
};

// Every problem found in a config, each "file:line:column: key: message", in file order.
class Error : public std::runtime_error {
  public:
    explicit Error(std::vector<std::string> problems);
    const std::vector<std::string>& problems() const { return problems_; }

  private:
    std::vector<std::string> problems_;
};

// Reads and validates the whole file; throws config::Error listing every problem found.
Config load(const std::string& path);
// The same for text already in memory (tests, fuzzers); `path` names it in messages.
Config load_string(std::string_view text, const std::string& path);

}  // namespace nolb::config
