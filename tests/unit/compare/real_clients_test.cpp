// A real program's driver lines as records: times from the run's start, outcomes from the
// program's own error names, requests cut off at the end, the warm-up left out, and an event
// stream's silences; and the commands that run each program, or why one cannot.
#include "nolb-compare/real_clients.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace nolb::compare {
namespace {

const std::vector<std::string> kSites = {"node1", "node2"};

TEST(CompareRealClients, DriverLinesBecomeRecords) {
    // Origin at 1000000 ms: 1000500 is 0.5 s into the run.
    const std::string text =
        "S 0 999000.5\nE 0 999010 200 node1 -\n"  // the warm-up
        "S 1 1000500\nE 1 1000520.25 200 node2 -\n"
        "S 2 1001000\nE 2 1001001 500 node1 -\n"
        "S 3 1001500\nE 3 1001510 0 - refused\n"
        "S 4 1002000\nE 4 1002100 0 - ETIMEDOUT\n"
        "S 5 1002500\nE 5 1002600 0 - empty_reply 40.5\n"  // curl's own 40.5 ms
        "a line of the program's own\n"
        "S 6 1003000\n"                            // still open at the end
        "S 7 1004100\nE 7 1004110 200 node1 -\n";  // started after the end
    const DriverOutput out = parse_driver_output(text, Profile::curl, 0, 1000000.0, 4.0, kSites);
    ASSERT_EQ(out.requests.size(), 6u);
    const auto& ok = out.requests[0];
    EXPECT_TRUE(ok.real);
    EXPECT_EQ(ok.profile, Profile::curl);
    EXPECT_DOUBLE_EQ(ok.start, 0.5);
    EXPECT_NEAR(ok.end, 0.52025, 1e-9);
    EXPECT_EQ(ok.outcome, Outcome::ok);
    EXPECT_EQ(ok.node, 1);
    EXPECT_EQ(ok.http_status, 200);
    EXPECT_EQ(out.requests[1].outcome, Outcome::http_error);
    EXPECT_EQ(out.requests[1].node, 0);
    EXPECT_EQ(out.requests[2].outcome, Outcome::refused);
    EXPECT_EQ(out.requests[2].node, -1);
    EXPECT_EQ(out.requests[3].outcome, Outcome::connect_timeout);
    EXPECT_EQ(out.requests[4].outcome, Outcome::reset);
    EXPECT_DOUBLE_EQ(out.requests[4].end, 2.6);
    EXPECT_NEAR(out.requests[4].start, 2.5595, 1e-9) << "the program's own time, not the driver's";
    EXPECT_EQ(out.requests[5].outcome, Outcome::unfinished);
    EXPECT_DOUBLE_EQ(out.requests[5].start, 3.0);
    EXPECT_DOUBLE_EQ(out.requests[5].end, 4.0);
    EXPECT_TRUE(out.gaps.empty());
}

TEST(CompareRealClients, EventLinesGiveTheStreamsSilences) {
    const std::string text =
        "V 1000100 node1\nV 1000600 node1\nV 1001100 node1\n"
        "V 1003300 node2\nV 1003800 node2\n";
    const DriverOutput out =
        parse_driver_output(text, Profile::chromium, 0, 1000000.0, 6.0, kSites);
    ASSERT_EQ(out.gaps.size(), 2u);
    EXPECT_TRUE(out.gaps[0].real);
    EXPECT_DOUBLE_EQ(out.gaps[0].from, 1.1);
    EXPECT_DOUBLE_EQ(out.gaps[0].to, 3.3);
    EXPECT_EQ(out.gaps[0].node_before, 0);
    EXPECT_EQ(out.gaps[0].node_after, 1);
    EXPECT_TRUE(out.gaps[0].ended);
    // Silent from 3.8 s to the end at 6 s.
    EXPECT_DOUBLE_EQ(out.gaps[1].from, 3.8);
    EXPECT_DOUBLE_EQ(out.gaps[1].to, 6.0);
    EXPECT_FALSE(out.gaps[1].ended);
}

TEST(CompareRealClients, ModelsHaveNoProgramAndMissingPiecesAreNamed) {
    const std::filesystem::path drivers =
        std::filesystem::path(NOLB_SOURCE_DIR) / "contrib/calibrate";
    for (Profile p : {Profile::glibc_loop, Profile::try_all}) {
        try {
            driver_command(p, drivers);
            ADD_FAILURE() << profile_name(p) << " has a command";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("a model of no particular program"),
                      std::string::npos)
                << e.what();
        }
    }
    try {
        driver_command(Profile::python, "/nonexistent/calibrate");
        ADD_FAILURE() << "a driver from a folder that does not exist";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("client.py is missing"), std::string::npos)
            << e.what();
    }
    try {
        driver_command(Profile::chromium, "/nonexistent/calibrate");
        ADD_FAILURE() << "chromium without its node modules";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_TRUE(what.find("install chromium") != std::string::npos ||
                    what.find("npm ci") != std::string::npos)
            << what;
    }
    const auto curl = driver_command(Profile::curl, drivers);
    ASSERT_EQ(curl.size(), 2u);
    EXPECT_EQ(curl[1], (drivers / "curl.sh").string());
}

}  // namespace
}  // namespace nolb::compare
