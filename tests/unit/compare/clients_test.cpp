// The client fleet against real parts on loopback: the real nolbd answering for a few services
// (health = "none", so it publishes dead addresses too, shuffled), HTTP servers on some of
// those addresses inside the test (evhttp on the fleet's own loop), and nothing at all on the
// others, so connections are really refused, reset, left unanswered or dropped. The tests
// check what each profile makes of that: which outcomes it records, how many attempts, how long,
// and how often it asks nolbd.
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "nolb-compare/clients.hpp"
#include "nolb-compare/dns_delay.hpp"
#include "util/event.hpp"

namespace nolb::compare {
namespace {

using namespace std::chrono_literals;

constexpr const char* kLive = "127.0.0.61";     // node1: answers /stats with 200
constexpr const char* kDead = "127.0.0.62";     // node2: nothing listens (refused)
constexpr const char* kFailing = "127.0.0.63";  // node3: answers 500
constexpr const char* kSilent = "127.0.0.64";   // node4: accepts, never answers
constexpr const char* kFull = "127.0.0.65";     // node5: backlog full, SYNs dropped
constexpr const char* kFull2 = "127.0.0.66";    // node6: the same

// A TCP port free on every test address, and a UDP+TCP port free on 127.0.0.1.
std::uint16_t free_port(int type) {
    for (int tries = 0; tries < 50; ++tries) {
        int fd = ::socket(AF_INET, type, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof a;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length) != 0) {
            ::close(fd);
            continue;
        }
        ::close(fd);
        const std::uint16_t port = ntohs(a.sin_port);
        const int other_type = type == SOCK_DGRAM ? SOCK_STREAM : SOCK_DGRAM;
        int other = ::socket(AF_INET, other_type, 0);
        const bool free = ::bind(other, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(other);
        if (free) return port;
    }
    return 0;
}

sockaddr_in address_of(const char* ip, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// nolbd as a child process, serving compare.test. with the services the tests aim at.
class Nolbd {
  public:
    std::string start() {
        char tmpl[] = "/tmp/nolb-clients-test.XXXXXX";
        if (!::mkdtemp(tmpl)) return "mkdtemp failed";
        dir_ = tmpl;
        port_ = free_port(SOCK_DGRAM);
        if (port_ == 0) return "no free port";
        std::ofstream(dir_ / "nolbd.toml") << config();
        const std::string log = (dir_ / "nolbd.log").string();
        const std::string conf = (dir_ / "nolbd.toml").string();
        pid_ = ::fork();
        if (pid_ < 0) return "fork failed";
        if (pid_ == 0) {
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            // As root nolbd needs a user to become; the test's files are private: keep root.
            if (::geteuid() == 0)
                ::execl(NOLBD_PATH, NOLBD_PATH, "-c", conf.c_str(), "--user", "root",
                        static_cast<char*>(nullptr));
            else
                ::execl(NOLBD_PATH, NOLBD_PATH, "-c", conf.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        const auto deadline = std::chrono::steady_clock::now() + 15s;
        while (std::chrono::steady_clock::now() < deadline) {
            if (read_text(dir_ / "nolbd.log").find("msg=ready") != std::string::npos) return "";
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return "nolbd exited: " + read_text(dir_ / "nolbd.log");
            }
            std::this_thread::sleep_for(20ms);
        }
        return "nolbd not ready in 15 s: " + read_text(dir_ / "nolbd.log");
    }

    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            for (int i = 0; i < 250 && ::waitpid(pid_, &status, WNOHANG) != pid_; ++i)
                std::this_thread::sleep_for(20ms);
            if (::waitpid(pid_, &status, WNOHANG) == 0) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
            }
            pid_ = -1;
        }
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }

    util::Endpoint endpoint() const {
        util::Endpoint e;
        e.address = *util::IpAddress::parse("127.0.0.1");
        e.port = port_;
        return e;
    }

  private:
    std::string config() const {
        std::string text = "[server]\nlisten = [\"127.0.0.1:" + std::to_string(port_) +
                           "\"]\nworkers = 1\n\n[control]\nsocket = \"\"\n\n"
                           "[[zone]]\norigin = \"compare.test.\"\nttl = 300\n";
        // name, ttl, addresses (node1..node5 are the constants above, in order)
        // Static names keep their order for every client: the order a test needs.
        text += "records = [\"deadfirst 0 A " + std::string(kDead) + "\", \"deadfirst 0 A " +
                kLive + "\", \"failfirst 0 A " + kFailing + "\", \"failfirst 0 A " + kLive +
                "\", \"dropfirst 0 A " + kFull + "\", \"dropfirst 0 A " + kLive +
                "\", \"twodrops 0 A " + kFull + "\", \"twodrops 0 A " + kFull2 +
                "\", \"twodrops 0 A " + kLive + "\", \"droponly 0 A " + kFull + "\"]\n";
        text += "\n[[zone.ns]]\nname = \"ns1\"\naddresses = [\"127.0.0.1\"]\n";
        const std::vector<std::tuple<std::string, int, std::vector<const char*>>> services = {
            {"one", 1, {kLive}},          {"long", 300, {kLive}},
            {"mixed", 0, {kLive, kDead}}, {"failing", 0, {kLive, kFailing}},
            {"silent", 0, {kSilent}},     {"dropping", 0, {kLive, kFull}},
        };
        for (const auto& [name, ttl, addresses] : services) {
            text += "\n[[service]]\nname = \"" + name +
                    ".compare.test.\"\nttl = " + std::to_string(ttl) + "\nhealth = \"none\"\n";
            for (const char* address : addresses) {
                text += "\n[[service.node]]\nname = \"n" + std::string(address).substr(8) +
                        "\"\naddresses = [\"" + address + "\"]\n";
            }
        }
        return text;
    }

    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
    std::filesystem::path dir_;
};

// An HTTP server on the test's loop answering /stats as nolb-stats does, and /events with an
// event every 0.25 s naming its site.
class StatsServer {
  public:
    StatsServer(event_base* base, const char* address, std::uint16_t port, std::string site,
                int status)
        : site_(std::move(site)), status_(status), http_(evhttp_new(base)) {
        if (!http_ || evhttp_bind_socket(http_, address, port) != 0)
            throw std::runtime_error(std::string("cannot serve HTTP on ") + address);
        evhttp_set_gencb(http_, &StatsServer::on_request, this);
        tick_ = util::make_event(base, -1, EV_PERSIST, &StatsServer::on_tick, this);
        const timeval every{0, 250000};
        event_add(tick_.get(), &every);
    }
    ~StatsServer() {
        tick_.reset();
        for (evhttp_request* req : streams_)
            evhttp_send_reply_end(req);
        evhttp_free(http_);
    }
    StatsServer(const StatsServer&) = delete;
    StatsServer& operator=(const StatsServer&) = delete;

