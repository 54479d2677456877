// Checkpoints as MessagePack (nlohmann): a repetition of a full scenario holds some 10^5 request
// records, which MessagePack keeps at a third of JSON's size and reads back exactly (doubles as
// IEEE 754 binary64). Each record is an array in a fixed order rather than an object, for size;
// enums are their underlying values, which the build's commit in the key pins down.
#include "nolb-compare/checkpoint.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include "nolb-compare/stats.hpp"

namespace nolb::compare {

namespace {

using nlohmann::json;

constexpr int kFormat = 1;  // of the file; a change makes older files another build's

template <typename Enum>
auto raw(Enum e) {
    return static_cast<std::underlying_type_t<Enum>>(e);
}

json request_json(const RequestRecord& r) {
    return json::array({raw(r.profile), r.client, r.start, r.end, r.began, r.attempted,
                        raw(r.outcome), r.http_status, r.node, r.attempts, r.resolved, r.reused,
                        r.touched, r.real});
}

RequestRecord request_from(const json& j) {
    RequestRecord r;
    r.profile = static_cast<Profile>(j.at(0).get<std::underlying_type_t<Profile>>());
    r.client = j.at(1).get<std::uint16_t>();
    r.start = j.at(2).get<double>();
    r.end = j.at(3).get<double>();
    r.began = j.at(4).get<double>();
    r.attempted = j.at(5).get<bool>();
    r.outcome = static_cast<Outcome>(j.at(6).get<std::uint8_t>());
    r.http_status = j.at(7).get<std::uint16_t>();
    r.node = j.at(8).get<std::int16_t>();
    r.attempts = j.at(9).get<std::uint8_t>();
    r.resolved = j.at(10).get<bool>();
    r.reused = j.at(11).get<bool>();
    r.touched = j.at(12).get<std::uint64_t>();
    r.real = j.at(13).get<bool>();
    return r;
}

json gap_json(const StreamGap& g) {
    return json::array(
        {raw(g.profile), g.client, g.from, g.to, g.node_before, g.node_after, g.ended, g.real});
}

StreamGap gap_from(const json& j) {
    StreamGap g;
    g.profile = static_cast<Profile>(j.at(0).get<std::underlying_type_t<Profile>>());
    g.client = j.at(1).get<std::uint16_t>();
    g.from = j.at(2).get<double>();
    g.to = j.at(3).get<double>();
    g.node_before = j.at(4).get<std::int16_t>();
    g.node_after = j.at(5).get<std::int16_t>();
    g.ended = j.at(6).get<bool>();
    g.real = j.at(7).get<bool>();
    return g;
}

json fault_json(const AppliedFault& f) {
    return {
        {"at", f.at},
        {"done", f.done},
        {"ok", f.ok},
        {"detail", f.detail},
        {"fault", json::array({f.fault.at.count(), f.fault.node, raw(f.fault.kind),
                               f.fault.hold.count(), f.fault.written_at.count(), f.fault.ttls})}};
}

AppliedFault fault_from(const json& j) {
    AppliedFault f;
    f.at = j.at("at").get<double>();
    f.done = j.at("done").get<double>();
    f.ok = j.at("ok").get<bool>();
    f.detail = j.at("detail").get<std::string>();
    const json& spec = j.at("fault");
    f.fault.at = Seconds{spec.at(0).get<double>()};
    f.fault.node = spec.at(1).get<unsigned>();
    f.fault.kind = static_cast<FaultKind>(spec.at(2).get<std::uint8_t>());
    f.fault.hold = Seconds{spec.at(3).get<double>()};
    f.fault.written_at = Seconds{spec.at(4).get<double>()};
    f.fault.ttls = spec.at(5).get<unsigned>();
    return f;
}

json costs_json(const Costs& c) {
    json by_server = json::array();
    for (const std::optional<std::uint64_t>& q : c.dns_queries_by_server)
        by_server.push_back(q ? json(*q) : json(nullptr));
    return {{"nolbd_cpu_s", c.nolbd_cpu_s},   {"lb_cpu_s", c.lb_cpu_s},
            {"nolbd_rss_kb", c.nolbd_rss_kb}, {"nolbd_hwm_kb", c.nolbd_hwm_kb},
            {"lb_rss_kb", c.lb_rss_kb},       {"lb_hwm_kb", c.lb_hwm_kb},
            {"dns_queries", c.dns_queries},   {"client_queries", c.client_queries},
            {"lb_requests", c.lb_requests},   {"dns_queries_by_server", by_server}};
}

Costs costs_from(const json& j) {
    Costs c;
    c.nolbd_cpu_s = j.at("nolbd_cpu_s").get<double>();
    c.lb_cpu_s = j.at("lb_cpu_s").get<double>();
    c.nolbd_rss_kb = j.at("nolbd_rss_kb").get<std::uint64_t>();
    c.nolbd_hwm_kb = j.at("nolbd_hwm_kb").get<std::uint64_t>();
    c.lb_rss_kb = j.at("lb_rss_kb").get<std::uint64_t>();
    c.lb_hwm_kb = j.at("lb_hwm_kb").get<std::uint64_t>();
    c.dns_queries = j.at("dns_queries").get<std::uint64_t>();
    c.client_queries = j.at("client_queries").get<std::uint64_t>();
    c.lb_requests = j.at("lb_requests").get<std::uint64_t>();
    for (const json& q : j.at("dns_queries_by_server"))
        c.dns_queries_by_server.push_back(q.is_null() ? std::nullopt
                                                      : std::optional(q.get<std::uint64_t>()));
    return c;
}

json run_json(const RunResult& run) {
    json requests = json::array();
    for (const RequestRecord& r : run.requests)
        requests.push_back(request_json(r));
    json gaps = json::array();
    for (const StreamGap& g : run.stream_gaps)
        gaps.push_back(gap_json(g));
    json faults = json::array();
    for (const AppliedFault& f : run.faults)
        faults.push_back(fault_json(f));
    json published = json::array();
    for (const PublishedSample& s : run.published)
        published.push_back(json::array({s.at, s.nodes}));
    return {{"repetition", run.repetition},    {"seed", run.seed},
            {"model", raw(run.model)},         {"duration", run.duration},
            {"requests", std::move(requests)}, {"stream_gaps", std::move(gaps)},
            {"faults", std::move(faults)},     {"published", std::move(published)},
            {"costs", costs_json(run.costs)},  {"notes", run.notes}};
}

RunResult run_from(const json& j) {
    RunResult run;
    run.repetition = j.at("repetition").get<unsigned>();
    run.seed = j.at("seed").get<std::uint64_t>();
    run.model = static_cast<Model>(j.at("model").get<std::uint8_t>());
    run.duration = j.at("duration").get<double>();
    for (const json& r : j.at("requests"))
        run.requests.push_back(request_from(r));
    for (const json& g : j.at("stream_gaps"))
        run.stream_gaps.push_back(gap_from(g));
    for (const json& f : j.at("faults"))
        run.faults.push_back(fault_from(f));
    for (const json& s : j.at("published"))
        run.published.push_back(
            PublishedSample{s.at(0).get<double>(), s.at(1).get<std::vector<std::uint16_t>>()});
    run.costs = costs_from(j.at("costs"));
    run.notes = j.at("notes").get<std::vector<std::string>>();
    return run;
}

json key_json(const CheckpointKey& key) {
    return {{"format", kFormat},        {"commit", key.commit},         {"settings", key.settings},
            {"scenario", key.scenario}, {"repetition", key.repetition}, {"seed", key.seed}};
}

// What differs between the key a file was made under and the one asked for, for `why`.
std::string key_difference(const json& made, const json& wanted) {
    for (const auto& [name, value] : wanted.items())
        if (!made.contains(name) || made.at(name) != value) {
            if (name == "settings") return "made with other settings";
            return "made with " + name + " " +
                   (made.contains(name) ? made.at(name).dump() : std::string("unset")) + ", not " +
                   value.dump();
        }
    return {};
}

}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& work_dir, unsigned repetition) {
    return work_dir / ("repetition-" + std::to_string(repetition + 1) + ".msgpack");
}

