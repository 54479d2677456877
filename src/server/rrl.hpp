// Response rate limiting (RRL), as NSD and Knot offer it: a spoofed-source flood turns an
// authoritative server into an amplifier aimed at the spoofed address, so UDP responses to one
// client prefix are held to a rate. Each UDP thread owns one RateLimiter: a fixed table of
// slots, allocated when the thread starts, each holding one prefix and a token bucket. A prefix
// that hashes to a slot held by another takes it over, so the table never grows and a
// collision can only make a limit more lenient, never starve a prefix that is not flooding.
// Over the limit, every slip-th response goes out cut by the protocol's SlipCut (for DNS: TC=1,
// no records, so a real client behind the prefix retries over TCP), and the others are
// dropped. The limiter only decides; what a cut response holds is not its business.
//
// The clock is read once per batch (set_now), the table lookup is a hash and a compare, and
// nothing on the per-response path allocates, locks or makes a system call.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "server/settings.hpp"

namespace nolb::server {

enum class RrlAction : std::uint8_t { send, slip, drop };

class RateLimiter {
  public:
    // Off (responses_per_second = 0) allocates nothing.
    explicit RateLimiter(const RrlSettings& settings);

    bool enabled() const { return rate_ != 0; }
    std::size_t slots() const { return std::size_t{1} << (64 - shift_); }

    // Milliseconds on CLOCK_MONOTONIC_COARSE: a vDSO read, no system call.
    static std::uint64_t clock_ms();
    // The time decisions are made at until the next call; once per batch.
    void set_now(std::uint64_t now_ms) { now_ms_ = now_ms; }

    // What to do with one response to `peer` (an AF_INET or AF_INET6 address); takes a token
    // when there is one. Only when enabled().
    RrlAction decide(const sockaddr_storage& peer);

  private:
    // A prefix as 128 bits: IPv6 masked to its prefix length, IPv4 (and IPv4-mapped IPv6)
    // as ::ffff:a.b.c.d masked, so that both spellings of one IPv4 client share a bucket.
    struct Key {
        std::uint64_t high = 0;
        std::uint64_t low = 0;
        bool operator==(const Key&) const = default;
    };
    struct Slot {
        Key key;
        std::uint64_t stamp_ms = 0;  // when tokens was last brought up to date
        std::uint32_t tokens = 0;    // in thousandths of a response
        std::uint8_t limited = 0;    // limited responses since the last slip
        bool used = false;
    };

    Key key_of(const sockaddr_storage& peer) const;
    Slot& slot_for(const Key& key);
    void refill(Slot& slot) const;

    std::uint32_t rate_;
    std::uint32_t slip_;
    std::uint64_t ipv4_mask_;     // over the low 32 bits of Key::low
    std::uint64_t ipv6_mask_[2];  // over Key::high and Key::low
    unsigned shift_ = 64;         // 64 - log2(slots): the hash's top bits pick the slot
    std::unique_ptr<Slot[]> table_;
    std::uint64_t now_ms_ = 0;
};

}  // namespace nolb::server
