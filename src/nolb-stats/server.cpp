// Routes and state of a nolb-stats site. Every request enters through handle(): an injected
// fault gets the first word, then route() matches path and method. A 500 ms tick samples the
// process and feeds the event streams. The simulated crash is deliberate and orderly: the reply
// that pushed the ballast past the limit is flushed first, then the process exits with its own
// status, so scripts and tests can tell it from a real failure.
#include "nolb-stats/server.hpp"

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "nolb-stats/ballast.hpp"
#include "nolb-stats/faults.hpp"
#include "nolb-stats/http.hpp"
#include "nolb-stats/page.hpp"
#include "nolb-stats/process_stats.hpp"
#include "nolb-stats/streams.hpp"
#include "util/event.hpp"
#include "util/log.hpp"

namespace nolb::stats {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr auto kTick = 500ms;    // the page expects about two events a second
constexpr auto kSlowDelay = 5s;  // what "slow" adds to every answer
constexpr auto kExitGrace = 1s;  // how long a dying site waits for its last reply to leave
constexpr std::size_t kMaxViewers = 1000;
constexpr std::size_t kMaxHeld = 1000;  // requests a slow or hung site sits on at once
constexpr ev_ssize_t kMaxBody = 4096;   // nothing here takes a body; this only bounds abuse
constexpr ev_ssize_t kMaxHeaders = 16384;
constexpr int kTimeoutSeconds = 30;  // for clients that stall mid-request
constexpr int kHttpForbidden = 403;  // evhttp 2.1 names no constant for it
constexpr int kHttpConflict = 409;

constexpr unsigned kGetHead = EVHTTP_REQ_GET | EVHTTP_REQ_HEAD;
constexpr unsigned kPost = EVHTTP_REQ_POST;
// evhttp answers methods outside this set itself, without an Allow header; admitting them all
// lets route() give a proper 405.
constexpr unsigned kAllMethods = EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                 EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                 EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH;

double round1(double v) {
    return std::round(v * 10.0) / 10.0;
}

std::string fixed1(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

timeval to_timeval(std::chrono::microseconds d) {
    return timeval{static_cast<time_t>(d.count() / 1000000),
                   static_cast<suseconds_t>(d.count() % 1000000)};
}

class Server {
  public:
    Server(const Options& options, event_base* base);
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds every --listen address; throws std::runtime_error naming the one that failed.
    void listen();

  private:
    using Handler = void (Server::*)(evhttp_request*);
    struct Route {
        std::string_view path;
        unsigned methods;
        const char* allow;
        Handler handler;
    };
    static const std::array<Route, 7> kRoutes;

    static void on_request(evhttp_request* req, void* arg);
    static void on_tick(evutil_socket_t, short, void* arg);
    static void on_last_reply_sent(evhttp_request*, void* arg);
    static void on_exit_grace(evutil_socket_t, short, void* arg);

    void handle(evhttp_request* req);
    void route(evhttp_request* req);
    void tick();

    void get_page(evhttp_request* req);
    void get_events(evhttp_request* req);
    void get_health(evhttp_request* req);
    void get_stats(evhttp_request* req);
    void post_malloc(evhttp_request* req);
    void post_fail(evhttp_request* req);
    void post_recover(evhttp_request* req);

    bool fault_injection_refused(evhttp_request* req);
    // Everything an event carries but the address, which depends on the connection.
    Json state() const;
    void exit_after_reply(evhttp_request* req, std::string reason);
    [[noreturn]] void exit_out_of_memory();

    const Options& options_;
    event_base* base_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    Ballast ballast_;
    ProcessSampler sampler_;
    FaultMode fault_ = FaultMode::none;
    std::string dying_reason_;  // set once the limit is passed; the process is on its way out
    // Destroyed in reverse order: the streams and held requests let go of their connections
    // before evhttp frees them.
    http::Http http_;
    ViewerStreams streams_{kMaxViewers};
    HeldRequests held_;
    util::Event tick_;
    util::Event exit_grace_;
};

const std::array<Server::Route, 7> Server::kRoutes = {{
    {"/", kGetHead, "GET, HEAD", &Server::get_page},
    {"/events", kGetHead, "GET, HEAD", &Server::get_events},
    {"/health", kGetHead, "GET, HEAD", &Server::get_health},
    {"/stats", kGetHead, "GET, HEAD", &Server::get_stats},
    {"/malloc", kPost, "POST", &Server::post_malloc},
    {"/fail", kPost, "POST", &Server::post_fail},
    {"/recover", kPost, "POST", &Server::post_recover},
}};

Server::Server(const Options& options, event_base* base)
    : options_(options),
      base_(base),
      ballast_(options.memory_limit_mb, options.chunk_mb, options.degrade_at_percent),
      http_(evhttp_new(base)),
      held_(base, kMaxHeld, [this](evhttp_request* req) { route(req); }) {
    if (!http_) throw std::runtime_error("cannot create the HTTP server");
    evhttp_set_gencb(http_.get(), &Server::on_request, this);
    evhttp_set_max_body_size(http_.get(), kMaxBody);
    evhttp_set_max_headers_size(http_.get(), kMaxHeaders);
    evhttp_set_allowed_methods(http_.get(), static_cast<ev_uint16_t>(kAllMethods));
    evhttp_set_timeout(http_.get(), kTimeoutSeconds);

    tick_ = util::make_event(base, -1, EV_PERSIST, &Server::on_tick, this);
    timeval tv = to_timeval(kTick);
    event_add(tick_.get(), &tv);
}

void Server::listen() {
    for (const util::Endpoint& e : options_.listen) {
        sockaddr_storage ss;
        socklen_t len = e.to_sockaddr(ss);
        unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE;
        // A wildcard IPv6 socket would otherwise also take IPv4, and clash with an IPv4 listen.
        if (!e.address.is_v4()) flags |= LEV_OPT_BIND_IPV6ONLY;
        evconnlistener* listener =
            evconnlistener_new_bind(base_, nullptr, nullptr, flags, 128,
                                    reinterpret_cast<sockaddr*>(&ss), static_cast<int>(len));
        if (!listener)
            throw std::runtime_error("cannot listen on " + e.to_string() + ": " +
                                     std::strerror(errno));
        // From here evhttp owns the listener and frees it with itself.
        if (!evhttp_bind_listener(http_.get(), listener)) {
            evconnlistener_free(listener);
            throw std::runtime_error("cannot serve HTTP on " + e.to_string());
        }
        log::info("listening",
                  {{"site", options_.site},
                   {"address", http::socket_address(evconnlistener_get_fd(listener))}});
    }
}

void Server::on_request(evhttp_request* req, void* arg) {
    static_cast<Server*>(arg)->handle(req);
}

void Server::on_tick(evutil_socket_t, short, void* arg) {
    static_cast<Server*>(arg)->tick();
}

void Server::handle(evhttp_request* req) {
    // Closing after the answer is also what `close` asks of a site that keeps connections.
    http::add_common_headers(req, options_.site, options_.keep_alive && fault_ != FaultMode::close);
    if (!dying_reason_.empty()) {
        http::reply_json(req, HTTP_SERVUNAVAIL,
                         {{"site", options_.site}, {"error", "out of memory"}});
        return;
    }
    if (fault_ != FaultMode::none && fault_ != FaultMode::close && http::path(req) != "/recover") {
        if (fault_ == FaultMode::http500) {
            http::reply_json(req, HTTP_INTERNAL,
                             {{"site", options_.site}, {"error", "injected failure (http500)"}});
        } else if (held_.full()) {
            http::reply_json(req, HTTP_SERVUNAVAIL,
                             {{"site", options_.site}, {"error", "too many requests held"}});
        } else if (fault_ == FaultMode::slow) {
            held_.hold(req, std::chrono::duration_cast<std::chrono::milliseconds>(kSlowDelay));
        } else {
            held_.hold(req, std::nullopt);
        }
        return;
    }
    route(req);
}

void Server::route(evhttp_request* req) {
    std::string_view p = http::path(req);
    unsigned method = static_cast<unsigned>(evhttp_request_get_command(req));
    for (const Route& r : kRoutes) {
        if (r.path != p) continue;
        if ((r.methods & method) == 0) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", r.allow);
            http::reply_json(req, HTTP_BADMETHOD,
                             {{"error", std::string(p) + " accepts " + r.allow + " only"}});
            return;
        }
        (this->*r.handler)(req);
        return;
    }
    http::reply_json(req, HTTP_NOTFOUND, {{"error", "no such page: " + std::string(p)}});
}

Json Server::state() const {
    const ProcessSample& s = sampler_.latest();
    auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_);
    return Json{
        {"site", options_.site},
        {"pid", static_cast<long>(::getpid())},
        {"uptime_s", round1(uptime.count())},
        {"memory_used_mb", ballast_.used_mb()},
        {"memory_limit_mb", ballast_.limit_mb()},
        {"chunk_mb", ballast_.chunk_mb()},
        {"degrade_at_percent", ballast_.degrade_at_percent()},
        {"rss_mb", round1(s.rss_mb)},
        {"cpu_percent", round1(s.cpu_percent)},
        {"viewers", streams_.count()},
        {"degraded", ballast_.degraded()},
        {"fault", fault_mode_name(fault_)},
    };
}