void save_checkpoint(const std::filesystem::path& file, const CheckpointKey& key,
                     const Checkpoint& checkpoint) {
    json runs = json::array();
    for (const RunResult& run : checkpoint.runs)
        runs.push_back(run_json(run));
    const std::vector<std::uint8_t> bytes = json::to_msgpack(
        json{{"key", key_json(key)}, {"started", checkpoint.started}, {"runs", std::move(runs)}});

    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec)
        throw std::runtime_error("cannot create directory " + file.parent_path().string() + ": " +
                                 ec.message());
    std::filesystem::path partial = file;
    partial += ".partial";
    {
        std::ofstream out(partial, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
        out.close();
        if (!out) throw std::runtime_error("cannot write " + partial.string());
    }
    std::filesystem::rename(partial, file, ec);
    if (ec) throw std::runtime_error("cannot rename " + partial.string() + ": " + ec.message());
}

std::optional<Checkpoint> load_checkpoint(const std::filesystem::path& file,
                                          const CheckpointKey& key, std::string* why) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        if (why) *why = "no checkpoint";
        return std::nullopt;
    }
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                          std::istreambuf_iterator<char>()};
    if (key.commit.empty() || key.commit.ends_with("-dirty")) {
        // Two builds from uncommitted changes cannot be told apart.
        if (why) *why = "not comparable: this build's source had uncommitted changes";
        return std::nullopt;
    }
    try {
        const json doc = json::from_msgpack(bytes);
        const std::string difference = key_difference(doc.at("key"), key_json(key));
        if (!difference.empty()) {
            if (why) *why = difference;
            return std::nullopt;
        }
        Checkpoint out;
        out.started = doc.at("started").get<std::string>();
        for (const json& run : doc.at("runs"))
            out.runs.push_back(run_from(run));
        return out;
    } catch (const json::exception& e) {
        throw std::runtime_error(file.string() + ": not a checkpoint nolb-compare can read (" +
                                 e.what() + "); remove it to measure the repetition again");
    }
}

ScenarioResult repetition_result(const Scenario& scenario, std::vector<RunResult> runs,
                                 unsigned repetition) {
    ScenarioResult result;
    result.scenario = scenario;
    for (RunResult& run : runs) {
        std::vector<Summary> summaries = summarize(run, scenario.nodes, scenario.sites);
        for (Summary& s : summaries)
            s.repetition = repetition;
        result.summaries.insert(result.summaries.end(), summaries.begin(), summaries.end());
        result.runs.push_back(std::move(run));
    }
    return result;
}

}  // namespace nolb::compare
