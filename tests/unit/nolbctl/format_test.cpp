// nolbctl's human output, pinned to the character: the status table, stats, explain, drain,
// reload, check and watch lines, and the small time and latency formats they use. Clock times
// are shown in UTC here so the tests do not depend on the machine's time zone.
#include "nolbctl/format.hpp"

#include <gtest/gtest.h>

#include "unit/control/control_fixture.hpp"

namespace nolb::nolbctl {
namespace {

using namespace control;
using namespace control::testing;

// 2023-11-14 22:22:03 UTC: two minutes after london came up in status_document().
const Clock kNow{1700000523, true};

TEST(NolbctlFormat, TableAlignsColumnsWithoutTrailingBlanks) {
    EXPECT_EQ(format_table({{"A", "BB", "C"}, {"long", "x", ""}, {"y", "", "z"}}),
              "A     BB  C\n"
              "long  x\n"
              "y         z\n");
    EXPECT_EQ(format_table({}), "");
}

TEST(NolbctlFormat, SmallFormats) {
    EXPECT_EQ(format_ago(0), "0s ago");
    EXPECT_EQ(format_ago(-3), "0s ago");  // a clock slightly ahead of ours
    EXPECT_EQ(format_ago(59.9), "59s ago");
    EXPECT_EQ(format_ago(120), "2m ago");
    EXPECT_EQ(format_ago(7200), "2h ago");
    EXPECT_EQ(format_ago(3 * 86400 + 5), "3d ago");
    EXPECT_EQ(format_duration(45), "45s");
    EXPECT_EQ(format_duration(125), "2m 5s");
    EXPECT_EQ(format_duration(7380), "2h 3m");
    EXPECT_EQ(format_duration(86400 * 2 + 3600), "2d 1h");
    EXPECT_EQ(format_duration(3600), "1h");
    EXPECT_EQ(format_latency(0.4), "0.4ms");
    EXPECT_EQ(format_latency(9.96), "10.0ms");
    EXPECT_EQ(format_latency(12.3), "12ms");
    EXPECT_EQ(format_latency(1500), "1.50s");
    EXPECT_EQ(format_clock_time(1700000403, kNow), "22:20:03");
    EXPECT_EQ(format_clock_time(1700000403 - 2 * 86400, kNow), "2023-11-12 22:20:03");
}

TEST(NolbctlFormat, StatusTable) {
    EXPECT_EQ(
        format_status(status_document(), kNow),
        "SERVICE         NODE    ADDRESS    STATE  SINCE              LAST     LATENCY  "
        "OK/FAIL  ADMIN\n"
        "www.demo.test.  london  127.0.0.2  up     22:20:03 (2m ago)  ok       0.4ms    "
        "5/0      -\n"
        "www.demo.test.  geneva  127.0.0.3  down   22:13:20 (8m ago)  timeout  1.00s    "
        "0/7      drained\n"
        "\n"
        "ZONE        SERIAL      SECONDARY   LAST REQUEST        GOT   HELD        SENT        "
        "BEHIND\n"
        "demo.test.  1700000600  127.0.0.53  22:21:53 (10s ago)  ixfr  1700000500  1700000600  "
        "no\n"
        "demo.test.  1700000600  127.0.0.54  22:15:00 (7m ago)   axfr  -           1700000099  "
        "yes, 8m\n"
        "\n"
        "ZONE        NOTIFY         SENT      SERIAL      ANSWERED          RCODE    MESSAGES  "
        "FAILED\n"
        "demo.test.  127.0.0.53:53  22:21:52  1700000600  22:21:52          NOERROR  4         "
        "0\n"
        "demo.test.  127.0.0.54:53  22:22:00  1700000600  waiting (2 sent)  -        9         "
        "1\n");
}

TEST(NolbctlFormat, StatusShowsTheHttpStatusOfAFailedProbe) {
    Status status = status_document();
    auto& last = *status.services[0].nodes[1].addresses[0].last;
    last.outcome = "bad_status";
    last.http_status = 503;
    EXPECT_NE(format_status(status, kNow).find("  bad_status 503  "), std::string::npos);
    last.outcome = "refused";
    last.http_status = 0;  // no HTTP exchange at all
    EXPECT_NE(format_status(status, kNow).find("  refused  "), std::string::npos);
}

TEST(NolbctlFormat, StatusNotesAllDownAndShowsAnAddressNotYetProbed) {
    Status status = status_document();
    status.services[0].all_down_fired = true;
    status.services[0].nodes[0].addresses[0].last.reset();
    std::string text = format_status(status, kNow);
    EXPECT_NE(text.find("127.0.0.2  up     22:20:03 (2m ago)  -        -        5/0      -\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("note: www.demo.test.: every address is down; all_down = all publishes "
                        "them all\n"),
              std::string::npos)
        << text;
    status.services[0].all_down = "none";
    EXPECT_NE(format_status(status, kNow).find("all_down = none publishes none of them\n"),
              std::string::npos);
    EXPECT_EQ(format_status(Status{}, kNow), "no services\n");
}

TEST(NolbctlFormat, Stats) {
    EXPECT_EQ(format_stats(stats_document()),
              "snapshot generation 7, up 2h 3m\n"
              "queries: 15 (dropped 1, truncated 2)\n"
              "  by type: A 10, AAAA 4, TXT 1\n"
              "  by rcode: NOERROR 13, NXDOMAIN 2\n"
              "udp: received 12, sent 11, errors 0\n"
              "rrl: limited 9, slipped 4, dropped 5\n"
              "transfers: axfr 2, ixfr 5, up to date 30, refused 1, not a zone 1; tsig errors 3, "
              "other signed 4\n"
              "tcp: accepted 3, refused 0, timed out 1, refused per client 2, evicted 6, io "
              "timed out 5\n"
              "probes: sent 230, failed 31, late 0, overlapped 3\n"
              "health transitions: 4\n"
              "publish: 12 changes, last 0.51 ms, max 3.90 ms, whole rendering 24.25 ms\n");
    EXPECT_NE(format_stats(Stats{}).find("  by type: -\n"), std::string::npos);
}

TEST(NolbctlFormat, Explain) {
    EXPECT_EQ(format_explain(explain_document("www.demo.test.", "A")),
              "www.demo.test. A: NOERROR, authoritative\n"
              "answer:\n"
              "  www.demo.test.\t20\tIN\tA\t127.0.0.2\n"
              "ttl: 20 (service www.demo.test. ttl)\n"
              "service www.demo.test.:\n"
              "  +  127.0.0.2  london  included  up\n"
              "  -  127.0.0.3  geneva  left out  drained\n"
              "all_down: did not fire\n");
    Explain nxdomain;
    nxdomain.name = "nope.demo.test.";
    nxdomain.type = "A";
    nxdomain.rcode = "NXDOMAIN";
    nxdomain.aa = true;
    nxdomain.authority = {"demo.test. 60 IN SOA ns1 hostmaster 1 2 3 4 60"};
    EXPECT_EQ(format_explain(nxdomain),
              "nope.demo.test. A: NXDOMAIN, authoritative\n"
              "authority:\n"
              "  demo.test. 60 IN SOA ns1 hostmaster 1 2 3 4 60\n");
}

TEST(NolbctlFormat, Drain) {
    FakeBackend backend;
    Clock clock{1700000603, true};
    EXPECT_EQ(format_drain(backend.drain("london", true), clock),
              "drained london (www.demo.test.); safe to stop at 22:23:43 (in 20 s)\n");
    EXPECT_EQ(format_drain(backend.drain("london", false), clock),
              "undrained london (www.demo.test.)\n");
    DrainResult never_published = backend.drain("geneva", true);
    never_published.safe_at.reset();
    never_published.safe_in_s.reset();
    EXPECT_EQ(format_drain(never_published, clock),
              "drained geneva (www.demo.test.); safe to stop now\n");
    DrainResult two = backend.drain("london", true);
    two.matched.push_back({"api.demo.test.", "london"});
    two.safe_in_s = 300;
    two.safe_at = 1700000903;
    EXPECT_EQ(
        format_drain(two, clock),
        "drained london (www.demo.test., api.demo.test.); safe to stop at 22:28:23 (in 5m)\n");
    two.safe_in_s.reset();  // the time left, from the clock, when only the moment is known
    EXPECT_EQ(
        format_drain(two, clock),
        "drained london (www.demo.test., api.demo.test.); safe to stop at 22:28:23 (in 5m)\n");
}

TEST(NolbctlFormat, Reload) {
    EXPECT_EQ(format_reload({true, {}}), "reloaded\n");
    EXPECT_EQ(format_reload({false, {"a.toml:1:1: x: bad", "a.toml:2:1: y: worse"}}),
              "reload rejected:\n  a.toml:1:1: x: bad\n  a.toml:2:1: y: worse\n");
}

TEST(NolbctlFormat, Check) {
    EXPECT_EQ(format_check(check_document()),
              "WARNING: www.demo.test. 1/2 up; secondary 127.0.0.54 of demo.test. behind for 8m\n");
    EXPECT_EQ(format_check({0, {{"a.", 2, 2}, {"b.", 1, 1}}, {}}),
              "OK: every service fully up (2 services)\n");
    EXPECT_EQ(format_check({2, {{"a.", 0, 2}, {"b.", 1, 2}}, {}}),
              "CRITICAL: a. 0/2 up, b. 1/2 up\n");
}

TEST(NolbctlFormat, WatchEvent) {
    EXPECT_EQ(format_event(transition("london", "up", "down"), kNow),
              "22:23:20 www.demo.test. london 127.0.0.2 up -> down (2 probes failed: timeout)\n");
    WatchEvent quiet = transition("london", "down", "up");
    quiet.reason.clear();
    EXPECT_EQ(format_event(quiet, kNow), "22:23:20 www.demo.test. london 127.0.0.2 down -> up\n");
}

}  // namespace
}  // namespace nolb::nolbctl
