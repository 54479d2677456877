// Checkpoints on a real directory: a repetition with every field set comes back field for field,
// and the report written from it is byte for byte the report written from the original; a
// checkpoint made by another build, with other settings or for another seed is not taken, nor
// one from a build with uncommitted changes; a missing file is no checkpoint, a corrupt one an
// error naming it; and saving leaves no partial file behind.
#include "nolb-compare/checkpoint.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace nolb::compare {
namespace {

namespace fs = std::filesystem;

class CheckpointTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char templ[] = "/tmp/nolb-checkpoint-XXXXXX";
        ASSERT_NE(::mkdtemp(templ), nullptr);
        dir_ = templ;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    fs::path dir_;
};

Scenario two_nodes() {
    Scenario sc;
    sc.name = "crash";
    sc.nodes = 2;
    sc.duration = Seconds{10};
    return sc;
}

// A run with a value other than the default in every field.
RunResult full_run(Model model) {
    RunResult run;
    run.repetition = 2;
    run.seed = 43;
    run.model = model;
    run.duration = 10;
    for (int i = 0; i < 40; ++i) {
        RequestRecord r;
        r.profile = i % 2 ? Profile::chromium : Profile::java;
        r.client = static_cast<std::uint16_t>(i % 7);
        r.start = 0.25 * i + 1.0 / 3.0;
        r.began = r.start + 0.001;
        r.end = r.began + 0.012345678901234567;
        r.attempted = i != 39;
        r.outcome = i == 5 ? Outcome::refused : i == 39 ? Outcome::unfinished : Outcome::ok;
        r.http_status = r.outcome == Outcome::ok ? 200 : 0;
        r.node = static_cast<std::int16_t>(r.outcome == Outcome::ok ? i % 2 : -1);
        r.attempts = static_cast<std::uint8_t>(1 + i % 3);
        r.resolved = i % 4 == 0;
        r.reused = i % 3 == 0;
        r.touched = (1ULL << (i % 2)) | (i == 5 ? 1ULL << 63 : 0);
        r.real = i == 8;
        run.requests.push_back(r);
    }
    run.stream_gaps.push_back(StreamGap{Profile::chromium, 3, 4.5, 6.25, 1, 0, true, false});
    run.stream_gaps.push_back(StreamGap{Profile::chromium, 4, 8.5, 10, 0, -1, false, true});
    Fault crash;
    crash.at = Seconds{5};
    crash.node = 1;
    crash.kind = FaultKind::degrade;
    crash.hold = Seconds{2.5};
    crash.written_at = Seconds{4};
    crash.ttls = 1;
    run.faults.push_back(AppliedFault{crash, 5.01, 7.75, false, "degraded after 3 allocations"});
    run.published.push_back(PublishedSample{0.1, {0, 1}});
    run.published.push_back(PublishedSample{5.2, {0}});
    run.published.push_back(PublishedSample{5.3, {}});
    run.costs.nolbd_cpu_s = 0.125;
    run.costs.lb_cpu_s = 0.5;
    run.costs.nolbd_rss_kb = 4100;
    run.costs.nolbd_hwm_kb = 4200;
    run.costs.lb_rss_kb = 9000;
    run.costs.lb_hwm_kb = 9100;
    run.costs.dns_queries = 77;
    run.costs.client_queries = 80;
    run.costs.lb_requests = 39;
    run.costs.dns_queries_by_server = {70, std::nullopt};
    run.notes = {"profile system skipped: not in a namespace", "ns1 killed"};
    return run;
}

