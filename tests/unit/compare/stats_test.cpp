// The arithmetic of nolb-compare's figures on hand-built records: nearest-rank percentiles at
// their edges, outages (merged failures, one still running at the end, the worst client), the
// per-profile summary with its load share (infinite when a node served nothing), and when nolbd
// stopped publishing a node.
#include "nolb-compare/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace nolb::compare {
namespace {

RequestRecord rec(double start, double end, Outcome outcome, std::int16_t node = -1,
                  std::uint16_t client = 0, Profile profile = Profile::try_all,
                  bool resolved = false) {
    RequestRecord r;
    r.profile = profile;
    r.client = client;
    r.start = start;
    r.end = end;
    r.outcome = outcome;
    r.node = node;
    r.resolved = resolved;
    r.attempts = 1;
    return r;
}

TEST(CompareStats, PercentileOfNothingIsNothing) {
    std::vector<double> none;
    EXPECT_EQ(percentile(none, 50), std::nullopt);
    EXPECT_EQ(percentile(none, 0), std::nullopt);
}

TEST(CompareStats, PercentileOfOneValueIsThatValue) {
    for (double p : {0.0, 1.0, 50.0, 99.0, 100.0}) {
        std::vector<double> one = {7.5};
        EXPECT_EQ(percentile(one, p), 7.5) << p;
    }
}

TEST(CompareStats, PercentileIsNearestRankWithoutInterpolation) {
    // 1..100 shuffled: rank ceil(p/100*n) of the sorted values.
    std::vector<double> values;
    for (int i = 100; i >= 1; --i)
        values.push_back(static_cast<double>((i * 37) % 100 + 1));
    EXPECT_EQ(percentile(values, 0), 1.0);
    EXPECT_EQ(percentile(values, 50), 50.0);
    EXPECT_EQ(percentile(values, 99), 99.0);
    EXPECT_EQ(percentile(values, 100), 100.0);
    EXPECT_TRUE(std::is_sorted(values.begin(), values.end()));

    // Four values: p50 is the 2nd (not the mean of 2nd and 3rd), p99 and p100 the 4th, p26 the 2nd.
    std::vector<double> four = {40, 10, 30, 20};
    EXPECT_EQ(percentile(four, 50), 20.0);
    EXPECT_EQ(percentile(four, 25), 10.0);
    EXPECT_EQ(percentile(four, 26), 20.0);
    EXPECT_EQ(percentile(four, 99), 40.0);
    EXPECT_EQ(percentile(four, 100), 40.0);
    EXPECT_EQ(percentile(four, 0), 10.0);
}

TEST(CompareStats, NoFailureIsNoOutage) {
    std::vector<RequestRecord> r = {rec(0, 0.1, Outcome::ok), rec(0.2, 0.3, Outcome::ok)};
    EXPECT_EQ(longest_outage_ms(r, 10), 0.0);
    EXPECT_EQ(longest_outage_ms({}, 10), 0.0);
}

TEST(CompareStats, OneFailureRunsFromItsStartToTheNextSuccessEnd) {
    std::vector<RequestRecord> r = {rec(1.0, 1.1, Outcome::ok), rec(2.0, 3.0, Outcome::refused),
                                    rec(3.5, 3.75, Outcome::ok)};
    EXPECT_DOUBLE_EQ(longest_outage_ms(r, 10), 1750.0);
}

TEST(CompareStats, ConsecutiveFailuresAreOneOutageInAnyOrder) {
    // Given out of order: the function orders by start.
    std::vector<RequestRecord> r = {
        rec(6.0, 6.5, Outcome::ok),        rec(2.0, 3.0, Outcome::connect_timeout),
        rec(0.0, 0.5, Outcome::ok),        rec(3.0, 4.0, Outcome::http_error),
        rec(4.0, 5.0, Outcome::dns_error), rec(8.0, 8.2, Outcome::reset),
        rec(8.5, 8.6, Outcome::ok),
    };
    // 2.0 .. 6.5 merged; 8.0 .. 8.6 shorter.
    EXPECT_DOUBLE_EQ(longest_outage_ms(r, 20), 4500.0);
}

TEST(CompareStats, FailureAtTheEndRunsToTheRunEnd) {
    std::vector<RequestRecord> r = {rec(0, 0.1, Outcome::ok), rec(18.0, 19.0, Outcome::refused),
                                    rec(19.0, 19.5, Outcome::request_timeout)};
    EXPECT_DOUBLE_EQ(longest_outage_ms(r, 20), 2000.0);
    // A client that never succeeded was out from its first request.
    std::vector<RequestRecord> never = {rec(0.5, 1.0, Outcome::refused)};
    EXPECT_DOUBLE_EQ(longest_outage_ms(never, 20), 19500.0);
}

RunResult run_of(std::vector<RequestRecord> records, double duration = 20) {
    RunResult run;
    run.model = Model::health_checked;
    run.duration = duration;
    run.requests = std::move(records);
    return run;
}

TEST(CompareStats, SummaryLongestOutageIsTheWorstClientNotTheirSum) {
    // Client 0 fails 1..2 and client 1 fails 1.5..4: interleaved, but each client is its own
    // history, so the answer is client 1's 2.5 s, not a merged 1..4.
    RunResult run = run_of({
        rec(0, 0.1, Outcome::ok, 0, 0),
        rec(1.0, 1.5, Outcome::refused, -1, 0),
        rec(1.5, 2.0, Outcome::ok, 1, 0),
        rec(1.5, 1.9, Outcome::refused, -1, 1),
        rec(2.0, 3.0, Outcome::ok, 0, 0),
        rec(2.0, 3.9, Outcome::reset, -1, 1),
        rec(3.9, 4.0, Outcome::ok, 1, 1),
    });
    auto summaries = summarize(run, 2);
    ASSERT_EQ(summaries.size(), 1u);
    EXPECT_DOUBLE_EQ(summaries[0].longest_outage_ms, 2500.0);
}

TEST(CompareStats, OverlappingRequestsEndAnOutageAtTheFirstSuccessAfterIt) {
    // Open loop: a request due at 1 hangs until 9 and fails; one due at 2 succeeds at 2.1. The
    // client had service again at 2.1, whatever became of the first.
    const std::vector<RequestRecord> records = {rec(1, 9, Outcome::connect_timeout),
                                                rec(2, 2.1, Outcome::ok),
                                                rec(3, 3.05, Outcome::reset)};
    const std::vector<Outage> list = outages(records, 10);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_DOUBLE_EQ(list[0].from, 1);
    EXPECT_DOUBLE_EQ(list[0].to, 2.1);
    EXPECT_TRUE(list[0].ended);
    EXPECT_DOUBLE_EQ(list[1].from, 3);
    EXPECT_DOUBLE_EQ(list[1].to, 10);
    EXPECT_FALSE(list[1].ended) << "still failing when the run ended";
}

TEST(CompareStats, RecoveryIsFromTheFaultToTheEndOfTheLastOutageItCaused) {
    const std::vector<Outage> list = {{1, 2, true}, {5.5, 6, true}, {7, 8.5, true}, {12, 13, true}};
    // Fault at 5, next fault at 10: the outages beginning in [5, 10) end by 8.5.
    EXPECT_DOUBLE_EQ(recovery_s(list, 5, 10), 3.5);
    EXPECT_DOUBLE_EQ(recovery_s(list, 9, 11), 0) << "none began in the window";
    EXPECT_DOUBLE_EQ(recovery_s({}, 5, 10), 0);
}

TEST(CompareStats, SummaryCountsAttemptedLateAndRecoveryOverClients) {
    // Crash at 5 s. Client 0 fails at 5.2 and is served again at 6.0; client 1 is spared;
    // client 2 fails at 5.5 and never again succeeds; client 3's last request was due but never
    // begun. A success taking 1.5 s is late.
    RequestRecord never = rec(9.5, 10, Outcome::unfinished, -1, 3);
    never.attempted = false;
    RunResult run =
        run_of({rec(1, 1.1, Outcome::ok, 0, 0), rec(5.2, 5.3, Outcome::refused, -1, 0),
                rec(5.9, 6.0, Outcome::ok, 1, 0), rec(2, 3.5, Outcome::ok, 1, 1),
                rec(6, 6.1, Outcome::ok, 0, 1), rec(1, 1.1, Outcome::ok, 0, 2),
                rec(5.5, 6.5, Outcome::reset, -1, 2), rec(1, 1.2, Outcome::ok, 0, 3), never},
               10);
    AppliedFault crash;
    crash.fault.kind = FaultKind::crash;
    crash.at = 5;
    run.faults.push_back(crash);
    const auto summaries = summarize(run, 2);
    ASSERT_EQ(summaries.size(), 1u);
    const Summary& s = summaries[0];
    EXPECT_EQ(s.requests, 9u);
    EXPECT_EQ(s.attempted, 8u);
    EXPECT_EQ(s.late, 1u);
    // Client 0: 5.2 .. 6.0 (0.8 s); client 2: 5.5 .. 10 (4.5 s); client 3: 9.5 .. 10 (0.5 s).
    EXPECT_NEAR(s.client_seconds_down, 5.8, 1e-9);
    EXPECT_EQ(s.affected_clients, 3u);
    // Recoveries over the four clients: 0, 1.0, 5.0, 5.0 (sorted: 0, 1, 5, 5).
    ASSERT_TRUE(s.recover_p50_s && s.recover_p90_s && s.recover_p99_s);
    EXPECT_DOUBLE_EQ(*s.recover_p50_s, 1.0);
    EXPECT_DOUBLE_EQ(*s.recover_p90_s, 5.0);
    EXPECT_DOUBLE_EQ(*s.recover_p99_s, 5.0);
}

TEST(CompareStats, WithoutAFaultThereIsNoRecovery) {
    RunResult run = run_of({rec(1, 1.1, Outcome::refused), rec(2, 2.1, Outcome::ok)});
    const auto summaries = summarize(run, 1);
    ASSERT_EQ(summaries.size(), 1u);
    EXPECT_FALSE(summaries[0].recover_p50_s);
    EXPECT_EQ(summaries[0].affected_clients, 0u);
    EXPECT_NEAR(summaries[0].client_seconds_down, 1.1, 1e-9);
}

TEST(CompareStats, RealProgramsAreSummarizedApartWithTheirStreams) {
    RequestRecord real = rec(0.0, 0.1, Outcome::refused, -1, 0, Profile::curl);
    real.real = true;
    RunResult run = run_of({rec(0.0, 0.1, Outcome::ok, 0, 0, Profile::curl), real,
                            rec(0.0, 0.1, Outcome::ok, 0, 0, Profile::chromium)});
    StreamGap gap;
    gap.profile = Profile::chromium;
    gap.from = 1.0;
    gap.to = 3.5;
    run.stream_gaps = {gap, gap};
    run.stream_gaps[1].from = 5;
    run.stream_gaps[1].to = 6;
    StreamGap other = gap;
    other.real = true;  // the real program's, not the profile's
    run.stream_gaps.push_back(other);
    auto s = summarize(run, 1);
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(summary_label(s[0]), "chromium");
    EXPECT_EQ(s[0].stream_gaps, 2u);
    EXPECT_DOUBLE_EQ(s[0].stream_silent_ms, 3500.0);
    EXPECT_DOUBLE_EQ(s[0].stream_longest_ms, 2500.0);
    EXPECT_EQ(summary_label(s[1]), "curl");
    EXPECT_DOUBLE_EQ(s[1].success_pct, 100.0);
    EXPECT_EQ(summary_label(s[2]), "curl (real)");
    EXPECT_TRUE(s[2].real);
    EXPECT_DOUBLE_EQ(s[2].success_pct, 0.0);
    EXPECT_EQ(s[2].stream_gaps, 0u);
}

TEST(CompareStats, SummarizeCountsPerProfileInProfileOrder) {
    RunResult run = run_of({
        // chromium: one client, all fine, two lookups.
        rec(0.0, 0.010, Outcome::ok, 0, 0, Profile::chromium, true),
        rec(1.0, 1.020, Outcome::ok, 1, 0, Profile::chromium, true),
        // java: two clients, mixed outcomes.
        rec(0.0, 0.004, Outcome::ok, 2, 0, Profile::java, true),
        rec(0.5, 0.502, Outcome::ok, 2, 0, Profile::java),
        rec(1.0, 1.001, Outcome::refused, -1, 0, Profile::java),
        rec(0.0, 0.003, Outcome::ok, 0, 3, Profile::java, true),
        rec(0.5, 1.5, Outcome::http_error, 1, 3, Profile::java),
        rec(1.5, 1.6, Outcome::refused, -1, 3, Profile::java),
    });
    auto s = summarize(run, 3);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].profile, Profile::chromium);
    EXPECT_EQ(s[1].profile, Profile::java);
    EXPECT_EQ(s[0].model, Model::health_checked);

    const Summary& single = s[1];
    EXPECT_EQ(single.clients, 2u);
    EXPECT_EQ(single.requests, 6u);
    EXPECT_EQ(single.ok, 3u);
    EXPECT_EQ(single.outcomes[static_cast<std::size_t>(Outcome::ok)], 3u);
    EXPECT_EQ(single.outcomes[static_cast<std::size_t>(Outcome::refused)], 2u);
    EXPECT_EQ(single.outcomes[static_cast<std::size_t>(Outcome::http_error)], 1u);
    EXPECT_EQ(single.outcomes[static_cast<std::size_t>(Outcome::reset)], 0u);
    EXPECT_DOUBLE_EQ(single.success_pct, 50.0);
    // Successful latencies 2, 3, 4 ms: p50 the 2nd, p99 the 3rd.
    EXPECT_NEAR(single.p50_ms, 3.0, 1e-6);
    EXPECT_NEAR(single.p99_ms, 4.0, 1e-6);
    // The http_error answered from node 1 is not a success: no share for node 1.
    EXPECT_EQ(single.per_node, (std::vector<std::uint64_t>{1, 0, 2}));
    EXPECT_TRUE(std::isinf(single.share_max_min));
    EXPECT_EQ(single.lookups, 2u);
    // Client 0: 1.0 to the run's end (20 s); client 3: 0.5 to the end.
    EXPECT_DOUBLE_EQ(single.longest_outage_ms, 19500.0);
    // Mean 1, worst |2 - 1| or |0 - 1|: 1.
    EXPECT_DOUBLE_EQ(single.share_deviation, 1.0);

    const Summary& browser = s[0];
    EXPECT_EQ(browser.clients, 1u);
    EXPECT_EQ(browser.requests, 2u);
    EXPECT_DOUBLE_EQ(browser.success_pct, 100.0);
    EXPECT_EQ(browser.longest_outage_ms, 0.0);
    EXPECT_EQ(browser.per_node, (std::vector<std::uint64_t>{1, 1, 0}));
    EXPECT_EQ(browser.lookups, 2u);
}

