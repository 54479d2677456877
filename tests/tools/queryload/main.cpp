// nolb-queryload: a steady stream of UDP queries at one DNS server, to show that nolbd keeps
// answering while something else happens (reloads, health transitions, drains). Unlike a
// benchmark that looks for the highest rate, it sends at a fixed rate, paced from one clock, and
// accounts for every query: answered within the timeout, answered late, or never.
//
// One non-blocking socket, one loop: send what is due, read what has arrived, expire what has
// waited too long, sleep until the next of these. Queries are built by hand (incrementing IDs)
// and responses matched by ID and question.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kHelp = R"(Usage: nolb-queryload --server ADDR:PORT --name NAME [options]

Sends DNS queries over UDP at a steady rate for a fixed time, then prints one line of
key=value counters and exits 0:

  sent answered lost late rcode_noerror rcode_nxdomain rcode_servfail rcode_refused
  rcode_other empty truncated unexpected send_errors p50_us p90_us p99_us max_us
  duration_s rate

answered: responses matched to a query (ID and question) within the timeout; lost: sent minus
answered; late: responses that came after their query's timeout (also counted in lost);
empty: NOERROR responses without answer records; unexpected: responses matching no query in
flight. Latencies are those of answered queries, in microseconds.

Options:
  --server ADDR:PORT   the server: 127.0.0.1:5353, [::1]:5353 (required)
  --name NAME          the query name (required)
  --type TYPE          A (default), AAAA, TXT, SOA, NS, MX, SRV, CNAME, ANY, TYPEn or a number
  --rate QPS           queries per second (default 1000; 1..1000000)
  --duration SECONDS   how long to send (default 5; 0.1..3600); the run then waits at most
                       one timeout for the last responses. SIGINT or SIGTERM ends the
                       sending early, and the run ends the same way.
  --timeout-ms MS      how long a query may wait for its response (default 1000; 1..60000)
  --help               this text

Exit status: 0 after a run (whatever was lost); 1: socket error; 2: bad usage.
)";

using Nanos = std::int64_t;

// Set by SIGINT or SIGTERM: stop sending, wait for what is in flight, report as usual. A test
// can so keep the load running exactly as long as whatever it measures.
volatile std::sig_atomic_t stop_requested = 0;
void request_stop(int) {
    stop_requested = 1;
}

Nanos now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<Nanos>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int usage_error(const std::string& message) {
    std::fprintf(stderr, "nolb-queryload: %s (see --help)\n", message.c_str());
    return 2;
}

std::optional<std::uint16_t> type_from_text(std::string text) {
    for (auto& c : text)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    struct Known {
        const char* name;
        std::uint16_t code;
    };
    static constexpr Known kKnown[] = {{"A", 1},    {"NS", 2},    {"CNAME", 5}, {"SOA", 6},
                                       {"PTR", 12}, {"MX", 15},   {"TXT", 16},  {"AAAA", 28},
                                       {"SRV", 33}, {"ANY", 255}, {"CAA", 257}};
    for (const auto& k : kKnown)
        if (text == k.name) return k.code;
    std::string digits = text.rfind("TYPE", 0) == 0 ? text.substr(4) : text;
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
        digits.size() > 5)
        return std::nullopt;
    unsigned long n = std::strtoul(digits.c_str(), nullptr, 10);
    if (n == 0 || n > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(n);
}

// The question section in wire form: name, type, class IN.
std::optional<std::vector<std::uint8_t>> question_bytes(std::string_view name, std::uint16_t type) {
    std::vector<std::uint8_t> out;
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    while (!name.empty()) {
        auto dot = name.find('.');
        auto label = name.substr(0, dot);
        if (label.empty() || label.size() > 63) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>(label.size()));
        out.insert(out.end(), label.begin(), label.end());
        if (dot == std::string_view::npos) break;
        name.remove_prefix(dot + 1);
    }
    out.push_back(0);
    if (out.size() > 255) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(type >> 8));
    out.push_back(static_cast<std::uint8_t>(type & 0xff));
    out.push_back(0);
    out.push_back(1);
    return out;
}