void expect_same(const RunResult& a, const RunResult& b) {
    EXPECT_EQ(a.repetition, b.repetition);
    EXPECT_EQ(a.seed, b.seed);
    EXPECT_EQ(a.model, b.model);
    EXPECT_EQ(a.duration, b.duration);
    ASSERT_EQ(a.requests.size(), b.requests.size());
    for (std::size_t i = 0; i < a.requests.size(); ++i) {
        const RequestRecord& x = a.requests[i];
        const RequestRecord& y = b.requests[i];
        SCOPED_TRACE("request " + std::to_string(i));
        EXPECT_EQ(x.profile, y.profile);
        EXPECT_EQ(x.client, y.client);
        EXPECT_EQ(x.start, y.start);  // exactly: binary64 both ways
        EXPECT_EQ(x.end, y.end);
        EXPECT_EQ(x.began, y.began);
        EXPECT_EQ(x.attempted, y.attempted);
        EXPECT_EQ(x.outcome, y.outcome);
        EXPECT_EQ(x.http_status, y.http_status);
        EXPECT_EQ(x.node, y.node);
        EXPECT_EQ(x.attempts, y.attempts);
        EXPECT_EQ(x.resolved, y.resolved);
        EXPECT_EQ(x.reused, y.reused);
        EXPECT_EQ(x.touched, y.touched);
        EXPECT_EQ(x.real, y.real);
    }
    ASSERT_EQ(a.stream_gaps.size(), b.stream_gaps.size());
    for (std::size_t i = 0; i < a.stream_gaps.size(); ++i) {
        const StreamGap& x = a.stream_gaps[i];
        const StreamGap& y = b.stream_gaps[i];
        EXPECT_EQ(x.profile, y.profile);
        EXPECT_EQ(x.client, y.client);
        EXPECT_EQ(x.from, y.from);
        EXPECT_EQ(x.to, y.to);
        EXPECT_EQ(x.node_before, y.node_before);
        EXPECT_EQ(x.node_after, y.node_after);
        EXPECT_EQ(x.ended, y.ended);
        EXPECT_EQ(x.real, y.real);
    }
    ASSERT_EQ(a.faults.size(), b.faults.size());
    for (std::size_t i = 0; i < a.faults.size(); ++i) {
        const AppliedFault& x = a.faults[i];
        const AppliedFault& y = b.faults[i];
        EXPECT_EQ(x.fault.at.count(), y.fault.at.count());
        EXPECT_EQ(x.fault.node, y.fault.node);
        EXPECT_EQ(x.fault.kind, y.fault.kind);
        EXPECT_EQ(x.fault.hold.count(), y.fault.hold.count());
        EXPECT_EQ(x.fault.written_at.count(), y.fault.written_at.count());
        EXPECT_EQ(x.fault.ttls, y.fault.ttls);
        EXPECT_EQ(x.at, y.at);
        EXPECT_EQ(x.done, y.done);
        EXPECT_EQ(x.ok, y.ok);
        EXPECT_EQ(x.detail, y.detail);
    }
    ASSERT_EQ(a.published.size(), b.published.size());
    for (std::size_t i = 0; i < a.published.size(); ++i) {
        EXPECT_EQ(a.published[i].at, b.published[i].at);
        EXPECT_EQ(a.published[i].nodes, b.published[i].nodes);
    }
    EXPECT_EQ(a.costs.nolbd_cpu_s, b.costs.nolbd_cpu_s);
    EXPECT_EQ(a.costs.lb_cpu_s, b.costs.lb_cpu_s);
    EXPECT_EQ(a.costs.nolbd_rss_kb, b.costs.nolbd_rss_kb);
    EXPECT_EQ(a.costs.nolbd_hwm_kb, b.costs.nolbd_hwm_kb);
    EXPECT_EQ(a.costs.lb_rss_kb, b.costs.lb_rss_kb);
    EXPECT_EQ(a.costs.lb_hwm_kb, b.costs.lb_hwm_kb);
    EXPECT_EQ(a.costs.dns_queries, b.costs.dns_queries);
    EXPECT_EQ(a.costs.client_queries, b.costs.client_queries);
    EXPECT_EQ(a.costs.lb_requests, b.costs.lb_requests);
    EXPECT_EQ(a.costs.dns_queries_by_server, b.costs.dns_queries_by_server);
    EXPECT_EQ(a.notes, b.notes);
}

