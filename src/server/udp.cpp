// Batched UDP: recvmmsg, answer, sendmmsg. Responses leave from the address each query was
// sent to, which a wildcard socket learns from the IP_PKTINFO / IPV6_PKTINFO control message.
#include "server/udp.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nolb::server {
namespace {

// Builds the control message that makes the kernel use the query's destination as the
// response's source. Returns its length, 0 when the query carried none.
socklen_t reply_control(msghdr& received, void* out, std::size_t out_size) {
    if (received.msg_controllen == 0) return 0;
    msghdr reply{};
    reply.msg_control = out;
    reply.msg_controllen = out_size;
    cmsghdr* to = CMSG_FIRSTHDR(&reply);
    for (cmsghdr* from = CMSG_FIRSTHDR(&received); from != nullptr;
         from = CMSG_NXTHDR(&received, from)) {
        if (from->cmsg_level == IPPROTO_IP && from->cmsg_type == IP_PKTINFO) {
            in_pktinfo got;
            std::memcpy(&got, CMSG_DATA(from), sizeof got);
            // The local address the query reached; the interface is left to routing, as it
            // would be for a socket bound to that address.
            in_pktinfo info{};
            info.ipi_spec_dst = got.ipi_spec_dst;
            to->cmsg_level = IPPROTO_IP;
            to->cmsg_type = IP_PKTINFO;
            to->cmsg_len = CMSG_LEN(sizeof info);
            std::memcpy(CMSG_DATA(to), &info, sizeof info);
            return static_cast<socklen_t>(CMSG_SPACE(sizeof info));
        }
        if (from->cmsg_level == IPPROTO_IPV6 && from->cmsg_type == IPV6_PKTINFO) {
            // Address and interface both: a link-local address means nothing without it.
            in6_pktinfo info;
            std::memcpy(&info, CMSG_DATA(from), sizeof info);
            to->cmsg_level = IPPROTO_IPV6;
            to->cmsg_type = IPV6_PKTINFO;
            to->cmsg_len = CMSG_LEN(sizeof info);
            std::memcpy(CMSG_DATA(to), &info, sizeof info);
            return static_cast<socklen_t>(CMSG_SPACE(sizeof info));
        }
    }
    return 0;
}

}  // namespace

UdpLoop::UdpLoop(Fd fd, bool wildcard)
    : fd_(std::move(fd)),
      wildcard_(wildcard),
      in_data_(std::make_unique_for_overwrite<std::uint8_t[]>(kUdpBatch * kUdpBufferSize)),
      out_data_(std::make_unique_for_overwrite<std::uint8_t[]>(kUdpBatch * kUdpBufferSize)) {
    for (std::size_t i = 0; i < kUdpBatch; ++i) {
        in_iov_[i] = {in_data_.get() + i * kUdpBufferSize, kUdpBufferSize};
        msghdr& header = in_[i].msg_hdr;
        header.msg_name = &peers_[i];
        header.msg_namelen = sizeof(sockaddr_storage);
        header.msg_iov = &in_iov_[i];
        header.msg_iovlen = 1;
        header.msg_control = wildcard_ ? in_control_[i].bytes : nullptr;
        header.msg_controllen = wildcard_ ? sizeof(Control::bytes) : 0;
        out_[i].msg_hdr.msg_iov = &out_iov_[i];
        out_[i].msg_hdr.msg_iovlen = 1;
    }
}

void UdpLoop::run(Handler& handler, const RrlSettings& rrl) {
    RateLimiter limiter(rrl);
    for (;;) {
        const unsigned received = receive();
        // request_stop() sets the flag before it shuts the socket down, and the shutdown is
        // what ends the wait: what that receive returned is not traffic.
        if (stopping_.load(std::memory_order_acquire)) return;
        if (received == 0) continue;
        counters_.udp_received.add(received);
        handler.begin_batch();
        if (limiter.enabled()) limiter.set_now(RateLimiter::clock_ms());
        const unsigned responses = answer(received, handler, limiter, rrl.slip_cut);
        if (responses > 0) send(responses);
    }
}

