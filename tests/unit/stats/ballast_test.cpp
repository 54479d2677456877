// The memory a nolb-stats site eats on purpose: the count that the limit and the degrade
// threshold apply to, and the real resident memory behind it, which must grow with each chunk
// and go back when the ballast goes.
#include "nolb-stats/ballast.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <sstream>

#include "nolb-stats/process_stats.hpp"

namespace nolb::stats {
namespace {

using Outcome = Ballast::Outcome;

// Resident memory of this process, in MB.
double resident_mb() {
    std::ifstream in("/proc/self/statm");
    std::stringstream text;
    text << in.rdbuf();
    auto pages = parse_statm_resident_pages(text.str());
    EXPECT_TRUE(pages.has_value());
    return static_cast<double>(pages.value_or(0)) * static_cast<double>(::sysconf(_SC_PAGESIZE)) /
           (1 << 20);
}

TEST(Ballast, EachAllocationAddsOneChunkUpToTheLimit) {
    Ballast b(4, 1, 80);
    EXPECT_EQ(b.used_mb(), 0u);
    for (unsigned i = 1; i <= 4; ++i) {
        ASSERT_EQ(b.allocate(), Outcome::allocated) << i;
        EXPECT_EQ(b.used_mb(), i);
    }
    // Reaching the limit is allowed; passing it is not, and changes nothing.
    EXPECT_EQ(b.allocate(), Outcome::over_limit);
    EXPECT_EQ(b.allocate(), Outcome::over_limit);
    EXPECT_EQ(b.used_mb(), 4u);
    EXPECT_EQ(b.limit_mb(), 4u);
    EXPECT_EQ(b.chunk_mb(), 1u);
    EXPECT_EQ(b.degrade_at_percent(), 80u);
}

TEST(Ballast, AChunkThatWouldPassTheLimitIsRefusedWhole) {
    Ballast b(5, 2, 80);
    EXPECT_EQ(b.allocate(), Outcome::allocated);
    EXPECT_EQ(b.allocate(), Outcome::allocated);
    EXPECT_EQ(b.allocate(), Outcome::over_limit);  // 6 > 5
    EXPECT_EQ(b.used_mb(), 4u);

    Ballast bigger_than_limit(1, 2, 80);
    EXPECT_EQ(bigger_than_limit.allocate(), Outcome::over_limit);
    EXPECT_EQ(bigger_than_limit.used_mb(), 0u);
}

TEST(Ballast, ChunkBeyondTheAddressSpaceIsAMappingFailure) {
    // UINT_MAX MB is within the limit but far beyond any address space: mmap refuses it, and
    // the count stays where it was.
    Ballast b(UINT_MAX, UINT_MAX, 80);
    EXPECT_EQ(b.allocate(), Outcome::mmap_failed);
    EXPECT_EQ(b.used_mb(), 0u);
    EXPECT_FALSE(b.degraded());
}

TEST(Ballast, DegradedFromTheThresholdOn) {
    Ballast b(10, 1, 80);
    for (int i = 0; i < 7; ++i)
        ASSERT_EQ(b.allocate(), Outcome::allocated);
    EXPECT_FALSE(b.degraded());  // 70 %
    ASSERT_EQ(b.allocate(), Outcome::allocated);
    EXPECT_TRUE(b.degraded());  // 80 %: reaching the threshold is enough
    ASSERT_EQ(b.allocate(), Outcome::allocated);
    EXPECT_TRUE(b.degraded());

    // The threshold is a percentage of the limit, not of what a chunk makes reachable.
    Ballast coarse(10, 3, 80);
    coarse.allocate();
    coarse.allocate();
    EXPECT_FALSE(coarse.degraded());  // 60 %
    coarse.allocate();
    EXPECT_TRUE(coarse.degraded());  // 90 %

    Ballast full(3, 1, 100);
    full.allocate();
    full.allocate();
    EXPECT_FALSE(full.degraded());
    full.allocate();
    EXPECT_TRUE(full.degraded());
}

TEST(Ballast, ResidentMemoryGrowsWithEachChunkAndIsGivenBack) {
    constexpr unsigned kChunkMb = 16;
    const double before = resident_mb();
    {
        Ballast b(4 * kChunkMb, kChunkMb, 80);
        // Several chunks, so that the vector holding them moves them at least once.
        for (int i = 0; i < 4; ++i)
            ASSERT_EQ(b.allocate(), Outcome::allocated);
        const double grown = resident_mb() - before;
        // Every page was written: the pages are resident, not merely reserved.
        EXPECT_GE(grown, 4 * kChunkMb * 0.9) << "RSS grew by " << grown << " MB";
    }
    const double after = resident_mb() - before;
    EXPECT_LT(after, kChunkMb) << "RSS still " << after << " MB above where it was";
}

// In a process whose address space cannot hold one more chunk, mmap fails: exits 0 when the
// ballast says so and counts nothing.
[[noreturn]] void allocate_without_address_space() {
    std::ifstream in("/proc/self/statm");
    unsigned long long size_pages = 0;
    in >> size_pages;
    const auto now = size_pages * static_cast<unsigned long long>(::sysconf(_SC_PAGESIZE));
    const rlimit limit{now + (8ull << 20), now + (8ull << 20)};
    if (::setrlimit(RLIMIT_AS, &limit) != 0) std::_Exit(2);
    Ballast b(1024, 64, 80);
    const bool failed = b.allocate() == Outcome::mmap_failed && b.used_mb() == 0;
    std::_Exit(failed ? 0 : 1);
}

TEST(Ballast, FailedMappingIsReportedNotThrown) {
#ifdef __SANITIZE_ADDRESS__
    GTEST_SKIP() << "AddressSanitizer needs more address space than the limit leaves";
#endif
    EXPECT_EXIT(allocate_without_address_space(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace nolb::stats