void Server::tick() {
    sampler_.sample();
    streams_.prune_closed();
    held_.prune_closed();
    // A hung site is silent on its open streams too: that silence is what the page's watchdog
    // exists to notice.
    if (fault_ == FaultMode::hang || streams_.count() == 0) return;
    auto gap = fault_ == FaultMode::slow ? kSlowDelay - kTick / 2
                                         : std::chrono::steady_clock::duration::zero();
    streams_.publish(state(), gap);
}

void Server::get_page(evhttp_request* req) {
    std::string address = http::local_address(req);
    std::string body = render_page({options_.site, address, options_.chunk_mb,
                                    options_.memory_limit_mb, options_.degrade_at_percent});
    http::reply(req, HTTP_OK, "text/html; charset=utf-8", body);
}

void Server::get_events(evhttp_request* req) {
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        http::reply(req, HTTP_OK, "text/event-stream", "");
        return;
    }
    if (streams_.full()) {
        http::reply_json(req, HTTP_SERVUNAVAIL,
                         {{"site", options_.site}, {"error", "too many viewers"}});
        return;
    }
    Json first = state();
    first["viewers"] = streams_.count() + 1;
    streams_.open(req, http::local_address(req), std::move(first));
}

void Server::get_health(evhttp_request* req) {
    if (ballast_.degraded()) {
        http::reply_json(req, HTTP_SERVUNAVAIL, {{"site", options_.site}, {"status", "degraded"}});
    } else {
        http::reply_json(req, HTTP_OK, {{"site", options_.site}, {"status", "ok"}});
    }
}