bool parse_server(const std::string& text, sockaddr_storage& out, socklen_t& length) {
    std::string host, port;
    if (!text.empty() && text[0] == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return false;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos) return false;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos)
        return false;
    unsigned long number = std::strtoul(port.c_str(), nullptr, 10);
    if (number == 0 || number > 65535) return false;
    out = {};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(number));
        length = sizeof(sockaddr_in);
        return true;
    }
    if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(number));
        length = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

struct Counters {
    std::uint64_t sent = 0, answered = 0, late = 0, unexpected = 0, send_errors = 0;
    std::uint64_t noerror = 0, nxdomain = 0, servfail = 0, refused = 0, other = 0;
    std::uint64_t empty = 0, truncated = 0;
};

// The query in flight under each ID. `sequence` tells a reused ID from its previous query.
struct Slot {
    enum class State : std::uint8_t { idle, pending, expired } state = State::idle;
    std::uint64_t sequence = 0;
    Nanos sent_at = 0;
};

class Load {
  public:
    Load(int fd, std::vector<std::uint8_t> question, Nanos timeout)
        : fd_(fd), question_(std::move(question)), timeout_(timeout), slots_(65536) {
        query_.resize(12 + question_.size());
        query_[5] = 1;  // QDCOUNT 1; flags 0: a query as a resolver sends it to an authority
        std::copy(question_.begin(), question_.end(), query_.begin() + 12);
    }

