// The limiter's table and buckets. Buckets count in thousandths of a response so that a clock
// read every few milliseconds refills them smoothly at any rate, with integers only.
#include "server/rrl.hpp"

#include <endian.h>
#include <netinet/in.h>
#include <time.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace nolb::server {
namespace {

constexpr std::uint32_t kCost = 1000;          // one response, in bucket units
constexpr std::uint32_t kMaxRate = 4'000'000;  // keeps a full bucket within 32 bits
constexpr std::uint64_t kBurstMs = 1000;       // a bucket holds one second of responses
constexpr std::uint64_t kIpv4Mapped = 0x0000'ffff'0000'0000;

std::uint64_t load64(const std::uint8_t* p) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return be64toh(v);
}

// Leading `bits` of a 64-bit word set (0..64).
std::uint64_t leading_ones(unsigned bits) {
    if (bits == 0) return 0;
    if (bits >= 64) return ~std::uint64_t{0};
    return ~std::uint64_t{0} << (64 - bits);
}

// Fibonacci hashing: the product's top bits depend on every bit of the key, and one multiply
// is all it costs. Rotating `low` puts an IPv4 address, which lives in its low half, where the
// product mixes it as well as it does an IPv6 prefix in `high`.
std::uint64_t hash(std::uint64_t high, std::uint64_t low) {
    return (high ^ std::rotl(low, 32)) * 0x9e3779b97f4a7c15ULL;
}

}  // namespace

RateLimiter::RateLimiter(const RrlSettings& settings)
    : rate_(std::min(settings.responses_per_second, kMaxRate)),
      slip_(std::min(settings.slip, 255u)),
      ipv4_mask_(leading_ones(std::min(settings.ipv4_prefix, 32u)) >> 32),
      ipv6_mask_{leading_ones(std::min(settings.ipv6_prefix, 64u)),
                 leading_ones(settings.ipv6_prefix > 64 ? settings.ipv6_prefix - 64 : 0)} {
    if (rate_ == 0) return;
    const std::uint64_t slots = std::bit_ceil(std::max<std::uint64_t>(settings.buckets, 1));
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(slots));
    table_ = std::make_unique<Slot[]>(slots);
}

std::uint64_t RateLimiter::clock_ms() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1000 +
           static_cast<std::uint64_t>(now.tv_nsec) / 1'000'000;
}

RateLimiter::Key RateLimiter::key_of(const sockaddr_storage& peer) const {
    if (peer.ss_family == AF_INET) {
        const auto& sin = reinterpret_cast<const sockaddr_in&>(peer);
        return {0, kIpv4Mapped | (be32toh(sin.sin_addr.s_addr) & ipv4_mask_)};
    }
    if (peer.ss_family == AF_INET6) {
        const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(peer);
        const std::uint64_t high = load64(sin6.sin6_addr.s6_addr);
        const std::uint64_t low = load64(sin6.sin6_addr.s6_addr + 8);
        if (high == 0 && (low >> 32) == 0xffff)
            return {0, kIpv4Mapped | (low & 0xffff'ffff & ipv4_mask_)};
        return {high & ipv6_mask_[0], low & ipv6_mask_[1]};
    }
    return {};
}

RateLimiter::Slot& RateLimiter::slot_for(const Key& key) {
    // In two steps so that one slot (a shift of 64) is well defined: index 0.
    return table_[(hash(key.high, key.low) >> 1) >> (shift_ - 1)];
}

void RateLimiter::refill(Slot& slot) const {
    if (now_ms_ <= slot.stamp_ms) return;
    const std::uint64_t elapsed = now_ms_ - slot.stamp_ms;
    slot.stamp_ms = now_ms_;
    const std::uint32_t full = rate_ * kCost;
    // `rate_` responses a second is `rate_` thousandths a millisecond.
    slot.tokens = elapsed >= kBurstMs ? full
                                      : static_cast<std::uint32_t>(std::min<std::uint64_t>(
                                            full, slot.tokens + elapsed * rate_));
}

RrlAction RateLimiter::decide(const sockaddr_storage& peer) {
    const Key key = key_of(peer);
    Slot& slot = slot_for(key);
    if (!slot.used || !(slot.key == key)) {
        // A new prefix, or one that collides with the holder: it takes the slot over.
        slot = Slot{key, now_ms_, rate_ * kCost, 0, true};
    } else {
        refill(slot);
    }
    if (slot.tokens >= kCost) {
        slot.tokens -= kCost;
        return RrlAction::send;
    }
    if (slip_ != 0 && ++slot.limited >= slip_) {
        slot.limited = 0;
        return RrlAction::slip;
    }
    return RrlAction::drop;
}

}  // namespace nolb::server