    int requests = 0;
    int connections = 0;  // new connections among the requests

  private:
    static void on_request(evhttp_request* req, void* arg) {
        auto* self = static_cast<StatsServer*>(arg);
        evhttp_connection* conn = evhttp_request_get_connection(req);
        if (self->seen_.insert(conn).second) {
            ++self->connections;
            // evhttp may hand a later connection the same address: forget this one at its close.
            evhttp_connection_set_closecb(conn, &StatsServer::on_close, self);
        }
        if (std::string_view(evhttp_request_get_uri(req)) == "/events") {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                              "text/event-stream");
            evhttp_send_reply_start(req, 200, "OK");
            self->streams_.push_back(req);
            return;
        }
        ++self->requests;
        evbuffer* body = evbuffer_new();
        const std::string json = self->status_ == 200
                                     ? "{\"site\":\"" + self->site_ + "\",\"pid\":1}"
                                     : "{\"error\":\"injected\",\"site\":\"" + self->site_ + "\"}";
        evbuffer_add(body, json.data(), json.size());
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/json");
        evhttp_send_reply(req, self->status_, self->status_ == 200 ? "OK" : "Error", body);
        evbuffer_free(body);
    }
    static void on_close(evhttp_connection* conn, void* arg) {
        auto* self = static_cast<StatsServer*>(arg);
        self->seen_.erase(conn);
        std::erase_if(self->streams_, [conn](evhttp_request* req) {
            return evhttp_request_get_connection(req) == conn;
        });
    }
    static void on_tick(evutil_socket_t, short, void* arg) {
        auto* self = static_cast<StatsServer*>(arg);
        const std::string event = "retry: 200\ndata: {\"site\":\"" + self->site_ + "\"}\n\n";
        for (evhttp_request* req : self->streams_) {
            evbuffer* chunk = evbuffer_new();
            evbuffer_add(chunk, event.data(), event.size());
            evhttp_send_reply_chunk(req, chunk);
            evbuffer_free(chunk);
        }
    }

    std::string site_;
    int status_;
    evhttp* http_;
    util::Event tick_;
    std::vector<evhttp_request*> streams_;
    std::set<evhttp_connection*> seen_;
};

// A listening socket that the kernel completes connections for, and nobody ever reads.
class SilentServer {
  public:
    SilentServer(const char* address, std::uint16_t port, int backlog) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int on = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in a = address_of(address, port);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(fd_, backlog) != 0)
            throw std::runtime_error(std::string("cannot listen on ") + address);
    }
    ~SilentServer() {
        for (int fd : fillers_)
            ::close(fd);
        ::close(fd_);
    }
    SilentServer(const SilentServer&) = delete;
    SilentServer& operator=(const SilentServer&) = delete;

    // Fills the accept queue (listen backlog 0) until a connection attempt goes unanswered:
    // from then on the kernel drops every SYN, as a firewall or a vanished host would. Returns
    // false when this kernel answers anyway.
    bool fill(const char* address, std::uint16_t port) {
        for (int i = 0; i < 8; ++i) {
            int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            sockaddr_in a = address_of(address, port);
            ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
            pollfd p{fd, POLLOUT, 0};
            const bool answered = ::poll(&p, 1, 300) == 1;
            fillers_.push_back(fd);
            if (!answered) return true;
        }
        return false;
    }

  private:
    int fd_ = -1;
    std::vector<int> fillers_;
};

struct FleetRun {
    std::vector<RequestRecord> records;
    std::vector<StreamGap> gaps;
    std::uint64_t dns_queries = 0;
    std::vector<std::string> notes;
    bool drained = false;
    double stop_at = 0;     // seconds from origin
    double drained_at = 0;  // seconds from origin
    std::uint64_t in_flight_when_drained = 1;
};

class CompareClientsTest : public ::testing::Test {
  public:  // the tests' timer callbacks reach the servers through a plain pointer
    static void SetUpTestSuite() {
        nolbd_ = std::make_unique<Nolbd>();
        start_error_ = nolbd_->start();
        http_port_ = free_port(SOCK_STREAM);
    }
    static void TearDownTestSuite() {
        nolbd_->stop();
        nolbd_.reset();
    }

    void SetUp() override {
        ASSERT_EQ(start_error_, "");
        ASSERT_NE(http_port_, 0);
        base_ = util::make_event_base();
        live_ = std::make_unique<StatsServer>(base_.get(), kLive, http_port_, "node1", 200);
        failing_ = std::make_unique<StatsServer>(base_.get(), kFailing, http_port_, "node3", 500);
        silent_ = std::make_unique<SilentServer>(kSilent, http_port_, 64);
    }

    void TearDown() override {
        live_.reset();
        failing_.reset();
        silent_.reset();
        base_.reset();
    }

    Target target(const std::string& service) const {
        Target t;
        t.name = service + ".compare.test";
        t.dns = nolbd_->endpoint();
        t.port = http_port_;
        t.node_sites = {"node1", "node2", "node3", "node4", "node5", "node6"};
        t.node_addresses = {kLive, kDead, kFailing, kSilent, kFull, kFull2};
        return t;
    }

