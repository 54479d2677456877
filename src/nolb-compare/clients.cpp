// The client fleet: every client of every profile as a small state machine on the caller's event
// loop. A client runs a closed loop (one request at a time, the next one period after the
// previous started, or at once when it ended later), and each request goes resolve (its own
// cache, or a lookup), connect (the profile's order and timing of attempts), then the HTTP
// exchange, all bounded by the request's deadline. Sockets are non-blocking and closed with
// SO_LINGER 0 when abandoned, so thousands of short connections leave no TIME_WAIT behind.
// Names resolve through libevent's evdns, asking nolbd only; the `system` profile uses the
// getaddrinfo thread of resolver.cpp instead. evdns runs its callbacks deferred, even for a
// cancelled lookup, so each lookup carries a small ticket that outlives the request and, if need
// be, the fleet: the callback frees it, and the fleet reports itself drained only once every
// ticket has come back.
#include "nolb-compare/clients.hpp"

#include <event2/dns.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "nolb-compare/http_exchange.hpp"
#include "nolb-compare/resolver.hpp"
#include "util/event.hpp"
#include "util/rng.hpp"

namespace nolb::compare {
namespace {

constexpr std::size_t kMaxResponse = 64 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr int kReadsPerWakeup = 8;  // then back to the loop, so one client cannot hog it
constexpr std::uint64_t kSeed = 0x6e6f6c622d636d70ULL;
// A lookup should never wait behind evdns's own cap (64 by default) when many caches expire at
// once: the queueing would be ours, not the resolver's.
constexpr const char* kMaxInflight = "1024";
// getaddrinfo with AF_UNSPEC asks for A and AAAA.
constexpr std::uint64_t kQueriesPerGetaddrinfo = 2;
constexpr unsigned kSlotBits = 20;  // system lookups: ticket = serial << kSlotBits | client slot
constexpr const char* kSystemNotRun =
    "profile system not run: getaddrinfo would not ask nolbd here (run nolb-compare as root, in "
    "its own network namespace)";

timeval to_timeval(Seconds s) {
    const double v = std::max(0.0, s.count());
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(v);
    tv.tv_usec = static_cast<suseconds_t>((v - static_cast<double>(tv.tv_sec)) * 1e6);
    return tv;
}

timeval to_timeval(Clock::duration d) {
    return to_timeval(std::chrono::duration_cast<Seconds>(d));
}

double seconds(Clock::duration d) {
    return std::chrono::duration_cast<Seconds>(d).count();
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

}  // namespace

struct Fleet::Impl {
    struct Client;

    // One connection attempt; the attempt that connects first also carries the exchange.
    struct Attempt {
        Client* client = nullptr;
        int fd = -1;
        int early_error = 0;  // connect() failed at once; reported from the loop all the same
        util::Event io;       // writable: connected or failed; then the exchange's reads/writes
        util::Event timer;    // the per-attempt connect timeout

        Attempt() = default;
        Attempt(const Attempt&) = delete;
        Attempt& operator=(const Attempt&) = delete;
        ~Attempt() {
            io.reset();
            timer.reset();
            if (fd >= 0) close_abortive(fd);
        }
    };

    // What an evdns callback needs to find its request; freed by the callback only.
    struct DnsTicket {
        Impl* fleet = nullptr;  // null once the fleet is gone
        std::size_t slot = 0;
        std::uint64_t serial = 0;
    };

    struct Client {
        Impl* fleet = nullptr;
        ClientSpec spec;
        std::uint16_t index = 0;  // within its profile
        std::size_t slot = 0;     // within the fleet
        util::Event start_timer;
        util::Event deadline;
        util::Event next_attempt;  // happy-eyeballs: the delay before the next attempt

        std::vector<SocketAddress> cache;
        Clock::time_point cache_until{};

        // The request in flight.
        bool active = false;
        std::uint64_t serial = 0;
        Clock::time_point started{};
        RequestRecord record;
        bool resolving = false;
        evdns_request* lookup = nullptr;  // evdns's handle, until its callback runs
        std::vector<SocketAddress> addresses;
        std::size_t next_address = 0;
        unsigned attempts = 0;
        Outcome last_failure = Outcome::refused;
        std::vector<std::unique_ptr<Attempt>> connecting;
        std::unique_ptr<Attempt> exchange;
        std::size_t sent = 0;
        std::string received;

