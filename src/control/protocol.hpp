// The control protocol between nolbd and nolbctl, over a Unix stream socket: one JSON object per
// line each way. A request is {"verb": "...", "args": {...}}; a reply is {"ok": true, "result":
// ...} or {"ok": false, "error": "..."}. `watch` replies with one line per event until the
// client goes away. The verbs are listed once, here, for both sides.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "control/documents.hpp"

namespace nolb::control {

using Json = nlohmann::json;

enum class Verb { status, watch, drain, undrain, explain, reload, stats, check };

struct VerbInfo {
    Verb verb;
    std::string_view name;
    std::string_view args;  // for help texts
    std::string_view meaning;
};

inline constexpr VerbInfo kVerbs[] = {
    {Verb::status, "status", "[SERVICE]", "every address: state, since, last probe, counters"},
    {Verb::watch, "watch", "", "stream health transitions as they happen"},
    {Verb::drain, "drain", "NODE", "take a node out of the answers (kept across restarts)"},
    {Verb::undrain, "undrain", "NODE", "put a drained node back"},
    {Verb::explain, "explain", "NAME [TYPE]", "what nolbd answers now for NAME, and why"},
    {Verb::reload, "reload", "", "load the configuration again (a bad one is rejected)"},
    {Verb::stats, "stats", "", "queries by type and rcode, probes, snapshot generation"},
    {Verb::check, "check", "", "exit 0: all nodes up, 1: some down, 2: a service has none up"},
};

std::optional<Verb> verb_from_name(std::string_view name);
std::string_view verb_name(Verb verb);

// A request line longer than this closes the connection: no verb takes more than a few names.
inline constexpr std::size_t kMaxLine = 64 * 1024;

// Arguments by verb: status {"service"?}, drain and undrain {"node"}, explain {"name",
// "type"? (default "A")}; the others take none.
struct Request {
    Verb verb = Verb::status;
    Json args = Json::object();
};

// One request line (without its newline): the request, or why it is not one.
struct ParsedRequest {
    std::optional<Request> request;
    std::string error;
};
ParsedRequest parse_request(std::string_view line);

// Complete lines, newline included. Strings that are not UTF-8 are repaired, never refused.
std::string json_line(const Json& document);  // a watch event, or any document
std::string request_line(Verb verb, const Json& args = Json::object());
std::string ok_line(const Json& result);
std::string error_line(std::string_view message);

// One reply line as the client sees it; a line that is not a reply gives ok = false.
struct Reply {
    bool ok = false;
    Json result;
    std::string error;
};
Reply parse_reply(std::string_view line);

// What the daemon offers the control server and the metrics endpoint, as typed documents
// (control/documents.hpp); control/encoding.hpp turns them into the JSON below at the socket.
// Implemented by nolbd on its main event loop; every call happens on that loop, so
// implementations need no locks. On the socket (times are Unix seconds as numbers, latencies
// milliseconds):
//
// status:  {"services": [{"name", "ttl", "health": "http|tcp|none", "all_down": "all|none",
//            "all_down_fired": bool, "nodes": [{"name", "drained": bool, "addresses": [
//              {"address", "probe", "state": "up|down|unknown", "published": bool, "since",
//               "reason", "successes", "failures", "probes", "probe_failures", "transitions",
//               "last": null | {"outcome", "http_status", "latency_ms", "detail", "at"}}]}]}]}
// drain:   {"node", "drained": bool, "matched": [{"service", "node"}], "persisted": bool,
//           "safe_at": number|null, "safe_in_s": number|null}
//           (safe: when the longest TTL it was published under ends)
// explain: {"name", "type", "rcode", "aa": bool, "answer": ["zone-file lines"], "authority":
//           [...], "additional": [...], "ttl": number|null, "ttl_source": "...",
//           "service": null | name, "all_down_fired": bool,
//           "addresses": [{"node", "address", "family": 4|6, "included": bool, "reason"}]}
// reload:  {"reloaded": bool, "problems": ["file:line:col: key: message", ...]}
// stats:   {"generation", "uptime_s", "queries": {"total", "dropped", "truncated",
//           "by_type": {"A": n, ...}, "by_rcode": {"NOERROR": n, ...}},
//           "probes": {"sent", "failed", "late", "overlapped"}, "transitions",
//           "publish": {"last_ms", "max_ms", "changes", "full_ms"},
//           "tcp": {"accepted", "refused", "refused_per_client", "evicted", "timed_out",
//                   "io_timed_out"}, "udp": {"received", "sent", "errors"},
//           "rrl": {"limited", "slipped", "dropped"}}
// check:   {"status": 0|1|2, "services": [{"name", "up", "total"}]}
// watch events: {"event": "transition", "at", "service", "node", "address", "from", "to",
//                "reason"}
class Backend {
  public:
    virtual ~Backend() = default;
    // status, drain and explain throw std::invalid_argument for an unknown service, node or
    // record type: the operator's mistake, answered as an error.
    virtual Status status(const std::optional<std::string>& service) = 0;
    virtual DrainResult drain(const std::string& node, bool drained) = 0;
    virtual Explain explain(const std::string& name, const std::string& type) = 0;
    virtual ReloadResult reload() = 0;
    virtual Stats stats() = 0;
    virtual Check check() = 0;
    // Registers a listener for transitions; returns an id for unwatch.
    virtual int watch(std::function<void(const WatchEvent&)> listener) = 0;
    virtual void unwatch(int id) = 0;
};

}  // namespace nolb::control
