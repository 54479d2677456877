// nolb-stats seen from outside: the real binary on a kernel-chosen 127.0.0.1 port, spoken to
// over plain sockets. The page, the event stream, health turning 503 and then the simulated
// crash with its own exit status, the error statuses, and fault injection with and without its
// flag. Every test that does not crash the site stops it with SIGTERM and expects status 0, so a
// sanitizer build reports leaks here. The binary is the one built beside this test binary
// (<build>/nolb-stats, found from /proc/self/exe), or NOLB_STATS_PATH when set, since the unit test
// target links only nolbcore.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace nolb::stats {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

std::string binary_path() {
    if (const char* env = std::getenv("NOLB_STATS_PATH"); env && *env) return env;
#ifdef NOLB_STATS_PATH
    return NOLB_STATS_PATH;
#else
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return (self.parent_path().parent_path() / "nolb-stats").string();
#endif
}

// ------------------------------------------------------------------------- the process

class StatsProcess {
  public:
    explicit StatsProcess(std::vector<std::string> args) : args_(std::move(args)) {}
    StatsProcess(const StatsProcess&) = delete;
    StatsProcess& operator=(const StatsProcess&) = delete;
    ~StatsProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (err_ >= 0) ::close(err_);
    }

    // Starts the binary and waits for its "listening" line; "" or what went wrong.
    std::string start() {
        const std::string binary = binary_path();
        if (::access(binary.c_str(), X_OK) != 0)
            return "no executable at " + binary +
                   " (build the nolb-stats target, or set NOLB_STATS_PATH)";
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
        pid_ = ::fork();
        if (pid_ < 0) return std::string("fork: ") + std::strerror(errno);
        if (pid_ == 0) {
            ::dup2(fds[1], 2);
            int null = ::open("/dev/null", O_WRONLY);
            if (null >= 0) ::dup2(null, 1);
            std::vector<char*> argv;
            argv.push_back(const_cast<char*>(binary.c_str()));
            for (auto& a : args_)
                argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(binary.c_str(), argv.data());
            std::_Exit(127);
        }
        ::close(fds[1]);
        err_ = fds[0];
        ::fcntl(err_, F_SETFL, O_NONBLOCK);
        if (!wait_for_log("msg=listening", 10s))
            return "no \"listening\" line within 10 s; stderr:\n" + stderr_text();
        // "msg=listening site=... address=127.0.0.1:41234": the port is after the last colon.
        auto line = stderr_.find("msg=listening");
        auto at = stderr_.find("address=", line);
        auto eol = stderr_.find('\n', line);
        if (at == std::string::npos || at > eol) return "no address in:\n" + stderr_;
        std::string address = stderr_.substr(at + 8, eol - at - 8);
        port_ = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
        return {};
    }

    std::uint16_t port() const { return port_; }
    pid_t pid() const { return pid_; }

    std::string stderr_text() {
        char buf[4096];
        for (;;) {
            ssize_t n = ::read(err_, buf, sizeof buf);
            if (n == 0) closed_ = true;
            if (n <= 0) break;
            stderr_.append(buf, static_cast<std::size_t>(n));
        }
        return stderr_;
    }

    bool wait_for_log(const std::string& needle, Clock::duration timeout) {
        auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            if (stderr_text().find(needle) != std::string::npos) return true;
            if (closed_) return false;  // the process has exited
            pollfd p{err_, POLLIN, 0};
            ::poll(&p, 1, 50);
        }
        return stderr_text().find(needle) != std::string::npos;
    }

    // The exit status once the process has ended on its own, or nullopt after `timeout`.
    std::optional<int> wait_exit(Clock::duration timeout) {
        auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                stderr_text();
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(20ms);
        }
        return std::nullopt;
    }

    int stop() {
        ::kill(pid_, SIGTERM);
        auto status = wait_exit(10s);
        return status ? *status : -1;
    }

  private:
    std::vector<std::string> args_;
    pid_t pid_ = -1;
    int err_ = -1;
    std::string stderr_;
    bool closed_ = false;
    std::uint16_t port_ = 0;
};

