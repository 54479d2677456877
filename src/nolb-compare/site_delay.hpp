// The distance between the clients and a site's nodes, made in user space because the kernel the
// lab runs on has no netem. The lab's iptables rules (site_rules() in lab_servers.hpp) send every
// packet to or from a site's node to that site's NFQUEUE; SiteDelay reads the queues, holds each
// packet half the site's round trip and then accepts it. Both directions wait, so a SYN and its
// SYN-ACK cost one RTT, and so does each request and its response, whoever sends them: the
// clients, nolbd's probes and HAProxy all stand on the clients' side of the distance.
//
// Design:
// - One queue per site, so the queue a packet arrives on says how long it waits: nothing of the
//   packet is copied to user space, only its ID.
// - Every packet of a queue waits the same time, so arrival order is release order: a FIFO per
//   queue, whose head is always the next due. Verdicts go out in order per queue, so per
//   direction too, and TCP sees no reordering the distance would not make.
// - The hold is bounded (kHoldLimit packets, every site together). When it is full the oldest
//   packet goes early, so order is still kept; such packets are counted, and the lab says so in
//   the run's notes. The kernel's queue is longer than the hold, the rules carry
//   --queue-bypass and the queues fail open, so a packet is never dropped for want of room and
//   the lab never wedges, not even when this process is gone.
// - libnetfilter_queue, not libmnl directly: it is the packaged interface to exactly this
//   (binding a queue, its copy mode, length and flags, verdicts by ID), where libmnl would mean
//   building and parsing nfnetlink's messages here.
// - A thread of its own, with its own loop (ppoll on the queue's socket and a wake-up eventfd,
//   with the next packet's due time as the timeout): the clients' event loop runs every client
//   callback and waits up to a second for a fault's POST, and a packet held there would wait
//   for them too. A thread rather than a child process because it lives and dies with the Lab
//   that owns it (RAII, no process to reap or IPC for its counters), and if nolb-compare dies
//   the kernel unbinds the queues with it: --queue-bypass then lets packets through undelayed,
//   and the rules vanish with the lab's namespace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nolb-compare/profiles.hpp"

namespace nolb::compare {

struct HeldQueue {
    std::uint16_t number = 0;  // the NFQUEUE number the site's rules name
    Seconds hold{0};           // how long each packet waits: half the site's round trip
};

struct SiteDelayCounts {
    std::uint64_t held = 0;            // packets held their full time, then accepted
    std::uint64_t released_early = 0;  // let go before their time because the hold was full
    std::size_t most_held = 0;         // the most packets held at once
    std::string failure;               // what stopped the delay, if something did
};

class SiteDelay {
  public:
    static constexpr std::size_t kHoldLimit = 4096;

    // Binds each queue (this process must be root, in the namespace of the rules) and starts the
    // thread. Throws std::runtime_error naming the queue and the reason when one cannot be bound.
    explicit SiteDelay(std::vector<HeldQueue> queues, std::size_t hold_limit = kHoldLimit);
    // Accepts whatever is still held, in order, unbinds the queues and joins the thread.
    ~SiteDelay();
    SiteDelay(const SiteDelay&) = delete;
    SiteDelay& operator=(const SiteDelay&) = delete;

    SiteDelayCounts counts() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nolb::compare
