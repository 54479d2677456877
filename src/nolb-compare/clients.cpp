// The client fleet: every client of every profile as a small state machine on the caller's event
// loop. A client is one user of the service: its own address cache, lookups, kept-alive
// connections and event stream. Its requests are due on a schedule of their own (a Poisson
// process, or for calibration a closed loop), and each due request is a Request object of its
// own, so that a client stuck on a silent address goes on issuing requests, as the users of a
// service do, up to the connections its program allows; further ones wait for a free one. A
// request goes: a kept-alive connection if the client holds one, else addresses (the client's
// cache, or a lookup it shares with its other requests) and a Dial, the profile's connection
// attempts; then the HTTP exchange. A client of a streaming profile also holds an event stream,
// which reconnects by EventSource's rules and records its silences.
//
// Sockets are non-blocking and closed with SO_LINGER 0 when abandoned, so thousands of short
// connections leave no TIME_WAIT behind. Stub lookups go through libevent's evdns to the
// target's DNS server only; system lookups through the getaddrinfo threads of resolver.cpp.
// evdns runs its callbacks deferred, even for a lookup whose request has ended, so each query
// carries a small ticket that outlives the request and, if need be, the fleet: the callback
// frees it, and the fleet reports itself drained only once every ticket has come back.
#include "nolb-compare/clients.hpp"

#include <event2/dns.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "nolb-compare/http_exchange.hpp"
#include "nolb-compare/resolver.hpp"
#include "nolb-compare/timeval.hpp"
#include "util/event.hpp"
#include "util/rng.hpp"

namespace nolb::compare {
namespace {

constexpr std::size_t kMaxResponse = 64 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr int kReadsPerWakeup = 8;  // then back to the loop, so one client cannot hog it
// Requests one client has open at once when its program sets no limit (each is a process or a
// thread of its own): enough for a client stuck on a silent address for the kernel's 130 s at
// a few requests a second, and a bound on the sockets a fleet can hold.
constexpr unsigned kMaxInFlight = 512;
constexpr std::size_t kMaxIdle = 8;  // kept-alive connections per client
constexpr Seconds kStreamStartSpread{2.0};
// A lookup should never wait behind evdns's own cap (64 by default) when many caches expire at
// once: the queueing would be ours, not the resolver's.
constexpr const char* kMaxInflight = "1024";
// getaddrinfo with AF_UNSPEC asks for A and AAAA.
constexpr std::uint64_t kQueriesPerGetaddrinfo = 2;
constexpr unsigned kSlotBits = 20;  // system lookups: ticket = generation << kSlotBits | slot
// curl 7.88's wakeups (ClientSpec::curl_wakeups), measured with a DNS server that answers
// after a set time: its threaded resolver is polled at ever longer intervals once a lookup has
// taken 3 ms, and the timer of the last poll outlives the answer by about a tenth of the lookup.
constexpr Seconds kCurlSlowLookup{0.003};
constexpr double kCurlLeftoverShare = 0.1;
constexpr Seconds kCurlEyeballs{0.2};  // its happy-eyeballs timer, armed for every attempt
constexpr Seconds kCurlTick{1.0};      // the curl tool's longest wait in curl_multi_poll
// nolb-stats sends an event every 0.5 s: a silence longer than this is an outage of the stream.
constexpr double kStreamGap = 1.0;
constexpr const char* kSystemNotRun =
    "not run: getaddrinfo would not ask the lab's resolver here (run nolb-compare as root, in "
    "its own network namespace)";

double seconds(Clock::duration d) {
    return std::chrono::duration_cast<Seconds>(d).count();
}

Clock::duration to_duration(Seconds s) {
    return std::chrono::duration_cast<Clock::duration>(s);
}

// An abortive close: RST instead of FIN, so no TIME_WAIT stays on our side.
void close_abortive(int fd) {
    const linger off{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof off);
    ::close(fd);
}

// How a failed connection attempt counts. An unreachable address (no route, or a firewall
// rejecting locally) fails like one that never answers; what the harness ran out of is its own.
Outcome connect_failure(int error) {
    switch (error) {
        case ECONNREFUSED:
            return Outcome::refused;
        case ETIMEDOUT:
        case EHOSTUNREACH:
        case ENETUNREACH:
        case EHOSTDOWN:
        case ENETDOWN:
        case EPERM:
        case EACCES:
            return Outcome::connect_timeout;
        case ECONNRESET:
        case ECONNABORTED:
        case EPIPE:
            return Outcome::reset;
        default:
            return Outcome::local_error;
    }
}

std::uint64_t bit(std::int16_t node) {
    return node >= 0 && node < 64 ? std::uint64_t{1} << node : 0;
}

}  // namespace

struct Fleet::Impl {
    struct Client;
    struct Request;
    struct Dial;

    // One TCP connection from its connect() on: an attempt, then the connection a request or
    // the stream uses, or an idle one kept for the next request.
    struct Conn {
        Client* client = nullptr;
        Request* request = nullptr;  // while a request's exchange uses it
        Dial* dial = nullptr;        // while it is an attempt
        int fd = -1;
        int early_error = 0;  // connect() failed at once; reported from the loop all the same
        std::int16_t node = -1;
        Clock::time_point began{};     // an attempt's connect()
        Clock::time_point limit_at{};  // when an attempt's own limit ends it, if it has one
        util::Event io;
        util::Event timer;  // an attempt's own limit; an idle connection's idle limit

        Conn() = default;
        Conn(const Conn&) = delete;
        Conn& operator=(const Conn&) = delete;
        ~Conn() {
            io.reset();
            timer.reset();
            if (fd >= 0) close_abortive(fd);
        }
    };

    // The connection attempts of one request (or one stream connection), by the profile's rules.
    // It reports once: the connection that won, or the failure that ended the last attempt.
    struct Dial {
        Client* client = nullptr;
        Request* request = nullptr;  // null: the stream's
        std::vector<SocketAddress> addresses;
        std::vector<std::int16_t> nodes;  // of each address
        std::size_t next = 0;
        std::vector<std::unique_ptr<Conn>> attempts;
        unsigned made = 0;
        std::uint64_t touched = 0;
        Outcome last_failure = Outcome::refused;
        Clock::time_point began{};
        Clock::time_point attempt_began{};    // of the latest attempt
        Seconds lookup_took{0};               // how long the addresses took to come (0: cached)
        Clock::time_point resolver_wakeup{};  // curl_wakeups: the leftover timer, if any
        bool running = false;
        util::Event stagger;  // the next attempt starts (staggered, or when curl wakes)
        util::Event limit;    // connect_timeout over every attempt