TEST(CompareStats, ShareRatioIsBusiestOverLeastBusy) {
    std::vector<RequestRecord> records;
    auto add = [&](std::int16_t node, int n) {
        for (int i = 0; i < n; ++i)
            records.push_back(rec(i * 0.1, i * 0.1 + 0.01, Outcome::ok, node));
    };
    add(0, 30);
    add(1, 10);
    add(2, 20);
    auto s = summarize(run_of(records), 3);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].per_node, (std::vector<std::uint64_t>{30, 10, 20}));
    EXPECT_DOUBLE_EQ(s[0].share_max_min, 3.0);
    EXPECT_DOUBLE_EQ(s[0].share_deviation, 0.5);  // mean 20: |30-20| and |10-20| over 20
}

TEST(CompareStats, NoSuccessAnywhereIsAZeroShareRatio) {
    auto s = summarize(run_of({rec(0, 1, Outcome::refused), rec(1, 2, Outcome::dns_error)}), 2);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].per_node, (std::vector<std::uint64_t>{0, 0}));
    EXPECT_EQ(s[0].share_max_min, 0.0);
    EXPECT_EQ(s[0].share_deviation, 0.0);
    EXPECT_DOUBLE_EQ(s[0].success_pct, 0.0);
    EXPECT_EQ(s[0].p50_ms, 0.0);
    EXPECT_EQ(s[0].p99_ms, 0.0);
}