    // A client that asks nolbd itself (the tests cannot point getaddrinfo at it), keeps nothing,
    // tries every address with 1 s each and makes one request at a time (a closed loop, whose
    // request counts the tests can reason about) unless a test says otherwise; each test then
    // sets the one rule it is about.
    static ClientSpec spec(Profile profile, unsigned clients, double rate) {
        ClientSpec s;
        s.profile = profile;
        s.clients = clients;
        s.rate = rate;
        s.arrivals = Arrivals::closed;
        s.lookup = Lookup::stub;
        return s;
    }

    // Runs a fleet for `duration`, then stops it (requests may end within `grace`) and runs the
    // loop until it has drained (at most 10 s more).
    FleetRun run(const Target& aim, const std::vector<ClientSpec>& specs, Seconds duration,
                 Seconds grace = Seconds(5), std::uint64_t seed = 1) {
        FleetRun result;
        const Clock::time_point origin = Clock::now();
        Fleet fleet(base_.get(), aim, specs, origin, seed);
        struct Context {
            Fleet* fleet;
            FleetRun* result;
            event_base* base;
            Clock::time_point origin;
            Seconds grace;
        } context{&fleet, &result, base_.get(), origin, grace};
        auto on_stop = [](evutil_socket_t, short, void* arg) {
            auto* c = static_cast<Context*>(arg);
            c->result->stop_at = std::chrono::duration<double>(Clock::now() - c->origin).count();
            c->fleet->stop(c->grace, [c] {
                c->result->drained = true;
                c->result->drained_at =
                    std::chrono::duration<double>(Clock::now() - c->origin).count();
                c->result->in_flight_when_drained = c->fleet->in_flight();
                event_base_loopbreak(c->base);
            });
        };
        auto on_limit = [](evutil_socket_t, short, void* arg) {
            event_base_loopbreak(static_cast<event_base*>(arg));
        };
        util::Event stop_timer = util::make_event(base_.get(), -1, 0, on_stop, &context);
        util::Event limit_timer = util::make_event(base_.get(), -1, 0, on_limit, base_.get());
        const timeval stop_after = to_tv(duration.count());
        const timeval limit_after = to_tv(duration.count() + 10);
        event_add(stop_timer.get(), &stop_after);
        event_add(limit_timer.get(), &limit_after);
        fleet.start();
        event_base_dispatch(base_.get());
        result.records = fleet.take_records();
        result.gaps = fleet.take_stream_gaps();
        result.dns_queries = fleet.dns_queries();
        result.notes = fleet.notes();
        return result;
    }

    // Runs the loop for `seconds` with the fleet as it is (started, its timers armed by the
    // test), then stops it with 1 s of grace and runs until it has drained (at most 3 s).
    // True when it drained.
    bool drive(Fleet& fleet, double seconds) {
        const timeval run_for = to_tv(seconds);
        event_base_loopexit(base_.get(), &run_for);
        event_base_dispatch(base_.get());
        bool drained = false;
        fleet.stop(1s, [&] {
            drained = true;
            event_base_loopbreak(base_.get());
        });
        const timeval limit = to_tv(3);
        event_base_loopexit(base_.get(), &limit);
        event_base_dispatch(base_.get());
        return drained;
    }

    static timeval to_tv(double s) {
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(s);
        tv.tv_usec = static_cast<suseconds_t>((s - static_cast<double>(tv.tv_sec)) * 1e6);
        return tv;
    }

    static std::map<Outcome, int> outcomes(const std::vector<RequestRecord>& records) {
        std::map<Outcome, int> count;
        for (const auto& r : records)
            ++count[r.outcome];
        return count;
    }

    static std::string describe(const std::vector<RequestRecord>& records) {
        std::ostringstream out;
        for (const auto& [outcome, n] : outcomes(records))
            out << outcome_name(outcome) << "=" << n << " ";
        return out.str();
    }

    static inline std::unique_ptr<Nolbd> nolbd_;
    static inline std::string start_error_;
    static inline std::uint16_t http_port_ = 0;
    util::EventBase base_;
    std::unique_ptr<StatsServer> live_;
    std::unique_ptr<StatsServer> failing_;
    std::unique_ptr<SilentServer> silent_;
};

TEST_F(CompareClientsTest, FirstOnlyNeverTriesASecondAddress) {
    ClientSpec s = spec(Profile::java, 2, 20);
    s.attempts = Attempts::first_only;
    const FleetRun r = run(target("deadfirst"), {s}, 1.0s);
    ASSERT_GE(r.records.size(), 30u);
    for (const auto& rec : r.records) {
        EXPECT_EQ(rec.profile, Profile::java);
        EXPECT_EQ(rec.outcome, Outcome::refused) << outcome_name(rec.outcome);
        EXPECT_EQ(rec.attempts, 1) << "the first address only";
        EXPECT_EQ(rec.touched, std::uint64_t{1} << 1) << "node2, the dead one, and no other";
        EXPECT_TRUE(rec.resolved) << "TTL 0: nothing kept";
        EXPECT_EQ(rec.http_status, 0);
        EXPECT_EQ(rec.node, -1);
    }
    EXPECT_EQ(r.dns_queries, r.records.size());
}

TEST_F(CompareClientsTest, SequentialMovesOnAtOnceWhenRefused) {
    ClientSpec s = spec(Profile::python, 2, 20);
    s.attempt_timeout = 0s;
    const FleetRun r = run(target("deadfirst"), {s}, 1.0s);
    ASSERT_GE(r.records.size(), 30u);
    for (const auto& rec : r.records) {
        EXPECT_EQ(rec.outcome, Outcome::ok) << outcome_name(rec.outcome);
        EXPECT_EQ(rec.node, 0);
        EXPECT_EQ(rec.attempts, 2);
        EXPECT_EQ(rec.touched, 0b11u);
        EXPECT_LT(rec.end - rec.start, 0.1) << "a refusal costs no wait";
    }
}