        void init(Client* owner, Request* for_request, event_base* base);
        const ClientSpec& spec() const { return client->spec; }
        void start(const std::vector<SocketAddress>& list, Seconds took);
        void stop();
        void launch();
        void failed(Conn* attempt, Outcome outcome, bool own_limit = false);
        void advance(Clock::time_point failed_at);
        Clock::time_point curl_wakes(Clock::time_point now) const;
        void won(Conn* attempt);
        void give_up(Outcome outcome);

        static void on_connect(evutil_socket_t fd, short, void* arg);
        static void on_attempt_timer(evutil_socket_t, short, void* arg);
        static void on_stagger(evutil_socket_t, short, void* arg);
        static void on_limit(evutil_socket_t, short, void* arg);
    };

    // What an evdns callback needs to find its lookup; freed by the callback only.
    struct DnsTicket {
        Impl* fleet = nullptr;  // null once the fleet is gone
        std::size_t slot = 0;
        std::uint64_t generation = 0;
        bool aaaa = false;
    };

    // A lookup in progress, shared by every request of the client (and its stream) that needs
    // addresses meanwhile, as a program shares its resolver's answer.
    struct LookupState {
        bool pending = false;
        std::uint64_t generation = 0;
        Clock::time_point began{};
        unsigned queries_left = 0;
        std::vector<SocketAddress> answer;
        int ttl = 0;
        std::vector<Request*> waiting;
        bool stream_waiting = false;
    };

    // One due request, from the moment it was due to its outcome. A client keeps the ones that
    // ended for its later requests, with their events.
    struct Request {
        Client* client = nullptr;
        bool active = false;
        Clock::time_point due{};
        Clock::time_point began{};
        RequestRecord record;
        Dial dial;
        std::unique_ptr<Conn> conn;
        bool reused = false;   // conn came from the idle ones
        bool retried = false;  // retry_lost used
        std::size_t sent = 0;
        std::string received;
        util::Event deadline;

        void begin();
        void dialed(std::unique_ptr<Conn> won);
        void dial_failed(Outcome outcome);
        void exchange();
        void send_request();
        void read_response();
        void lost_before_response();
        void judge(bool closed);
        void finish(Outcome outcome);

        static void on_deadline(evutil_socket_t, short, void* arg) {
            static_cast<Request*>(arg)->finish(Outcome::request_timeout);
        }
        static void on_writable(evutil_socket_t, short, void* arg) {
            static_cast<Conn*>(arg)->request->send_request();
        }
        static void on_readable(evutil_socket_t, short, void* arg) {
            static_cast<Conn*>(arg)->request->read_response();
        }
    };

    struct Stream {
        bool open = false;  // the client wants it (the fleet runs)
        bool given_up = false;
        Dial dial;
        std::unique_ptr<Conn> conn;
        EventStreamReader reader;
        std::string out;
        std::size_t sent = 0;
        util::Event retry;
        util::Event watchdog;
        Clock::time_point last_event{};  // or when the stream was first opened
        std::int16_t last_node = -1;
    };

    struct Client {
        Impl* fleet = nullptr;
        ClientSpec spec;
        std::uint16_t index = 0;  // within its profile
        std::size_t slot = 0;     // within the fleet
        util::Rng rng{0};         // its arrivals
        util::Event arrival;

        std::vector<SocketAddress> cache;
        Clock::time_point cache_until{};
        LookupState lookup;

        std::vector<std::unique_ptr<Request>> requests;  // open ones first, then `open` ended
        std::size_t open = 0;
        std::deque<Clock::time_point> queued;  // due, waiting for a request to end
        Clock::time_point last_began{};        // closed loop: the latest request's start
        // Open loop: when the next request is due. Each arrival is drawn from the last due
        // time, not from when the loop got round to it, so a late loop delays requests (and
        // their latency shows it) but never thins the schedule.
        Clock::time_point next_due{};

        std::vector<std::unique_ptr<Conn>> idle;  // kept alive for the next requests
        Stream stream;

        unsigned max_in_flight() const {
            return spec.arrivals == Arrivals::closed ? 1
                   : spec.max_in_flight > 0          ? std::min(spec.max_in_flight, kMaxInFlight)
                                                     : kMaxInFlight;
        }
        Seconds period() const { return Seconds(1.0 / std::max(spec.rate, 1e-3)); }
        void arm_arrival(Clock::duration delay) {
            const timeval tv = to_timeval(std::max(delay, Clock::duration::zero()));
            event_add(arrival.get(), &tv);
        }
        // The time to the next arrival of a Poisson process of `rate`.
        Clock::duration poisson_gap() {
            const double u = (static_cast<double>(rng.next() >> 11) + 1.0) * 0x1.0p-53;  // (0,1]
            return to_duration(Seconds(-std::log(u) / std::max(spec.rate, 1e-3)));
        }

        // requests
        void arrive();
        void start(Clock::time_point due);
        void ended(Request* request);
        void record_unstarted(Clock::time_point due);
        std::unique_ptr<Conn> take_idle();
        void keep(std::unique_ptr<Conn> c);
        void drop_idle(Conn* c);
        void abandon();

        // addresses
        void want_addresses(Request* request);  // null: for the stream
        void start_lookup();
        void looked_up(std::optional<std::vector<SocketAddress>> answer, int ttl);

        // the stream
        void stream_open();
        void stream_dialed(std::unique_ptr<Conn> won);
        void stream_failed();
        void stream_send();
        void stream_read();
        void stream_event(const std::string& data);
        void stream_close(bool record_silence);
        void stream_later(Seconds delay);