TEST(CompareStats, EmptyRunHasNoSummaries) {
    EXPECT_TRUE(summarize(run_of({}), 4).empty());
}

TEST(CompareStats, RemovedAtIsTheFirstSampleAfterTheFaultWithoutTheNode) {
    std::vector<PublishedSample> samples = {
        {0.0, {0, 1, 2}}, {0.1, {0, 1, 2}}, {1.0, {0, 1, 2}}, {1.1, {0, 2}},
        {1.2, {0, 2}},    {2.0, {0, 1, 2}}, {3.0, {0, 1}},
    };
    // Node 1 out at 1.1 (fault at 0.5), node 2 at 3.0, node 0 never.
    EXPECT_EQ(removed_at(samples, 1, 0.5), 1.1);
    EXPECT_EQ(removed_at(samples, 2, 0.5), 3.0);
    EXPECT_EQ(removed_at(samples, 0, 0.5), std::nullopt);
    // A second fault after the node came back: the earlier removal does not count.
    EXPECT_EQ(removed_at(samples, 1, 1.5), std::nullopt);
    // A sample at the fault's own time already lacking the node counts.
    EXPECT_EQ(removed_at(samples, 1, 1.1), 1.1);
    EXPECT_EQ(removed_at({}, 1, 0), std::nullopt);
}