    void run(double rate, double duration) {
        std::uint64_t total = static_cast<std::uint64_t>(std::llround(rate * duration));
        const double interval_ns = 1e9 / rate;
        const Nanos start = now_ns();
        bool blocked = false;  // the last send found the socket buffer full
        while (true) {
            if (stop_requested) total = std::min(total, counters_.sent);
            Nanos t = now_ns();
            blocked = false;
            while (counters_.sent < total &&
                   start + static_cast<Nanos>(static_cast<double>(counters_.sent) * interval_ns) <=
                       t) {
                if (!send_one(t)) {
                    blocked = true;
                    break;
                }
            }
            receive_all();
            t = now_ns();
            expire(t);
            if (counters_.sent >= total && in_flight_.empty()) break;

            // Sleep until the next send is due, the oldest query expires, or a response comes.
            Nanos wake = t + 100'000'000;
            if (counters_.sent < total && !blocked)
                wake = std::min(
                    wake,
                    start + static_cast<Nanos>(static_cast<double>(counters_.sent) * interval_ns));
            if (!in_flight_.empty()) wake = std::min(wake, in_flight_.front().sent_at + timeout_);
            Nanos wait = std::max<Nanos>(0, wake - t);
            pollfd p{fd_, static_cast<short>(POLLIN | (blocked ? POLLOUT : 0)), 0};
            timespec ts{static_cast<time_t>(wait / 1'000'000'000),
                        static_cast<long>(wait % 1'000'000'000)};
            ppoll(&p, 1, &ts, nullptr);
        }
        elapsed_ = static_cast<double>(now_ns() - start) / 1e9;
    }

    void print() {
        std::uint64_t lost = counters_.sent - counters_.answered;
        auto percentile = [&](double p) -> std::uint64_t {
            if (latencies_.empty()) return 0;
            std::size_t index =
                static_cast<std::size_t>(p * static_cast<double>(latencies_.size() - 1));
            std::nth_element(latencies_.begin(), latencies_.begin() + static_cast<long>(index),
                             latencies_.end());
            return latencies_[index];
        };
        std::uint64_t p50 = percentile(0.50), p90 = percentile(0.90), p99 = percentile(0.99);
        std::uint64_t max =
            latencies_.empty() ? 0 : *std::max_element(latencies_.begin(), latencies_.end());
        double sending = elapsed_ > 0 ? static_cast<double>(counters_.sent) / elapsed_ : 0;
        std::printf(
            "sent=%llu answered=%llu lost=%llu late=%llu rcode_noerror=%llu rcode_nxdomain=%llu "
            "rcode_servfail=%llu rcode_refused=%llu rcode_other=%llu empty=%llu truncated=%llu "
            "unexpected=%llu send_errors=%llu p50_us=%llu p90_us=%llu p99_us=%llu max_us=%llu "
            "duration_s=%.3f rate=%.1f\n",
            u(counters_.sent), u(counters_.answered), u(lost), u(counters_.late),
            u(counters_.noerror), u(counters_.nxdomain), u(counters_.servfail),
            u(counters_.refused), u(counters_.other), u(counters_.empty), u(counters_.truncated),
            u(counters_.unexpected), u(counters_.send_errors), u(p50), u(p90), u(p99), u(max),
            elapsed_, sending);
    }

  private:
    static unsigned long long u(std::uint64_t v) { return static_cast<unsigned long long>(v); }

    struct InFlight {
        std::uint16_t id;
        std::uint64_t sequence;
        Nanos sent_at;
    };

    // Sends the next query; false when the socket cannot take it now.
    bool send_one(Nanos t) {
        std::uint16_t id = next_id_;
        Slot& slot = slots_[id];
        if (slot.state == Slot::State::pending) {
            // 65,536 queries in flight: the oldest under this ID is given up for lost.
            slot.state = Slot::State::expired;
        }
        query_[0] = static_cast<std::uint8_t>(id >> 8);
        query_[1] = static_cast<std::uint8_t>(id & 0xff);
        ssize_t n = send(fd_, query_.data(), query_.size(), 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return false;
            // ECONNREFUSED (an ICMP error from an earlier query) and the like: the query was
            // not sent; count it as sent and lost so that the schedule stays honest.
            ++counters_.send_errors;
        }
        ++next_id_;
        ++counters_.sent;
        slot.state = Slot::State::pending;
        slot.sequence = counters_.sent;
        slot.sent_at = t;
        in_flight_.push_back({id, slot.sequence, t});
        return true;
    }

    void receive_all() {
        std::uint8_t buffer[4096];
        while (true) {
            ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                return;  // EAGAIN, or an ICMP error reported here; either way nothing to read
            }
            Nanos t = now_ns();
            on_response(buffer, static_cast<std::size_t>(n), t);
        }
    }

    void on_response(const std::uint8_t* p, std::size_t n, Nanos t) {
        if (n < 12 + question_.size() || !(p[2] & 0x80) || p[4] != 0 || p[5] != 1 ||
            std::memcmp(p + 12, question_.data(), question_.size()) != 0) {
            ++counters_.unexpected;
            return;
        }
        std::uint16_t id = static_cast<std::uint16_t>(p[0] << 8 | p[1]);
        Slot& slot = slots_[id];
        if (slot.state == Slot::State::expired) {
            ++counters_.late;
            slot.state = Slot::State::idle;
            return;
        }
        if (slot.state != Slot::State::pending) {
            ++counters_.unexpected;
            return;
        }
        slot.state = Slot::State::idle;
        ++counters_.answered;
        latencies_.push_back(
            static_cast<std::uint32_t>(std::min<Nanos>((t - slot.sent_at) / 1000, UINT32_MAX)));
        unsigned rcode = p[3] & 0x0f;
        switch (rcode) {
            case 0:
                ++counters_.noerror;
                if (p[6] == 0 && p[7] == 0) ++counters_.empty;
                break;
            case 2:
                ++counters_.servfail;
                break;
            case 3:
                ++counters_.nxdomain;
                break;
            case 5:
                ++counters_.refused;
                break;
            default:
                ++counters_.other;
        }
        if (p[2] & 0x02) ++counters_.truncated;
    }

    // Queries that waited their whole timeout are lost; a response after that counts as late.
    void expire(Nanos t) {
        while (!in_flight_.empty() && in_flight_.front().sent_at + timeout_ <= t) {
            const InFlight& oldest = in_flight_.front();
            Slot& slot = slots_[oldest.id];
            if (slot.state == Slot::State::pending && slot.sequence == oldest.sequence)
                slot.state = Slot::State::expired;
            in_flight_.pop_front();
        }
        // Answered queries leave their entries behind; drop them from the front too, so that
        // the queue's front is always a query still waiting.
        while (!in_flight_.empty()) {
            const InFlight& oldest = in_flight_.front();
            const Slot& slot = slots_[oldest.id];
            if (slot.state == Slot::State::pending && slot.sequence == oldest.sequence) break;
            in_flight_.pop_front();
        }
    }

    int fd_;
    std::vector<std::uint8_t> question_;
    std::vector<std::uint8_t> query_;
    Nanos timeout_;
    std::vector<Slot> slots_;
    std::deque<InFlight> in_flight_;
    std::vector<std::uint32_t> latencies_;
    std::uint16_t next_id_ = 1;
    Counters counters_;
    double elapsed_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    std::string server, name, type_text = "A";
    double rate = 1000, duration = 5, timeout_ms = 1000;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= argc) return std::nullopt;
            return std::string(argv[++i]);
        };
        auto number = [&](double& out, double low, double high) {
            auto text = value();
            if (!text) return false;
            char* end = nullptr;
            double v = std::strtod(text->c_str(), &end);
            if (end == text->c_str() || *end != '\0' || !(v >= low && v <= high)) return false;
            out = v;
            return true;
        };
        if (arg == "--help" || arg == "-h") {
            std::fputs(kHelp, stdout);
            return 0;
        } else if (arg == "--server") {
            auto v = value();
            if (!v) return usage_error("--server needs ADDR:PORT");
            server = *v;
        } else if (arg == "--name") {
            auto v = value();
            if (!v) return usage_error("--name needs a name");
            name = *v;
        } else if (arg == "--type") {
            auto v = value();
            if (!v) return usage_error("--type needs a type");
            type_text = *v;
        } else if (arg == "--rate") {
            if (!number(rate, 1, 1e6)) return usage_error("--rate needs a number in 1..1000000");
        } else if (arg == "--duration") {
            if (!number(duration, 0.1, 3600))
                return usage_error("--duration needs seconds in 0.1..3600");
        } else if (arg == "--timeout-ms") {
            if (!number(timeout_ms, 1, 60000)) return usage_error("--timeout-ms needs 1..60000");
        } else {
            return usage_error("unknown argument '" + arg + "'");
        }
    }
    if (server.empty()) return usage_error("--server is required");
    if (name.empty()) return usage_error("--name is required");
    sockaddr_storage address{};
    socklen_t length = 0;
    if (!parse_server(server, address, length))
        return usage_error("bad --server '" + server + "' (ADDR:PORT or [ADDR]:PORT)");
    auto type = type_from_text(type_text);
    if (!type) return usage_error("unknown --type '" + type_text + "'");
    auto question = question_bytes(name, *type);
    if (!question) return usage_error("bad --name '" + name + "'");

    int fd = socket(address.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
        std::fprintf(stderr, "nolb-queryload: socket to %s: %s\n", server.c_str(),
                     std::strerror(errno));
        return 1;
    }
    int buffer_size = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof buffer_size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_size, sizeof buffer_size);

    struct sigaction stop {};
    stop.sa_handler = request_stop;  // no SA_RESTART: the wait in ppoll ends at once
    sigaction(SIGINT, &stop, nullptr);
    sigaction(SIGTERM, &stop, nullptr);

    Load load(fd, std::move(*question), static_cast<Nanos>(timeout_ms * 1e6));
    load.run(rate, duration);
    load.print();
    close(fd);
    return 0;
}