        static void on_arrival(evutil_socket_t, short, void* arg) {
            static_cast<Client*>(arg)->arrive();
        }
        static void on_idle_event(evutil_socket_t, short, void* arg) {
            // Readable while idle: the server's close or reset (it sends nothing unasked). Or
            // the idle time is up. Either way the connection is done.
            auto* conn = static_cast<Conn*>(arg);
            conn->client->drop_idle(conn);
        }
        static void on_stream_writable(evutil_socket_t, short, void* arg) {
            static_cast<Conn*>(arg)->client->stream_send();
        }
        static void on_stream_readable(evutil_socket_t, short, void* arg) {
            static_cast<Conn*>(arg)->client->stream_read();
        }
        static void on_stream_retry(evutil_socket_t, short, void* arg) {
            static_cast<Client*>(arg)->stream_open();
        }
        static void on_stream_watchdog(evutil_socket_t, short, void* arg) {
            auto* client = static_cast<Client*>(arg);
            // The page gives up on a silent stream and opens a new one at once.
            client->stream.conn.reset();
            client->stream.dial.stop();
            client->stream_open();
        }
    };

    event_base* base = nullptr;
    Target target;
    Clock::time_point origin;
    std::uint64_t seed = 0;
    std::string request_close;       // GET /stats, Connection: close
    std::string request_keep_alive;  // GET /stats, the connection kept
    std::unordered_map<std::string, std::int16_t> node_of_site;
    std::unordered_map<std::string, std::int16_t> node_of_address;
    std::vector<std::unique_ptr<Client>> clients;
    evdns_base* dns = nullptr;
    std::unique_ptr<SystemResolver> resolver;
    std::unordered_set<DnsTicket*> tickets;  // lookups whose callback has not run yet
    std::vector<RequestRecord> records;
    std::vector<StreamGap> gaps;
    std::vector<std::string> notes;
    std::uint64_t dns_queries = 0;
    std::uint64_t in_flight = 0;  // requests begun and not ended
    std::uint64_t waiting = 0;    // requests due and not begun
    bool started = false;
    bool stopping = false;
    bool drain_pending = false;
    std::function<void()> drained;
    util::Event drain_event;
    util::Event cut_event;  // the grace after stop has passed: what is open is unfinished

    Impl(event_base* event_base, Target aim, const std::vector<ClientSpec>& specs,
         Clock::time_point start_of_run, std::uint64_t fleet_seed);
    ~Impl();

    std::int16_t node_of(const std::string& site) const {
        auto it = node_of_site.find(site);
        return it == node_of_site.end() ? std::int16_t{-1} : it->second;
    }
    std::int16_t node_at(const SocketAddress& address) const {
        auto it = node_of_address.find(address.to_string());
        return it == node_of_address.end() ? std::int16_t{-1} : it->second;
    }

    void maybe_drained() {
        if (!stopping || !drained || drain_pending || in_flight != 0 || !tickets.empty()) return;
        drain_pending = true;
        event_active(drain_event.get(), EV_TIMEOUT, 0);
    }

    static void on_drained(evutil_socket_t, short, void* arg) {
        auto* self = static_cast<Impl*>(arg);
        self->drain_pending = false;
        // The callback may destroy the fleet: nothing of it is touched after the call.
        auto callback = std::exchange(self->drained, nullptr);
        if (callback) callback();
    }

    static void on_cut(evutil_socket_t, short, void* arg) {
        auto* self = static_cast<Impl*>(arg);
        for (auto& client : self->clients)
            while (client->open > 0)
                client->requests.front()->finish(Outcome::unfinished);
    }

    // A silence of a stream, clipped to the measured run.
    void record_gap(const Client& client, Clock::time_point from, Clock::time_point to,
                    std::int16_t before, std::int16_t after, bool ended) {
        if (to <= origin) return;
        StreamGap gap;
        gap.profile = client.spec.profile;
        gap.client = client.index;
        gap.from = seconds(std::max(from, origin) - origin);
        gap.to = seconds(to - origin);
        gap.node_before = before;
        gap.node_after = after;
        gap.ended = ended;
        gaps.push_back(gap);
    }