// Options for site "london" on a kernel-chosen loopback port, then `extra`.
std::vector<std::string> london(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--site", "london", "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

// ------------------------------------------------------------------------ a tiny client

struct Response {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    bool timed_out = false;

    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
    Json json() const { return Json::parse(body, nullptr, false); }
};

int connect_to(const char* address, std::uint16_t port) {
    sockaddr_storage ss{};
    socklen_t len;
    if (std::strchr(address, ':')) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        ::inet_pton(AF_INET6, address, &sin6->sin6_addr);
        len = sizeof *sin6;
    } else {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        ::inet_pton(AF_INET, address, &sin->sin_addr);
        len = sizeof *sin;
    }
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

void send_all(int fd, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += static_cast<std::size_t>(n);
    }
}

// Reads until `done(bytes so far)` or end of stream or the deadline; true unless timed out.
template <typename Done>
bool read_until(int fd, std::string& out, Clock::time_point deadline, Done done) {
    char buf[8192];
    while (!done(out)) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return true;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return true;
}

// Splits a response; the body is everything after the headers, dechunked when chunked.
Response parse_response(const std::string& raw) {
    Response r;
    auto end = raw.find("\r\n\r\n");
    if (end == std::string::npos) return r;
    std::string head = raw.substr(0, end);
    std::string rest = raw.substr(end + 4);
    auto line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    auto space = status_line.find(' ');
    if (space != std::string::npos) r.status = std::atoi(status_line.c_str() + space + 1);
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
        auto next = head.find("\r\n", pos);
        if (next == std::string::npos) next = head.size();
        std::string line = head.substr(pos, next - pos);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            for (char& c : name)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ')
                value.erase(0, 1);
            r.headers[name] = value;
        }
        pos = next + 2;
    }
    if (r.header("transfer-encoding") == "chunked") {
        std::size_t at = 0;
        for (;;) {
            auto eol = rest.find("\r\n", at);
            if (eol == std::string::npos) break;
            std::size_t size = std::strtoul(rest.substr(at, eol - at).c_str(), nullptr, 16);
            if (size == 0 || eol + 2 + size > rest.size()) {
                if (size != 0) r.body += rest.substr(eol + 2);  // a chunk still arriving
                break;
            }
            r.body += rest.substr(eol + 2, size);
            at = eol + 2 + size + 2;
        }
    } else {
        r.body = rest;
    }
    return r;
}

// One request on its own connection; the server closes after every reply but a stream.
Response request(std::uint16_t port, const std::string& method, const std::string& target,
                 const std::string& body = "", Clock::duration timeout = 10s,
                 const char* address = "127.0.0.1") {
    Response r;
    int fd = connect_to(address, port);
    if (fd < 0) {
        r.status = -1;
        return r;
    }
    send_all(fd, method + " " + target + " HTTP/1.1\r\nHost: stats.test\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body);
    std::string raw;
    bool complete = read_until(fd, raw, Clock::now() + timeout, [](const std::string&) {
        return false;  // until the server closes
    });
    ::close(fd);
    r = parse_response(raw);
    r.timed_out = !complete;
    return r;
}

// The "data:" payloads of an event stream, read until `count` have arrived.
struct Stream {
    int fd = -1;
    std::string raw;
    ~Stream() {
        if (fd >= 0) ::close(fd);
    }
    void close() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

std::unique_ptr<Stream> open_stream(std::uint16_t port) {
    auto s = std::make_unique<Stream>();
    s->fd = connect_to("127.0.0.1", port);
    send_all(s->fd,
             "GET /events HTTP/1.1\r\nHost: stats.test\r\nAccept: text/event-stream\r\n\r\n");
    return s;
}

std::vector<Json> events_of(const std::string& body) {
    std::vector<Json> out;
    std::size_t pos = 0;
    while ((pos = body.find("data: ", pos)) != std::string::npos) {
        auto end = body.find("\n\n", pos);
        if (end == std::string::npos) break;
        out.push_back(Json::parse(body.substr(pos + 6, end - pos - 6), nullptr, false));
        pos = end;
    }
    return out;
}

std::vector<Json> read_events(Stream& s, std::size_t count, Clock::duration timeout) {
    read_until(s.fd, s.raw, Clock::now() + timeout, [count](const std::string& raw) {
        return events_of(parse_response(raw).body).size() >= count;
    });
    return events_of(parse_response(s.raw).body);
}

unsigned viewers(std::uint16_t port) {
    return request(port, "GET", "/stats").json().value("viewers", 999u);
}

// ---------------------------------------------------------------------------- the page

TEST(StatsServer, ServesTheWholePageFromTheBinary) {
    StatsProcess site(london());
    ASSERT_EQ(site.start(), "");
    Response r = request(site.port(), "GET", "/");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(r.header("cache-control"), "no-store");
    const std::string& page = r.body;
    for (const char* id : {"id=\"site\"", "id=\"address\"", "id=\"viewers\"", "id=\"log\"",
                           "id=\"memory-chart\"", "id=\"cpu-chart\""})
        EXPECT_NE(page.find(id), std::string::npos) << id;
    // Filled in by the server: the site and the address the request reached.
    EXPECT_NE(page.find(">london<"), std::string::npos);
    EXPECT_NE(page.find("127.0.0.1:" + std::to_string(site.port())), std::string::npos);
    // Script and style are inline, and nothing is fetched from elsewhere.
    EXPECT_NE(page.find("new EventSource('/events')"), std::string::npos);
    EXPECT_NE(page.find("window.nolbStats"), std::string::npos);
    EXPECT_NE(page.find("--site"), std::string::npos);  // a CSS variable from style.css
    EXPECT_EQ(page.find("src=\"http"), std::string::npos);
    EXPECT_EQ(page.find("href=\"http"), std::string::npos);
    EXPECT_EQ(page.find("{{"), std::string::npos);
    EXPECT_EQ(site.stop(), 0) << site.stderr_text();
}

TEST(StatsServer, HeadAnswersGetRoutesWithHeadersOnly) {
    StatsProcess site(london());
    ASSERT_EQ(site.start(), "");
    for (const char* path : {"/", "/health", "/stats", "/events"}) {
        Response head = request(site.port(), "HEAD", path);
        EXPECT_EQ(head.status, 200) << path;
        EXPECT_EQ(head.body, "") << path;
        if (std::string(path) == "/" || std::string(path) == "/health") {
            Response get = request(site.port(), "GET", path);
            EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size())) << path;
        }
    }
    EXPECT_EQ(site.stop(), 0) << site.stderr_text();
}

