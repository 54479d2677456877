// The report files from a small hand-built comparison: the CSV's header, a row's values and RFC
// 4180 quoting; the JSON parsed back with nlohmann (fields, nulls, detection times); the markdown
// table rows, the extra-hop line and the detection column; the SVG checked as XML by xmllint
// (libxml2-utils) and by a tag-balance check, with a panel per model x profile and a marker per
// fault; and write_report's files and errors on a real directory.
#include "nolb-compare/report.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace nolb::compare {
namespace {

namespace fs = std::filesystem;

RequestRecord rec(Profile profile, std::uint16_t client, double start, double latency,
                  Outcome outcome, std::int16_t node, bool resolved = false) {
    RequestRecord r;
    r.profile = profile;
    r.client = client;
    r.start = start;
    r.end = start + latency;
    r.outcome = outcome;
    r.node = node;
    r.resolved = resolved;
    r.attempts = 1;
    if (outcome == Outcome::ok) r.http_status = 200;
    if (outcome == Outcome::http_error) r.http_status = 500;
    return r;
}

// Three nodes for 10 s; node 1 (node2) crashes at 5 s. try-all: two clients, one request a
// second each, spread over the nodes and moved off node 1 after the crash; the health-checked
// model's client 0 also sees one refused request at 5.5 s. single: one client whose requests at
// 6 and 7 s are http errors. HAProxy adds 1.5 ms to every request.
ScenarioResult crash_result() {
    ScenarioResult result;
    Scenario& sc = result.scenario;
    sc.name = "crash";
    sc.description = "node2 is killed | and stays down.";
    sc.nodes = 3;
    sc.duration = Seconds{10};
    Fault crash;
    crash.at = Seconds{5};
    crash.node = 1;
    crash.kind = FaultKind::crash;
    sc.faults = {crash};

    for (Model model : kModels) {
        RunResult run;
        run.model = model;
        run.duration = 10;
        const double latency = model == Model::load_balancer ? 0.0035 : 0.002;
        for (int t = 0; t < 10; ++t) {
            for (std::uint16_t c = 0; c < 2; ++c) {
                int node = (t + c) % 3;
                if (t >= 5 && node == 1) node = 2;
                run.requests.push_back(rec(Profile::try_all, c, t + 0.1 * c, latency, Outcome::ok,
                                           static_cast<std::int16_t>(node), t == 0));
            }
            const bool broken = t == 6 || t == 7;
            run.requests.push_back(rec(Profile::java, 0, t + 0.05, latency,
                                       broken ? Outcome::http_error : Outcome::ok, 0, t == 0));
        }
        if (model == Model::health_checked)
            run.requests.push_back(rec(Profile::try_all, 0, 5.5, 0.1, Outcome::refused, -1));

        AppliedFault applied;
        applied.fault = crash;
        applied.at = 5.0;
        applied.done = 5.0;
        applied.detail = "SIGKILL pid 1234";
        run.faults = {applied};

        // nolbd's answers, or the servers HAProxy has in rotation, every 100 ms.
        for (int i = 0; i <= 100; ++i) {
            const double at = i * 0.1;
            PublishedSample sample;
            sample.at = at;
            sample.nodes = {0, 1, 2};
            if (model == Model::health_checked && i >= 62) sample.nodes = {0, 2};
            if (model == Model::load_balancer && i >= 64) sample.nodes = {0, 2};
            run.published.push_back(sample);
        }
        run.costs.nolbd_cpu_s = 0.05;
        run.costs.dns_queries = model == Model::load_balancer ? 4 : 100;
        if (model == Model::load_balancer) {
            run.costs.lb_cpu_s = 0.2;
            run.costs.lb_requests = 40;
            run.costs.lb_rss_kb = 9216;
            run.costs.lb_hwm_kb = 10240;
        }
        run.costs.nolbd_rss_kb = 6144;
        run.costs.dns_queries_by_server = {std::nullopt, 42};
        run.costs.nolbd_hwm_kb = 6656;
        if (model == Model::zero_admin) run.notes.push_back("profile system skipped: <not> root");
        for (Summary& s : summarize(run, sc.nodes))
            result.summaries.push_back(s);
        result.runs.push_back(std::move(run));
    }
    result.aggregates = aggregate(result.summaries);
    return result;
}

// A name that needs quoting in CSV, escaping in markdown and XML, and cleaning as a file name.
ScenarioResult odd_result() {
    ScenarioResult result;
    result.scenario.name = "odd, \"name\" | <x>";
    result.scenario.nodes = 2;
    result.scenario.duration = Seconds{3};
    RunResult run;
    run.model = Model::zero_admin;
    run.duration = 3;
    run.requests.push_back(rec(Profile::chromium, 0, 0.5, 0.001, Outcome::ok, 0));
    run.requests.push_back(rec(Profile::chromium, 0, 1.5, 0.001, Outcome::ok, 0));
    run.notes.push_back("a & b < c");
    result.summaries = summarize(run, 2);
    result.aggregates = aggregate(result.summaries);
    result.runs.push_back(std::move(run));
    return result;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.push_back(line);
    }
    return out;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() /
               ("nolb-report-test-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Well-formedness in miniature: every start tag closed by its end tag, in order, and no stray
// '&' outside an entity. xmllint checks the rest.
bool tags_balance(const std::string& xml, std::string& why) {
    std::vector<std::string> open;
    std::size_t i = 0;
    while ((i = xml.find_first_of("<&", i)) != std::string::npos) {
        if (xml[i] == '&') {
            const std::size_t semi = xml.find(';', i);
            if (semi == std::string::npos || semi - i > 6) {
                why = "bare & at " + std::to_string(i);
                return false;
            }
            i = semi + 1;
            continue;
        }
        const std::size_t close = xml.find('>', i);
        if (close == std::string::npos) {
            why = "unterminated tag at " + std::to_string(i);
            return false;
        }
        const std::string tag = xml.substr(i + 1, close - i - 1);
        i = close + 1;
        if (tag.empty() || tag[0] == '?' || tag[0] == '!') continue;
        const bool end = tag[0] == '/';
        const bool empty = tag.back() == '/';
        std::string name = tag.substr(end ? 1 : 0);
        name = name.substr(0, name.find_first_of(" \t\n/"));
        if (end) {
            if (open.empty() || open.back() != name) {
                why = "</" + name + "> closes " + (open.empty() ? "nothing" : open.back());
                return false;
            }
            open.pop_back();
        } else if (!empty) {
            open.push_back(name);
        }
    }
    if (!open.empty()) why = "<" + open.back() + "> never closed";
    return open.empty();
}

TEST(CompareReport, CsvHasTheHeaderAndOneRowPerModelAndProfile) {
    const std::string csv = render_csv({crash_result(), odd_result()});
    EXPECT_NE(csv.find("\r\n"), std::string::npos) << "RFC 4180 lines end in CRLF";
    const auto lines = lines_of(csv);
    ASSERT_EQ(lines.size(), 1u + 3 * 2 + 1);
    EXPECT_EQ(
        lines[0],
        "scenario,repetition,seed,model,profile,clients,requests,attempted,ok,late,success_pct,"
        "http_error,refused,connect_timeout,reset,request_timeout,dns_error,local_error,"
        "unfinished,p50_ms,p99_ms,longest_outage_ms,client_seconds_down,affected_clients,"
        "recover_p50_s,recover_p90_s,recover_p99_s,share_max_min,share_deviation,lookups,"
        "dns_queries,nolbd_cpu_us_per_query,lb_cpu_us_per_request");
    // The health-checked try-all row: 21 requests, one refused at 5.5 s, outage 5.5 .. 6.002 s
    // (one of the two clients recovers 1.002 s after the crash at 5 s, the other had nothing to
    // recover from: p50 0, p90 and p99 1.002), nodes 7/4/9 (ratio 2.25, deviation
    // (20/3 - 4) / (20/3) = 0.4), 0.05 s over 100 queries.
    EXPECT_EQ(lines[4],
              "crash,0,0,health-checked,try-all,2,21,21,20,0,95.238,0,1,0,0,0,0,0,0,2.000,2.000,"
              "502.000,0.502,1,0.000,1.002,1.002,2.250,0.4000,2,100,500.000,");
    // Profiles in kProfiles order within a model. single: one client, two http errors, node 0 only:
    // the ratio is infinite.
    EXPECT_EQ(lines[3].rfind("crash,0,0,health-checked,java,1,10,10,8,0,80.000,2,0,", 0), 0u)
        << lines[3];
    EXPECT_NE(lines[3].find(",inf,"), std::string::npos) << lines[3];
    // Load balancer: 0.2 s of HAProxy over its 40 forwarded requests.
    EXPECT_EQ(lines[6].rfind("crash,0,0,load-balancer,try-all,", 0), 0u) << lines[6];
    EXPECT_TRUE(lines[6].ends_with(",4,12500.000,5000.000")) << lines[6];
    EXPECT_EQ(
        lines[7].rfind("\"odd, \"\"name\"\" | <x>\",0,0,zero-admin,chromium,1,2,2,2,0,100.000,", 0),
        0u)
        << lines[7];
}

TEST(CompareReport, JsonHoldsSummariesCostsFaultsAndDetection) {
    const auto doc = nlohmann::json::parse(render_json({crash_result(), odd_result()}));
    ASSERT_EQ(doc["scenarios"].size(), 2u);
    const auto& crash = doc["scenarios"][0];
    EXPECT_EQ(crash["name"], "crash");
    EXPECT_EQ(crash["description"], "node2 is killed | and stays down.");
    EXPECT_EQ(crash["timeline"], "crash.svg");
    ASSERT_EQ(crash["runs"].size(), 3u);

    const auto& zero = crash["runs"][0];
    EXPECT_EQ(zero["model"], "zero-admin");
    EXPECT_EQ(zero["notes"][0], "profile system skipped: <not> root");
    // nolbd without checks never drops the node: present, and null.
    ASSERT_EQ(zero["detection_ms"].size(), 1u);
    EXPECT_TRUE(zero["detection_ms"][0]["removed_after_ms"].is_null());

    const auto& hc = crash["runs"][1];
    EXPECT_EQ(hc["model"], "health-checked");
    EXPECT_DOUBLE_EQ(hc["duration_s"].get<double>(), 10.0);
    EXPECT_EQ(hc["costs"]["dns_queries"], 100);
    EXPECT_NEAR(hc["costs"]["nolbd_cpu_us_per_query"].get<double>(), 500.0, 1e-6);
    EXPECT_TRUE(hc["costs"]["lb_cpu_us_per_request"].is_null());
    ASSERT_EQ(hc["faults"].size(), 1u);
    EXPECT_EQ(hc["faults"][0]["node"], 1);
    EXPECT_EQ(hc["faults"][0]["kind"], fault_name(FaultKind::crash));
    EXPECT_EQ(hc["faults"][0]["detail"], "SIGKILL pid 1234");
    EXPECT_EQ(hc["faults"][0]["ok"], true);
    ASSERT_EQ(hc["detection_ms"].size(), 1u);
    EXPECT_EQ(hc["detection_ms"][0]["node"], 1);
    EXPECT_DOUBLE_EQ(hc["detection_ms"][0]["at_s"].get<double>(), 5.0);
    EXPECT_NEAR(hc["detection_ms"][0]["removed_after_ms"].get<double>(), 1200.0, 1e-6);

    ASSERT_EQ(hc["profiles"].size(), 2u);
    const auto& single = hc["profiles"][0];
    EXPECT_EQ(single["profile"], "java");
    EXPECT_TRUE(single["share_max_min"].is_null()) << "infinite ratio";
    const auto& try_all = hc["profiles"][1];
    EXPECT_EQ(try_all["profile"], "try-all");
    EXPECT_EQ(try_all["model"], "health-checked");
    EXPECT_EQ(try_all["clients"], 2);
    EXPECT_EQ(try_all["requests"], 21);
    EXPECT_EQ(try_all["ok"], 20);
    EXPECT_EQ(try_all["outcomes"]["refused"], 1);
    EXPECT_EQ(try_all["outcomes"]["ok"], 20);
    EXPECT_EQ(try_all["outcomes"]["http_error"], 0);
    EXPECT_EQ(try_all["per_node"], nlohmann::json::array({7, 4, 9}));
    EXPECT_NEAR(try_all["share_max_min"].get<double>(), 2.25, 1e-9);
    EXPECT_NEAR(try_all["share_deviation"].get<double>(), 0.4, 1e-9);
    EXPECT_NEAR(try_all["longest_outage_ms"].get<double>(), 502.0, 1e-6);
    EXPECT_NEAR(try_all["p50_ms"].get<double>(), 2.0, 1e-6);
    EXPECT_EQ(try_all["lookups"], 2);
    for (const char* key : {"success_pct", "p99_ms"})
        EXPECT_TRUE(try_all.contains(key)) << key;

    const auto& lb = crash["runs"][2];
    ASSERT_EQ(lb["detection_ms"].size(), 1u);
    EXPECT_NEAR(lb["detection_ms"][0]["removed_after_ms"].get<double>(), 1400.0, 1e-6);
    EXPECT_EQ(lb["costs"]["lb_rss_kb"], 9216);
    EXPECT_EQ(lb["costs"]["lb_hwm_kb"], 10240);
    EXPECT_EQ(lb["costs"]["nolbd_rss_kb"], 6144);
    EXPECT_EQ(lb["costs"]["dns_queries_by_server"], nlohmann::json::parse("[null, 42]"));
    EXPECT_NEAR(lb["costs"]["lb_cpu_us_per_request"].get<double>(), 5000.0, 1e-6);

    EXPECT_EQ(doc["scenarios"][1]["timeline"], "odd___name_____x_.svg");
}

TEST(CompareReport, MarkdownHasTheTableTheHopAndTheDetection) {
    const std::string md = render_markdown({crash_result(), odd_result()});
    EXPECT_EQ(md.rfind("# ", 0), 0u);
    EXPECT_NE(md.find("## crash\n"), std::string::npos);
    EXPECT_NE(md.find("node2 is killed \\| and stays down."), std::string::npos);
    EXPECT_NE(md.find("Models run: zero-admin, health-checked, load-balancer."), std::string::npos);
    EXPECT_NE(md.find("| health-checked | try-all | 2 | 21 | 100.0 | 95.2 | 0.0 | refused 1 | "
                      "2.0 | 2.0 | 0.00 | 1.00 | 1.00 | 1 | 0.5 | 0.50 | 2.25 |\n"),
              std::string::npos)
        << md;
    EXPECT_NE(md.find("| health-checked | java | 1 | 10 | 100.0 | 80.0 | 0.0 | http-error 2 | "),
              std::string::npos);
    EXPECT_NE(md.find("| load-balancer | try-all | 2 | 20 | 100.0 | 100.0 | 0.0 | none | 3.5 |"),
              std::string::npos);
    EXPECT_NE(md.find("One run: no confidence interval."), std::string::npos);
    // Costs: nolbd 500 us per query (31 requests over 100 queries); through HAProxy, 5000 us per
    // forwarded request and 30 requests over 4 queries for the balancer's name.
    EXPECT_NE(md.find("| health-checked | 0 | 100 | 500.0 | - | 0.3 | 6.0 / 6.5 | - |"),
              std::string::npos)
        << md;
    EXPECT_NE(
        md.find("| load-balancer | 0 | 4 | 12500.0 | 5000.0 | 7.5 | 6.0 / 6.5 | 9.0 / 10.0 |"),
        std::string::npos);
    EXPECT_NE(md.find("- try-all: +1.5 ms"), std::string::npos);
    EXPECT_NE(md.find("- java: +1.5 ms"), std::string::npos);
    const std::string crash_row =
        std::string(" | 5.00 | node2 | ") + fault_name(FaultKind::crash) + " | SIGKILL pid 1234 | ";
    EXPECT_NE(md.find("| health-checked" + crash_row + "1200 |"), std::string::npos) << md;
    EXPECT_NE(md.find("| load-balancer" + crash_row + "1400 |"), std::string::npos);
    EXPECT_NE(md.find("| zero-admin" + crash_row + " |"), std::string::npos);
    EXPECT_NE(md.find("- zero-admin: profile system skipped: &lt;not&gt; root"), std::string::npos);
    EXPECT_NE(md.find("## odd, \"name\" \\| &lt;x&gt;\n"), std::string::npos);
    EXPECT_NE(md.find("(odd___name_____x_.svg)"), std::string::npos);

    // Every table row has as many unescaped '|' as its header.
    std::size_t expected = 0;
    for (const std::string& line : lines_of(md)) {
        if (line.rfind("|", 0) != 0) {
            expected = 0;
            continue;
        }
        std::size_t bars = 0;
        for (std::size_t i = 0; i < line.size(); ++i)
            if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++bars;
        if (expected == 0) expected = bars;
        EXPECT_EQ(bars, expected) << line;
    }
}

TEST(CompareReport, CostSideAndTheRunThatMadeTheResults) {
    RunInfo info;
    info.version = "9.9.9";
    info.commit = "abc1234-dirty";
    info.command = "nolb-compare --all";
    info.machine = "2 cores";
    info.repetitions = 5;
    info.seed = 3;
    const std::string md = render_markdown({crash_result()}, info);
    EXPECT_NE(md.find("- nolb: 9.9.9\n- Source: abc1234-dirty\n- Command: `nolb-compare --all`\n"),
              std::string::npos)
        << md;
    EXPECT_NE(md.find("- Repetitions: 5 (seeds 3..7)\n"), std::string::npos);
    EXPECT_EQ(md.find("- HAProxy:"), std::string::npos) << "an empty field is left out";
    // Health-checked: 0.05 s of nolbd over its 31 requests; through HAProxy, 0.05 s of nolbd and
    // 0.2 s of HAProxy over the 40 requests HAProxy counted.
    EXPECT_NE(md.find("| health-checked | 3 nodes + 2 name servers (nolbd) | 1612.9 |"),
              std::string::npos)
        << md;
    EXPECT_NE(md.find("| load-balancer | 3 nodes + 2 balancers (HAProxy and keepalived each) + "
                      "DNS for their address | 6250.0 |"),
              std::string::npos);

    const auto doc = nlohmann::json::parse(render_json({crash_result()}, info));
    EXPECT_EQ(doc["run"]["commit"], "abc1234-dirty");
    EXPECT_EQ(doc["run"]["repetitions"], 5);
    EXPECT_NEAR(
        doc["scenarios"][0]["runs"][2]["costs"]["server_cpu_ms_per_1000_requests"].get<double>(),
        6250.0, 1e-6);
}

TEST(CompareReport, RepetitionsComeDownToMeansWithIntervals) {
    // Two runs of the crash scenario, the second with one more refusal for try-all under
    // health-checked: its success is 95.238 % and 90.476 %, mean 92.857, and the 95 % interval's
    // half-width t(1) * sd / sqrt(2) = 12.706 * 3.367 / 1.414 = 30.25 (30.3 as printed).
    ScenarioResult merged;
    merge_repetition(merged, crash_result());
    ScenarioResult second = crash_result();
    for (RunResult& run : second.runs) {
        run.repetition = 1;
        run.seed = 2;
        if (run.model != Model::health_checked) continue;
        for (RequestRecord& r : run.requests)
            if (r.profile == Profile::try_all && r.outcome == Outcome::ok && r.start > 7) {
                r.outcome = Outcome::refused;
                break;
            }
    }
    second.summaries.clear();
    for (const RunResult& run : second.runs)
        for (Summary s : summarize(run, second.scenario.nodes)) {
            s.repetition = 1;
            second.summaries.push_back(s);
        }
    merge_repetition(merged, std::move(second));
    ASSERT_EQ(merged.repetitions, 2u);
    ASSERT_EQ(merged.runs.size(), 6u);

    const Aggregate* a = nullptr;
    for (const Aggregate& x : merged.aggregates)
        if (x.model == Model::health_checked && x.profile == Profile::try_all) a = &x;
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->runs, 2u);
    EXPECT_NEAR(a->success_pct.mean, (2000.0 / 21 + 1900.0 / 21) / 2, 1e-9);
    EXPECT_NEAR(a->success_pct.half, 30.25, 0.01);
    EXPECT_NEAR(a->p50_ms.half, 0.0, 1e-12) << "the same latencies in both runs";

    const std::string md = render_markdown({merged});
    EXPECT_NE(md.find("2 repetitions, each with its own seed"), std::string::npos);
    EXPECT_NE(md.find("| health-checked | try-all | 2 | 21 | 100.0 | 92.9 ± 30.3 | "),
              std::string::npos)
        << md;
    EXPECT_NE(md.find("| refused 3 |"), std::string::npos) << "errors added up over the runs";

    const auto doc = nlohmann::json::parse(render_json({merged}));
    const auto& sc = doc["scenarios"][0];
    EXPECT_EQ(sc["repetitions"], 2);
    EXPECT_EQ(sc["runs"].size(), 6u);
    EXPECT_EQ(sc["runs"][3]["repetition"], 1);
    EXPECT_EQ(sc["runs"][3]["seed"], 2);
    bool found = false;
    for (const auto& agg : sc["aggregates"]) {
        if (agg["model"] != "health-checked" || agg["profile"] != "try-all") continue;
        found = true;
        EXPECT_NEAR(agg["success_pct"]["ci95"].get<double>(), 30.25, 0.01);
        EXPECT_EQ(agg["success_pct"]["n"], 2);
    }
    EXPECT_TRUE(found);

    // The intervals: a dot per model and profile in each of the two panels, a bar where the
    // runs differed (try-all's success under health-checked; its client-seconds down).
    const std::string intervals = render_intervals_svg(merged);
    std::string why;
    EXPECT_TRUE(tags_balance(intervals, why)) << why;
    EXPECT_EQ(count(intervals, "class=\"mean\""), 2u * 3 * 2);
    EXPECT_GE(count(intervals, "class=\"ci\""), 2u);
    EXPECT_EQ(intervals_svg_name("crash.svg"), "crash-intervals.svg");
    EXPECT_NE(md.find("(crash-intervals.svg)"), std::string::npos);

    // A row per run in the CSV; the timeline draws the first run only.
    EXPECT_EQ(lines_of(render_csv({merged})).size(), 1u + 2 * 3 * 2);
    EXPECT_EQ(count(render_timeline_svg(merged), "class=\"panel\""), 3u * 2);
}

// Two sites over odd_result's two nodes: each profile's row per site, in JSON and markdown.
TEST(CompareReport, SitesShowEachSitesShareAndLatency) {
    ScenarioResult result = odd_result();
    result.scenario.name = "sites";
    result.scenario.sites = {{"london", Seconds(0.002), {0}}, {"geneva", Seconds(0.03), {1}}};
    result.runs[0].requests.push_back(rec(Profile::chromium, 0, 2.0, 0.040, Outcome::ok, 1));
    result.summaries = summarize(result.runs[0], 2, result.scenario.sites);

    const auto doc = nlohmann::json::parse(render_json({result}));
    const auto& sites = doc["scenarios"][0]["runs"][0]["profiles"][0]["sites"];
    ASSERT_EQ(sites.size(), 2u) << sites.dump();
    EXPECT_EQ(sites[0]["name"], "london");
    EXPECT_EQ(sites[0]["requests"], 2);
    EXPECT_EQ(sites[0]["ok"], 2);
    EXPECT_NEAR(sites[0]["p50_ms"].get<double>(), 1.0, 1e-6);
    EXPECT_EQ(sites[1]["name"], "geneva");
    EXPECT_EQ(sites[1]["ok"], 1);
    EXPECT_NEAR(sites[1]["p99_ms"].get<double>(), 40.0, 1e-6);
    EXPECT_NEAR(sites[1]["share_pct"].get<double>(), 100.0 / 3, 1e-6);

    const std::string md = render_markdown({result});
    EXPECT_NE(md.find("### Sites"), std::string::npos) << md;
    EXPECT_NE(md.find("round trips: london 2 ms, geneva 30 ms."), std::string::npos) << md;
    EXPECT_NE(md.find("| Model | Profile | london % | london ms | geneva % | geneva ms |"),
              std::string::npos)
        << md;
    EXPECT_NE(md.find("| zero-admin | chromium | 66.7 | 1.0 / 1.0 | 33.3 | 40.0 / 40.0 |"),
              std::string::npos)
        << md;
    // Without sites, no table and an empty list.
    ScenarioResult plain = odd_result();
    EXPECT_EQ(render_markdown({plain}).find("### Sites"), std::string::npos);
    EXPECT_TRUE(nlohmann::json::parse(
                    render_json({plain}))["scenarios"][0]["runs"][0]["profiles"][0]["sites"]
                    .empty());
}

TEST(CompareReport, TimelineIsWellFormedWithAPanelPerModelAndProfile) {
    const ScenarioResult crash = crash_result();
    const std::string svg = render_timeline_svg(crash);
    std::string why;
    EXPECT_TRUE(tags_balance(svg, why)) << why;
    EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
    EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
    EXPECT_EQ(svg.find("<script"), std::string::npos);
    EXPECT_EQ(count(svg, "class=\"panel\""), 3u * 2);
    EXPECT_NE(svg.find("id=\"panel-health-checked-try-all\""), std::string::npos);
    EXPECT_NE(svg.find("id=\"panel-load-balancer-java\""), std::string::npos);
    // One fault, drawn in each of the six panels; a published strip under each DNS panel.
    EXPECT_EQ(count(svg, "class=\"fault\""), 6u);
    EXPECT_EQ(count(svg, "class=\"published\""), 2u * 2);
    EXPECT_GE(count(svg, "class=\"errors\""), 2u);
    EXPECT_NE(svg.find(std::string(fault_name(FaultKind::crash)) + " node2"), std::string::npos);
    EXPECT_NE(svg.find(">node3<"), std::string::npos) << "legend names every node";

    const std::string odd = render_timeline_svg(odd_result());
    EXPECT_TRUE(tags_balance(odd, why)) << why;
    EXPECT_NE(odd.find("odd, &quot;name&quot; | &lt;x&gt;"), std::string::npos);
    EXPECT_EQ(count(odd, "class=\"panel\""), 1u);
}

TEST(CompareReport, WriteReportWritesEveryFileAndTheSvgIsXml) {
    TempDir dir;
    const fs::path out = dir.path / "nested" / "report";
    write_report(out, {crash_result(), odd_result()});
    for (const char* name : {"results.md", "results.csv", "results.json", "crash.svg",
                             "odd___name_____x_.svg", "crash-intervals.svg"}) {
        ASSERT_TRUE(fs::is_regular_file(out / name)) << name;
        EXPECT_GT(fs::file_size(out / name), 100u) << name;
    }
    EXPECT_EQ(read_file(out / "results.csv"), render_csv({crash_result(), odd_result()}));
    EXPECT_EQ(nlohmann::json::parse(read_file(out / "results.json"))["scenarios"].size(), 2u);
    // xmllint (libxml2-utils) is the reference XML parser here.
    for (const char* name : {"crash.svg", "odd___name_____x_.svg", "crash-intervals.svg"}) {
        const std::string command = "xmllint --noout '" + (out / name).string() + "' 2>'" +
                                    (dir.path / "xmllint.err").string() + "'";
        EXPECT_EQ(std::system(command.c_str()), 0)
            << name << ": " << read_file(dir.path / "xmllint.err");
    }
}

TEST(CompareReport, WriteReportNamesTheFileItCannotWrite) {
    TempDir dir;
    std::ofstream(dir.path / "blocker") << "a file where a directory should be";
    try {
        write_report(dir.path / "blocker" / "out", {crash_result()});
        ADD_FAILURE() << "no error under a regular file";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("blocker"), std::string::npos) << e.what();
    }

    fs::create_directories(dir.path / "out" / "results.csv");
    try {
        write_report(dir.path / "out", {crash_result()});
        ADD_FAILURE() << "no error writing over a directory";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("results.csv"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace nolb::compare