    static void on_dns(int result, char type, int count, int ttl, void* addresses, void* arg);
    void on_system_answer(std::uint64_t ticket, std::optional<std::vector<SocketAddress>> answer);
};

// ---------------------------------------------------------------------------------- Dial

void Fleet::Impl::Dial::init(Client* owner, Request* for_request, event_base* base) {
    client = owner;
    request = for_request;
    stagger = util::make_event(base, -1, 0, &Dial::on_stagger, this);
    limit = util::make_event(base, -1, 0, &Dial::on_limit, this);
}

void Fleet::Impl::Dial::start(const std::vector<SocketAddress>& list, Seconds took) {
    stop();
    lookup_took = took;
    addresses = list;
    nodes.clear();
    for (auto& address : addresses) {
        address.set_port(client->fleet->target.port);
        nodes.push_back(client->fleet->node_at(address));
    }
    if (spec().attempts == Attempts::first_only && addresses.size() > 1) addresses.resize(1);
    next = 0;
    made = 0;
    touched = 0;
    last_failure = Outcome::refused;
    running = true;
    began = Clock::now();
    if (spec().connect_timeout.count() > 0) {
        const timeval tv = to_timeval(spec().connect_timeout);
        event_add(limit.get(), &tv);
    }
    launch();
}

void Fleet::Impl::Dial::stop() {
    running = false;
    attempts.clear();
    if (stagger) event_del(stagger.get());
    if (limit) event_del(limit.get());
}

void Fleet::Impl::Dial::launch() {
    const std::size_t at = next++;
    const SocketAddress& address = addresses[at];
    ++made;
    attempt_began = Clock::now();
    if (made == 1)
        resolver_wakeup = lookup_took >= kCurlSlowLookup
                              ? attempt_began + to_duration(lookup_took * kCurlLeftoverShare)
                              : Clock::time_point{};
    touched |= bit(nodes[at]);
    auto attempt = std::make_unique<Conn>();
    attempt->client = client;
    attempt->dial = this;
    attempt->node = nodes[at];
    attempt->began = attempt_began;
    attempt->fd =
        ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (attempt->fd < 0) {
        give_up(Outcome::local_error);
        return;
    }
    if (::connect(attempt->fd, reinterpret_cast<const sockaddr*>(&address.storage),
                  address.length) != 0 &&
        errno != EINPROGRESS)
        attempt->early_error = errno;
    event_base* base = client->fleet->base;
    attempt->io.reset(event_new(base, attempt->fd, EV_WRITE, &Dial::on_connect, attempt.get()));
    attempt->timer.reset(event_new(base, -1, 0, &Dial::on_attempt_timer, attempt.get()));
    if (!attempt->io || !attempt->timer) {
        give_up(Outcome::local_error);
        return;
    }
    const bool last = next >= addresses.size();
    if (attempt->early_error != 0) {
        // Reported from the loop, like any other failure, so that the next attempt never starts
        // from inside this one.
        event_active(attempt->io.get(), EV_WRITE, 0);
    } else {
        event_add(attempt->io.get(), nullptr);
        // A sequential attempt's own limit: fixed (none for the last one when the profile says
        // so), or (curl) half of the connect time left, the last attempt all of it (the
        // overall limit then ends it).
        Seconds own = spec().attempts == Attempts::staggered ? Seconds(0) : spec().attempt_timeout;
        if (last && spec().last_attempt_unbounded) own = Seconds(0);
        if (spec().halve_remaining && spec().connect_timeout.count() > 0 && !last) {
            const Seconds left = spec().connect_timeout - Seconds(seconds(Clock::now() - began));
            own = std::max(Seconds(0.001), left / 2);
        }
        if (own.count() > 0) {
            const timeval tv = to_timeval(own);
            event_add(attempt->timer.get(), &tv);
            attempt->limit_at = attempt->began + to_duration(own);
        }
    }
    attempts.push_back(std::move(attempt));
    if (spec().attempts == Attempts::staggered && !last && spec().attempt_timeout.count() > 0 &&
        (spec().parallel == 0 || attempts.size() < spec().parallel)) {
        const timeval delay = to_timeval(spec().attempt_timeout);
        event_add(stagger.get(), &delay);
    }
}

void Fleet::Impl::Dial::on_connect(evutil_socket_t fd, short, void* arg) {
    auto* attempt = static_cast<Conn*>(arg);
    int error = attempt->early_error;
    if (error == 0) {
        socklen_t length = sizeof error;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    }
    if (error == 0)
        attempt->dial->won(attempt);
    else
        attempt->dial->failed(attempt, connect_failure(error));
}

void Fleet::Impl::Dial::on_attempt_timer(evutil_socket_t, short, void* arg) {
    auto* attempt = static_cast<Conn*>(arg);
    attempt->dial->failed(attempt, Outcome::connect_timeout, true);
}

void Fleet::Impl::Dial::on_stagger(evutil_socket_t, short, void* arg) {
    auto* dial = static_cast<Dial*>(arg);
    if (dial->running && dial->next < dial->addresses.size()) dial->launch();
}

void Fleet::Impl::Dial::on_limit(evutil_socket_t, short, void* arg) {
    static_cast<Dial*>(arg)->give_up(Outcome::connect_timeout);
}

void Fleet::Impl::Dial::failed(Conn* attempt, Outcome outcome, bool own_limit) {
    if (outcome == Outcome::local_error) {
        give_up(outcome);
        return;
    }
    last_failure = outcome;
    // When it failed, as the program would see it on waking, whenever our loop got to it: a
    // refusal on the lab's loopback is back within microseconds of the connect; an attempt's
    // own limit ends it on time (the kernel's give-up, also a timeout, when our loop sees it).
    Clock::time_point failed_at = Clock::now();
    if (outcome == Outcome::refused)
        failed_at = attempt->began;
    else if (own_limit)
        failed_at = attempt->limit_at;
    std::erase_if(attempts, [attempt](const auto& a) { return a.get() == attempt; });
    advance(failed_at);
}

// After a failure: the next address at once, or, with none left and nothing else connecting,
// the last failure is the outcome.
void Fleet::Impl::Dial::advance(Clock::time_point failed_at) {
    if (next < addresses.size()) {
        event_del(stagger.get());
        const Clock::time_point now = Clock::now();
        const Clock::time_point wake = spec().curl_wakeups ? curl_wakes(failed_at) : now;
        if (wake > now) {
            const timeval tv = to_timeval(wake - now);
            event_add(stagger.get(), &tv);
        } else {
            launch();
        }
        return;
    }
    if (attempts.empty()) give_up(last_failure);
}

// When curl 7.88's loop next runs (ClientSpec::curl_wakeups): the timer its resolver polling
// left, its happy-eyeballs timer, then its poll loop's one-second tick.
Clock::time_point Fleet::Impl::Dial::curl_wakes(Clock::time_point now) const {
    if (resolver_wakeup != Clock::time_point{} && now <= resolver_wakeup) return resolver_wakeup;
    const Clock::time_point eyeballs = attempt_began + to_duration(kCurlEyeballs);
    if (now <= eyeballs) return eyeballs;
    const auto ticks = (now - eyeballs) / to_duration(kCurlTick);
    return eyeballs + (ticks + 1) * to_duration(kCurlTick);
}

void Fleet::Impl::Dial::won(Conn* attempt) {
    std::unique_ptr<Conn> winner;
    for (auto& a : attempts)
        if (a.get() == attempt) winner = std::move(a);
    stop();  // the others lost the race
    winner->dial = nullptr;
    winner->timer.reset();
    winner->io.reset();  // frees the event whose callback is running: libevent allows it
    if (request)
        request->dialed(std::move(winner));
    else
        client->stream_dialed(std::move(winner));
}

void Fleet::Impl::Dial::give_up(Outcome outcome) {
    stop();
    if (request)
        request->dial_failed(outcome);
    else
        client->stream_failed();
}

// ------------------------------------------------------------------------------- addresses

// Addresses for a request (or, given none, the stream): from the cache while it holds, else
// from the lookup in progress or a new one. A lookup is shared by whatever asks meanwhile.
void Fleet::Impl::Client::want_addresses(Request* request) {
    const Clock::time_point now = Clock::now();
    if (!cache.empty() && now < cache_until) {
        if (request)
            request->dial.start(cache, Seconds(0));
        else
            stream.dial.start(cache, Seconds(0));
        return;
    }
    if (request) {
        request->record.resolved = true;
        lookup.waiting.push_back(request);
    } else {
        lookup.stream_waiting = true;
    }
    if (!lookup.pending) start_lookup();
}

void Fleet::Impl::Client::start_lookup() {
    lookup.pending = true;
    ++lookup.generation;
    lookup.began = Clock::now();
    lookup.answer.clear();
    lookup.ttl = 0;
    if (spec.lookup == Lookup::system) {
        fleet->dns_queries += kQueriesPerGetaddrinfo;
        lookup.queries_left = 1;
        fleet->resolver->submit(lookup.generation << kSlotBits | slot, fleet->target.name);
        return;
    }
    lookup.queries_left = 0;
    for (bool aaaa : {false, true}) {
        if (aaaa && !spec.ask_aaaa) continue;
        // Owned by on_dns from here: evdns calls it exactly once, even when cancelled.
        auto* ticket = new DnsTicket{fleet, slot, lookup.generation, aaaa};
        fleet->tickets.insert(ticket);
        evdns_request* handle =
            aaaa ? evdns_base_resolve_ipv6(fleet->dns, fleet->target.name.c_str(),
                                           DNS_QUERY_NO_SEARCH, &Impl::on_dns, ticket)
                 : evdns_base_resolve_ipv4(fleet->dns, fleet->target.name.c_str(),
                                           DNS_QUERY_NO_SEARCH, &Impl::on_dns, ticket);
        if (!handle) {
            // Not submitted, so no callback will come.
            fleet->tickets.erase(ticket);
            delete ticket;
            continue;
        }
        ++fleet->dns_queries;
        ++lookup.queries_left;
    }
    if (lookup.queries_left == 0) looked_up(std::nullopt, 0);
}

void Fleet::Impl::on_dns(int result, char type, int count, int ttl, void* addresses, void* arg) {
    std::unique_ptr<DnsTicket> ticket(static_cast<DnsTicket*>(arg));
    Impl* fleet = ticket->fleet;
    if (!fleet) return;
    fleet->tickets.erase(ticket.get());
    Client& client = *fleet->clients[ticket->slot];
    LookupState& lookup = client.lookup;
    if (lookup.pending && lookup.generation == ticket->generation) {
        // Only the A answer gives addresses: the lab's nodes have no IPv6 ones.
        if (!ticket->aaaa && result == DNS_ERR_NONE && type == DNS_IPv4_A && count > 0 &&
            addresses) {
            const auto* v4 = static_cast<const std::uint32_t*>(addresses);
            for (int i = 0; i < count; ++i) {
                SocketAddress address;
                auto& sin = reinterpret_cast<sockaddr_in&>(address.storage);
                sin.sin_family = AF_INET;
                sin.sin_addr.s_addr = v4[i];  // network order, as received
                address.length = sizeof(sockaddr_in);
                lookup.answer.push_back(address);
            }
            lookup.ttl = ttl;
        }
        if (--lookup.queries_left == 0) {
            if (lookup.answer.empty())
                client.looked_up(std::nullopt, 0);
            else
                client.looked_up(std::move(lookup.answer), lookup.ttl);
        }
    }
    fleet->maybe_drained();
}

void Fleet::Impl::on_system_answer(std::uint64_t ticket,
                                   std::optional<std::vector<SocketAddress>> answer) {
    const std::size_t slot = ticket & ((std::uint64_t{1} << kSlotBits) - 1);
    if (slot >= clients.size()) return;
    Client& client = *clients[slot];
    if (!client.lookup.pending || client.lookup.generation != ticket >> kSlotBits) return;
    // getaddrinfo says nothing of TTLs.
    client.looked_up(std::move(answer), 0);
}

void Fleet::Impl::Client::looked_up(std::optional<std::vector<SocketAddress>> answer, int ttl) {
    lookup.pending = false;
    if (answer) {
        Seconds keep = spec.fixed_cache;
        if (keep.count() <= 0)
            keep = spec.lookup == Lookup::stub ? std::max(Seconds(std::max(ttl, 0)), spec.min_cache)
                                               : spec.min_cache;
        if (keep.count() > 0) {
            cache = *answer;
            cache_until = Clock::now() + to_duration(keep);
        } else {
            cache.clear();
        }
    }
    // The answer itself, not the cache: a profile that keeps nothing still uses what it got.
    const bool usable = answer && !answer->empty();
    const Seconds took = Clock::now() - lookup.began;
    if (std::exchange(lookup.stream_waiting, false) && stream.open) {
        if (usable)
            stream.dial.start(*answer, took);
        else
            stream_later(spec.stream_retry);
    }
    // A request that fails here leaves the list (finish); the others start dialling.
    const std::vector<Request*> waiting = std::exchange(lookup.waiting, {});
    for (Request* request : waiting) {
        if (!request->active) continue;
        if (usable)
            request->dial.start(*answer, took);
        else
            request->finish(Outcome::dns_error);
    }
}

// ----------------------------------------------------------------------------- the requests

// A request is due. Open loop: the next one is drawn at once, whatever becomes of this one.
void Fleet::Impl::Client::arrive() {
    if (fleet->stopping) return;
    event_base_update_cache_time(fleet->base);
    const Clock::time_point now = Clock::now();
    Clock::time_point due = now;
    if (spec.arrivals == Arrivals::poisson) {
        // A timer may fire a little before its time (libevent rounds to its own clock): such
        // a request is due now, while the schedule itself stays exact.
        due = std::min(next_due, now);
        next_due += poisson_gap();
        arm_arrival(next_due - now);
    }
    if (open < max_in_flight()) {
        start(due);
        return;
    }
    queued.push_back(due);
    ++fleet->waiting;
}

void Fleet::Impl::Client::start(Clock::time_point due) {
    if (open == requests.size()) {
        auto request = std::make_unique<Request>();
        request->client = this;
        request->dial.init(this, request.get(), fleet->base);
        request->deadline =
            util::make_event(fleet->base, -1, 0, &Request::on_deadline, request.get());
        requests.push_back(std::move(request));
    }
    Request& request = *requests[open++];
    request.due = due;
    last_began = Clock::now();
    request.begin();
}

// A request ended (requests[0..open) are the open ones): its place goes to the oldest request
// waiting, or, in a closed loop, the next request is due one period after this one began.
void Fleet::Impl::Client::ended(Request* request) {
    for (std::size_t i = 0; i < open; ++i) {
        if (requests[i].get() != request) continue;
        std::swap(requests[i], requests[open - 1]);
        --open;
        break;
    }
    if (fleet->stopping) return;
    if (!queued.empty()) {
        const Clock::time_point due = queued.front();
        queued.pop_front();
        --fleet->waiting;
        start(due);
        return;
    }
    if (spec.arrivals == Arrivals::closed && open == 0) {
        event_base_update_cache_time(fleet->base);
        arm_arrival(last_began + to_duration(period()) - Clock::now());
    }
}

// A request that was due in the measured run but never began before it ended: unfinished,
// with no attempt made.
void Fleet::Impl::Client::record_unstarted(Clock::time_point due) {
    if (due < fleet->origin) return;
    RequestRecord record;
    record.profile = spec.profile;
    record.client = index;
    record.start = seconds(due - fleet->origin);
    record.began = record.end = seconds(Clock::now() - fleet->origin);
    record.outcome = Outcome::unfinished;
    record.attempted = false;
    fleet->records.push_back(record);
}

std::unique_ptr<Fleet::Impl::Conn> Fleet::Impl::Client::take_idle() {
    if (idle.empty()) return nullptr;
    // The most recently used first, as connection pools do.
    std::unique_ptr<Conn> c = std::move(idle.back());
    idle.pop_back();
    c->io.reset();
    c->timer.reset();
    return c;
}

// Keeps a connection for the next request: closed when the server closes it, or when it has
// been idle keep_idle.
void Fleet::Impl::Client::keep(std::unique_ptr<Conn> c) {
    if (idle.size() >= kMaxIdle) return;  // c closes
    c->request = nullptr;
    c->io = util::make_event(fleet->base, c->fd, EV_READ, &Client::on_idle_event, c.get());
    c->timer = util::make_event(fleet->base, -1, 0, &Client::on_idle_event, c.get());
    event_add(c->io.get(), nullptr);
    const timeval tv = to_timeval(spec.keep_idle);
    event_add(c->timer.get(), &tv);
    idle.push_back(std::move(c));
}

void Fleet::Impl::Client::drop_idle(Conn* c) {
    std::erase_if(idle, [c](const auto& kept) { return kept.get() == c; });
}

void Fleet::Impl::Client::abandon() {
    event_del(arrival.get());
    queued.clear();
    for (auto& request : requests) {
        request->active = false;
        event_del(request->deadline.get());
        request->dial.stop();
        request->conn.reset();
    }
    open = 0;
    idle.clear();
    stream.open = false;
    stream.dial.stop();
    stream.conn.reset();
    if (stream.retry) event_del(stream.retry.get());
    if (stream.watchdog) event_del(stream.watchdog.get());
}

// ------------------------------------------------------------------------------ a request

void Fleet::Impl::Request::begin() {
    active = true;
    ++client->fleet->in_flight;
    // Timers count from the loop's cached time: refresh it, so the deadline is the request's.
    event_base_update_cache_time(client->fleet->base);
    began = Clock::now();
    record = RequestRecord{};
    record.profile = client->spec.profile;
    record.client = client->index;
    sent = 0;
    received.clear();
    reused = false;
    retried = false;
    if (client->spec.request_timeout.count() > 0) {
        const timeval limit = to_timeval(client->spec.request_timeout);
        event_add(deadline.get(), &limit);
    }
    if ((conn = client->take_idle())) {
        conn->request = this;
        reused = record.reused = true;
        record.touched |= bit(conn->node);
        exchange();
        return;
    }
    client->want_addresses(this);
}

void Fleet::Impl::Request::dialed(std::unique_ptr<Conn> won) {
    record.attempts = static_cast<std::uint8_t>(std::min(dial.made, 255u));
    record.touched |= dial.touched;
    conn = std::move(won);
    conn->request = this;
    exchange();
}

void Fleet::Impl::Request::dial_failed(Outcome outcome) {
    record.attempts = static_cast<std::uint8_t>(std::min(dial.made, 255u));
    record.touched |= dial.touched;
    finish(outcome);
}

void Fleet::Impl::Request::exchange() {
    conn->io = util::make_event(client->fleet->base, conn->fd, EV_WRITE, &Request::on_writable,
                                conn.get());
    conn->timer.reset();
    sent = 0;
    received.clear();
    send_request();
}

void Fleet::Impl::Request::send_request() {
    Impl* fleet = client->fleet;
    const std::string& bytes =
        client->spec.keep_idle.count() > 0 ? fleet->request_keep_alive : fleet->request_close;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(conn->fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(conn->io.get(), nullptr);
            return;
        }
        if (connect_failure(n < 0 ? errno : ECONNRESET) == Outcome::local_error)
            finish(Outcome::local_error);
        else
            lost_before_response();
        return;
    }
    conn->io = util::make_event(fleet->base, conn->fd, EV_READ, &Request::on_readable, conn.get());
    event_add(conn->io.get(), nullptr);
}