// ------------------------------------------------------------------------- the stream

TEST(StatsServer, EventsStreamTwiceASecondWithEveryField) {
    StatsProcess site(london());
    ASSERT_EQ(site.start(), "");
    auto stream = open_stream(site.port());
    auto start = Clock::now();
    std::vector<Json> events = read_events(*stream, 3, 5s);
    ASSERT_GE(events.size(), 3u) << stream->raw;
    // The first arrives at once, then about every 500 ms.
    EXPECT_LT(Clock::now() - start, 2500ms);

    Response r = parse_response(stream->raw);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/event-stream");
    EXPECT_EQ(r.header("cache-control"), "no-store");
    EXPECT_EQ(r.body.rfind("retry: 500\n\n", 0), 0u) << r.body;

    for (const Json& e : events) {
        ASSERT_TRUE(e.is_object());
        for (const char* field : {"site", "pid", "uptime_s", "memory_used_mb", "memory_limit_mb",
                                  "rss_mb", "cpu_percent", "viewers", "address", "degraded"})
            EXPECT_TRUE(e.contains(field)) << field << " in " << e.dump();
        EXPECT_EQ(e["site"], "london");
        EXPECT_EQ(e["pid"], site.pid());
        EXPECT_EQ(e["address"], "127.0.0.1:" + std::to_string(site.port()));
        EXPECT_EQ(e["memory_limit_mb"], 256);
        EXPECT_EQ(e["memory_used_mb"], 0);
        EXPECT_EQ(e["degraded"], false);
        EXPECT_EQ(e["viewers"], 1);
        EXPECT_GT(e["rss_mb"].get<double>(), 0.0);
        EXPECT_GE(e["cpu_percent"].get<double>(), 0.0);
    }
    EXPECT_GT(events.back()["uptime_s"].get<double>(), events.front()["uptime_s"].get<double>());
    EXPECT_EQ(site.stop(), 0) << site.stderr_text();
}