std::string read_all(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const CheckpointKey kKey{"7f405f2", "models=\nscenario:\nnodes = 2\n", "crash", 2, 43};

TEST_F(CheckpointTest, ARepetitionComesBackWhole) {
    const Checkpoint saved{"2026-12-07T22:10:00Z",
                           {full_run(Model::zero_admin), full_run(Model::load_balancer)}};
    const fs::path file = checkpoint_path(dir_ / "work" / "crash", 2);
    EXPECT_EQ(file.filename(), "repetition-3.msgpack");
    save_checkpoint(file, kKey, saved);
    EXPECT_FALSE(fs::exists(fs::path(file.string() + ".partial")));

    std::string why;
    const std::optional<Checkpoint> loaded = load_checkpoint(file, kKey, &why);
    ASSERT_TRUE(loaded) << why;
    EXPECT_EQ(loaded->started, saved.started);
    ASSERT_EQ(loaded->runs.size(), 2u);
    expect_same(saved.runs[0], loaded->runs[0]);
    expect_same(saved.runs[1], loaded->runs[1]);
}

TEST_F(CheckpointTest, TheReportFromACheckpointIsTheReportFromTheRun) {
    const Scenario sc = two_nodes();
    const std::vector<RunResult> runs = {full_run(Model::zero_admin),
                                         full_run(Model::health_checked)};
    const fs::path file = checkpoint_path(dir_, 2);
    save_checkpoint(file, kKey, Checkpoint{"2026-12-07T22:10:00Z", runs});
    std::optional<Checkpoint> loaded = load_checkpoint(file, kKey);
    ASSERT_TRUE(loaded);

    ScenarioResult direct;
    merge_repetition(direct, repetition_result(sc, runs, 2));
    ScenarioResult resumed;
    merge_repetition(resumed, repetition_result(sc, std::move(loaded->runs), 2));
    ASSERT_FALSE(direct.summaries.empty());
    for (const Summary& s : direct.summaries)
        EXPECT_EQ(s.repetition, 2u);

    RunInfo info;
    info.commit = kKey.commit;
    write_report(dir_ / "direct", {direct}, info);
    write_report(dir_ / "resumed", {resumed}, info);
    for (const char* name : {"results.md", "results.csv", "results.json", "crash.svg"}) {
        SCOPED_TRACE(name);
        const std::string a = read_all(dir_ / "direct" / name);
        EXPECT_FALSE(a.empty());
        EXPECT_EQ(a, read_all(dir_ / "resumed" / name));
    }
}

TEST_F(CheckpointTest, OnlyTheSameBuildSettingsAndSeedAreTaken) {
    const fs::path file = checkpoint_path(dir_, 2);
    save_checkpoint(file, kKey, Checkpoint{"2026-12-07T22:10:00Z", {full_run(Model::zero_admin)}});

    std::string why;
    CheckpointKey other = kKey;
    other.commit = "1234567";
    EXPECT_FALSE(load_checkpoint(file, other, &why));
    EXPECT_NE(why.find("commit \"7f405f2\", not \"1234567\""), std::string::npos) << why;

    other = kKey;
    other.settings += "nodes = 3\n";
    EXPECT_FALSE(load_checkpoint(file, other, &why));
    EXPECT_EQ(why, "made with other settings");

    other = kKey;
    other.seed = 44;
    EXPECT_FALSE(load_checkpoint(file, other, &why));
    EXPECT_NE(why.find("seed 43, not 44"), std::string::npos) << why;

    other = kKey;
    other.scenario = "crash-ttl5-none";
    EXPECT_FALSE(load_checkpoint(file, other, &why));
    EXPECT_NE(why.find("scenario"), std::string::npos) << why;

    EXPECT_TRUE(load_checkpoint(file, kKey, &why)) << why;
}

TEST_F(CheckpointTest, ABuildWithUncommittedChangesResumesNothing) {
    CheckpointKey dirty = kKey;
    dirty.commit = "7f405f2-dirty";
    const fs::path file = checkpoint_path(dir_, 2);
    save_checkpoint(file, dirty, Checkpoint{"2026-12-07T22:10:00Z", {full_run(Model::zero_admin)}});
    std::string why;
    EXPECT_FALSE(load_checkpoint(file, dirty, &why));
    EXPECT_NE(why.find("uncommitted"), std::string::npos) << why;
    dirty.commit = "";
    EXPECT_FALSE(load_checkpoint(file, dirty, &why));
}

TEST_F(CheckpointTest, NoFileIsNoCheckpointAndACorruptOneIsAnError) {
    std::string why;
    EXPECT_FALSE(load_checkpoint(dir_ / "repetition-1.msgpack", kKey, &why));
    EXPECT_EQ(why, "no checkpoint");

    const fs::path corrupt = dir_ / "repetition-2.msgpack";
    std::ofstream(corrupt) << "{\"key\": not msgpack";
    try {
        load_checkpoint(corrupt, kKey);
        FAIL() << "a corrupt checkpoint was read";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(corrupt.string()), std::string::npos) << e.what();
    }
}

TEST_F(CheckpointTest, SavingWhereNoDirectoryCanBeIsAnErrorNamingIt) {
    std::ofstream(dir_ / "plain") << "a file, not a directory";
    try {
        save_checkpoint(dir_ / "plain" / "repetition-1.msgpack", kKey, Checkpoint{});
        FAIL() << "saved under a plain file";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find((dir_ / "plain").string()), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace nolb::compare
