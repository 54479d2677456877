// The UDP path of one worker: read up to a batch of datagrams with one recvmmsg, answer each
// into its own preallocated buffer, send every response with one sendmmsg. The buffers, the
// message headers and the control-message space are allocated once per worker; the per-packet
// path allocates nothing, takes no lock and logs nothing.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "server/counters.hpp"
#include "server/handler.hpp"

namespace nolb::server {

inline constexpr std::size_t kUdpBatch = 64;
// Per message, in and out. Larger than any UDP payload a client can ask for in practice; the
// DNS layer applies the client's own limit inside it.
inline constexpr std::size_t kUdpBufferSize = 4096;
// Batches per readiness wakeup, so that TCP on the same worker is not starved.
inline constexpr unsigned kUdpBatchesPerWakeup = 16;

class UdpBatch {
  public:
    UdpBatch();
    UdpBatch(const UdpBatch&) = delete;
    UdpBatch& operator=(const UdpBatch&) = delete;

    // Answers what is waiting on `fd` until the socket is drained or the budget is spent
    // (level-triggered readiness brings the worker back for the rest). With `wildcard` the
    // socket reports each datagram's destination and the response is sent from it.
    void serve(int fd, bool wildcard, Handler& handler, WorkerCounters& counters);

  private:
    // Room for one IP_PKTINFO or IPV6_PKTINFO control message.
    struct alignas(cmsghdr) Control {
        std::uint8_t bytes[CMSG_SPACE(sizeof(in6_pktinfo))];
    };

    unsigned receive(int fd, bool wildcard);
    unsigned answer(unsigned received, bool wildcard, Handler& handler, WorkerCounters& counters);
    void send(int fd, unsigned count, WorkerCounters& counters);

    std::unique_ptr<std::uint8_t[]> in_data_;
    std::unique_ptr<std::uint8_t[]> out_data_;
    std::array<mmsghdr, kUdpBatch> in_{};
    std::array<iovec, kUdpBatch> in_iov_{};
    std::array<sockaddr_storage, kUdpBatch> peers_{};
    std::array<Control, kUdpBatch> in_control_{};
    std::array<mmsghdr, kUdpBatch> out_{};
    std::array<iovec, kUdpBatch> out_iov_{};
    std::array<Control, kUdpBatch> out_control_{};
};

}  // namespace nolb::server