TEST(StatsServer, ViewersAreCountedAndForgottenWhenTheyLeave) {
    StatsProcess site(london());
    ASSERT_EQ(site.start(), "");
    auto a = open_stream(site.port());
    auto b = open_stream(site.port());
    ASSERT_FALSE(read_events(*a, 1, 3s).empty());
    ASSERT_FALSE(read_events(*b, 1, 3s).empty());
    EXPECT_EQ(viewers(site.port()), 2u);
    EXPECT_EQ(read_events(*b, 3, 3s).back()["viewers"], 2);

    a->close();
    auto deadline = Clock::now() + 3s;
    while (viewers(site.port()) != 1u && Clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    EXPECT_EQ(viewers(site.port()), 1u);
    b->close();
    deadline = Clock::now() + 3s;
    while (viewers(site.port()) != 0u && Clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    EXPECT_EQ(viewers(site.port()), 0u);
    EXPECT_EQ(site.stop(), 0) << site.stderr_text();
}

// -------------------------------------------------------- degrading, then the crash

TEST(StatsServer, HealthTurns503AtTheThresholdAndTheSiteExitsPastTheLimit) {
    StatsProcess site(london({"--memory-limit", "64", "--chunk", "16", "--degrade-at", "50"}));
    ASSERT_EQ(site.start(), "");
    Response health = request(site.port(), "GET", "/health");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.json(), (Json{{"site", "london"}, {"status", "ok"}}));
    double rss_before = request(site.port(), "GET", "/stats").json()["rss_mb"];

    Response first = request(site.port(), "POST", "/malloc");
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(first.json()["memory_used_mb"], 16);
    EXPECT_EQ(first.json()["allocated_mb"], 16);
    EXPECT_EQ(request(site.port(), "GET", "/health").status, 200);

    Response second = request(site.port(), "POST", "/malloc");
    EXPECT_EQ(second.json()["memory_used_mb"], 32);
    EXPECT_EQ(second.json()["degraded"], true);
    // The pages were really touched: resident memory grew by about what was allocated.
    EXPECT_GT(second.json()["rss_mb"].get<double>(), rss_before + 28.0);
    health = request(site.port(), "GET", "/health");
    EXPECT_EQ(health.status, 503);
    EXPECT_EQ(health.json()["status"], "degraded");
    EXPECT_TRUE(site.wait_for_log("msg=degraded", 2s));

    EXPECT_EQ(request(site.port(), "POST", "/malloc").json()["memory_used_mb"], 48);
    EXPECT_EQ(request(site.port(), "POST", "/malloc").json()["memory_used_mb"], 64);
    EXPECT_EQ(site.wait_exit(0s), std::nullopt);  // at the limit, not past it

    Response last = request(site.port(), "POST", "/malloc");
    EXPECT_EQ(last.status, 503);
    EXPECT_EQ(last.json()["out_of_memory"], true);
    EXPECT_EQ(site.wait_exit(5s), 3);
    EXPECT_NE(site.stderr_text().find("nolb-stats: out of memory (simulated) after 64 MB\n"),
              std::string::npos)
        << site.stderr_text();
    EXPECT_EQ(request(site.port(), "GET", "/health").status, -1);  // nobody listens any more
}

// --------------------------------------------------------------------- bad requests

TEST(StatsServer, UnknownPathsWrongMethodsAndLargeBodiesAreRefused) {
    StatsProcess site(london());
    ASSERT_EQ(site.start(), "");
    Response missing = request(site.port(), "GET", "/nowhere");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.header("content-type"), "application/json");

    Response get_malloc = request(site.port(), "GET", "/malloc");
    EXPECT_EQ(get_malloc.status, 405);
    EXPECT_EQ(get_malloc.header("allow"), "POST");
    Response post_health = request(site.port(), "POST", "/health");
    EXPECT_EQ(post_health.status, 405);
    EXPECT_EQ(post_health.header("allow"), "GET, HEAD");
    EXPECT_EQ(request(site.port(), "DELETE", "/").header("allow"), "GET, HEAD");

    Response big = request(site.port(), "POST", "/malloc", std::string(5000, 'x'));
    EXPECT_EQ(big.status, 413);
    EXPECT_EQ(request(site.port(), "GET", "/stats").json()["memory_used_mb"], 0);
    // A body within the limit is simply ignored.
    EXPECT_EQ(request(site.port(), "POST", "/malloc", std::string(100, 'x')).status, 200);
    EXPECT_EQ(site.stop(), 0) << site.stderr_text();
}

TEST(StatsServer, AClickForAnotherSiteAllocatesNothing) {
    StatsProcess site(london());
    ASSERT_EQ(site.start(), "");
    Response elsewhere = request(site.port(), "POST", "/malloc?site=geneva");
    EXPECT_EQ(elsewhere.status, 409);
    EXPECT_EQ(elsewhere.json()["site"], "london");
    EXPECT_EQ(elsewhere.json()["shown"], "geneva");
    EXPECT_EQ(request(site.port(), "GET", "/stats").json()["memory_used_mb"], 0);

    Response here = request(site.port(), "POST", "/malloc?site=london");
    EXPECT_EQ(here.status, 200);
    EXPECT_GT(here.json()["memory_used_mb"].get<int>(), 0);
    EXPECT_EQ(site.stop(), 0) << site.stderr_text();
}

