// The profile table. Every value here was measured with the real program in nolb-compare's lab
// (contrib/calibrate/ drives each one; `nolb-compare calibrate` puts the program and its profile
// side by side under the same faults) or read from its source where the lab cannot show it;
// README.md ("Client profiles") lists the measurements and the calibration results.
#include "nolb-compare/profiles.hpp"

namespace nolb::compare {
namespace {

using namespace std::chrono_literals;

struct Entry {
    const char* name;
    const char* program;
    const char* driver;  // in contrib/calibrate/, or nullptr
    ClientSpec spec;     // what the program does by default
};

constexpr Entry kEntries[] = {
    // Its own DNS client (A and AAAA), a host cache of at least a minute (the TTL when longer),
    // the addresses in the order received; after 300 ms without a connection a second connector
    // starts on the next address (Happy Eyeballs v2: two at most, each moving on only when its
    // attempt fails); 4 minutes to connect in all; pooled keep-alive connections (5 minutes
    // idle), a request on one found closed sent again on a new one; at most 6 connections to
    // a host, further requests waiting for one; no request timeout; the page's event stream.
    {"chromium",
     "Chromium (Debian 12's chromium package)",
     "chromium.mjs",
     {.profile = Profile::chromium,
      .max_in_flight = 6,
      .lookup = Lookup::stub,
      .min_cache = 60s,
      .ask_aaaa = true,
      .attempts = Attempts::staggered,
      .attempt_timeout = 0.3s,
      .parallel = 2,
      .connect_timeout = 240s,
      .request_timeout = 0s,
      .keep_idle = 300s,
      .stream = true}},
    // InetAddress keeps answers 30 s whatever the TTL (no SecurityManager); the socket connects
    // to the first address; no connect or read timeout by default; the keep-alive cache holds an
    // idle connection 5 s; a request whose connection fails before the response headers is sent
    // once more on a new one.
    {"java",
     "OpenJDK 17 HttpURLConnection",
     "java.sh",
     {.profile = Profile::java,
      .lookup = Lookup::system,
      .fixed_cache = 30s,
      .attempts = Attempts::first_only,
      .attempt_timeout = 0s,
      .request_timeout = 0s,
      .keep_idle = 5s,
      .retry_lost = true}},
    // dns.lookup (getaddrinfo) for every connection, the first address only (autoSelectFamily
    // is off by default), no timeouts, no keep-alive in the global agent.
    {"node18",
     "Node.js 18.19 http.get",
     "client.mjs",
     {.profile = Profile::node18,
      .lookup = Lookup::system,
      .attempts = Attempts::first_only,
      .attempt_timeout = 0s,
      .request_timeout = 0s}},
    // autoSelectFamily on: every address in turn, each but the last abandoned after 250 ms; the
    // global agent keeps connections alive (5 s idle).
    {"node20",
     "Node.js 20 http.get",
     "client.mjs",
     {.profile = Profile::node20,
      .lookup = Lookup::system,
      .attempts = Attempts::sequential,
      .attempt_timeout = 0.25s,
      .last_attempt_unbounded = true,
      .request_timeout = 0s,
      .keep_idle = 5s}},
    // One process per request: getaddrinfo, the addresses of a family one at a time, each but
    // the last with half of the connect time left; 300 s to connect in all; the next address
    // when its loop next wakes (curl_wakeups).
    {"curl",
     "curl 7.88 (one run per request)",
     "curl.sh",
     {.profile = Profile::curl,
      .lookup = Lookup::system,
      .attempts = Attempts::sequential,
      .attempt_timeout = 0s,
      .halve_remaining = true,
      .curl_wakeups = true,
      .connect_timeout = 300s,
      .request_timeout = 0s}},
    // socket.create_connection: every address in order, each with the whole timeout, which
    // urlopen leaves unset.
    {"python",
     "CPython 3.11 urllib.request",
     "client.py",
     {.profile = Profile::python,
      .lookup = Lookup::system,
      .attempts = Attempts::sequential,
      .attempt_timeout = 0s,
      .request_timeout = 0s}},
    // The essay's loop: getaddrinfo, then each address with a connect timeout of its own.
    {"glibc-loop",
     "a C loop: getaddrinfo, connect with a 1 s timeout",
     nullptr,
     {.profile = Profile::glibc_loop,
      .lookup = Lookup::system,
      .attempts = Attempts::sequential,
      .attempt_timeout = 1s,
      .request_timeout = 3s}},
    {"try-all",
     "a model: own DNS cache by TTL, 1 s per address",
     nullptr,
     {.profile = Profile::try_all,
      .lookup = Lookup::stub,
      .attempts = Attempts::sequential,
      .attempt_timeout = 1s,
      .request_timeout = 3s}},
};

const Entry* find(Profile profile) {
    for (const Entry& e : kEntries)
        if (e.spec.profile == profile) return &e;
    return nullptr;
}

}  // namespace

const char* profile_name(Profile profile) {
    const Entry* e = find(profile);
    return e ? e->name : "unknown";
}

std::optional<Profile> parse_profile(std::string_view text) {
    for (const Entry& e : kEntries)
        if (text == e.name) return e.spec.profile;
    return std::nullopt;
}

const char* profile_program(Profile profile) {
    const Entry* e = find(profile);
    return e ? e->program : "unknown";
}

std::optional<std::string_view> profile_driver(Profile profile) {
    const Entry* e = find(profile);
    if (!e || !e->driver) return std::nullopt;
    return std::string_view(e->driver);
}

ClientSpec builtin_spec(Profile profile) {
    const Entry* e = find(profile);
    ClientSpec spec = e ? e->spec : ClientSpec{};
    spec.profile = profile;
    return spec;
}

}  // namespace nolb::compare
