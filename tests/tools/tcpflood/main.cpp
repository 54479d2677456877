// nolb-tcpflood: holds many TCP connections to a DNS server from many loopback addresses, some
// silent and some trickling a query a byte at a time, to show what the server does with
// clients that take connections and do not use them. It never completes a query.
//
// One thread, one poll loop: connect everything, print a "ready" line, then until --hold ends
// (or SIGTERM) send the next byte on each trickling connection every --interval-ms and note
// every connection the server closes, and when. Ends with one line of key=value counters.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kHelp = R"(Usage: nolb-tcpflood --server ADDR:PORT --source ADDR [options]

Opens --sources x --per-source TCP connections to ADDR:PORT (IPv4), the n-th source being
--source plus n, keeps them until --hold seconds have passed or SIGTERM arrives, and prints:

  ready opened=N failed=N                     once every connection is attempted
  opened failed idle_closed trickle_closed early_closed open trickle_close_min_ms
  trickle_close_max_ms                        at the end, one line of key=value

early_closed counts connections the server closed within 100 ms of accepting them (a cap's
reset); trickle_close_*_ms time a trickling connection's close from its first byte.

Options:
  --sources N       source addresses (default 1)
  --per-source N    connections from each (default 1)
  --trickle N       every N-th connection trickles a query, one byte per interval (0: none)
  --interval-ms N   between trickled bytes (default 500)
  --hold S          seconds to hold the connections (default 10)
)";

volatile sig_atomic_t stopping = 0;

void on_signal(int) {
    stopping = 1;
}

long long now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

struct Connection {
    int fd = -1;
    bool trickle = false;
    long long opened_ms = 0;
    long long first_byte_ms = -1;
    std::size_t sent = 0;
};

// A query for "flood.test. A" with its length prefix: what a trickle sends, never all of it.
std::vector<std::uint8_t> query() {
    std::vector<std::uint8_t> body{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    for (std::string_view label : {"flood", "test"}) {
        body.push_back(static_cast<std::uint8_t>(label.size()));
        body.insert(body.end(), label.begin(), label.end());
    }
    body.insert(body.end(), {0, 0, 1, 0, 1});
    std::vector<std::uint8_t> out{0, static_cast<std::uint8_t>(body.size())};
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "nolb-tcpflood: %s\n%s", message.c_str(), kHelp);
    std::exit(2);
}

unsigned number(const char* text, const char* option) {
    char* end = nullptr;
    unsigned long value = std::strtoul(text, &end, 10);
    if (end == text || *end != '\0' || value > 1'000'000) usage_error(std::string("bad ") + option);
    return static_cast<unsigned>(value);
}