void UdpLoop::request_stop() {
    stopping_.store(true, std::memory_order_release);
    // On an unconnected UDP socket shutdown() reports ENOTCONN, yet it marks the socket shut
    // and wakes a reader blocked in it, which is all that is wanted here.
    ::shutdown(fd_.get(), SHUT_RDWR);
}

// The number of datagrams read; 0 for none (EINTR, or an error that ICMP queued).
unsigned UdpLoop::receive() {
    // Only the headers the kernel wrote into last time need their lengths back.
    for (unsigned i = 0; i < used_; ++i) {
        msghdr& header = in_[i].msg_hdr;
        header.msg_namelen = sizeof(sockaddr_storage);
        header.msg_controllen = wildcard_ ? sizeof(Control::bytes) : 0;
        header.msg_flags = 0;
    }
    // Blocks for the first datagram, then takes what is already queued without waiting. The
    // system call is made directly: libc's wrapper is a thread cancellation point, a cost
    // per call for a feature nolbd never uses.
    const long received =
        ::syscall(SYS_recvmmsg, fd_.get(), in_.data(), kUdpBatch, MSG_WAITFORONE, nullptr);
    used_ = received > 0 ? static_cast<unsigned>(received) : 0;
    return used_;
}

unsigned UdpLoop::answer(unsigned received, Handler& handler, RateLimiter& limiter,
                         SlipCut slip_cut) {
    unsigned responses = 0;
    for (unsigned i = 0; i < received; ++i) {
        msghdr& query = in_[i].msg_hdr;
        if (query.msg_flags & MSG_TRUNC) {  // larger than any query we accept
            counters_.udp_dropped.add();
            continue;
        }
        std::span<const std::uint8_t> message(in_data_.get() + i * kUdpBufferSize, in_[i].msg_len);
        std::span<std::uint8_t> out(out_data_.get() + i * kUdpBufferSize, kUdpBufferSize);
        std::size_t length = handler.answer(message, Transport::udp, peers_[i], out);
        if (length == 0 || length > out.size()) {
            counters_.udp_dropped.add();
            continue;
        }
        if (limiter.enabled() && !admit(peers_[i], limiter, slip_cut, out, length)) continue;
        msghdr& response = out_[responses].msg_hdr;
        response.msg_name = query.msg_name;
        response.msg_namelen = query.msg_namelen;
        out_iov_[responses] = {out.data(), length};
        socklen_t control =
            wildcard_ ? reply_control(query, out_control_[responses].bytes, sizeof(Control::bytes))
                      : 0;
        response.msg_control = control ? out_control_[responses].bytes : nullptr;
        response.msg_controllen = control;
        response.msg_flags = 0;
        ++responses;
    }
    return responses;
}

bool UdpLoop::admit(const sockaddr_storage& peer, RateLimiter& limiter, SlipCut slip_cut,
                    std::span<std::uint8_t> out, std::size_t& length) {
    const RrlAction action = limiter.decide(peer);
    if (action == RrlAction::send) return true;
    counters_.rrl_limited.add();
    if (action == RrlAction::slip && slip_cut != nullptr) {
        length = slip_cut(out.first(length));
        if (length != 0) {
            counters_.rrl_slipped.add();
            return true;
        }
    }
    counters_.rrl_dropped.add();
    return false;
}

void UdpLoop::send(unsigned count) {
    unsigned done = 0;
    std::uint64_t failed = 0;
    while (done < count) {
        int sent = static_cast<int>(
            ::syscall(SYS_sendmmsg, fd_.get(), out_.data() + done, count - done, MSG_DONTWAIT));
        if (sent > 0) {
            done += static_cast<unsigned>(sent);
            continue;
        }
        if (sent < 0 && errno == EINTR) continue;
        if (sent == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
            // The send buffer is full: UDP has no backpressure, so the rest is dropped.
            failed += count - done;
            break;
        }
        // The error belongs to the first unsent message (e.g. an unroutable peer): skip it.
        ++failed;
        ++done;
    }
    counters_.udp_sent.add(count - failed);
    if (failed) counters_.udp_send_errors.add(failed);
}

}  // namespace nolb::server
