// Means and Student-t intervals over repetitions, checked against values worked out by hand, and
// the grouping of summaries by model and profile.
#include "nolb-compare/aggregate.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace nolb::compare {
namespace {

TEST(CompareAggregate, TQuantilesFollowTheTableAndApproachTheNormal) {
    EXPECT_DOUBLE_EQ(t975(1), 12.706);
    EXPECT_DOUBLE_EQ(t975(4), 2.776);
    EXPECT_DOUBLE_EQ(t975(30), 2.042);
    EXPECT_NEAR(t975(60), 2.000, 0.002);   // the table's 2.000
    EXPECT_NEAR(t975(120), 1.980, 0.002);  // 1.980
    EXPECT_GT(t975(1000), 1.96);
    EXPECT_LT(t975(1000), 1.965);
}

TEST(CompareAggregate, EstimateIsTheMeanAndTheTIntervalOfIt) {
    // 1..5: mean 3, sd sqrt(2.5), half-width 2.776 * 1.5811 / sqrt(5) = 1.9630.
    const std::vector<double> five = {4, 1, 5, 3, 2};
    const Estimate e = estimate(five);
    EXPECT_EQ(e.n, 5u);
    EXPECT_DOUBLE_EQ(e.mean, 3);
    EXPECT_NEAR(e.half, 2.776 * std::sqrt(2.5) / std::sqrt(5.0), 1e-12);

    const std::vector<double> one = {7.5};
    EXPECT_DOUBLE_EQ(estimate(one).mean, 7.5);
    EXPECT_DOUBLE_EQ(estimate(one).half, 0) << "one run has no interval";
    EXPECT_EQ(estimate({}).n, 0u);
    const std::vector<double> same = {2, 2, 2};
    EXPECT_DOUBLE_EQ(estimate(same).half, 0);
}

TEST(CompareAggregate, GroupsByModelProfileAndRealLeavingOutRunsWithoutAFigure) {
    auto summary = [](unsigned rep, Model m, Profile p, double success,
                      std::optional<double> recover) {
        Summary s;
        s.repetition = rep;
        s.model = m;
        s.profile = p;
        s.success_pct = success;
        s.requests = 100;
        s.attempted = 90;
        s.ok = static_cast<std::uint64_t>(success);
        s.recover_p50_s = recover;
        return s;
    };
    const std::vector<Summary> all = {
        summary(0, Model::zero_admin, Profile::java, 90, 2.0),
        summary(0, Model::zero_admin, Profile::curl, 100, std::nullopt),
        summary(1, Model::zero_admin, Profile::java, 80, std::nullopt),
        summary(1, Model::zero_admin, Profile::curl, 98, 1.0),
        summary(0, Model::health_checked, Profile::java, 99, 0.5),
    };
    const std::vector<Aggregate> out = aggregate(all);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].profile, Profile::java);
    EXPECT_EQ(out[0].model, Model::zero_admin);
    EXPECT_EQ(out[0].runs, 2u);
    EXPECT_DOUBLE_EQ(out[0].success_pct.mean, 85);
    EXPECT_NEAR(out[0].success_pct.half, 12.706 * std::sqrt(50.0) / std::sqrt(2.0), 1e-9);
    EXPECT_DOUBLE_EQ(out[0].attempted_pct.mean, 90);
    EXPECT_EQ(out[0].recover_p50_s.n, 1u) << "the run without a figure is left out";
    EXPECT_DOUBLE_EQ(out[0].recover_p50_s.mean, 2.0);
    EXPECT_EQ(out[1].profile, Profile::curl);
    EXPECT_DOUBLE_EQ(out[1].recover_p50_s.mean, 1.0);
    EXPECT_EQ(out[2].model, Model::health_checked);
    EXPECT_EQ(out[2].runs, 1u);
}

}  // namespace
}  // namespace nolb::compare
