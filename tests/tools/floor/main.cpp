// nolb-floor: the kernel floor of the DNS benchmark. It answers every query with the least work
// a DNS server can do, so that the CPU it spends per query is what the kernel and the system
// calls cost on this machine, and each real server's figure above it is that server's own work.
//
// No parsing beyond finding where the question ends, no zone, no logic: the header and the
// question are copied, QR and AA set (opcode and RD kept, TC, RA, AD, CD and the RCODE cleared),
// the counts set to one question and one answer, and one fixed A record appended (its owner a
// compression pointer to the question name, TTL 30, 192.0.2.1), whatever type was asked. Any
// EDNS OPT record of the query is dropped. Queries with QR set, a question count other than one,
// a compressed question name or more than 512 octets get no answer.
//
// UDP: one thread, recvmmsg and sendmmsg in batches, like nolbd's UDP workers. TCP: one thread,
// poll over non-blocking connections, two-octet length framing, pipelined queries answered in
// order. A benchmark tool, never installed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr const char* kHelp = R"(Usage: nolb-floor --listen ADDR:PORT [--batch N] [--no-tcp]

Answers every DNS query on ADDR:PORT (IPv4, UDP and TCP) with its question and one fixed
A record (192.0.2.1, TTL 30): the least work a server can do, to measure the kernel's share of
a DNS server's CPU per query. Prints "nolb-floor: ready" on stderr once listening; runs until
killed.

  --listen ADDR:PORT   where to listen (required), e.g. 127.0.0.1:15356
  --batch N            datagrams per recvmmsg/sendmmsg (default 64; 1..1024)
  --no-tcp             UDP only
  --help               this text
)";

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kMaxQuery = 512;
constexpr std::array<std::uint8_t, 16> kAnswer = {
    0xc0, 0x0c,              // owner: pointer to the question name
    0x00, 0x01, 0x00, 0x01,  // A, IN
    0x00, 0x00, 0x00, 0x1e,  // TTL 30
    0x00, 0x04, 192,  0,    2, 1,
};
constexpr std::size_t kMaxResponse = kMaxQuery + kAnswer.size();

// Writes the response to the query into `out` (room for kMaxResponse octets); returns its
// length, or 0 when the query gets none.
std::size_t respond(const std::uint8_t* query, std::size_t length, std::uint8_t* out) {
    if (length < kHeaderSize + 5 || length > kMaxQuery) return 0;
    if ((query[2] & 0x80) != 0 || query[4] != 0 || query[5] != 1) return 0;
    std::size_t end = kHeaderSize;
    while (end < length && query[end] != 0) {
        if ((query[end] & 0xc0) != 0) return 0;
        end += 1u + query[end];
    }
    end += 1 + 4;  // the root label, type and class
    if (end > length) return 0;
    std::memcpy(out, query, end);
    out[2] = static_cast<std::uint8_t>(0x80 | (query[2] & 0x79) | 0x04);  // QR, opcode, AA, RD
    out[3] = 0;
    const std::uint8_t counts[8] = {0, 1, 0, 1, 0, 0, 0, 0};
    std::memcpy(out + 4, counts, sizeof counts);
    std::memcpy(out + end, kAnswer.data(), kAnswer.size());
    return end + kAnswer.size();
}

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "nolb-floor: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

int bound_socket(int type, const sockaddr_in& address) {
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) fail("bind");
    return fd;
}