int open_from(in_addr source, const sockaddr_in& server) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr = source;
    timeval limit{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0 ||
        connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

int main(int argc, char** argv) {
    sockaddr_in server{};
    in_addr first_source{};
    bool have_server = false, have_source = false;
    unsigned sources = 1, per_source = 1, trickle_every = 0, interval_ms = 500, hold_s = 10;
    for (int i = 1; i < argc; ++i) {
        std::string option = argv[i];
        if (option == "--help" || option == "-h") {
            std::fputs(kHelp, stdout);
            return 0;
        }
        if (i + 1 >= argc) usage_error(option + " needs a value");
        const char* value = argv[++i];
        if (option == "--server") {
            std::string text = value;
            auto colon = text.rfind(':');
            server.sin_family = AF_INET;
            if (colon == std::string::npos ||
                inet_pton(AF_INET, text.substr(0, colon).c_str(), &server.sin_addr) != 1)
                usage_error("--server wants IPV4:PORT");
            server.sin_port = htons(static_cast<std::uint16_t>(
                number(text.substr(colon + 1).c_str(), "--server port")));
            have_server = true;
        } else if (option == "--source") {
            if (inet_pton(AF_INET, value, &first_source) != 1) usage_error("bad --source");
            have_source = true;
        } else if (option == "--sources") {
            sources = number(value, "--sources");
        } else if (option == "--per-source") {
            per_source = number(value, "--per-source");
        } else if (option == "--trickle") {
            trickle_every = number(value, "--trickle");
        } else if (option == "--interval-ms") {
            interval_ms = std::max(1u, number(value, "--interval-ms"));
        } else if (option == "--hold") {
            hold_s = number(value, "--hold");
        } else {
            usage_error("unknown option " + option);
        }
    }
    if (!have_server || !have_source) usage_error("--server and --source are required");
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);

    const std::vector<std::uint8_t> message = query();
    std::vector<Connection> connections;
    unsigned failed = 0;
    const long long start_ms = now_ms();
    for (unsigned s = 0; s < sources && !stopping; ++s) {
        in_addr source{htonl(ntohl(first_source.s_addr) + s)};
        for (unsigned k = 0; k < per_source; ++k) {
            int fd = open_from(source, server);
            if (fd < 0) {
                ++failed;
                continue;
            }
            const auto n = connections.size();
            connections.push_back({fd, trickle_every > 0 && n % trickle_every == 0, now_ms()});
        }
    }
    std::printf("ready opened=%zu failed=%u\n", connections.size(), failed);
    std::fflush(stdout);

    unsigned idle_closed = 0, trickle_closed = 0, early_closed = 0;
    long long trickle_min = -1, trickle_max = -1;
    const long long end_ms = start_ms + static_cast<long long>(hold_s) * 1000;
    long long next_byte_ms = now_ms();
    std::vector<pollfd> polled;
    std::vector<std::size_t> index;
    while (!stopping && now_ms() < end_ms) {
        if (now_ms() >= next_byte_ms) {
            for (Connection& c : connections) {
                if (c.fd < 0 || !c.trickle || c.sent + 1 >= message.size()) continue;
                if (send(c.fd, &message[c.sent], 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
                    if (c.first_byte_ms < 0) c.first_byte_ms = now_ms();
                    ++c.sent;
                }
            }
            next_byte_ms += interval_ms;
        }
        polled.clear();
        index.clear();
        for (std::size_t i = 0; i < connections.size(); ++i) {
            if (connections[i].fd < 0) continue;
            polled.push_back({connections[i].fd, POLLIN, 0});
            index.push_back(i);
        }
        const long long wait = std::clamp(std::min(next_byte_ms, end_ms) - now_ms(), 0LL, 100LL);
        if (poll(polled.data(), polled.size(), static_cast<int>(wait)) <= 0) continue;
        for (std::size_t p = 0; p < polled.size(); ++p) {
            if (polled[p].revents == 0) continue;
            Connection& c = connections[index[p]];
            char byte;
            ssize_t got = recv(c.fd, &byte, 1, MSG_DONTWAIT);
            if (got > 0 || (got < 0 && (errno == EAGAIN || errno == EINTR))) continue;
            const long long at = now_ms();
            close(c.fd);
            c.fd = -1;
            if (at - c.opened_ms < 100 && c.sent == 0) ++early_closed;
            if (c.trickle) {
                ++trickle_closed;
                const long long since = c.first_byte_ms >= 0 ? at - c.first_byte_ms : -1;
                if (trickle_min < 0 || since < trickle_min) trickle_min = since;
                trickle_max = std::max(trickle_max, since);
            } else {
                ++idle_closed;
            }
        }
    }
    unsigned open = 0;
    for (Connection& c : connections)
        if (c.fd >= 0) {
            ++open;
            close(c.fd);
        }
    std::printf(
        "opened=%zu failed=%u idle_closed=%u trickle_closed=%u early_closed=%u open=%u "
        "trickle_close_min_ms=%lld trickle_close_max_ms=%lld\n",
        connections.size(), failed, idle_closed, trickle_closed, early_closed, open, trickle_min,
        trickle_max);
    return 0;
}