void Fleet::Impl::Request::read_response() {
    char buffer[kReadChunk];
    for (int reads = 0; reads < kReadsPerWakeup; ++reads) {
        const ssize_t n = ::recv(conn->fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            received.append(buffer, static_cast<std::size_t>(n));
            if (received.size() > kMaxResponse) {
                record.http_status = parse_response(received).status;
                finish(Outcome::http_error);  // no stats page is that large
                return;
            }
            if (parse_response(received, false).complete) {
                judge(false);
                return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        // The server's close (n == 0), or a reset.
        if (received.empty()) {
            lost_before_response();
            return;
        }
        judge(true);
        return;
    }
    event_add(conn->io.get(), nullptr);
}

// A connection that ended before any byte of the response: a kept-alive one that the server
// had closed meanwhile is replaced by a new connection, and so, once, is a new one when the
// profile says so (Java); otherwise it is a reset.
void Fleet::Impl::Request::lost_before_response() {
    conn.reset();
    if (reused) {
        reused = false;
        client->want_addresses(this);
        return;
    }
    if (client->spec.retry_lost && !retried) {
        retried = true;
        client->want_addresses(this);
        return;
    }
    finish(Outcome::reset);
}

void Fleet::Impl::Request::judge(bool closed) {
    const HttpResponse response = parse_response(received, closed);
    record.http_status = response.status;
    record.node = client->fleet->node_of(response.site);
    if (!response.complete) {
        // Headers that are not HTTP are an error answer; a response cut short is a reset.
        finish(response.headers_complete && response.status == 0 ? Outcome::http_error
                                                                 : Outcome::reset);
        return;
    }
    if (!closed && !response.close && client->spec.keep_idle.count() > 0)
        client->keep(std::move(conn));
    finish(response.status >= 200 && response.status < 300 ? Outcome::ok : Outcome::http_error);
}

void Fleet::Impl::Request::finish(Outcome outcome) {
    if (!active) return;
    Impl* fleet = client->fleet;
    const Clock::time_point now = Clock::now();
    active = false;
    event_del(deadline.get());
    if (dial.running) {  // ended while connecting: a timeout, or cut off
        record.attempts = static_cast<std::uint8_t>(std::min(dial.made, 255u));
        record.touched |= dial.touched;
    }
    dial.stop();
    conn.reset();
    std::erase(client->lookup.waiting, this);

    record.outcome = outcome;
    if (due >= fleet->origin) {
        record.start = seconds(due - fleet->origin);
        record.began = seconds(began - fleet->origin);
        record.end = seconds(now - fleet->origin);
        fleet->records.push_back(record);
    }
    --fleet->in_flight;
    client->ended(this);
    fleet->maybe_drained();
}

// ------------------------------------------------------------------------------ the stream

void Fleet::Impl::Client::stream_open() {
    if (!stream.open || stream.given_up || stream.conn || stream.dial.running) return;
    want_addresses(nullptr);
}

void Fleet::Impl::Client::stream_later(Seconds delay) {
    const timeval tv = to_timeval(delay);
    event_add(stream.retry.get(), &tv);
}

void Fleet::Impl::Client::stream_failed() {
    // EventSource tries again after its reconnection time when the connection fails.
    stream_later(spec.stream_retry);
}

void Fleet::Impl::Client::stream_dialed(std::unique_ptr<Conn> won) {
    stream.conn = std::move(won);
    stream.reader = EventStreamReader{};
    stream.out = events_request(fleet->target.name);
    stream.sent = 0;
    stream.conn->io = util::make_event(fleet->base, stream.conn->fd, EV_WRITE,
                                       &Client::on_stream_writable, stream.conn.get());
    stream_send();
}

void Fleet::Impl::Client::stream_send() {
    while (stream.sent < stream.out.size()) {
        const ssize_t n = ::send(stream.conn->fd, stream.out.data() + stream.sent,
                                 stream.out.size() - stream.sent, MSG_NOSIGNAL);
        if (n > 0) {
            stream.sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(stream.conn->io.get(), nullptr);
            return;
        }
        stream.conn.reset();
        stream_later(spec.stream_retry);
        return;
    }
    stream.conn->io = util::make_event(fleet->base, stream.conn->fd, EV_READ | EV_PERSIST,
                                       &Client::on_stream_readable, stream.conn.get());
    event_add(stream.conn->io.get(), nullptr);
}

void Fleet::Impl::Client::stream_read() {
    char buffer[kReadChunk];
    for (int reads = 0; reads < kReadsPerWakeup; ++reads) {
        const ssize_t n = ::recv(stream.conn->fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            for (const auto& event :
                 stream.reader.feed(std::string_view(buffer, static_cast<std::size_t>(n))))
                stream_event(event.data);
            if (stream.reader.state() != EventStreamReader::State::failed) continue;
            // Not a 200 event stream: EventSource fails for good. A broken one: try again.
            const bool refused = stream.reader.status() != 200;
            stream.conn.reset();
            if (refused)
                stream.given_up = true;
            else
                stream_later(spec.stream_retry);
            return;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        // The stream ended (the server closed it, or the connection broke): reconnect after the
        // stream's retry time, as EventSource does.
        const auto retry = stream.reader.retry_ms();
        stream.conn.reset();
        stream_later(retry ? Seconds(static_cast<double>(*retry) / 1000.0) : spec.stream_retry);
        return;
    }
}

void Fleet::Impl::Client::stream_event(const std::string& data) {
    const Clock::time_point now = Clock::now();
    const std::int16_t node = fleet->node_of(find_site(data));
    if (seconds(now - stream.last_event) > kStreamGap)
        fleet->record_gap(*this, stream.last_event, now, stream.last_node, node, true);
    stream.last_event = now;
    stream.last_node = node;
    if (spec.stream_watchdog.count() > 0) {
        const timeval tv = to_timeval(spec.stream_watchdog);
        event_add(stream.watchdog.get(), &tv);
    }
}

// At the end: the stream closes, and a silence still going on is recorded as unended.
void Fleet::Impl::Client::stream_close(bool record_silence) {
    if (!stream.open) return;
    stream.open = false;
    stream.dial.stop();
    stream.conn.reset();
    event_del(stream.retry.get());
    event_del(stream.watchdog.get());
    const Clock::time_point now = Clock::now();
    if (record_silence && seconds(now - stream.last_event) > kStreamGap)
        fleet->record_gap(*this, stream.last_event, now, stream.last_node, -1, false);
}

// ---------------------------------------------------------------------------- the fleet

Fleet::Impl::Impl(event_base* event_base, Target aim, const std::vector<ClientSpec>& specs,
                  Clock::time_point start_of_run, std::uint64_t fleet_seed)
    : base(event_base), target(std::move(aim)), origin(start_of_run), seed(fleet_seed) {
    request_close = stats_request(target.name, false);
    request_keep_alive = stats_request(target.name, true);
    for (std::size_t i = 0; i < target.node_sites.size(); ++i)
        node_of_site.emplace(target.node_sites[i], static_cast<std::int16_t>(i));
    for (std::size_t i = 0; i < target.node_addresses.size(); ++i)
        node_of_address.emplace(target.node_addresses[i], static_cast<std::int16_t>(i));
    drain_event = util::make_event(base, -1, 0, &Impl::on_drained, this);
    cut_event = util::make_event(base, -1, 0, &Impl::on_cut, this);

    bool need_stub = false;
    bool need_system = false;
    std::unordered_map<int, std::uint16_t> per_profile;
    for (const ClientSpec& spec : specs) {
        if (spec.clients == 0) continue;
        if (spec.lookup == Lookup::system && !target.system_resolver) {
            const std::string note = std::string("profile ") + profile_name(spec.profile) +
                                     " (getaddrinfo) " + kSystemNotRun;
            if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
            continue;
        }
        (spec.lookup == Lookup::system ? need_system : need_stub) = true;
        for (unsigned n = 0; n < spec.clients; ++n) {
            auto client = std::make_unique<Client>();
            Client* c = client.get();
            c->fleet = this;
            c->spec = spec;
            c->index = per_profile[static_cast<int>(spec.profile)]++;
            c->slot = clients.size();
            // Each client's arrivals from a stream of its own, so that a client's schedule does
            // not depend on how many clients came before it.
            c->rng = util::Rng(seed ^ (0x9e3779b97f4a7c15ULL * (c->slot + 1)));
            c->arrival = util::make_event(base, -1, 0, &Client::on_arrival, c);
            c->stream.dial.init(c, nullptr, base);
            c->stream.retry = util::make_event(base, -1, 0, &Client::on_stream_retry, c);
            c->stream.watchdog = util::make_event(base, -1, 0, &Client::on_stream_watchdog, c);
            clients.push_back(std::move(client));
        }
    }
    if (clients.size() >= (std::size_t{1} << kSlotBits))
        throw std::runtime_error("too many clients in one fleet");

    // Before evdns, whose base is a raw pointer: a failure here leaves nothing to free by hand.
    if (need_system) {
        resolver = std::make_unique<SystemResolver>(
            base, [this](std::uint64_t ticket, std::optional<std::vector<SocketAddress>> answer) {
                on_system_answer(ticket, std::move(answer));
            });
    }
    if (need_stub) {
        // Flags without EVDNS_BASE_INITIALIZE_NAMESERVERS: /etc/resolv.conf is not read, so
        // there is no search list, no hosts file and no other server than the target's.
        // evdns would print its view of the server ("has failed", "is back up") on stderr; a
        // lookup that fails is counted as a dns-error outcome instead.
        evdns_set_log_fn([](int, const char*) {});
        dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (!dns) throw std::runtime_error("cannot create the DNS resolver");
        sockaddr_storage server{};
        const socklen_t length = target.dns.to_sockaddr(server);
        if (evdns_base_nameserver_sockaddr_add(dns, reinterpret_cast<sockaddr*>(&server), length,
                                               0) != 0 ||
            evdns_base_set_option(dns, "timeout:", "1") != 0 ||
            evdns_base_set_option(dns, "attempts:", "2") != 0 ||
            evdns_base_set_option(dns, "randomize-case:", "0") != 0 ||
            evdns_base_set_option(dns, "max-inflight:", kMaxInflight) != 0) {
            evdns_base_free(dns, 0);
            throw std::runtime_error("cannot configure the DNS resolver for " +
                                     target.dns.to_string());
        }
    }
}

Fleet::Impl::~Impl() {
    for (auto& client : clients)
        client->abandon();
    // Lookups still pending (or whose callback is queued) keep their tickets; the callbacks
    // that evdns_base_free schedules find them orphaned and only free them.
    for (DnsTicket* ticket : tickets)
        ticket->fleet = nullptr;
    tickets.clear();
    if (dns) evdns_base_free(dns, 1);
    resolver.reset();
    clients.clear();
}

Fleet::Fleet(event_base* base, Target target, const std::vector<ClientSpec>& specs,
             Clock::time_point origin, std::uint64_t seed)
    : impl_(std::make_unique<Impl>(base, std::move(target), specs, origin, seed)) {}

Fleet::~Fleet() = default;

void Fleet::start() {
    if (impl_->started || impl_->stopping) return;
    impl_->started = true;
    const Clock::time_point now = Clock::now();
    for (auto& client : impl_->clients) {
        // Open loop: the first arrival of the process. Closed: somewhere in the first period,
        // so that clients of one profile do not move in step (nor their caches expire together).
        if (client->spec.arrivals == Arrivals::poisson) {
            client->next_due = now + client->poisson_gap();
            client->arm_arrival(client->next_due - now);
        } else {
            const double fraction = static_cast<double>(client->rng.next() >> 11) * 0x1.0p-53;
            client->arm_arrival(to_duration(client->period() * fraction));
        }
        if (client->spec.stream) {
            client->stream.open = true;
            client->stream.last_event = now;
            // Users do not all open the page in the same millisecond: open-loop clients open
            // their streams over the first seconds, or hundreds of lookups would arrive at once.
            if (client->spec.arrivals == Arrivals::poisson) {
                const double fraction = static_cast<double>(client->rng.next() >> 11) * 0x1.0p-53;
                client->stream_later(kStreamStartSpread * fraction);
            } else {
                client->stream_open();
            }
        }
    }
}

void Fleet::stop(Seconds grace, std::function<void()> drained) {
    impl_->stopping = true;
    impl_->drained = std::move(drained);
    for (auto& client : impl_->clients) {
        event_del(client->arrival.get());
        // Due and never begun: the run ended first.
        for (const Clock::time_point due : client->queued)
            client->record_unstarted(due);
        client->queued.clear();
        client->stream_close(true);
        client->idle.clear();
    }
    impl_->waiting = 0;
    const timeval tv = to_timeval(grace);
    event_add(impl_->cut_event.get(), &tv);
    impl_->maybe_drained();
}

std::vector<RequestRecord> Fleet::take_records() {
    return std::exchange(impl_->records, {});
}

std::vector<StreamGap> Fleet::take_stream_gaps() {
    return std::exchange(impl_->gaps, {});
}

std::uint64_t Fleet::dns_queries() const {
    return impl_->dns_queries;
}

std::uint64_t Fleet::in_flight() const {
    return impl_->in_flight;
}

std::vector<std::string> Fleet::notes() const {
    return impl_->notes;
}

}  // namespace nolb::compare