TEST(CompareStats, SiteFiguresCountWhatEachSiteServedAndHowFast) {
    const std::vector<Site> sites = {{"london", Seconds(0.002), {0, 1}},
                                     {"geneva", Seconds(0.03), {2}}};
    std::vector<RequestRecord> records = {
        rec(0, 0.010, Outcome::ok, 0),                    // london, 10 ms
        rec(1, 1.020, Outcome::ok, 1),                    // london, 20 ms
        rec(2, 2.070, Outcome::ok, 2),                    // geneva, 70 ms
        rec(3, 3.050, Outcome::ok, 2),                    // geneva, 50 ms
        rec(4, 4.090, Outcome::ok, 2),                    // geneva, 90 ms
        rec(5, 5.001, Outcome::http_error, 2),            // answered by geneva, not a success
        rec(6, 6.010, Outcome::ok, 3),                    // node4: in no site
        rec(7, 7.010, Outcome::ok),                       // no node named: in the total only
        rec(8, 8.300, Outcome::refused),                  // reached no node
        rec(9, 9.001, Outcome::ok, 0, 0, Profile::curl),  // another profile
    };
    const auto figures = site_figures(records, Profile::try_all, false, sites);
    ASSERT_EQ(figures.size(), 2u);
    EXPECT_EQ(figures[0].name, "london");
    EXPECT_EQ(figures[0].requests, 2u);
    EXPECT_EQ(figures[0].ok, 2u);
    EXPECT_DOUBLE_EQ(figures[0].share_pct, 100.0 * 2 / 7) << "of the profile's 7 successes";
    EXPECT_NEAR(figures[0].p50_ms, 10, 1e-9);
    EXPECT_NEAR(figures[0].p99_ms, 20, 1e-9);
    EXPECT_EQ(figures[1].name, "geneva");
    EXPECT_EQ(figures[1].requests, 4u);
    EXPECT_EQ(figures[1].ok, 3u);
    EXPECT_DOUBLE_EQ(figures[1].share_pct, 100.0 * 3 / 7);
    EXPECT_NEAR(figures[1].p50_ms, 70, 1e-9) << "nearest rank: the 2nd of 50, 70, 90";
    EXPECT_NEAR(figures[1].p99_ms, 90, 1e-9);

    // A site that served nothing, and a profile with no success at all.
    const auto curl = site_figures(records, Profile::curl, false, sites);
    EXPECT_EQ(curl[0].ok, 1u);
    EXPECT_DOUBLE_EQ(curl[0].share_pct, 100.0);
    EXPECT_EQ(curl[1].requests, 0u);
    EXPECT_EQ(curl[1].share_pct, 0.0);
    EXPECT_EQ(curl[1].p50_ms, 0.0);
    const auto java = site_figures(records, Profile::java, false, sites);
    EXPECT_EQ(java[0].share_pct, 0.0);
    EXPECT_TRUE(site_figures(records, Profile::try_all, false, {}).empty());
}

TEST(CompareStats, SummariesCarryTheSitesFiguresWhenTheScenarioHasSites) {
    RunResult run;
    run.duration = 10;
    run.requests = {rec(0, 0.004, Outcome::ok, 0), rec(1, 1.040, Outcome::ok, 1)};
    const std::vector<Site> sites = {{"near", Seconds(0.002), {0}}, {"far", Seconds(0.03), {1}}};
    auto with = summarize(run, 2, sites);
    ASSERT_EQ(with.size(), 1u);
    ASSERT_EQ(with[0].sites.size(), 2u);
    EXPECT_EQ(with[0].sites[1].name, "far");
    EXPECT_NEAR(with[0].sites[1].p50_ms, 40, 1e-9);
    EXPECT_TRUE(summarize(run, 2)[0].sites.empty());
}

}  // namespace
}  // namespace nolb::compare