        Seconds period() const { return Seconds(1.0 / std::max(spec.rate, 1e-3)); }

        void schedule_after(Clock::duration delay) {
            const timeval tv = to_timeval(std::max(delay, Clock::duration::zero()));
            event_add(start_timer.get(), &tv);
        }

        void begin();
        void resolve();
        void answered(std::vector<SocketAddress> answer, Seconds keep);
        void start_attempt();
        void attempt_failed(Attempt* attempt, Outcome outcome);
        void advance();
        void won(Attempt* attempt);
        void send_request();
        void read_response();
        void failed_before_response(Outcome outcome);
        void judge();
        void finish(Outcome outcome);
        void abandon();

        static void on_start(evutil_socket_t, short, void* arg) {
            static_cast<Client*>(arg)->begin();
        }
        static void on_deadline(evutil_socket_t, short, void* arg) {
            static_cast<Client*>(arg)->finish(Outcome::request_timeout);
        }
        static void on_next_attempt(evutil_socket_t, short, void* arg) {
            auto* client = static_cast<Client*>(arg);
            if (client->active && !client->exchange &&
                client->next_address < client->addresses.size())
                client->start_attempt();
        }
        static void on_connect(evutil_socket_t fd, short, void* arg) {
            auto* attempt = static_cast<Attempt*>(arg);
            int error = attempt->early_error;
            if (error == 0) {
                socklen_t length = sizeof error;
                if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
            }
            if (error == 0)
                attempt->client->won(attempt);
            else
                attempt->client->attempt_failed(attempt, connect_failure(error));
        }
        static void on_connect_timeout(evutil_socket_t, short, void* arg) {
            auto* attempt = static_cast<Attempt*>(arg);
            attempt->client->attempt_failed(attempt, Outcome::connect_timeout);
        }
        static void on_writable(evutil_socket_t, short, void* arg) {
            static_cast<Attempt*>(arg)->client->send_request();
        }
        static void on_readable(evutil_socket_t, short, void* arg) {
            static_cast<Attempt*>(arg)->client->read_response();
        }
    };

    event_base* base = nullptr;
    Target target;
    Clock::time_point origin;
    std::string request;  // the same bytes for every exchange
    std::unordered_map<std::string, std::int16_t> node_of_site;
    std::vector<std::unique_ptr<Client>> clients;
    evdns_base* dns = nullptr;
    std::unique_ptr<SystemResolver> resolver;
    std::unordered_set<DnsTicket*> tickets;  // lookups whose callback has not run yet
    std::vector<RequestRecord> records;
    std::vector<std::string> notes;
    std::uint64_t dns_queries = 0;
    std::uint64_t in_flight = 0;
    bool started = false;
    bool stopping = false;
    bool drain_pending = false;
    std::function<void()> drained;
    util::Event drain_event;

    Impl(event_base* event_base, Target aim, const std::vector<ClientSpec>& specs,
         Clock::time_point start_of_run);
    ~Impl();

