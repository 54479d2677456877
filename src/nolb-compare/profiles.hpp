// The client profiles: each one is a real program's way of turning a name into a connection,
// with that program's defaults (where its addresses come from, how long it keeps them, which
// addresses it tries, when it gives up on one, whether it reuses connections), or, for
// `try-all`, a model of no particular program. profiles.cpp holds the table: the program and
// version each profile reproduces, and the behaviour measured with that program in the lab
// (`nolb-compare calibrate` checks each against the real thing). The fleet (clients.cpp) reads
// only ClientSpec; nothing else knows which program a profile stands for.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace nolb::compare {

using Seconds = std::chrono::duration<double>;

enum class Profile : std::uint8_t {
    chromium,    // Debian's chromium: its own DNS client and host cache, pooled connections
    java,        // OpenJDK 17 HttpURLConnection: the first address only, answers kept 30 s
    node18,      // Node.js 18 http.get: the first address only
    node20,      // Node.js 20 http.get: every address, 250 ms each (autoSelectFamily)
    curl,        // curl 7.88, once per request: every address, half the time left each
    python,      // CPython 3.11 urllib: every address, each with the whole (absent) timeout
    glibc_loop,  // a C loop: getaddrinfo, then each address with a 1 s connect timeout
    try_all,     // a model: its own DNS cache by TTL, each address with a 1 s connect timeout
};
inline constexpr Profile kProfiles[] = {Profile::chromium,   Profile::java,   Profile::node18,
                                        Profile::node20,     Profile::curl,   Profile::python,
                                        Profile::glibc_loop, Profile::try_all};
const char* profile_name(Profile);  // "chromium", "java", ..., "glibc-loop", "try-all"
std::optional<Profile> parse_profile(std::string_view);
// The real program a profile reproduces, with its version ("curl 7.88.1"), or "a model" for
// try-all; and the script in contrib/calibrate/ that drives it (none for the two without one).
const char* profile_program(Profile);
std::optional<std::string_view> profile_driver(Profile);

// Where a client's addresses come from.
enum class Lookup : std::uint8_t {
    // glibc's getaddrinfo through the host's resolv.conf: RFC 6724 order, no TTL. Only where
    // resolv.conf names the lab's resolver (nolb-compare's own network namespace).
    system,
    // DNS queries of its own to the resolver, answers used in the order received.
    stub,
};

// Which addresses of an answer a request tries, and when it moves on.
enum class Attempts : std::uint8_t {
    first_only,  // the first address, never another
    // In order; the next starts when an attempt fails or when its own time is up, and the one
    // that ran out of time is abandoned.
    sequential,
    // In order; the next also starts when `attempt_timeout` has passed without a connection,
    // while the earlier attempts go on (at most `parallel` at once): the first to connect wins.
    staggered,
};

// When a client's requests are due.
enum class Arrivals : std::uint8_t {
    // Open loop: a Poisson process of `rate` per second, whatever became of the earlier
    // requests; a request due while the client already has `max_in_flight` open waits for one
    // of them to end, and its time counts from when it was due.
    poisson,
    // Closed loop: one request at a time, the next one period (1 / rate) after the previous one
    // started, or at once when it ended later. The real programs' drivers run so, and
    // calibration runs their profiles so.
    closed,
};

// How one client of a profile behaves; built-in per profile, adjustable by a scenario.
struct ClientSpec {
    Profile profile = Profile::try_all;
    // Independent clients of this profile, each with its own state (cache, address order,
    // connections): the users of the service, as many as a scenario wants.
    unsigned clients = 4;
    double rate = 10;  // requests per second per client
    Arrivals arrivals = Arrivals::poisson;
    // Requests one client has open at once (its program's connections per host); 0: as many as
    // are due, up to kMaxInFlight (clients.cpp), past which they wait as above.
    unsigned max_in_flight = 0;

    Lookup lookup = Lookup::stub;
    // Answers are kept max(TTL, min_cache) (stub) or min_cache (system); a fixed cache keeps
    // them that long whatever the TTL. Zero: unset. A system lookup without either resolves for
    // every connection, as getaddrinfo callers do.
    Seconds min_cache{0};
    Seconds fixed_cache{0};
    // A stub lookup also asks for AAAA, as a dual-stack client does (the lab's nodes have only
    // IPv4 addresses, so only the query count changes).
    bool ask_aaaa = false;

    Attempts attempts = Attempts::sequential;
    // sequential: each attempt's own limit; staggered: the delay before the next attempt. Zero:
    // none (the kernel's SYN retries end a silent attempt, about 130 s).
    Seconds attempt_timeout{1.0};
    // sequential: an attempt that is not the last gets half of the connect time left instead
    // (curl), the last all of it.
    bool halve_remaining = false;
    bool last_attempt_unbounded = false;  // sequential: no attempt_timeout on the last address
    // A failed attempt is noticed, and the next one started, only when the program's loop
    // next wakes, as in curl 7.88: at a timer left from polling its resolver thread, which a
    // lookup of 3 ms or more leaves due a tenth of the lookup's time after the first attempt
    // starts; at its happy-eyeballs timer, 200 ms after an attempt starts; then once a second.
    // So a refused first address costs nothing after a slow lookup and 200 ms after a fast one.
    bool curl_wakeups = false;
    unsigned parallel = 0;       // staggered: attempts at once; 0: no limit
    Seconds connect_timeout{0};  // all attempts of one request together; zero: none
    // The whole request, from its start to the end of the response; zero: none. Its expiry is
    // an error. A request without one that never ends is counted as unfinished at the run's end.
    Seconds request_timeout{3.0};

    // After a complete response the connection is kept and the next request goes over it; one
    // that turns out closed (no byte of a response) is replaced by a new connection, as HTTP
    // clients do for idempotent requests. Idle longer than keep_idle: closed. Zero: no reuse.
    Seconds keep_idle{0};
    // A request whose new connection ends before any byte of the response is sent once more on
    // another new connection (Java's HttpURLConnection does so for any request but a streamed
    // one).
    bool retry_lost = false;

    // A long-lived event stream (GET /events, Server-Sent Events) held beside the requests, as
    // the demo page holds one: reconnected `stream_retry` after it ends, never after an HTTP
    // error (EventSource's rules), and, with a watchdog, also when it has been silent that long.
    bool stream = false;
    Seconds stream_retry{0.5};
    Seconds stream_watchdog{0};
};

// The profile's built-in behaviour: its program's defaults.
ClientSpec builtin_spec(Profile profile);

}  // namespace nolb::compare