void Server::get_stats(evhttp_request* req) {
    Json body = state();
    body["address"] = http::local_address(req);
    http::reply_json(req, HTTP_OK, body);
}

void Server::post_malloc(evhttp_request* req) {
    // The page names the site it shows. A click that the host name sent elsewhere (a site that
    // came back while the page stayed on another) allocates nothing, so memory never grows on a
    // site nobody is watching; the page follows the site that answered instead.
    if (std::string shown = http::query_parameter(req, "site");
        !shown.empty() && shown != options_.site) {
        http::reply_json(req, kHttpConflict,
                         {{"site", options_.site},
                          {"shown", shown},
                          {"error", "this is " + options_.site + ", not " + shown}});
        return;
    }
    bool was_degraded = ballast_.degraded();
    Ballast::Outcome outcome = ballast_.allocate();
    if (outcome != Ballast::Outcome::allocated) {
        Json body = state();
        body["address"] = http::local_address(req);
        body["out_of_memory"] = true;
        std::string reason = outcome == Ballast::Outcome::over_limit ? "simulated" : "mmap failed";
        // The reply goes first, so the click that killed the site is told so.
        exit_after_reply(req, reason);
        http::reply_json(req, HTTP_SERVUNAVAIL, body);
        return;
    }
    sampler_.sample_rss();
    log::info("malloc", {{"site", options_.site},
                         {"allocated_mb", ballast_.chunk_mb()},
                         {"used_mb", ballast_.used_mb()},
                         {"limit_mb", ballast_.limit_mb()},
                         {"rss_mb", fixed1(sampler_.latest().rss_mb)},
                         {"client", http::peer_address(req)}});
    if (!was_degraded && ballast_.degraded())
        log::warning("degraded", {{"site", options_.site},
                                  {"used_mb", ballast_.used_mb()},
                                  {"limit_mb", ballast_.limit_mb()},
                                  {"degrade_at_percent", ballast_.degrade_at_percent()},
                                  {"health", 503}});
    Json body = state();
    body["address"] = http::local_address(req);
    body["allocated_mb"] = ballast_.chunk_mb();
    http::reply_json(req, HTTP_OK, body);
}