TEST_F(CompareClientsTest, CurlWaitsForItsEyeballsTimerAfterAFastLookup) {
    // nolbd on loopback answers in well under 3 ms: no resolver timer is left to wake curl, so
    // the refusal is noticed at the happy-eyeballs timer, 200 ms after the attempt began.
    ClientSpec s = spec(Profile::curl, 1, 5);
    s.attempt_timeout = 0s;
    s.curl_wakeups = true;
    const FleetRun r = run(target("deadfirst"), {s}, 1.0s);
    ASSERT_GE(r.records.size(), 3u);
    int waited = 0;
    for (const auto& rec : r.records) {
        EXPECT_EQ(rec.outcome, Outcome::ok) << outcome_name(rec.outcome);
        EXPECT_EQ(rec.attempts, 2);
        // A lookup slowed past 3 ms by a busy machine moves on at once instead.
        const double took = rec.end - rec.start;
        EXPECT_TRUE(took < 0.1 || (took >= 0.19 && took < 0.35)) << took;
        waited += took >= 0.19;
    }
    EXPECT_GE(waited, 1);
}

TEST_F(CompareClientsTest, CurlMovesOnAtOnceAfterASlowLookup) {
    // The same name through a relay that holds each answer 30 ms: the resolver's leftover
    // timer wakes curl just after the refusal.
    const std::uint16_t port = free_port(SOCK_DGRAM);
    ASSERT_NE(port, 0);
    const util::Endpoint upstream = nolbd_->endpoint();
    DnsDelay relay(base_.get(), address_of("127.0.0.1", port),
                   address_of("127.0.0.1", upstream.port), Seconds(0.03));
    Target aim = target("deadfirst");
    aim.dns.port = port;
    ClientSpec s = spec(Profile::curl, 1, 5);
    s.attempt_timeout = 0s;
    s.curl_wakeups = true;
    const FleetRun r = run(aim, {s}, 1.0s);
    ASSERT_GE(r.records.size(), 3u);
    for (const auto& rec : r.records) {
        EXPECT_EQ(rec.outcome, Outcome::ok) << outcome_name(rec.outcome);
        EXPECT_EQ(rec.attempts, 2);
        EXPECT_GE(rec.end - rec.start, 0.03) << "the relay's hold";
        EXPECT_LT(rec.end - rec.start, 0.15) << "no 200 ms wait";
    }
    EXPECT_GE(relay.relayed(), r.records.size());
}

TEST_F(CompareClientsTest, CurlNoticesALateFailureAtItsOneSecondTick) {
    // The first address drops SYNs; its own limit (0.5 s here) passes between the eyeballs
    // timer (0.2 s) and the next tick of curl's poll loop (1.2 s), when the next one starts.
    SilentServer full(kFull, http_port_, 0);
    ASSERT_TRUE(full.fill(kFull, http_port_));
    ClientSpec s = spec(Profile::curl, 1, 2);
    s.attempt_timeout = 0.5s;
    s.request_timeout = 0s;
    s.curl_wakeups = true;
    const FleetRun r = run(target("dropfirst"), {s}, 0.6s);
    ASSERT_GE(r.records.size(), 1u);
    const RequestRecord& rec = r.records.front();
    EXPECT_EQ(rec.outcome, Outcome::ok) << outcome_name(rec.outcome);
    EXPECT_EQ(rec.attempts, 2);
    EXPECT_GE(rec.end - rec.start, 1.15);
    EXPECT_LT(rec.end - rec.start, 1.5);
}

TEST_F(CompareClientsTest, HttpErrorIsFinalNotRetried) {
    const FleetRun r = run(target("failfirst"), {spec(Profile::try_all, 2, 25)}, 1.0s);
    ASSERT_GE(r.records.size(), 30u);
    for (const auto& rec : r.records) {
        EXPECT_EQ(rec.outcome, Outcome::http_error) << outcome_name(rec.outcome);
        EXPECT_EQ(rec.attempts, 1) << "a complete answer, even a 500, ends the request";
        EXPECT_EQ(rec.http_status, 500);
        EXPECT_EQ(rec.node, 2) << "the body's site names node3";
    }
    EXPECT_EQ(failing_->requests, static_cast<int>(r.records.size()));
    EXPECT_EQ(live_->requests, 0);
}

TEST_F(CompareClientsTest, ShuffledServiceSpreadsFirstAttempts) {
    // A service's order is drawn per response: a first-only client meets both orders.
    ClientSpec s = spec(Profile::node18, 2, 25);
    s.attempts = Attempts::first_only;
    const FleetRun r = run(target("mixed"), {s}, 1.2s);
    ASSERT_GE(r.records.size(), 40u);
    auto count = outcomes(r.records);
    EXPECT_GT(count[Outcome::ok], 5) << describe(r.records);
    EXPECT_GT(count[Outcome::refused], 5) << describe(r.records);
    EXPECT_EQ(count[Outcome::ok] + count[Outcome::refused], static_cast<int>(r.records.size()));
}

TEST_F(CompareClientsTest, RequestTimeoutBoundsAServerThatNeverAnswers) {
    ClientSpec s = spec(Profile::try_all, 2, 10);
    s.request_timeout = 0.3s;
    const FleetRun r = run(target("silent"), {s}, 1.0s);
    ASSERT_GE(r.records.size(), 4u);
    for (const auto& rec : r.records) {
        EXPECT_EQ(rec.outcome, Outcome::request_timeout) << outcome_name(rec.outcome);
        EXPECT_EQ(rec.attempts, 1);
        EXPECT_GE(rec.end - rec.start, 0.29);
        EXPECT_LT(rec.end - rec.start, 1.0);
    }
}

