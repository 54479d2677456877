// Calibration's figures and verdicts on hand-built records: which requests count (those that
// started after the fault), where a recovery is measured from, what "censored" means, and the
// tolerances that decide whether a profile agrees with its program.
#include "nolb-compare/calibrate.hpp"

#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

namespace nolb::compare {
namespace {

RequestRecord rec(bool real, double start, double end, Outcome outcome, std::int16_t node) {
    RequestRecord r;
    r.profile = Profile::curl;
    r.real = real;
    r.start = start;
    r.end = end;
    r.outcome = outcome;
    r.node = node;
    return r;
}

TEST(CompareCalibrate, CountsRequestsThatMetTheFaultFromTheFault) {
    const std::vector<RequestRecord> records = {
        rec(true, 2.0, 2.1, Outcome::ok, 0),      // over before the fault: not counted
        rec(true, 2.5, 3.2, Outcome::reset, -1),  // in flight at the fault: counted from 3.0
        rec(true, 2.9, 3.01, Outcome::ok, 0),     // in flight, untouched: not counted
        rec(true, 3.2, 3.3, Outcome::refused, -1),
        rec(true, 3.3, 3.55, Outcome::ok, 1),
        rec(true, 3.6, 3.7, Outcome::ok, 0),
        rec(false, 3.05, 3.06, Outcome::ok, 1),  // the profile's: another side
    };
    const CalibrationSide real = measure_side(records, {}, Profile::curl, true, 3.0, 9.0, false);
    EXPECT_EQ(real.requests, 4u);
    EXPECT_NEAR(real.success_pct, 50.0, 1e-9);
    ASSERT_TRUE(real.recovery_s);
    EXPECT_NEAR(*real.recovery_s, 0.55, 1e-9) << "3.55 from the fault, 3.0";
    EXPECT_DOUBLE_EQ(real.node2_pct, 50.0);
    EXPECT_FALSE(real.stream_silent_s);

    const CalibrationSide model = measure_side(records, {}, Profile::curl, false, 3.0, 9.0, false);
    EXPECT_EQ(model.requests, 1u);
    ASSERT_TRUE(model.recovery_s);
    EXPECT_NEAR(*model.recovery_s, 0.01, 1e-9);

    // A drain: only what started after it.
    const CalibrationSide drain =
        measure_side(records, {}, Profile::curl, true, 3.0, 9.0, false, false);
    EXPECT_EQ(drain.requests, 3u);
    ASSERT_TRUE(drain.recovery_s);
    EXPECT_NEAR(*drain.recovery_s, 0.35, 1e-9) << "3.55 from the first start after 3.0, 3.2";

    const CalibrationSide none = measure_side(records, {}, Profile::java, true, 3.0, 9.0, false);
    EXPECT_EQ(none.requests, 0u);
    EXPECT_FALSE(none.recovery_s) << "censored";
}

TEST(CompareCalibrate, StreamSilenceIsTheLongestAfterTheFault) {
    StreamGap before;
    before.profile = Profile::curl;
    before.from = 0.5;
    before.to = 2.0;  // over before the fault
    StreamGap across = before;
    across.from = 2.5;
    across.to = 4.5;
    StreamGap open = before;
    open.from = 6;
    open.to = 9;
    open.ended = false;
    const CalibrationSide side = measure_side({}, std::vector<StreamGap>{before, across, open},
                                              Profile::curl, false, 3.0, 8.0, true);
    ASSERT_TRUE(side.stream_silent_s);
    EXPECT_DOUBLE_EQ(*side.stream_silent_s, 2.0) << "6 to the end at 8, longer than 3 to 4.5";
}

TEST(CompareCalibrate, TolerancesDecideAgreement) {
    CalibrationRow row;
    row.real.success_pct = 90;
    row.model.success_pct = 93;
    row.real.recovery_s = 1.0;
    row.model.recovery_s = 1.2;
    judge(row);
    EXPECT_TRUE(row.agrees()) << "3 points, 20 %";
    row.model.success_pct = 93.5;
    judge(row);
    EXPECT_FALSE(row.success_agrees);
    row.model.success_pct = 90;
    row.model.recovery_s = 1.3;
    judge(row);
    EXPECT_FALSE(row.recovery_agrees);
    // Short times: 100 ms of slack where 20 % is less.
    row.real.recovery_s = 0.02;
    row.model.recovery_s = 0.11;
    judge(row);
    EXPECT_TRUE(row.recovery_agrees);
    row.model.recovery_s = 0.13;
    judge(row);
    EXPECT_FALSE(row.recovery_agrees);
    // Censored agrees only with censored.
    row.real.recovery_s.reset();
    judge(row);
    EXPECT_FALSE(row.recovery_agrees);
    row.model.recovery_s.reset();
    judge(row);
    EXPECT_TRUE(row.recovery_agrees);
    // Streams: 0.5 s of slack.
    row.real.stream_silent_s = 1.0;
    row.model.stream_silent_s = 1.45;
    judge(row);
    EXPECT_TRUE(row.stream_agrees);
    row.model.stream_silent_s = 1.7;
    judge(row);
    EXPECT_FALSE(row.stream_agrees);
    EXPECT_FALSE(row.agrees());
}

TEST(CompareCalibrate, ReportsSayWhatDisagrees) {
    CalibrationRow row;
    row.profile = Profile::node20;
    row.fault = "blackhole";
    row.window_s = 6;
    row.real.requests = 20;
    row.real.success_pct = 100;
    row.real.recovery_s = 0.25;
    row.model.requests = 21;
    row.model.success_pct = 100;
    judge(row);
    const std::string md = render_calibration_markdown({row}, true);
    EXPECT_NE(md.find("# nolb-compare calibration (quick)"), std::string::npos);
    EXPECT_NE(md.find("| node20 | blackhole | 20 / 21 | 100.0 / 100.0 | 0.25 / > 6 | "),
              std::string::npos)
        << md;
    EXPECT_NE(md.find("**no**: recovery |"), std::string::npos) << md;
    const auto json = nlohmann::json::parse(render_calibration_json({row}, true));
    EXPECT_EQ(json["rows"][0]["profile"], "node20");
    EXPECT_EQ(json["rows"][0]["agrees"], false);
    EXPECT_TRUE(json["rows"][0]["profile_side"]["recovery_s"].is_null());
    EXPECT_DOUBLE_EQ(json["rows"][0]["real"]["recovery_s"].get<double>(), 0.25);

    // A program that was still starting when the fault came agrees with nothing.
    CalibrationRow late = row;
    late.recovery_agrees = true;
    late.comparable = false;
    EXPECT_FALSE(late.agrees());
    EXPECT_NE(render_calibration_markdown({late}, true).find("**no**: not comparable |"),
              std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(render_calibration_json({late}, true))["rows"][0]["comparable"],
              false);
}

TEST(CompareCalibrate, CasesOutlastTheSlowestProgram) {
    std::map<std::string, CalibrationCase> cases;
    for (const CalibrationCase& c : calibration_cases())
        cases[c.name] = c;
    ASSERT_EQ(cases.size(), 5u);
    EXPECT_GT(calibration_window(cases["blackhole"], false), 135) << "the kernel's SYN retries";
    EXPECT_FALSE(cases["blackhole"].keep_alive) << "every request connects: attempts compared";
    EXPECT_GT(calibration_window(cases["drain"], false), 60) << "a browser's host cache";
    EXPECT_EQ(cases["drain"].fault, FaultKind::drain);
    EXPECT_EQ(cases["drain"].before, FaultKind::close) << "a draining server closes connections";
    EXPECT_TRUE(cases["crash"].keep_alive);
    for (const auto& [name, c] : cases)
        EXPECT_EQ(calibration_window(c, true), 6) << name;
}

}  // namespace
}  // namespace nolb::compare
