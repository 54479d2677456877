// The /proc parsers behind nolb-stats's RSS and CPU figures: fields counted from the last ')'
// whatever the command name holds, and malformed text refused rather than misread.
#include "nolb-stats/process_stats.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace nolb::stats {
namespace {

// Fields 1-15 of a real line: utime (14) = 250, stime (15) = 50.
constexpr std::string_view kStat =
    "4242 (nolb-stats) S 1 4242 4242 0 -1 4194560 1093 0 0 0 250 50 0 0 20 0 1 0 "
    "123456 12345678 1000 18446744073709551615";

TEST(ProcessStats, CpuTicksAreUserPlusSystemTime) {
    EXPECT_EQ(parse_stat_cpu_ticks(kStat), 300u);
}

TEST(ProcessStats, CommandNamesWithSpacesAndParenthesesDoNotShiftFields) {
    std::string stat(kStat);
    stat.replace(stat.find("(nolb-stats)"), 12, "(a) b (c d))");
    EXPECT_EQ(parse_stat_cpu_ticks(stat), 300u);
}

TEST(ProcessStats, TruncatedOrGarbledStatIsRefused) {
    EXPECT_EQ(parse_stat_cpu_ticks(""), std::nullopt);
    EXPECT_EQ(parse_stat_cpu_ticks("4242 nolb-stats S 1"), std::nullopt);
    EXPECT_EQ(parse_stat_cpu_ticks("4242 (x) S 1 2 3 4 5 6 7 8 9 10"), std::nullopt);
    EXPECT_EQ(parse_stat_cpu_ticks("4242 (x) S 1 2 3 4 5 6 7 8 9 10 2x0 50 0"), std::nullopt);
}

TEST(ProcessStats, ResidentPagesAreTheSecondStatmField) {
    EXPECT_EQ(parse_statm_resident_pages("5000 1234 300 100 0 800 0\n"), 1234u);
    EXPECT_EQ(parse_statm_resident_pages("5000"), std::nullopt);
    EXPECT_EQ(parse_statm_resident_pages("5000 x"), std::nullopt);
}

TEST(ProcessStats, ThisProcessParses) {
    auto read = [](const char* path) {
        std::ifstream in(path);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    };
    EXPECT_TRUE(parse_stat_cpu_ticks(read("/proc/self/stat")).has_value());
    auto pages = parse_statm_resident_pages(read("/proc/self/statm"));
    ASSERT_TRUE(pages.has_value());
    EXPECT_GT(*pages, 0u);
}

}  // namespace
}  // namespace nolb::stats
