// A small, fast PRNG (xoshiro256**) owned by one worker, seeded from the kernel. It decides the
// order of published addresses, so it must be unbiased (Lemire's bounded draw), not secure.
#pragma once

#include <sys/random.h>

#include <cstdint>
#include <ctime>

namespace nolb::util {

class Rng {
  public:
    Rng() { seed_from_kernel(); }
    explicit Rng(std::uint64_t seed) { seed_with(seed); }

    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform in [0, bound), bound > 0, without modulo bias.
    std::uint32_t below(std::uint32_t bound) {
        std::uint32_t x = static_cast<std::uint32_t>(next() >> 32);
        std::uint64_t m = std::uint64_t{x} * bound;
        auto low = static_cast<std::uint32_t>(m);
        if (low < bound) {
            const std::uint32_t threshold = -bound % bound;
            while (low < threshold) {
                x = static_cast<std::uint32_t>(next() >> 32);
                m = std::uint64_t{x} * bound;
                low = static_cast<std::uint32_t>(m);
            }
        }
        return static_cast<std::uint32_t>(m >> 32);
    }

    // Uniform in [0, bound) for a small bound (at most 2^16), the kind a shuffle of a few
    // addresses draws: each 64-bit output serves four draws of 16 bits. Lemire's method again;
    // a draw in the biased sliver is replaced by a full-width one, which keeps it uniform.
    std::uint32_t below_small(std::uint32_t bound) {
        if (pool_left_ == 0) {
            pool_ = next();
            pool_left_ = 4;
        }
        const auto x = static_cast<std::uint32_t>(pool_ & 0xffff);
        pool_ >>= 16;
        --pool_left_;
        const std::uint32_t m = x * bound;
        const std::uint32_t low = m & 0xffff;
        if (low < bound && low < 0x10000u % bound) return below(bound);
        return m >> 16;
    }

  private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    void seed_from_kernel() {
        std::uint64_t seed = 0;
        if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed))
            seed = static_cast<std::uint64_t>(std::time(nullptr)) ^
                   reinterpret_cast<std::uintptr_t>(this);
        seed_with(seed);
    }

    void seed_with(std::uint64_t seed) {
        // splitmix64 spreads one word over the whole state.
        for (auto& word : s_) {
            seed += 0x9e3779b97f4a7c15ULL;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            word = z ^ (z >> 31);
        }
    }

    std::uint64_t s_[4];
    std::uint64_t pool_ = 0;  // unused bits of the last next(), for below_small
    unsigned pool_left_ = 0;  // 16-bit draws left in pool_
};

}  // namespace nolb::util
