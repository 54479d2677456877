// Shared by the server tests: a Handler that echoes each message with its third byte's top bit
// set (a DNS "response" flag) and drops messages that start with "drop", plus small blocking
// clients for UDP and TCP with timeouts, so a broken server fails a test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/handler.hpp"
#include "server/server.hpp"
#include "server/settings.hpp"
#include "server/socket.hpp"
#include "util/ip.hpp"

namespace nolb::server::testing {

using Bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

inline Bytes bytes(std::string_view text) {
    return Bytes(text.begin(), text.end());
}

// The echo with its marker: what the server must send back for `message`.
inline Bytes echoed(const Bytes& message) {
    Bytes out = message;
    if (out.size() > 2) out[2] |= 0x80;
    return out;
}

struct HandlerStats {
    std::atomic<unsigned> handlers{0};
    std::atomic<std::uint64_t> batches{0};
    std::atomic<std::uint64_t> messages{0};
};

class EchoHandler : public Handler {
  public:
    explicit EchoHandler(HandlerStats& stats) : stats_(stats) { ++stats_.handlers; }
    void begin_batch() override { stats_.batches.fetch_add(1); }
    std::size_t answer(std::span<const std::uint8_t> message, Transport, const sockaddr_storage&,
                       std::span<std::uint8_t> out) override {
        stats_.messages.fetch_add(1);
        if (message.size() >= 4 && std::memcmp(message.data(), "drop", 4) == 0) return 0;
        if (message.size() > out.size()) return 0;
        std::memcpy(out.data(), message.data(), message.size());
        if (message.size() > 2) out[2] |= 0x80;
        return message.size();
    }

    // "stream N": the echo, then N messages "s-1-", "s-2-", ... of kStreamMessage bytes each.
    std::size_t answer_tcp(std::span<const std::uint8_t> message, const sockaddr_storage& peer,
                           std::span<std::uint8_t> out, std::unique_ptr<Stream>& more) override {
        const std::string_view text(reinterpret_cast<const char*>(message.data()), message.size());
        if (text.starts_with("stream "))
            more = std::make_unique<Numbered>(std::stoi(std::string(text.substr(7))));
        return answer(message, Transport::tcp, peer, out);
    }

    static constexpr std::size_t kStreamMessage = 20000;
    static Bytes stream_message(int i) {
        Bytes m = bytes("s-" + std::to_string(i) + "-");
        m.resize(kStreamMessage, 'y');
        return m;
    }

  private:
    struct Numbered : Stream {
        explicit Numbered(int count) : count_(count) {}
        std::size_t next(std::span<std::uint8_t> out) override {
            if (sent_ == count_) return 0;
            const Bytes m = stream_message(++sent_);
            std::memcpy(out.data(), m.data(), m.size());
            return m.size();
        }
        int count_, sent_ = 0;
    };

    HandlerStats& stats_;
};

inline util::Endpoint endpoint(std::string_view address, std::uint16_t port = 0) {
    return {*util::IpAddress::parse(address), port};
}
inline util::Endpoint loopback4() {
    return endpoint("127.0.0.1");
}
inline util::Endpoint loopback6() {
    return endpoint("::1");
}

inline Settings server_config(std::vector<util::Endpoint> listen, unsigned workers = 2) {
    Settings settings;
    settings.listen = std::move(listen);
    settings.workers = workers;
    return settings;
}

// A Server with echo handlers, opened and started; stopped when it goes out of scope.
struct RunningServer {
    HandlerStats stats;
    std::unique_ptr<Server> server;

    explicit RunningServer(const Settings& settings) {
        server = std::make_unique<Server>(
            settings, [this](unsigned) { return std::make_unique<EchoHandler>(stats); });
        server->open();
        server->start();
    }
    const util::Endpoint& at(std::size_t i = 0) const { return server->endpoints().at(i); }
};

// Counters move just after the client sees the effect: wait for them to settle.
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 2s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!predicate()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

inline bool wait_readable(int fd, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

// ---- UDP client

inline Fd udp_client(int family) {
    Fd fd(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    return fd;
}

inline bool send_udp(const Fd& fd, const util::Endpoint& to, const Bytes& message) {
    sockaddr_storage address;
    socklen_t length = to.to_sockaddr(address);
    return sendto(fd.get(), message.data(), message.size(), 0,
                  reinterpret_cast<const sockaddr*>(&address),
                  length) == static_cast<ssize_t>(message.size());
}

// One datagram, or nullopt after `timeout`; `from` gets the sender.
inline std::optional<Bytes> receive_udp(const Fd& fd, std::chrono::milliseconds timeout = 2s,
                                        util::Endpoint* from = nullptr) {
    if (!wait_readable(fd.get(), timeout)) return std::nullopt;
    Bytes buffer(65536);
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    ssize_t got = recvfrom(fd.get(), buffer.data(), buffer.size(), 0,
                           reinterpret_cast<sockaddr*>(&address), &length);
    if (got < 0) return std::nullopt;
    buffer.resize(static_cast<std::size_t>(got));
    if (from != nullptr) {
        if (address.ss_family == AF_INET) {
            const auto* sin = reinterpret_cast<const sockaddr_in*>(&address);
            from->address.family = AF_INET;
            std::memcpy(from->address.bytes.data(), &sin->sin_addr, 4);
            from->port = ntohs(sin->sin_port);
        } else {
            const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&address);
            from->address.family = AF_INET6;
            std::memcpy(from->address.bytes.data(), &sin6->sin6_addr, 16);
            from->port = ntohs(sin6->sin6_port);
        }
    }
    return buffer;
}

// ---- TCP client

inline Fd tcp_connect(const util::Endpoint& to) {
    Fd fd(socket(to.address.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage address;
    socklen_t length = to.to_sockaddr(address);
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) return Fd();
    return fd;
}

inline Bytes frame(const Bytes& message) {
    Bytes out{static_cast<std::uint8_t>(message.size() >> 8),
              static_cast<std::uint8_t>(message.size())};
    out.insert(out.end(), message.begin(), message.end());
    return out;
}

inline bool write_all(const Fd& fd, const Bytes& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = send(fd.get(), data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

enum class ReadResult { ok, closed, timeout };

inline ReadResult read_exact(const Fd& fd, std::uint8_t* out, std::size_t size,
                             std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t done = 0;
    while (done < size) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !wait_readable(fd.get(), left)) return ReadResult::timeout;
        ssize_t n = recv(fd.get(), out + done, size - done, 0);
        if (n <= 0) return ReadResult::closed;  // EOF or reset
        done += static_cast<std::size_t>(n);
    }
    return ReadResult::ok;
}

// One length-prefixed message, or nullopt when the connection closed or timed out.
inline std::optional<Bytes> read_frame(const Fd& fd, std::chrono::milliseconds timeout = 5s) {
    std::uint8_t prefix[2];
    if (read_exact(fd, prefix, 2, timeout) != ReadResult::ok) return std::nullopt;
    Bytes message((std::size_t{prefix[0]} << 8) | prefix[1]);
    if (read_exact(fd, message.data(), message.size(), timeout) != ReadResult::ok)
        return std::nullopt;
    return message;
}

// True when the server closed (or reset) the connection within `timeout`.
inline bool closed_by_peer(const Fd& fd, std::chrono::milliseconds timeout) {
    std::uint8_t byte;
    return read_exact(fd, &byte, 1, timeout) == ReadResult::closed;
}

}  // namespace nolb::server::testing