    std::int16_t node_of(const std::string& site) const {
        auto it = node_of_site.find(site);
        return it == node_of_site.end() ? std::int16_t{-1} : it->second;
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

    static void on_dns(int result, char type, int count, int ttl, void* addresses, void* arg);
    void on_system_answer(std::uint64_t ticket, std::optional<std::vector<SocketAddress>> answer);
};

Fleet::Impl::Impl(event_base* event_base, Target aim, const std::vector<ClientSpec>& specs,
                  Clock::time_point start_of_run)
    : base(event_base), target(std::move(aim)), origin(start_of_run) {
    request = stats_request(target.name);
    for (std::size_t i = 0; i < target.node_sites.size(); ++i)
        node_of_site.emplace(target.node_sites[i], static_cast<std::int16_t>(i));
    drain_event = util::make_event(base, -1, 0, &Impl::on_drained, this);

    bool need_dns = false;
    bool need_system = false;
    std::unordered_map<int, std::uint16_t> per_profile;
    for (const ClientSpec& spec : specs) {
        if (spec.clients == 0) continue;
        if (spec.profile == Profile::system && !target.system_resolver) {
            if (std::find(notes.begin(), notes.end(), kSystemNotRun) == notes.end())
                notes.emplace_back(kSystemNotRun);
            continue;
        }
        (spec.profile == Profile::system ? need_system : need_dns) = true;
        for (unsigned n = 0; n < spec.clients; ++n) {
            auto client = std::make_unique<Client>();
            client->fleet = this;
            client->spec = spec;
            client->index = per_profile[static_cast<int>(spec.profile)]++;
            client->slot = clients.size();
            client->start_timer = util::make_event(base, -1, 0, &Client::on_start, client.get());
            client->deadline = util::make_event(base, -1, 0, &Client::on_deadline, client.get());
            client->next_attempt =
                util::make_event(base, -1, 0, &Client::on_next_attempt, client.get());
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
    if (need_dns) {
        // Flags without EVDNS_BASE_INITIALIZE_NAMESERVERS: /etc/resolv.conf is not read, so
        // there is no search list, no hosts file and no other server than nolbd.
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

void Fleet::Impl::Client::abandon() {
    active = false;
    resolving = false;
    lookup = nullptr;
    event_del(start_timer.get());
    event_del(deadline.get());
    event_del(next_attempt.get());
    connecting.clear();
    exchange.reset();
}

void Fleet::Impl::Client::begin() {
    if (fleet->stopping || active) return;
    active = true;
    ++serial;
    ++fleet->in_flight;
    // Timers count from the loop's cached time: refresh it, so the deadline is the request's.
    event_base_update_cache_time(fleet->base);
    started = Clock::now();
    record = RequestRecord{};
    record.profile = spec.profile;
    record.client = index;
    addresses.clear();
    next_address = 0;
    attempts = 0;
    last_failure = Outcome::refused;
    sent = 0;
    received.clear();
    const timeval limit = to_timeval(spec.request_timeout);
    event_add(deadline.get(), &limit);

    if (!cache.empty() && started < cache_until) {
        addresses = cache;
        start_attempt();
        return;
    }
    cache.clear();
    record.resolved = true;
    resolve();
}

void Fleet::Impl::Client::resolve() {
    resolving = true;
    if (spec.profile == Profile::system) {
        fleet->dns_queries += kQueriesPerGetaddrinfo;
        fleet->resolver->submit(serial << kSlotBits | slot, fleet->target.name);
        return;
    }
    // Owned by on_dns from here: evdns calls it exactly once, even when cancelled.
    DnsTicket* ticket = std::make_unique<DnsTicket>(DnsTicket{fleet, slot, serial}).release();
    fleet->tickets.insert(ticket);
    evdns_request* handle = evdns_base_resolve_ipv4(fleet->dns, fleet->target.name.c_str(),
                                                    DNS_QUERY_NO_SEARCH, &Impl::on_dns, ticket);
    if (!handle) {
        // Not submitted, so no callback will come.
        fleet->tickets.erase(ticket);
        std::unique_ptr<DnsTicket> unused(ticket);
        resolving = false;
        finish(Outcome::dns_error);
        return;
    }
    ++fleet->dns_queries;
    lookup = handle;
}

void Fleet::Impl::on_dns(int result, char type, int count, int ttl, void* addresses, void* arg) {
    std::unique_ptr<DnsTicket> ticket(static_cast<DnsTicket*>(arg));
    Impl* fleet = ticket->fleet;
    if (!fleet) return;
    fleet->tickets.erase(ticket.get());
    Client& client = *fleet->clients[ticket->slot];
    if (client.active && client.resolving && client.serial == ticket->serial) {
        client.resolving = false;
        client.lookup = nullptr;
        if (result == DNS_ERR_NONE && type == DNS_IPv4_A && count > 0 && addresses) {
            std::vector<SocketAddress> answer;
            const auto* v4 = static_cast<const std::uint32_t*>(addresses);
            for (int i = 0; i < count; ++i) {
                SocketAddress address;
                auto& sin = reinterpret_cast<sockaddr_in&>(address.storage);
                sin.sin_family = AF_INET;
                sin.sin_addr.s_addr = v4[i];  // network order, as received
                address.length = sizeof(sockaddr_in);
                answer.push_back(address);
            }
            const ClientSpec& spec = client.spec;
            const Seconds keep = spec.fixed_cache.count() > 0
                                     ? spec.fixed_cache
                                     : std::max(Seconds(std::max(ttl, 0)), spec.min_cache);
            client.answered(std::move(answer), keep);
        } else {
            client.finish(Outcome::dns_error);
        }
    }
    fleet->maybe_drained();
}

void Fleet::Impl::on_system_answer(std::uint64_t ticket,
                                   std::optional<std::vector<SocketAddress>> answer) {
    const std::size_t slot = ticket & ((std::uint64_t{1} << kSlotBits) - 1);
    if (slot >= clients.size()) return;
    Client& client = *clients[slot];
    // A request that timed out while glibc was still resolving has moved on: drop its answer.
    if (!client.active || !client.resolving || client.serial != ticket >> kSlotBits) return;
    client.resolving = false;
    if (!answer) {
        client.finish(Outcome::dns_error);
        return;
    }
    // getaddrinfo says nothing of TTLs: a C program asks again for every connection.
    const Seconds keep =
        client.spec.fixed_cache.count() > 0 ? client.spec.fixed_cache : client.spec.min_cache;
    client.answered(std::move(*answer), keep);
}

void Fleet::Impl::Client::answered(std::vector<SocketAddress> answer, Seconds keep) {
    if (keep.count() > 0) {
        cache = answer;
        cache_until = Clock::now() + std::chrono::duration_cast<Clock::duration>(keep);
    }
    addresses = std::move(answer);
    start_attempt();
}

void Fleet::Impl::Client::start_attempt() {
    if (next_address == 0) {
        for (auto& address : addresses)
            address.set_port(fleet->target.port);
        if (spec.profile == Profile::single && addresses.size() > 1) addresses.resize(1);
    }
    const SocketAddress& address = addresses[next_address++];
    ++attempts;
    auto attempt = std::make_unique<Attempt>();
    attempt->client = this;
    attempt->fd =
        ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (attempt->fd < 0) {
        finish(Outcome::local_error);
        return;
    }
    if (::connect(attempt->fd, reinterpret_cast<const sockaddr*>(&address.storage),
                  address.length) != 0 &&
        errno != EINPROGRESS)
        attempt->early_error = errno;
    event* io = event_new(fleet->base, attempt->fd, EV_WRITE, &Client::on_connect, attempt.get());
    event* timer = event_new(fleet->base, -1, 0, &Client::on_connect_timeout, attempt.get());
    attempt->io.reset(io);
    attempt->timer.reset(timer);
    if (!io || !timer) {
        finish(Outcome::local_error);
        return;
    }
    if (attempt->early_error != 0) {
        // Reported from the loop, like any other failure, so that the next attempt never
        // starts from inside this one.
        event_active(io, EV_WRITE, 0);
    } else {
        event_add(io, nullptr);
        if (spec.connect_timeout.count() > 0) {
            const timeval limit = to_timeval(spec.connect_timeout);
            event_add(timer, &limit);
        }
    }
    connecting.push_back(std::move(attempt));
    if (spec.profile == Profile::happy_eyeballs && next_address < addresses.size()) {
        const timeval delay = to_timeval(spec.attempt_delay);
        event_add(next_attempt.get(), &delay);
    }
}

void Fleet::Impl::Client::attempt_failed(Attempt* attempt, Outcome outcome) {
    if (outcome == Outcome::local_error) {
        finish(outcome);
        return;
    }
    last_failure = outcome;
    std::erase_if(connecting, [attempt](const auto& a) { return a.get() == attempt; });
    advance();
}

// After a failure: the next address at once, or, with none left and nothing else connecting,
// the last failure is the request's outcome.
void Fleet::Impl::Client::advance() {
    if (next_address < addresses.size()) {
        event_del(next_attempt.get());
        start_attempt();
        return;
    }
    if (connecting.empty() && !exchange) finish(last_failure);
}

void Fleet::Impl::Client::won(Attempt* attempt) {
    event_del(next_attempt.get());
    for (auto& a : connecting) {
        if (a.get() == attempt) exchange = std::move(a);
    }
    connecting.clear();  // the others lost the race
    exchange->timer.reset();
    event* io =
        event_new(fleet->base, exchange->fd, EV_WRITE, &Client::on_writable, exchange.get());
    exchange->io.reset(io);  // frees the event whose callback is running: libevent allows it
    if (!io) {
        finish(Outcome::local_error);
        return;
    }
    sent = 0;
    received.clear();
    send_request();
}

void Fleet::Impl::Client::send_request() {
    const std::string& bytes = fleet->request;
    while (sent < bytes.size()) {
        const ssize_t n =
            ::send(exchange->fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(exchange->io.get(), nullptr);
            return;
        }
        const Outcome outcome = connect_failure(n < 0 ? errno : ECONNRESET);
        if (outcome == Outcome::local_error)
            finish(outcome);
        else
            failed_before_response(Outcome::reset);
        return;
    }
    event* io = event_new(fleet->base, exchange->fd, EV_READ, &Client::on_readable, exchange.get());
    exchange->io.reset(io);
    if (!io) {
        finish(Outcome::local_error);
        return;
    }
    event_add(io, nullptr);
}

void Fleet::Impl::Client::read_response() {
    char buffer[kReadChunk];
    for (int reads = 0; reads < kReadsPerWakeup; ++reads) {
        const ssize_t n = ::recv(exchange->fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            received.append(buffer, static_cast<std::size_t>(n));
            if (received.size() > kMaxResponse) {
                record.http_status = parse_response(received).status;
                finish(Outcome::http_error);  // no stats page is that large
                return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        // The server's close (n == 0), or a reset. Before any byte: the request never reached
        // the application, so the next address may serve it.
        if (received.empty()) {
            failed_before_response(Outcome::reset);
            return;
        }
        judge();
        return;
    }
    event_add(exchange->io.get(), nullptr);
}

void Fleet::Impl::Client::failed_before_response(Outcome outcome) {
    last_failure = outcome;
    exchange.reset();
    advance();
}

void Fleet::Impl::Client::judge() {
    const HttpResponse response = parse_response(received);
    record.http_status = response.status;
    record.node = fleet->node_of(response.site);
    if (!response.complete) {
        // Headers that are not HTTP are an error answer; a response cut short is a reset.
        finish(response.headers_complete && response.status == 0 ? Outcome::http_error
                                                                 : Outcome::reset);
        return;
    }
    finish(response.status >= 200 && response.status < 300 ? Outcome::ok : Outcome::http_error);
}

void Fleet::Impl::Client::finish(Outcome outcome) {
    if (!active) return;
    const Clock::time_point now = Clock::now();
    active = false;
    event_del(deadline.get());
    event_del(next_attempt.get());
    connecting.clear();
    exchange.reset();
    if (lookup) {
        // Its callback still runs (deferred) and frees the ticket; the serial no longer matches.
        evdns_cancel_request(fleet->dns, lookup);
        lookup = nullptr;
    }
    resolving = false;

    record.outcome = outcome;
    record.attempts = static_cast<std::uint8_t>(std::min(attempts, 255u));
    if (started >= fleet->origin) {
        record.start = seconds(started - fleet->origin);
        record.end = seconds(now - fleet->origin);
        fleet->records.push_back(record);
    }
    --fleet->in_flight;
    if (!fleet->stopping) {
        event_base_update_cache_time(fleet->base);
        const Clock::time_point next =
            std::max(started + std::chrono::duration_cast<Clock::duration>(period()), now);
        schedule_after(next - now);
    }
    fleet->maybe_drained();
}

// ------------------------------------------------------------------------------------- Fleet

Fleet::Fleet(event_base* base, Target target, const std::vector<ClientSpec>& specs,
             Clock::time_point origin)
    : impl_(std::make_unique<Impl>(base, std::move(target), specs, origin)) {}

Fleet::~Fleet() = default;

void Fleet::start() {
    if (impl_->started || impl_->stopping) return;
    impl_->started = true;
    // Each client's first request somewhere in its first period, so that clients of one profile
    // do not move in step (and their caches do not expire together).
    util::Rng rng(kSeed);
    for (auto& client : impl_->clients) {
        const double fraction = static_cast<double>(rng.next() >> 11) * 0x1.0p-53;
        client->schedule_after(
            std::chrono::duration_cast<Clock::duration>(client->period() * fraction));
    }
}

void Fleet::stop(std::function<void()> drained) {
    impl_->stopping = true;
    impl_->drained = std::move(drained);
    for (auto& client : impl_->clients)
        event_del(client->start_timer.get());
    impl_->maybe_drained();
}

std::vector<RequestRecord> Fleet::take_records() {
    return std::exchange(impl_->records, {});
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