TEST_F(CompareClientsTest, WithoutATimeoutARequestIsUnfinishedAtTheEnd) {
    ClientSpec s = spec(Profile::python, 2, 10);
    s.request_timeout = 0s;
    const FleetRun r = run(target("silent"), {s}, 0.5s, 0.3s);
    ASSERT_TRUE(r.drained);
    ASSERT_EQ(r.records.size(), 2u) << "one request per client, waiting until cut off";
    for (const auto& rec : r.records) {
        EXPECT_EQ(rec.outcome, Outcome::unfinished) << outcome_name(rec.outcome);
        EXPECT_GE(rec.end, r.stop_at + 0.29) << "the grace was given";
        EXPECT_LT(rec.end, r.stop_at + 1.0);
    }
}

TEST_F(CompareClientsTest, UnknownNameIsADnsErrorWithNoAttempt) {
    const FleetRun r = run(target("nowhere"), {spec(Profile::try_all, 1, 20)}, 0.6s);
    ASSERT_GE(r.records.size(), 5u);
    for (const auto& rec : r.records) {
        EXPECT_EQ(rec.outcome, Outcome::dns_error) << outcome_name(rec.outcome);
        EXPECT_EQ(rec.attempts, 0);
        EXPECT_TRUE(rec.resolved) << "a failed lookup leaves nothing in the cache";
    }
    EXPECT_EQ(r.dns_queries, r.records.size());
}

TEST_F(CompareClientsTest, SilentAttemptIsAbandonedAfterItsTimeout) {
    SilentServer full(kFull, http_port_, 0);
    ASSERT_TRUE(full.fill(kFull, http_port_))
        << "this kernel answers SYNs past a full accept queue; no dropping address to test with";
    ClientSpec s = spec(Profile::node20, 1, 2);
    s.attempt_timeout = 0.25s;
    s.last_attempt_unbounded = true;
    s.request_timeout = 0s;
    const FleetRun r = run(target("dropfirst"), {s}, 1.2s);
    ASSERT_GE(r.records.size(), 2u);
    for (const auto& rec : r.records) {
        EXPECT_EQ(rec.outcome, Outcome::ok) << outcome_name(rec.outcome);
        EXPECT_EQ(rec.attempts, 2);
        EXPECT_GE(rec.end - rec.start, 0.24);
        EXPECT_LT(rec.end - rec.start, 0.45);
    }
    // The last address gets no timeout of its own: alone and silent, it waits to the end.
    const FleetRun only = run(target("droponly"), {s}, 0.6s, 0.2s);
    ASSERT_EQ(only.records.size(), 1u);
    EXPECT_EQ(only.records[0].outcome, Outcome::unfinished);
    EXPECT_EQ(only.records[0].attempts, 1);
}

TEST_F(CompareClientsTest, HalvedAttemptsShareTheConnectTimeout) {
    SilentServer full(kFull, http_port_, 0);
    ASSERT_TRUE(full.fill(kFull, http_port_));
    ClientSpec s = spec(Profile::curl, 1, 1);
    s.attempt_timeout = 0s;
    s.halve_remaining = true;
    s.connect_timeout = 1s;
    const FleetRun r = run(target("dropfirst"), {s}, 1.5s);
    ASSERT_GE(r.records.size(), 1u);
    const RequestRecord& rec = r.records.front();
    EXPECT_EQ(rec.outcome, Outcome::ok) << outcome_name(rec.outcome);
    EXPECT_EQ(rec.attempts, 2);
    EXPECT_GE(rec.end - rec.start, 0.49) << "the first attempt had half of the second";
    EXPECT_LT(rec.end - rec.start, 0.7);
}

TEST_F(CompareClientsTest, StaggeredAttemptsRaceWithinTheirLimit) {
    SilentServer full(kFull, http_port_, 0);
    SilentServer full2(kFull2, http_port_, 0);
    ASSERT_TRUE(full.fill(kFull, http_port_));
    ASSERT_TRUE(full2.fill(kFull2, http_port_));
    // The second attempt starts 0.3 s after the first, which goes on; the first to connect wins.
    ClientSpec two = spec(Profile::chromium, 1, 1);
    two.attempts = Attempts::staggered;
    two.attempt_timeout = 0.3s;
    two.parallel = 2;
    two.request_timeout = 0s;
    const FleetRun capped = run(target("dropfirst"), {two}, 1.0s);
    ASSERT_GE(capped.records.size(), 1u);
    EXPECT_EQ(capped.records[0].outcome, Outcome::ok);
    EXPECT_EQ(capped.records[0].attempts, 2);
    EXPECT_GE(capped.records[0].end - capped.records[0].start, 0.29);
    EXPECT_LT(capped.records[0].end - capped.records[0].start, 0.5);

    // Two silent addresses first: with two attempts at most, the live third is never reached;
    // without the cap it is, a delay later.
    const FleetRun stuck = run(target("twodrops"), {two}, 1.2s, 0.2s);
    ASSERT_EQ(stuck.records.size(), 1u);
    EXPECT_EQ(stuck.records[0].outcome, Outcome::unfinished);
    EXPECT_EQ(stuck.records[0].attempts, 2);
    ClientSpec any = two;
    any.parallel = 0;
    const FleetRun reached = run(target("twodrops"), {any}, 1.2s);
    ASSERT_GE(reached.records.size(), 1u);
    EXPECT_EQ(reached.records[0].outcome, Outcome::ok);
    EXPECT_EQ(reached.records[0].attempts, 3);
    EXPECT_GE(reached.records[0].end - reached.records[0].start, 0.59);
    EXPECT_LT(reached.records[0].end - reached.records[0].start, 0.85);
}

