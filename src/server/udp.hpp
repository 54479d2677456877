// The UDP path: one thread per UDP socket, blocked in recvmmsg until datagrams arrive, then
// answering each into its own preallocated buffer and sending every response with one
// sendmmsg. Two system calls per batch and no readiness polling: on a loaded socket a batch
// holds every datagram that queued while the previous one was answered. The buffers, message
// headers and control-message space are allocated once; the per-packet path allocates
// nothing, takes no lock and logs nothing. Each response passes the thread's rate limiter
// (server/rrl.hpp) before it is sent.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "server/counters.hpp"
#include "server/handler.hpp"
#include "server/rrl.hpp"
#include "server/settings.hpp"
#include "server/socket.hpp"

namespace nolb::server {

inline constexpr std::size_t kUdpBatch = 64;
// Per message, in and out. Larger than any UDP payload a client can ask for in practice; the
// DNS layer applies the client's own limit inside it.
inline constexpr std::size_t kUdpBufferSize = 4096;

// One UDP socket and the thread that serves it (the one that calls run()). Owns its buffers
// and counters; the thread owns its Handler.
class UdpLoop {
  public:
    // With `wildcard` the socket reports each datagram's destination and the response is
    // sent from it.
    UdpLoop(Fd fd, bool wildcard);
    UdpLoop(const UdpLoop&) = delete;
    UdpLoop& operator=(const UdpLoop&) = delete;

    // Serves until request_stop(); returns at once if that was already called. The rate
    // limiter's table is allocated here, on the serving thread, when `rrl` turns it on.
    void run(Handler& handler, const RrlSettings& rrl = {});
    // Safe from any thread: wakes the blocked receive by shutting the socket down.
    void request_stop();

    const WorkerCounters& counters() const { return counters_; }

  private:
    // Room for one IP_PKTINFO or IPV6_PKTINFO control message.
    struct alignas(cmsghdr) Control {
        std::uint8_t bytes[CMSG_SPACE(sizeof(in6_pktinfo))];
    };

    unsigned receive();
    unsigned answer(unsigned received, Handler& handler, RateLimiter& limiter, SlipCut slip_cut);
    // False when the response must not be sent; a slip cuts it with `slip_cut` and updates
    // `length`.
    bool admit(const sockaddr_storage& peer, RateLimiter& limiter, SlipCut slip_cut,
               std::span<std::uint8_t> out, std::size_t& length);
    void send(unsigned count);

    Fd fd_;
    bool wildcard_;
    std::atomic<bool> stopping_{false};
    WorkerCounters counters_;

    std::unique_ptr<std::uint8_t[]> in_data_;
    std::unique_ptr<std::uint8_t[]> out_data_;
    std::array<mmsghdr, kUdpBatch> in_{};
    std::array<iovec, kUdpBatch> in_iov_{};
    std::array<sockaddr_storage, kUdpBatch> peers_{};
    std::array<Control, kUdpBatch> in_control_{};
    std::array<mmsghdr, kUdpBatch> out_{};
    std::array<iovec, kUdpBatch> out_iov_{};
    std::array<Control, kUdpBatch> out_control_{};
    // Headers the kernel wrote into last time (lengths, flags), to be reset before the next
    // receive; the others still hold their initial values.
    unsigned used_ = 0;
};

}  // namespace nolb::server