// ------------------------------------------------------------------ fault injection

TEST(StatsServer, FaultInjectionIsRefusedWithoutItsFlag) {
    StatsProcess site(london());
    ASSERT_EQ(site.start(), "");
    for (const char* target : {"/fail?mode=http500", "/recover"}) {
        Response r = request(site.port(), "POST", target);
        EXPECT_EQ(r.status, 403) << target;
        EXPECT_NE(r.body.find("--allow-fault-injection"), std::string::npos) << r.body;
    }
    EXPECT_EQ(request(site.port(), "GET", "/health").status, 200);
    EXPECT_EQ(site.stop(), 0) << site.stderr_text();
}

TEST(StatsServer, Http500FailsEveryRequestButRecover) {
    StatsProcess site(london({"--allow-fault-injection"}));
    ASSERT_EQ(site.start(), "");
    auto stream = open_stream(site.port());
    ASSERT_FALSE(read_events(*stream, 1, 3s).empty());

    EXPECT_EQ(request(site.port(), "POST", "/fail?mode=teapot").status, 400);
    Response fail = request(site.port(), "POST", "/fail?mode=http500");
    EXPECT_EQ(fail.status, 200);
    EXPECT_EQ(fail.json()["fault"], "http500");
    // Open streams end, so their pages reconnect and meet the failure.
    read_until(stream->fd, stream->raw, Clock::now() + 3s, [](const std::string& raw) {
        return raw.find("\r\n0\r\n\r\n") != std::string::npos;
    });
    EXPECT_NE(stream->raw.find("\r\n0\r\n\r\n"), std::string::npos);

    for (const char* path : {"/", "/health", "/stats", "/events"})
        EXPECT_EQ(request(site.port(), "GET", path).status, 500) << path;
    EXPECT_EQ(request(site.port(), "POST", "/malloc").status, 500);

    Response recover = request(site.port(), "POST", "/recover");
    EXPECT_EQ(recover.status, 200);
    EXPECT_EQ(request(site.port(), "GET", "/health").status, 200);
    EXPECT_TRUE(site.wait_for_log("msg=\"fault injected\"", 1s));
    EXPECT_EQ(site.stop(), 0) << site.stderr_text();
}

TEST(StatsServer, SlowDelaysAnswersByFiveSeconds) {
    StatsProcess site(london({"--allow-fault-injection"}));
    ASSERT_EQ(site.start(), "");
    ASSERT_EQ(request(site.port(), "POST", "/fail?mode=slow").status, 200);
    auto start = Clock::now();
    Response health = request(site.port(), "GET", "/health", "", 10s);
    EXPECT_EQ(health.status, 200);
    EXPECT_GE(Clock::now() - start, 4500ms);
    EXPECT_EQ(request(site.port(), "POST", "/recover").status, 200);
    start = Clock::now();
    EXPECT_EQ(request(site.port(), "GET", "/health").status, 200);
    EXPECT_LT(Clock::now() - start, 1s);
    EXPECT_EQ(site.stop(), 0) << site.stderr_text();
}

TEST(StatsServer, HangAcceptsAndNeverAnswersUntilRecover) {
    StatsProcess site(london({"--allow-fault-injection"}));
    ASSERT_EQ(site.start(), "");
    ASSERT_EQ(request(site.port(), "POST", "/fail?mode=hang").status, 200);
    Response given_up = request(site.port(), "GET", "/health", "", 1500ms);
    EXPECT_TRUE(given_up.timed_out);
    EXPECT_EQ(given_up.status, 0);

    // A request still waiting when the site recovers is answered then.
    int waiting = connect_to("127.0.0.1", site.port());
    send_all(waiting, "GET /health HTTP/1.1\r\nHost: stats.test\r\n\r\n");
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(request(site.port(), "POST", "/recover").status, 200);
    std::string raw;
    read_until(waiting, raw, Clock::now() + 3s, [](const std::string&) { return false; });
    ::close(waiting);
    EXPECT_EQ(parse_response(raw).status, 200) << raw;
    EXPECT_EQ(site.stop(), 0) << site.stderr_text();
}