TEST_F(CompareClientsTest, CacheKeepsTheTtlUnlessFixed) {
    auto lookups = [](const FleetRun& r, Profile p) {
        std::map<std::uint16_t, int> per_client;
        for (const auto& rec : r.records)
            if (rec.profile == p && rec.resolved) ++per_client[rec.client];
        return per_client;
    };
    // TTL 1 s over 2.6 s: a lookup at the first request, then about one a second.
    ClientSpec by_ttl = spec(Profile::try_all, 2, 20);
    // A fixed cache ignores the TTL both ways: longer (one lookup in all) ...
    ClientSpec fixed_long = spec(Profile::java, 2, 20);
    fixed_long.fixed_cache = 30s;
    // ... and a minimum cache lengthens a short TTL.
    ClientSpec min_long = spec(Profile::chromium, 2, 20);
    min_long.min_cache = 30s;
    const FleetRun short_ttl = run(target("one"), {by_ttl, fixed_long, min_long}, 2.6s);
    for (const auto& [client, n] : lookups(short_ttl, Profile::try_all)) {
        EXPECT_GE(n, 2) << "client " << client;
        EXPECT_LE(n, 4) << "client " << client;
    }
    EXPECT_EQ(lookups(short_ttl, Profile::try_all).size(), 2u);
    EXPECT_EQ(lookups(short_ttl, Profile::java), (std::map<std::uint16_t, int>{{0, 1}, {1, 1}}));
    EXPECT_EQ(lookups(short_ttl, Profile::chromium),
              (std::map<std::uint16_t, int>{{0, 1}, {1, 1}}));
    std::uint64_t resolved = 0;
    for (const auto& rec : short_ttl.records) {
        EXPECT_EQ(rec.outcome, Outcome::ok);
        resolved += rec.resolved ? 1 : 0;
    }
    EXPECT_EQ(short_ttl.dns_queries, resolved);

    // ... and shorter: 0.25 s on a TTL of 300 s. AAAA asked beside A counts twice.
    ClientSpec fixed_short = spec(Profile::try_all, 1, 20);
    fixed_short.fixed_cache = 0.25s;
    ClientSpec by_long_ttl = spec(Profile::node20, 1, 20);
    by_long_ttl.ask_aaaa = true;
    const FleetRun long_ttl = run(target("long"), {fixed_short, by_long_ttl}, 2.0s);
    EXPECT_GE(lookups(long_ttl, Profile::try_all)[0], 5);
    EXPECT_EQ(lookups(long_ttl, Profile::node20)[0], 1);
    EXPECT_EQ(long_ttl.dns_queries,
              static_cast<std::uint64_t>(lookups(long_ttl, Profile::try_all)[0]) + 2);
}

TEST_F(CompareClientsTest, KeptAliveConnectionsCarryTheNextRequests) {
    ClientSpec kept = spec(Profile::node20, 1, 20);
    kept.keep_idle = 5s;
    const FleetRun r = run(target("one"), {kept}, 1.0s);
    ASSERT_GE(r.records.size(), 15u);
    int reused = 0;
    for (const auto& rec : r.records) {
        EXPECT_EQ(rec.outcome, Outcome::ok) << outcome_name(rec.outcome);
        reused += rec.reused ? 1 : 0;
    }
    EXPECT_EQ(reused, static_cast<int>(r.records.size()) - 1) << "all but the first";
    EXPECT_EQ(live_->connections, 1);

    // Idle shorter than the period: a new connection for every request.
    ClientSpec brief = kept;
    brief.keep_idle = 0.02s;
    brief.rate = 5;
    const int before = live_->connections;
    const FleetRun b = run(target("one"), {brief}, 1.0s);
    ASSERT_GE(b.records.size(), 4u);
    for (const auto& rec : b.records)
        EXPECT_FALSE(rec.reused);
    EXPECT_EQ(live_->connections - before, static_cast<int>(b.records.size()));
}

TEST_F(CompareClientsTest, AKeptConnectionTheServerClosedIsReplaced) {
    // The server goes away and comes back between two requests: the kept connection is dead,
    // and the request goes over a new one instead of failing.
    ClientSpec kept = spec(Profile::chromium, 1, 4);
    kept.keep_idle = 60s;
    const Clock::time_point origin = Clock::now();
    Fleet fleet(base_.get(), target("one"), {kept}, origin, 1);
    fleet.start();
    auto restart = [](evutil_socket_t, short, void* arg) {
        auto* self = static_cast<CompareClientsTest*>(arg);
        self->live_.reset();
        self->live_ =
            std::make_unique<StatsServer>(self->base_.get(), kLive, http_port_, "node1", 200);
    };
    util::Event restart_timer = util::make_event(base_.get(), -1, 0, restart, this);
    const timeval at = to_tv(0.6);
    event_add(restart_timer.get(), &at);
    drive(fleet, 1.6);
    const auto records = fleet.take_records();
    ASSERT_GE(records.size(), 5u);
    for (const auto& rec : records)
        EXPECT_EQ(rec.outcome, Outcome::ok) << outcome_name(rec.outcome) << " at " << rec.start;
    EXPECT_GE(live_->requests, 2) << "requests after the restart reached the new server";
}

