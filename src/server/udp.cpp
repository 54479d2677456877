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

UdpBatch::UdpBatch()
    : in_data_(std::make_unique_for_overwrite<std::uint8_t[]>(kUdpBatch * kUdpBufferSize)),
      out_data_(std::make_unique_for_overwrite<std::uint8_t[]>(kUdpBatch * kUdpBufferSize)) {
    for (std::size_t i = 0; i < kUdpBatch; ++i) {
        in_iov_[i] = {in_data_.get() + i * kUdpBufferSize, kUdpBufferSize};
        msghdr& header = in_[i].msg_hdr;
        header.msg_name = &peers_[i];
        header.msg_iov = &in_iov_[i];
        header.msg_iovlen = 1;
        out_[i].msg_hdr.msg_iov = &out_iov_[i];
        out_[i].msg_hdr.msg_iovlen = 1;
    }
}

bool UdpBatch::serve(int fd, bool wildcard, Handler& handler, WorkerCounters& counters) {
    int received = receive(fd, wildcard);
    if (received <= 0) return received == 0;
    counters.udp_received.add(static_cast<unsigned>(received));
    handler.begin_batch();
    unsigned responses = answer(static_cast<unsigned>(received), wildcard, handler, counters);
    if (responses > 0) send(fd, responses, counters);
    return true;
}

// The number of datagrams read, 0 for none (EINTR, or an error that ICMP queued), -1 once the
// socket is shut down.
int UdpBatch::receive(int fd, bool wildcard) {
    // Only the headers the kernel wrote into last time need their lengths back.
    const unsigned reset = wildcard == wildcard_ ? used_ : kUdpBatch;
    for (unsigned i = 0; i < reset; ++i) {
        msghdr& header = in_[i].msg_hdr;
        header.msg_namelen = sizeof(sockaddr_storage);
        header.msg_control = wildcard ? in_control_[i].bytes : nullptr;
        header.msg_controllen = wildcard ? sizeof(Control::bytes) : 0;
        header.msg_flags = 0;
    }
    wildcard_ = wildcard;
    used_ = 0;
    // Blocks for the first datagram, then takes what is already queued without waiting. The
    // system call is made directly: libc's wrapper is a thread cancellation point, a cost
    // per call for a feature nolbd never uses.
    int received = static_cast<int>(
        ::syscall(SYS_recvmmsg, fd, in_.data(), kUdpBatch, MSG_WAITFORONE, nullptr));
    if (received < 0) return errno == EINVAL || errno == EBADF ? -1 : 0;
    used_ = static_cast<unsigned>(received);
    // A shut-down socket reads as empty datagrams; a real one always carries a DNS header.
    if (received > 0 && in_[0].msg_len == 0 && in_[0].msg_hdr.msg_namelen == 0) return -1;
    return received;
}

unsigned UdpBatch::answer(unsigned received, bool wildcard, Handler& handler,
                          WorkerCounters& counters) {
    unsigned responses = 0;
    for (unsigned i = 0; i < received; ++i) {
        msghdr& query = in_[i].msg_hdr;
        if (query.msg_flags & MSG_TRUNC) {  // larger than any query we accept
            counters.udp_dropped.add();
            continue;
        }
        std::span<const std::uint8_t> message(in_data_.get() + i * kUdpBufferSize, in_[i].msg_len);
        std::span<std::uint8_t> out(out_data_.get() + i * kUdpBufferSize, kUdpBufferSize);
        std::size_t length = handler.answer(message, Transport::udp, out);
        if (length == 0 || length > out.size()) {
            counters.udp_dropped.add();
            continue;
        }
        msghdr& response = out_[responses].msg_hdr;
        response.msg_name = query.msg_name;
        response.msg_namelen = query.msg_namelen;
        out_iov_[responses] = {out.data(), length};
        socklen_t control =
            wildcard ? reply_control(query, out_control_[responses].bytes, sizeof(Control::bytes))
                     : 0;
        response.msg_control = control ? out_control_[responses].bytes : nullptr;
        response.msg_controllen = control;
        response.msg_flags = 0;
        ++responses;
    }
    return responses;
}

void UdpBatch::send(int fd, unsigned count, WorkerCounters& counters) {
    unsigned done = 0;
    std::uint64_t failed = 0;
    while (done < count) {
        int sent = static_cast<int>(
            ::syscall(SYS_sendmmsg, fd, out_.data() + done, count - done, MSG_DONTWAIT));
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
    counters.udp_sent.add(count - failed);
    if (failed) counters.udp_send_errors.add(failed);
}

void UdpLoop::run(Handler& handler) {
    while (!stopping_.load(std::memory_order_acquire)) {
        if (!batch_.serve(fd_.get(), wildcard_, handler, counters_)) return;
    }
}

void UdpLoop::request_stop() {
    stopping_.store(true, std::memory_order_release);
    // On an unconnected UDP socket shutdown() reports ENOTCONN, yet it marks the socket shut
    // and wakes a reader blocked in it, which is all that is wanted here.
    ::shutdown(fd_.get(), SHUT_RDWR);
}

}  // namespace nolb::server
