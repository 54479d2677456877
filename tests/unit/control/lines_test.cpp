// Request line splitting for the control socket.
#include "control/lines.hpp"

#include <gtest/gtest.h>

namespace nolb::control {
namespace {

TEST(ControlLines, LfAndCrLf) {
    NextLine next = next_line("status\nrest", false, 64);
    EXPECT_EQ(next.status, LineStatus::line);
    EXPECT_EQ(next.line, "status");
    EXPECT_EQ(next.consumed, 7u);
    next = next_line("status\r\nrest", false, 64);
    EXPECT_EQ(next.line, "status");
    EXPECT_EQ(next.consumed, 8u);
    next = next_line("\n", false, 64);
    EXPECT_EQ(next.status, LineStatus::line);
    EXPECT_EQ(next.line, "");
    // Only the CR just before the LF belongs to the line ending.
    EXPECT_EQ(next_line("a\rb\r\r\n", false, 64).line, "a\rb\r");
}

TEST(ControlLines, WaitsForTheEndOfALine) {
    EXPECT_EQ(next_line("", false, 64).status, LineStatus::incomplete);
    EXPECT_EQ(next_line("", true, 64).status, LineStatus::incomplete);
    EXPECT_EQ(next_line("stat", false, 64).status, LineStatus::incomplete);
    NextLine last = next_line("stats\r", true, 64);
    EXPECT_EQ(last.status, LineStatus::line);
    EXPECT_EQ(last.line, "stats");
    EXPECT_EQ(last.consumed, 6u);
}

TEST(ControlLines, LongestLineAndOneMore) {
    const std::string longest(8, 'x');
    EXPECT_EQ(next_line(longest + "\r\n", false, 8).line, longest);
    EXPECT_EQ(next_line(longest, false, 8).status, LineStatus::incomplete);
    EXPECT_EQ(next_line(longest + "\r", false, 8).status, LineStatus::incomplete);
    EXPECT_EQ(next_line(longest + "x", false, 8).status, LineStatus::too_long);
    EXPECT_EQ(next_line(longest + "x\n", false, 8).status, LineStatus::too_long);
    EXPECT_EQ(next_line(longest + "\rx", false, 8).status, LineStatus::too_long);
    EXPECT_EQ(next_line(longest + "x", true, 8).status, LineStatus::too_long);
    // A too-long line behind a good one is not reported before the good one is taken.
    EXPECT_EQ(next_line("ok\n" + longest + longest, false, 8).line, "ok");
}

}  // namespace
}  // namespace nolb::control