TEST_F(CompareClientsTest, StreamRecordsItsSilencesAndReconnects) {
    ClientSpec s = spec(Profile::chromium, 1, 1);
    s.stream = true;
    s.stream_retry = 0.2s;
    const Clock::time_point origin = Clock::now();
    Fleet fleet(base_.get(), target("one"), {s}, origin, 1);
    fleet.start();
    // The server vanishes at 0.8 s and is back at 2.3 s: the stream goes silent, retries (the
    // server's `retry: 200`) until it connects again, and the silence is recorded once.
    auto down = [](evutil_socket_t, short, void* arg) {
        static_cast<CompareClientsTest*>(arg)->live_.reset();
    };
    auto up = [](evutil_socket_t, short, void* arg) {
        auto* self = static_cast<CompareClientsTest*>(arg);
        self->live_ =
            std::make_unique<StatsServer>(self->base_.get(), kLive, http_port_, "node1", 200);
    };
    util::Event down_timer = util::make_event(base_.get(), -1, 0, down, this);
    util::Event up_timer = util::make_event(base_.get(), -1, 0, up, this);
    const timeval at_down = to_tv(0.8);
    const timeval at_up = to_tv(2.3);
    event_add(down_timer.get(), &at_down);
    event_add(up_timer.get(), &at_up);
    drive(fleet, 3.2);
    const auto gaps = fleet.take_stream_gaps();
    ASSERT_EQ(gaps.size(), 1u);
    EXPECT_EQ(gaps[0].profile, Profile::chromium);
    EXPECT_TRUE(gaps[0].ended);
    EXPECT_GE(gaps[0].from, 0.5);
    EXPECT_LT(gaps[0].from, 0.85);
    EXPECT_GE(gaps[0].to, 2.3);
    EXPECT_LT(gaps[0].to, 2.9);
    EXPECT_EQ(gaps[0].node_before, 0);
    EXPECT_EQ(gaps[0].node_after, 0);
}

TEST_F(CompareClientsTest, SystemLookupsNeedTheSystemResolver) {
    ClientSpec system = spec(Profile::curl, 2, 20);
    system.lookup = Lookup::system;
    const FleetRun r = run(target("long"), {system, spec(Profile::try_all, 1, 20)}, 0.5s);
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0],
              "profile curl (getaddrinfo) not run: getaddrinfo would not ask the lab's resolver "
              "here (run nolb-compare as root, in its own network namespace)");
    ASSERT_FALSE(r.records.empty());
    for (const auto& rec : r.records)
        EXPECT_EQ(rec.profile, Profile::try_all);
    EXPECT_EQ(r.dns_queries, 1u);
}

TEST_F(CompareClientsTest, SystemLookupsUseGetaddrinfo) {
    // "localhost" comes from /etc/hosts through glibc, on the resolver thread; the order glibc
    // returns is tried in turn (a ::1 entry, where nothing listens, is refused and skipped).
    StatsServer local(base_.get(), "127.0.0.1", http_port_, "node1", 200);
    Target t = target("unused");
    t.name = "localhost";
    t.system_resolver = true;
    ClientSpec uncached = spec(Profile::python, 2, 20);
    uncached.lookup = Lookup::system;
    ClientSpec cached = spec(Profile::java, 1, 20);
    cached.lookup = Lookup::system;
    cached.fixed_cache = 30s;
    const FleetRun r = run(t, {uncached, cached}, 1.0s);
    EXPECT_TRUE(r.notes.empty());
    ASSERT_GE(r.records.size(), 30u);
    std::map<Profile, int> resolved;
    for (const auto& rec : r.records) {
        EXPECT_EQ(rec.outcome, Outcome::ok) << outcome_name(rec.outcome);
        EXPECT_EQ(rec.node, 0);
        if (rec.resolved) ++resolved[rec.profile];
    }
    EXPECT_EQ(resolved[Profile::java], 1) << "kept for fixed_cache";
    EXPECT_GE(resolved[Profile::python], 30) << "no cache: getaddrinfo for every request";
    EXPECT_EQ(r.dns_queries,
              2u * static_cast<unsigned>(resolved[Profile::python] + resolved[Profile::java]));
}

TEST_F(CompareClientsTest, ClosedLoopKeepsTheRateAndSpreadsFirstStarts) {
    const FleetRun r = run(target("long"), {spec(Profile::try_all, 4, 10)}, 2.0s);
    std::map<std::uint16_t, std::vector<const RequestRecord*>> by_client;
    for (const auto& rec : r.records)
        by_client[rec.client].push_back(&rec);
    ASSERT_EQ(by_client.size(), 4u);
    std::set<long> first_starts_ms;
    for (auto& [client, list] : by_client) {
        std::sort(list.begin(), list.end(),
                  [](const auto* a, const auto* b) { return a->start < b->start; });
        EXPECT_GE(list.size(), 18u) << "client " << client;
        EXPECT_LE(list.size(), 21u) << "client " << client;
        EXPECT_LT(list.front()->start, 0.12);
        first_starts_ms.insert(static_cast<long>(list.front()->start * 1000));
        for (std::size_t i = 1; i < list.size(); ++i) {
            EXPECT_GE(list[i]->start, list[i - 1]->end) << "one request at a time";
            EXPECT_GE(list[i]->start - list[i - 1]->start, 0.095);
        }
    }
    EXPECT_GE(first_starts_ms.size(), 3u) << "clients start in step";
}

TEST_F(CompareClientsTest, StopDrainsRequestsInFlight) {
    ClientSpec s = spec(Profile::try_all, 3, 10);
    s.request_timeout = 0.5s;
    const FleetRun r = run(target("silent"), {s}, 0.3s);
    ASSERT_TRUE(r.drained);
    EXPECT_EQ(r.in_flight_when_drained, 0u);
    EXPECT_GE(r.drained_at, 0.5) << "the requests in flight were waited for";
    EXPECT_LT(r.drained_at, r.stop_at + 0.5 + 0.5);
    ASSERT_EQ(r.records.size(), 3u) << "one request per client, none started after stop";
    for (const auto& rec : r.records) {
        EXPECT_LT(rec.start, r.stop_at);
        EXPECT_EQ(rec.outcome, Outcome::request_timeout);
    }

    // Stopping an idle fleet drains at once, from the loop.
    const FleetRun idle = run(target("long"), {spec(Profile::try_all, 1, 1)}, 0.0s);
    EXPECT_TRUE(idle.drained);
    EXPECT_LT(idle.drained_at, 0.5);
}