void serve_udp(int fd, std::size_t batch) {
    std::vector<std::array<std::uint8_t, kMaxQuery>> in(batch);
    std::vector<std::array<std::uint8_t, kMaxResponse>> out(batch);
    std::vector<sockaddr_storage> peers(batch);
    std::vector<iovec> in_iov(batch), out_iov(batch);
    std::vector<mmsghdr> received(batch), replies(batch);
    for (std::size_t i = 0; i < batch; ++i) {
        in_iov[i] = {in[i].data(), in[i].size()};
        received[i].msg_hdr.msg_name = &peers[i];
        received[i].msg_hdr.msg_namelen = sizeof peers[i];
        received[i].msg_hdr.msg_iov = &in_iov[i];
        received[i].msg_hdr.msg_iovlen = 1;
    }
    for (;;) {
        int n =
            recvmmsg(fd, received.data(), static_cast<unsigned>(batch), MSG_WAITFORONE, nullptr);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("recvmmsg");
        }
        unsigned count = 0;
        for (int i = 0; i < n; ++i) {
            if ((received[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) continue;
            std::size_t length = respond(in[i].data(), received[i].msg_len, out[count].data());
            if (length == 0) continue;
            out_iov[count] = {out[count].data(), length};
            replies[count].msg_hdr.msg_name = &peers[i];
            replies[count].msg_hdr.msg_namelen = received[i].msg_hdr.msg_namelen;
            replies[count].msg_hdr.msg_iov = &out_iov[count];
            replies[count].msg_hdr.msg_iovlen = 1;
            ++count;
        }
        unsigned sent = 0;
        while (sent < count) {
            int r = sendmmsg(fd, replies.data() + sent, count - sent, 0);
            if (r < 0) {
                if (errno == EINTR) continue;
                break;  // a full socket buffer drops the rest, as a real server's would
            }
            sent += static_cast<unsigned>(r);
        }
        // recvmmsg wrote the peers' address lengths and flags of the first n: only those are
        // set back, so a batch of one costs the work of one.
        for (int i = 0; i < n; ++i) {
            received[i].msg_hdr.msg_namelen = sizeof peers[i];
            received[i].msg_hdr.msg_flags = 0;
        }
    }
}

struct Connection {
    int fd;
    std::vector<std::uint8_t> in;
    std::vector<std::uint8_t> out;
    std::size_t written = 0;
};

// Answers every whole framed query in the connection's input; false when the peer sent
// something no answer can be framed for.
bool answer_frames(Connection& c) {
    std::size_t pos = 0;
    std::array<std::uint8_t, kMaxResponse> response{};
    while (c.in.size() - pos >= 2) {
        std::size_t length = static_cast<std::size_t>(c.in[pos] << 8 | c.in[pos + 1]);
        if (c.in.size() - pos - 2 < length) break;
        std::size_t n = respond(c.in.data() + pos + 2, length, response.data());
        if (n > 0) {
            c.out.push_back(static_cast<std::uint8_t>(n >> 8));
            c.out.push_back(static_cast<std::uint8_t>(n & 0xff));
            c.out.insert(c.out.end(), response.begin(), response.begin() + static_cast<long>(n));
        }
        pos += 2 + length;
    }
    c.in.erase(c.in.begin(), c.in.begin() + static_cast<long>(pos));
    return c.in.size() <= 2 + 65535;
}

// Sends what is pending; false when the connection is to be closed.
bool flush(Connection& c) {
    while (c.written < c.out.size()) {
        ssize_t r = send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
        if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        c.written += static_cast<std::size_t>(r);
    }
    c.out.clear();
    c.written = 0;
    return true;
}

void serve_tcp(int listener) {
    if (listen(listener, 1024) != 0) fail("listen");
    std::vector<Connection> connections;
    std::vector<pollfd> fds;
    std::array<std::uint8_t, 16384> buffer{};
    for (;;) {
        fds.assign(1, pollfd{listener, POLLIN, 0});
        for (const auto& c : connections)
            fds.push_back({c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
        if (poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            fail("poll");
        }
        std::vector<Connection> kept;
        for (std::size_t i = 0; i < connections.size(); ++i) {
            Connection& c = connections[i];
            bool open = true;
            if ((fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                ssize_t r = recv(c.fd, buffer.data(), buffer.size(), 0);
                if (r > 0) {
                    c.in.insert(c.in.end(), buffer.begin(), buffer.begin() + r);
                    open = answer_frames(c);
                } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    open = false;
                }
            }
            if (open) open = flush(c);
            if (open) {
                kept.push_back(std::move(c));
            } else {
                close(c.fd);
            }
        }
        connections = std::move(kept);
        if ((fds[0].revents & POLLIN) != 0) {
            int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) connections.push_back(Connection{fd, {}, {}, 0});
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string listen_text;
    std::size_t batch = 64;
    bool tcp = true;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help") {
            std::fputs(kHelp, stdout);
            return 0;
        } else if (arg == "--listen" && i + 1 < argc) {
            listen_text = argv[++i];
        } else if (arg == "--batch" && i + 1 < argc) {
            batch = std::strtoul(argv[++i], nullptr, 10);
        } else if (arg == "--no-tcp") {
            tcp = false;
        } else {
            std::fprintf(stderr, "nolb-floor: unknown argument '%s' (see --help)\n", arg.c_str());
            return 2;
        }
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    auto colon = listen_text.rfind(':');
    unsigned long port =
        colon == std::string::npos ? 0 : std::strtoul(listen_text.c_str() + colon + 1, nullptr, 10);
    if (colon == std::string::npos || port == 0 || port > 65535 ||
        inet_pton(AF_INET, listen_text.substr(0, colon).c_str(), &address.sin_addr) != 1) {
        std::fputs("nolb-floor: --listen IPV4:PORT is required (see --help)\n", stderr);
        return 2;
    }
    if (batch < 1 || batch > 1024) {
        std::fputs("nolb-floor: --batch takes 1..1024\n", stderr);
        return 2;
    }
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    int udp = bound_socket(SOCK_DGRAM, address);
    if (tcp) {
        int listener = bound_socket(SOCK_STREAM | SOCK_NONBLOCK, address);
        std::thread(serve_tcp, listener).detach();
    }
    std::fputs("nolb-floor: ready\n", stderr);
    serve_udp(udp, batch);
    return 1;
}