TEST(StatsServer, KeepAliveKeepsConnectionsUntilCloseIsAsked) {
    StatsProcess site(london({"--allow-fault-injection", "--keep-alive"}));
    ASSERT_EQ(site.start(), "");
    auto never = [](const std::string&) { return false; };
    // Before: the connection stays open after the answer (read_until runs out of time).
    int kept = connect_to("127.0.0.1", site.port());
    const std::string get = "GET /stats HTTP/1.1\r\nHost: stats.test\r\n\r\n";
    send_all(kept, get);
    std::string raw;
    EXPECT_FALSE(read_until(kept, raw, Clock::now() + 500ms, never));
    EXPECT_EQ(parse_response(raw).status, 200);
    EXPECT_EQ(raw.find("Connection: close"), std::string::npos) << raw;
    ::close(kept);

    ASSERT_EQ(request(site.port(), "POST", "/fail?mode=close").status, 200);
    int closing = connect_to("127.0.0.1", site.port());
    send_all(closing, get);
    raw.clear();
    // The server closes after one answer: read_until meets the end before its deadline.
    EXPECT_TRUE(read_until(closing, raw, Clock::now() + 2s, never));
    ::close(closing);
    EXPECT_EQ(parse_response(raw).status, 200) << raw;
    EXPECT_NE(raw.find("Connection: close"), std::string::npos) << raw;
    EXPECT_EQ(request(site.port(), "GET", "/health").status, 200) << "healthy all along";
    EXPECT_EQ(request(site.port(), "POST", "/recover").status, 200);
    EXPECT_EQ(site.stop(), 0) << site.stderr_text();

    // Without --keep-alive every answer closes its connection, as the demonstration wants.
    StatsProcess demo(london({}));
    ASSERT_EQ(demo.start(), "");
    int once = connect_to("127.0.0.1", demo.port());
    send_all(once, get);
    raw.clear();
    EXPECT_TRUE(read_until(once, raw, Clock::now() + 2s, never));
    ::close(once);
    EXPECT_NE(raw.find("Connection: close"), std::string::npos) << raw;
    EXPECT_EQ(demo.stop(), 0) << demo.stderr_text();
}

// ------------------------------------------------------------------- command line

TEST(StatsServer, ListensOnIpv6Too) {
    StatsProcess site({"--site", "geneva", "--listen", "[::1]:0"});
    std::string problem = site.start();
    if (problem.find("Cannot assign requested address") != std::string::npos ||
        problem.find("Address family not supported") != std::string::npos)
        GTEST_SKIP() << "no IPv6 loopback here";
    ASSERT_EQ(problem, "");
    Response r = request(site.port(), "GET", "/stats", "", 5s, "::1");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["address"], "[::1]:" + std::to_string(site.port()));
    EXPECT_EQ(site.stop(), 0) << site.stderr_text();
}

TEST(StatsServer, CommandLineMistakesExitWithStatus2) {
    auto status_of = [](std::vector<std::string> args) {
        StatsProcess p(std::move(args));
        p.start();  // never gets to "listening"
        return p.wait_exit(5s).value_or(-1);
    };
    EXPECT_EQ(status_of({"--listen", "127.0.0.1:0"}), 2);                    // no --site
    EXPECT_EQ(status_of({"--site", "london"}), 2);                           // no --listen
    EXPECT_EQ(status_of({"--site", "london", "--listen", "127.0.0.1"}), 2);  // no port
    EXPECT_EQ(status_of({"--site", "london", "--listen", "::1:80"}), 2);     // no brackets
    EXPECT_EQ(status_of({"--site", "<b>", "--listen", "127.0.0.1:0"}), 2);   // bad name
    EXPECT_EQ(status_of({"--site", "a", "--listen", "127.0.0.1:0", "--degrade-at", "0"}), 2);
}

TEST(StatsServer, HelpSaysItIsADemonstrationTarget) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::string binary = binary_path();
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::execl(binary.c_str(), binary.c_str(), "--help", static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    ::close(fds[1]);
    std::string out;
    read_until(fds[0], out, Clock::now() + 5s, [](const std::string&) { return false; });
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_NE(out.find("DEMONSTRATION TARGET"), std::string::npos) << out;
    EXPECT_NE(out.find("never a production server"), std::string::npos);
    EXPECT_NE(out.find("--allow-fault-injection"), std::string::npos);
}

}  // namespace
}  // namespace nolb::stats