TEST_F(CompareClientsTest, WarmUpIsNotRecorded) {
    // Origin one second ahead: the first second of requests is the warm-up.
    Fleet fleet(base_.get(), target("long"), {spec(Profile::try_all, 1, 10)}, Clock::now() + 1s, 1);
    fleet.start();
    EXPECT_TRUE(drive(fleet, 1.5));
    const auto records = fleet.take_records();
    ASSERT_GE(records.size(), 3u);
    EXPECT_LE(records.size(), 7u);
    for (const auto& rec : records)
        EXPECT_GE(rec.start, 0.0);
    EXPECT_GT(fleet.dns_queries(), 0u);
    EXPECT_TRUE(fleet.take_records().empty()) << "records are handed over once";
}

TEST_F(CompareClientsTest, DestructionMidRequestClosesEverything) {
    auto open_fds = [] {
        return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                             std::filesystem::directory_iterator{});
    };
    const auto before = open_fds();
    {
        ClientSpec s = spec(Profile::chromium, 3, 50);
        s.attempts = Attempts::staggered;
        s.attempt_timeout = 0.05s;
        s.request_timeout = 2s;
        s.stream = true;
        s.keep_idle = 10s;
        Fleet fleet(base_.get(), target("silent"), {s, spec(Profile::try_all, 3, 50)}, Clock::now(),
                    1);
        fleet.start();
        const timeval run_for = to_tv(0.3);
        event_base_loopexit(base_.get(), &run_for);
        event_base_dispatch(base_.get());
        EXPECT_GT(fleet.in_flight(), 0u);
    }
    // Callbacks evdns queued for the lookups it was told to drop run now, and find nothing.
    const timeval settle = to_tv(0.2);
    event_base_loopexit(base_.get(), &settle);
    event_base_dispatch(base_.get());
    EXPECT_EQ(open_fds(), before);
}

// ------------------------------------------------------------------------- open-loop arrivals

TEST_F(CompareClientsTest, OpenLoopClientsGoOnIssuingRequestsWhileEarlierOnesHang) {
    // The only address accepts and never answers: a closed-loop client would wait on its first
    // request; an open-loop one keeps issuing them at its rate, each waiting on its own.
    ClientSpec s = spec(Profile::python, 2, 20);
    s.arrivals = Arrivals::poisson;
    s.request_timeout = 0s;
    s.attempt_timeout = 0s;
    const FleetRun r = run(target("silent"), {s}, 1.0s, 0.2s);
    // 2 clients x 20/s x 1 s: 40 due on average; a Poisson count is below 20 with a
    // probability of about 1e-4.
    EXPECT_GE(r.records.size(), 20u) << describe(r.records);
    EXPECT_LE(r.records.size(), 70u) << describe(r.records);
    for (const auto& rec : r.records) {
        EXPECT_EQ(rec.outcome, Outcome::unfinished);
        EXPECT_TRUE(rec.attempted);
        // Begun when due, but for the loop's lateness in firing the timer (a busy machine's
        // tens of milliseconds; a wait for a connection would last the 0.2 s of the run's end).
        EXPECT_LE(rec.start, rec.began + 1e-9);
        EXPECT_NEAR(rec.start, rec.began, 0.05) << "nothing waited for a free connection";
    }
}

TEST_F(CompareClientsTest, RequestsBeyondTheProgramsConnectionsWaitAndCountFromWhenDue) {
    // At most 2 open at once, against a silent node: the rest wait, their time counts from when
    // they were due, and those still waiting when the run ends were never attempted.
    ClientSpec s = spec(Profile::chromium, 1, 40);
    s.arrivals = Arrivals::poisson;
    s.max_in_flight = 2;
    s.request_timeout = 0.25s;
    s.attempt_timeout = 0s;
    const FleetRun r = run(target("silent"), {s}, 1.0s, 0.3s);
    int waited = 0, unattempted = 0, timed_out = 0;
    for (const auto& rec : r.records) {
        EXPECT_LE(rec.start, rec.began + 1e-9);
        if (rec.began > rec.start + 0.05) ++waited;
        if (!rec.attempted) {
            ++unattempted;
            EXPECT_EQ(rec.outcome, Outcome::unfinished);
            EXPECT_EQ(rec.attempts, 0);
        }
        if (rec.outcome == Outcome::request_timeout) ++timed_out;
    }
    // Two at a time for 0.25 s each: about 8 of the about 40 due are begun in the second.
    EXPECT_GE(timed_out, 4) << describe(r.records);
    EXPECT_LE(timed_out, 12) << describe(r.records);
    EXPECT_GT(waited, 0);
    EXPECT_GT(unattempted, 10) << describe(r.records);
}

TEST_F(CompareClientsTest, TheSeedDecidesTheArrivals) {
    ClientSpec s = spec(Profile::try_all, 6, 10);
    s.arrivals = Arrivals::poisson;
    auto starts = [&](std::uint64_t seed) {
        const FleetRun r = run(target("one"), {s}, 0.6s, 5s, seed);
        std::vector<std::pair<std::uint16_t, double>> out;
        for (const auto& rec : r.records)
            out.emplace_back(rec.client, rec.start);
        return out;
    };
    // The share of one run's requests that the other has too: same client, due within 20 ms
    // (the loop's timer slack, on a busy machine).
    auto shared = [](const auto& a, const auto& b) {
        std::size_t found = 0;
        for (const auto& [client, at] : a)
            found += std::any_of(b.begin(), b.end(), [&](const auto& other) {
                return other.first == client && std::abs(other.second - at) < 0.02;
            });
        return static_cast<double>(found) / static_cast<double>(std::max<std::size_t>(a.size(), 1));
    };
    const auto a = starts(7), b = starts(7), c = starts(8);
    ASSERT_GE(a.size(), 20u);
    EXPECT_GE(shared(a, b), 0.9) << "the same seed, the same schedule";
    // Another seed: at 10 arrivals a second per client, one falls within 20 ms of a given time
    // by chance with a probability of 1 - exp(-10 x 0.04) = 0.33.
    EXPECT_LT(shared(a, c), 0.6) << "another seed, another schedule";
}

}  // namespace
}  // namespace nolb::compare