bool Server::fault_injection_refused(evhttp_request* req) {
    if (options_.allow_fault_injection) return false;
    http::reply_json(
        req, kHttpForbidden,
        {{"site", options_.site},
         {"error",
          "fault injection is off; start nolb-stats with --allow-fault-injection to use "
          "/fail and /recover"}});
    return true;
}

void Server::post_fail(evhttp_request* req) {
    if (fault_injection_refused(req)) return;
    auto mode = parse_fault_mode(http::query_parameter(req, "mode"));
    if (!mode) {
        http::reply_json(req, HTTP_BADREQUEST,
                         {{"error", "mode must be http500, slow, hang or close"}});
        return;
    }
    fault_ = *mode;
    log::warning("fault injected", {{"site", options_.site},
                                    {"mode", fault_mode_name(fault_)},
                                    {"client", http::peer_address(req)}});
    http::reply_json(req, HTTP_OK, {{"site", options_.site}, {"fault", fault_mode_name(fault_)}});
    // Open streams would keep a failing site looking healthy; ending them sends every page back
    // through a reconnect, where it meets the 500.
    if (fault_ == FaultMode::http500) streams_.end_all();
}

void Server::post_recover(evhttp_request* req) {
    if (fault_injection_refused(req)) return;
    FaultMode previous = fault_;
    fault_ = FaultMode::none;
    log::info("recovered", {{"site", options_.site},
                            {"previous", fault_mode_name(previous)},
                            {"released", held_.count()}});
    http::reply_json(req, HTTP_OK, {{"site", options_.site}, {"fault", "none"}});
    held_.release_all();
}

void Server::exit_after_reply(evhttp_request* req, std::string reason) {
    dying_reason_ = std::move(reason);
    evhttp_request_set_on_complete_cb(req, &Server::on_last_reply_sent, this);
    // A client that went away never completes the reply; do not wait for it forever.
    exit_grace_ = util::make_event(base_, -1, 0, &Server::on_exit_grace, this);
    timeval tv = to_timeval(kExitGrace);
    event_add(exit_grace_.get(), &tv);
}

void Server::on_last_reply_sent(evhttp_request*, void* arg) {
    static_cast<Server*>(arg)->exit_out_of_memory();
}

void Server::on_exit_grace(evutil_socket_t, short, void* arg) {
    static_cast<Server*>(arg)->exit_out_of_memory();
}

void Server::exit_out_of_memory() {
    log::error("out of memory", {{"site", options_.site},
                                 {"reason", dying_reason_},
                                 {"used_mb", ballast_.used_mb()},
                                 {"limit_mb", ballast_.limit_mb()},
                                 {"exit_status", kExitOutOfMemory}});
    std::string line = "nolb-stats: out of memory (" + dying_reason_ + ") after " +
                       std::to_string(ballast_.used_mb()) + " MB\n";
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
    // No unwinding: this stands in for a crash, and open streams should see their connections
    // drop the way they would if the process had died.
    ::_exit(kExitOutOfMemory);
}

void on_signal(evutil_socket_t signal, short, void* arg) {
    log::info("stopping", {{"signal", static_cast<int>(signal)}});
    event_base_loopexit(static_cast<event_base*>(arg), nullptr);
}

}  // namespace

int run(const Options& options) {
    // A viewer that vanishes mid-write must cost a failed write, not the process.
    ::signal(SIGPIPE, SIG_IGN);
    util::EventBase base = util::make_event_base();
    util::Event sigint = util::make_signal_event(base.get(), SIGINT, &on_signal, base.get());
    util::Event sigterm = util::make_signal_event(base.get(), SIGTERM, &on_signal, base.get());
    event_add(sigint.get(), nullptr);
    event_add(sigterm.get(), nullptr);

    log::info("starting", {{"site", options.site},
                           {"pid", static_cast<long>(::getpid())},
                           {"memory_limit_mb", options.memory_limit_mb},
                           {"chunk_mb", options.chunk_mb},
                           {"degrade_at_percent", options.degrade_at_percent},
                           {"fault_injection", options.allow_fault_injection ? "on" : "off"}});
    Server server(options, base.get());
    try {
        server.listen();
    } catch (const std::runtime_error& e) {
        log::error("cannot start", {{"site", options.site}, {"error", e.what()}});
        return kExitCannotStart;
    }
    event_base_dispatch(base.get());
    log::info("stopped", {{"site", options.site}});
    return kExitOk;
}

}  // namespace nolb::stats
