// The worker PRNG's bounded draws: in range, and uniform enough that a biased or broken draw
// (a constant, a skipped value, an off-by-one at the bound) fails a chi-square test.
#include "util/rng.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace nolb::util {
namespace {

// Pearson's statistic over `bound` equally likely cells.
double chi_square(const std::vector<unsigned>& counts, unsigned draws) {
    const double expected = static_cast<double>(draws) / static_cast<double>(counts.size());
    double sum = 0;
    for (unsigned c : counts)
        sum += (c - expected) * (c - expected) / expected;
    return sum;
}

TEST(Rng, BelowSmallIsUniformForEveryShuffleSize) {
    Rng rng(12345);
    for (std::uint32_t bound : {2u, 3u, 4u, 5u, 7u, 8u, 16u, 100u}) {
        constexpr unsigned kDraws = 200'000;
        std::vector<unsigned> counts(bound);
        for (unsigned i = 0; i < kDraws; ++i) {
            const std::uint32_t x = rng.below_small(bound);
            ASSERT_LT(x, bound);
            ++counts[x];
        }
        // The 99.99th percentile of chi-square with k-1 degrees of freedom stays below
        // 4 * (k - 1) + 30 for these k; a fair draw fails this about once in ten thousand runs
        // (and the seed is fixed).
        EXPECT_LT(chi_square(counts, kDraws), 4.0 * (bound - 1) + 30) << "bound " << bound;
    }
}

TEST(Rng, BelowSmallReachesTheLargestBound) {
    Rng rng(7);
    bool low = false, high = false;
    for (int i = 0; i < 1'000'000 && !(low && high); ++i) {
        const std::uint32_t x = rng.below_small(65536);
        ASSERT_LT(x, 65536u);
        low = low || x == 0;
        high = high || x == 65535;
    }
    EXPECT_TRUE(low);
    EXPECT_TRUE(high);
}

TEST(Rng, BelowIsUniform) {
    Rng rng(99);
    constexpr unsigned kDraws = 200'000;
    std::vector<unsigned> counts(6);
    for (unsigned i = 0; i < kDraws; ++i)
        ++counts[rng.below(6)];
    EXPECT_LT(chi_square(counts, kDraws), 4.0 * 5 + 30);
}

}  // namespace
}  // namespace nolb::util
