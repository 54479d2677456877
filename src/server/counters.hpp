// What the transports count about themselves (DNS outcomes are the handler's business). Each
// worker owns one WorkerCounters and is its only writer, so an increment is a relaxed load and
// store, no read-modify-write; any thread may read them, and Server sums them into Counters.
#pragma once

#include <cstdint>

#include "util/counter.hpp"

namespace nolb::server {

using util::Count;

struct Counters {
    std::uint64_t udp_received = 0;     // datagrams read from the sockets
    std::uint64_t udp_sent = 0;         // responses the kernel took
    std::uint64_t udp_dropped = 0;      // no response: the handler returned 0 or it did not fit
    std::uint64_t udp_send_errors = 0;  // responses the kernel refused (full buffer, bad peer)
    std::uint64_t tcp_accepted = 0;     // connections served
    std::uint64_t tcp_refused = 0;      // connections reset at once: the cap, none idle
    std::uint64_t tcp_refused_per_client = 0;  // reset at once: the per-address cap
    std::uint64_t tcp_evicted = 0;             // idle connections closed to make room for a new one
    std::uint64_t tcp_timed_out = 0;           // connections closed by the idle timeout
    std::uint64_t tcp_io_timed_out = 0;   // closed for trickling a query or not reading answers
    std::uint64_t tcp_accept_errors = 0;  // accept() failures such as running out of descriptors
    std::uint64_t tcp_messages = 0;       // framed messages handed to the handler
    std::uint64_t rrl_limited = 0;        // UDP responses over their prefix's rate
    std::uint64_t rrl_slipped = 0;        // of those, sent truncated (TC=1)
    std::uint64_t rrl_dropped = 0;        // of those, not sent

    void add(const Counters& other);
};

struct WorkerCounters {
    Count udp_received;
    Count udp_sent;
    Count udp_dropped;
    Count udp_send_errors;
    Count tcp_accepted;
    Count tcp_refused;
    Count tcp_refused_per_client;
    Count tcp_evicted;
    Count tcp_timed_out;
    Count tcp_io_timed_out;
    Count tcp_accept_errors;
    Count tcp_messages;
    Count rrl_limited;
    Count rrl_slipped;
    Count rrl_dropped;

    Counters read() const {
        return Counters{udp_received.get(),
                        udp_sent.get(),
                        udp_dropped.get(),
                        udp_send_errors.get(),
                        tcp_accepted.get(),
                        tcp_refused.get(),
                        tcp_refused_per_client.get(),
                        tcp_evicted.get(),
                        tcp_timed_out.get(),
                        tcp_io_timed_out.get(),
                        tcp_accept_errors.get(),
                        tcp_messages.get(),
                        rrl_limited.get(),
                        rrl_slipped.get(),
                        rrl_dropped.get()};
    }
};

inline void Counters::add(const Counters& other) {
    udp_received += other.udp_received;
    udp_sent += other.udp_sent;
    udp_dropped += other.udp_dropped;
    udp_send_errors += other.udp_send_errors;
    tcp_accepted += other.tcp_accepted;
    tcp_refused += other.tcp_refused;
    tcp_refused_per_client += other.tcp_refused_per_client;
    tcp_evicted += other.tcp_evicted;
    tcp_timed_out += other.tcp_timed_out;
    tcp_io_timed_out += other.tcp_io_timed_out;
    tcp_accept_errors += other.tcp_accept_errors;
    tcp_messages += other.tcp_messages;
    rrl_limited += other.rrl_limited;
    rrl_slipped += other.rrl_slipped;
    rrl_dropped += other.rrl_dropped;
}

}  // namespace nolb::server
