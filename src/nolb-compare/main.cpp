// nolb-compare's main: the command line, the network namespace it runs in when it can, the
// scenarios in turn, and the report. As root it creates a namespace of its own (a private
// loopback where nolbd answers on port 53 and the namespace's resolv.conf names it, so glibc's
// resolver asks nolbd, and where nftables rules can blackhole a node), runs itself inside it and
// removes it afterwards. Without root it runs on the host's loopback on free ports, without the
// `system` profile and blackholes, and says so.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "build_commit.hpp"
#include "config/config.hpp"
#include "nolb-compare/calibrate.hpp"
#include "nolb-compare/checkpoint.hpp"
#include "nolb-compare/report.hpp"
#include "nolb-compare/runner.hpp"
#include "nolb-compare/scenario.hpp"
#include "util/version.hpp"

namespace fs = std::filesystem;
using namespace nolb::compare;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;
// The full run's repetitions unless --repeat says otherwise: enough for a t interval of useful
// width, few enough for an afternoon.
constexpr unsigned kFullRunRepeats = 5;
constexpr unsigned kQuickClients = 20;  // per profile, under --quick
constexpr Seconds kQuickWarmup{5};

struct Options {
    std::vector<std::string> scenario_files;
    bool all = false;
    std::string scenarios_dir;
    std::string out = "compare-results";
    std::vector<std::string> models;
    std::vector<std::string> profiles;
    std::optional<double> min_cache;
    std::optional<unsigned> nodes;
    std::optional<double> duration;
    std::optional<unsigned> clients;
    std::optional<double> rate;
    std::optional<unsigned> repeat;
    std::uint64_t seed = 1;
    bool run_quick = false;
    bool resume = false;
    std::string bin_dir;
    std::string haproxy = "/usr/sbin/haproxy";
    bool no_namespace = false;
    bool quiet = false;
    std::string inside_namespace;        // set when this process is the one inside the namespace
    std::vector<std::string> real;       // real programs beside the profiles
    std::vector<std::uint32_t> ttls;     // a sweep: each scenario at each TTL ...
    std::vector<std::string> resolvers;  // ... with each resolver
    std::string drivers;
    std::string command;  // as typed, for the results

    // nolb-compare calibrate
    bool calibrate = false;
    std::vector<std::string> programs;
    std::vector<std::string> faults;
    bool quick = false;
    double calibrate_rate = 5;
};

fs::path self_path() {
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : self;
}

fs::path default_drivers_dir() {
    if (fs::is_directory("contrib/calibrate")) return "contrib/calibrate";
#ifdef NOLB_DRIVERS_DIR
    if (fs::is_directory(NOLB_DRIVERS_DIR)) return NOLB_DRIVERS_DIR;
#endif
    return "contrib/calibrate";
}

// conf/scenarios of the source tree (the current folder's, else the one built from), else the
// installed copy (/usr/bin/nolb-compare: /usr/share/nolb/scenarios).
fs::path default_scenarios_dir() {
    if (fs::is_directory("conf/scenarios")) return "conf/scenarios";
#ifdef NOLB_SCENARIOS_DIR
    if (fs::is_directory(NOLB_SCENARIOS_DIR)) return NOLB_SCENARIOS_DIR;
#endif
    const fs::path installed = self_path().parent_path().parent_path() / "share/nolb/scenarios";
    if (fs::is_directory(installed)) return installed;
    return "conf/scenarios";
}

// A port that nothing on 127.0.0.1 uses right now, for TCP and UDP alike.
std::uint16_t free_port() {
    for (int attempt = 0; attempt < 50; ++attempt) {
        int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof sa;
        std::uint16_t port = 0;
        if (tcp >= 0 && ::bind(tcp, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
            ::getsockname(tcp, reinterpret_cast<sockaddr*>(&sa), &len) == 0)
            port = ntohs(sa.sin_port);
        int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        bool udp_free =
            udp >= 0 && port != 0 && ::bind(udp, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
        if (tcp >= 0) ::close(tcp);
        if (udp >= 0) ::close(udp);
        if (udp_free) return port;
    }
    throw std::runtime_error("no free port on 127.0.0.1");
}

// ------------------------------------------------------------------ the network namespace

int run_command(const std::vector<std::string>& argv) {
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        std::vector<char*> args;
        for (const std::string& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        std::fprintf(stderr, "nolb-compare: cannot run %s: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

volatile sig_atomic_t g_child = 0;

void forward_signal(int signal) {
    if (g_child > 0) ::kill(g_child, signal);
}

// Creates the namespace, runs this program inside it with the same arguments, removes the
// namespace, and returns the inner run's exit status.
int run_in_namespace(int argc, char** argv, bool quiet) {
    const std::string name = "nolbcmp" + std::to_string(::getpid());
    const fs::path etc = fs::path("/etc/netns") / name;
    if (run_command({"ip", "netns", "add", name}) != 0) {
        std::cerr << "nolb-compare: cannot create the network namespace " << name
                  << " (ip netns add); run with --no-namespace to use the host's loopback\n";
        return kExitFailed;
    }
    auto cleanup = [&] {
        run_command({"ip", "netns", "delete", name});
        std::error_code ec;
        fs::remove_all(etc, ec);
    };
    std::error_code ec;
    fs::create_directories(etc, ec);
    {
        std::ofstream resolv(etc / "resolv.conf");
        resolv << "# nolb-compare: glibc's resolver in this namespace asks nolbd\n"
                  "nameserver 127.0.0.1\noptions timeout:1 attempts:2\n";
        if (!resolv) {
            std::cerr << "nolb-compare: cannot write " << (etc / "resolv.conf").string() << "\n";
            cleanup();
            return kExitFailed;
        }
    }
    if (run_command({"ip", "-n", name, "link", "set", "lo", "up"}) != 0) {
        std::cerr << "nolb-compare: cannot bring up the loopback in " << name << "\n";
        cleanup();
        return kExitFailed;
    }
    if (!quiet) std::cerr << "nolb-compare: running in network namespace " << name << "\n";

    std::vector<std::string> command = {"ip", "netns", "exec", name, self_path().string()};
    for (int i = 1; i < argc; ++i)
        command.push_back(argv[i]);
    command.push_back("--inside-namespace=" + name);

    struct sigaction sa {};
    sa.sa_handler = forward_signal;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        cleanup();
        return kExitFailed;
    }
    if (pid == 0) {
        std::vector<char*> args;
        for (const std::string& a : command)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    g_child = pid;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_child = 0;
    cleanup();
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return kExitInterrupted;
}

// ------------------------------------------------------------------------ what ran where

// The command's first line of output, or "" when it cannot run.
std::string first_line_of(const std::string& command) {
    std::unique_ptr<FILE, decltype(&::pclose)> pipe(::popen(command.c_str(), "r"), &::pclose);
    if (!pipe) return "";
    char line[256] = "";
    if (!std::fgets(line, sizeof line, pipe.get())) return "";
    std::string out(line);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
        out.pop_back();
    return out;
}

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

// The source tree's commit, "-dirty" when it has changes: where the binary was built from, as
// long as it has not been rebuilt from another tree since.

std::string machine_text() {
    std::string out = std::to_string(std::thread::hardware_concurrency()) + " cores";
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0)
        out += ", " + std::to_string(static_cast<long long>(pages) * page >> 30) + " GiB";
    utsname name{};
    if (::uname(&name) == 0) out += ", " + std::string(name.sysname) + " " + name.release;
    const std::string os =
        first_line_of("sh -c '. /etc/os-release 2>/dev/null && printf %s \"$PRETTY_NAME\"'");
    if (!os.empty()) out += ", " + os;
    return out;
}

// The command line as typed: the namespace's own re-run adds --inside-namespace, which is left
// out.
std::string command_line(int argc, char** argv) {
    std::string out;
    for (int i = 0; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.rfind("--inside-namespace", 0) == 0) continue;
        if (!out.empty()) out += ' ';
        out += arg.find_first_of(" '\"") == std::string::npos ? arg : "'" + arg + "'";
    }
    return out;
}

// ------------------------------------------------------------------------ the scenarios

std::vector<std::string> scenario_paths(const Options& options) {
    std::vector<std::string> paths = options.scenario_files;
    if (options.all) {
        fs::path dir = options.scenarios_dir.empty() ? default_scenarios_dir()
                                                     : fs::path(options.scenarios_dir);
        std::error_code ec;
        std::vector<std::string> found;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            if (entry.is_regular_file() && entry.path().extension() == ".toml")
                found.push_back(entry.path().string());
        if (ec || found.empty())
            throw std::runtime_error("no scenario files (*.toml) in " + dir.string());
        std::sort(found.begin(), found.end());
        paths.insert(paths.end(), found.begin(), found.end());
    }
    return paths;
}

// The command line's overrides, applied to a loaded scenario.
void apply_overrides(Scenario& scenario, const Options& options) {
    if (!options.models.empty()) {
        scenario.models.clear();
        for (const std::string& name : options.models)
            scenario.models.push_back(*parse_model(name));
    }
    if (!options.profiles.empty()) {
        std::vector<ClientSpec> kept;
        for (const std::string& name : options.profiles) {
            Profile profile = *parse_profile(name);
            auto it = std::find_if(scenario.clients.begin(), scenario.clients.end(),
                                   [&](const ClientSpec& c) { return c.profile == profile; });
            kept.push_back(it != scenario.clients.end() ? *it : builtin_spec(profile));
        }
        std::sort(kept.begin(), kept.end(), [](const ClientSpec& a, const ClientSpec& b) {
            return static_cast<int>(a.profile) < static_cast<int>(b.profile);
        });
        scenario.clients = std::move(kept);
    }
    for (ClientSpec& spec : scenario.clients) {
        if (options.min_cache)
            spec.min_cache = std::max(spec.min_cache, Seconds(*options.min_cache));
        if (options.clients) spec.clients = *options.clients;
        if (options.rate) spec.rate = *options.rate;
    }
    if (options.run_quick) {
        // A short run of each model with few clients: the faults within it, the rest left out.
        scenario.duration = scenario.written_duration =
            std::min(scenario.written_duration, scenario.quick_duration);
        scenario.duration_ttls = 0;
        scenario.warmup = std::min(scenario.warmup, kQuickWarmup);
        std::erase_if(scenario.faults, [&](const Fault& f) {
            return f.ttls > 0 || f.written_at >= scenario.duration;
        });
        for (ClientSpec& spec : scenario.clients)
            spec.clients = std::min(spec.clients, kQuickClients);
    }
    if (options.duration) {
        // As given, whatever the TTL: a sweep keeps it too.
        scenario.duration = scenario.written_duration = Seconds(*options.duration);
        scenario.duration_ttls = 0;
        std::erase_if(scenario.faults, [&](const Fault& f) {
            return f.ttls > 0 || f.written_at >= scenario.duration;
        });
    }
    if (options.nodes) {
        scenario.nodes = *options.nodes;
        std::erase_if(scenario.faults, [&](const Fault& f) { return f.node >= scenario.nodes; });
    }
}

std::vector<std::string> profile_names() {
    std::vector<std::string> names;
    for (Profile p : kProfiles)
        names.emplace_back(profile_name(p));
    return names;
}

std::string progress_line(const Progress& p, bool finished, unsigned repetition,
                          unsigned repetitions) {
    char line[200];
    const double shown =
        std::clamp(p.elapsed, -p.scenario->warmup.count(), p.scenario->duration.count());
    char run[32] = "";
    if (repetitions > 1) std::snprintf(run, sizeof run, " run %u/%u", repetition + 1, repetitions);
    std::snprintf(line, sizeof line, "[%s%s] %zu/%zu %-15s %s %5.1f/%.0f s  in flight %llu%s",
                  p.scenario->name.c_str(), run, p.model_index + 1, p.scenario->models.size(),
                  model_name(p.model), shown < 0 ? "warm-up" : "t =", shown < 0 ? -shown : shown,
                  p.scenario->duration.count(), static_cast<unsigned long long>(p.in_flight),
                  finished ? "  done" : "");
    return line;
}

// A sweep: every scenario at every TTL and with every resolver asked for, each a variant named
// after both ("withdraw-ttl20-unbound").
std::vector<Scenario> sweep(const Scenario& scenario, const Options& options) {
    if (options.ttls.empty() && options.resolvers.empty()) return {scenario};
    std::vector<std::uint32_t> ttls = options.ttls;
    if (ttls.empty()) ttls = {scenario.ttl};
    std::vector<ResolverKind> resolvers;
    for (const std::string& name : options.resolvers)
        resolvers.push_back(*parse_resolver(name));
    if (resolvers.empty()) resolvers = {scenario.resolver.kind};
    std::vector<Scenario> out;
    for (ResolverKind resolver : resolvers) {
        for (std::uint32_t ttl : ttls) {
            Scenario variant = scenario;
            finish_ttl(variant, ttl);
            variant.resolver.kind = resolver;
            variant.sweep_of = scenario.name;
            variant.name =
                scenario.name + "-ttl" + std::to_string(ttl) + "-" + resolver_name(resolver);
            out.push_back(std::move(variant));
        }
    }
    return out;
}

// What a checkpoint must have been measured with to stand for a repetition about to be: every
// option that changes what is measured, the programs measured and the scenario's file as read.
std::string measurement_settings(const Options& o, const RunOptions& run,
                                 const Scenario& scenario) {
    std::ostringstream s;
    auto list = [&s](const char* name, const auto& values) {
        s << name << '=';
        for (const auto& v : values)
            s << v << ',';
        s << '\n';
    };
    auto optional = [&s](const char* name, const auto& value) {
        s << name << '=';
        if (value) s << *value;
        s << '\n';
    };
    list("models", o.models);
    list("profiles", o.profiles);
    list("real", o.real);
    optional("min-cache", o.min_cache);
    optional("nodes", o.nodes);
    optional("duration", o.duration);
    optional("clients", o.clients);
    optional("rate", o.rate);
    s << "quick=" << o.run_quick << "\nnamespace=" << run.lab.in_namespace << '\n';
    // The programs a build's commit does not pin down: by size and modification time.
    for (const fs::path& program :
         {run.lab.bin_dir / "nolbd", run.lab.bin_dir / "nolb-stats", fs::path(o.haproxy)}) {
        std::error_code ec;
        const auto size = fs::file_size(program, ec);
        const auto mtime = fs::last_write_time(program, ec).time_since_epoch().count();
        s << program.string() << '=' << (ec ? 0 : size) << '@' << (ec ? 0 : mtime) << '\n';
    }
    std::ifstream file(scenario.file);
    s << "scenario:\n" << file.rdbuf();
    return s.str();
}

// Every repetition of one scenario: each measured and kept as a checkpoint at once, or, under
// --resume, taken from the checkpoint the same build made with the same settings. Repetition k
// draws the clients' arrivals from seed + k: a run can be repeated exactly as to what the
// clients do (nolbd's shuffles are its own). `info.started` becomes the earliest start of any
// repetition kept.
ScenarioResult measure(const Scenario& scenario, unsigned repetitions, const Options& options,
                       RunOptions& run, RunInfo& info) {
    const std::string settings = measurement_settings(options, run, scenario);
    ScenarioResult result;
    for (unsigned k = 0; k < repetitions; ++k) {
        run.seed = options.seed + k;
        run.repetition = k;
        const CheckpointKey key{info.commit, settings, scenario.name, k, run.seed};
        const fs::path file = checkpoint_path(run.lab.work_dir, k);
        if (options.resume) {
            std::string why;
            if (std::optional<Checkpoint> kept = load_checkpoint(file, key, &why)) {
                if (!options.quiet)
                    std::cerr << "[" << scenario.name << " run " << k + 1 << "/" << repetitions
                              << "] measured " << kept->started << ", kept in " << file.string()
                              << "\n";
                info.started = std::min(info.started, kept->started);
                merge_repetition(result, repetition_result(scenario, std::move(kept->runs), k));
                continue;
            }
            if (!options.quiet && fs::exists(file))
                std::cerr << "[" << scenario.name << " run " << k + 1 << "/" << repetitions
                          << "] measured again: " << file.string() << " was " << why << "\n";
        }
        Checkpoint measured{utc_now(), {}};
        ScenarioResult repetition = run_scenario(scenario, run);
        measured.runs = repetition.runs;
        save_checkpoint(file, key, measured);
        merge_repetition(result, std::move(repetition));
    }
    return result;
}

int run(const Options& options) {
    std::vector<Scenario> scenarios;
    try {
        for (const std::string& path : scenario_paths(options)) {
            Scenario loaded = load_scenario(path);
            apply_overrides(loaded, options);
            for (Scenario& variant : sweep(loaded, options))
                scenarios.push_back(std::move(variant));
        }
    } catch (const nolb::config::Error& e) {
        for (const std::string& problem : e.problems())
            std::cerr << problem << "\n";
        return kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "nolb-compare: " << e.what() << "\n";
        return kExitUsage;
    }

    // Clients stuck on a silent address hold a socket per open request: hundreds of clients may
    // hold thousands. The soft limit (1024 on many systems) is raised to the hard one.
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }

    const bool in_namespace = !options.inside_namespace.empty();
    RunOptions run;
    run.drivers = options.drivers.empty() ? default_drivers_dir() : fs::path(options.drivers);
    for (const std::string& name : options.real)
        run.real.push_back(RealSpec{*parse_profile(name), 5});
    run.lab.bin_dir =
        options.bin_dir.empty() ? self_path().parent_path() : fs::path(options.bin_dir);
    run.lab.haproxy = options.haproxy;
    run.lab.in_namespace = in_namespace;
    run.lab.namespace_name = options.inside_namespace;
    if (in_namespace) {
        run.lab.http_port = 8080;
        run.lab.dns_port = 53;
    } else {
        run.lab.http_port = free_port();
        run.lab.dns_port = free_port();
        if (!options.quiet)
            std::cerr << "nolb-compare: on the host's loopback (nolbd on 127.0.0.1:"
                      << run.lab.dns_port
                      << "); the system profile and blackhole faults need root, which runs "
                         "everything in a network namespace of its own\n";
    }
    const unsigned repetitions = options.repeat      ? *options.repeat
                                 : options.run_quick ? 1
                                 : options.all       ? kFullRunRepeats
                                                     : 1;
    const bool tty = ::isatty(2) != 0;
    if (!options.quiet) {
        run.progress = [tty, &run, repetitions](const Progress& p, bool finished) {
            const std::string line = progress_line(p, finished, run.repetition, repetitions);
            if (tty) {
                std::cerr << "\r\033[K" << line << (finished ? "\n" : "") << std::flush;
            } else if (finished) {
                std::cerr << line << "\n";
            }
        };
    }

    RunInfo info;
    info.version = nolb::kVersion;
    info.commit = NOLB_BUILD_COMMIT;
    info.command = options.command;
    info.started = utc_now();
    info.machine = machine_text();
    info.haproxy = first_line_of("'" + options.haproxy + "' -v 2>/dev/null");
    info.repetitions = repetitions;
    info.seed = options.seed;

    const fs::path out = options.out;
    std::vector<ScenarioResult> results;
    try {
        for (const Scenario& scenario : scenarios) {
            run.lab.work_dir = out / "work" / scenario.name;
            results.push_back(measure(scenario, repetitions, options, run, info));
        }
        info.finished = utc_now();
        write_report(out, results, info);
    } catch (const Interrupted&) {
        std::cerr << "\nnolb-compare: interrupted; every process it started is stopped\n";
        return kExitInterrupted;
    } catch (const std::exception& e) {
        std::cerr << "\nnolb-compare: " << e.what() << "\n";
        return kExitFailed;
    }
    if (!options.quiet) {
        std::cout << "wrote " << (out / "results.md").string() << ", results.csv, results.json";
        for (const ScenarioResult& r : results)
            std::cout << ", " << r.scenario.name << ".svg";
        std::cout << "\n";
    }
    return kExitOk;
}

int calibrate(const Options& options) {
    if (options.inside_namespace.empty()) {
        std::cerr << "nolb-compare calibrate: the real programs resolve through the system's "
                     "resolver, so calibration runs only as root, in a network namespace of its "
                     "own\n";
        return kExitUsage;
    }
    CalibrationOptions c;
    for (const std::string& name : options.programs)
        c.programs.push_back(*parse_profile(name));
    c.faults = options.faults;
    c.quick = options.quick;
    c.rate = options.calibrate_rate;
    c.out = options.out;
    c.drivers = options.drivers.empty() ? default_drivers_dir() : fs::path(options.drivers);
    c.lab.bin_dir = options.bin_dir.empty() ? self_path().parent_path() : fs::path(options.bin_dir);
    c.lab.haproxy = options.haproxy;
    c.lab.in_namespace = true;
    c.lab.namespace_name = options.inside_namespace;
    c.lab.http_port = 8080;
    c.lab.dns_port = 53;
    if (!options.quiet)
        c.progress = [](const std::string& line) {
            std::cerr << "nolb-compare calibrate: " << line << "\n";
        };
    try {
        const std::vector<CalibrationRow> rows = run_calibration(c);
        std::size_t agree = 0;
        for (const CalibrationRow& row : rows)
            agree += row.agrees() ? 1 : 0;
        if (!options.quiet)
            std::cout << "wrote " << (fs::path(options.out) / "calibration.md").string()
                      << " and calibration.json: " << agree << " of " << rows.size()
                      << " program x fault pairs agree\n";
    } catch (const Interrupted&) {
        std::cerr << "\nnolb-compare: interrupted; every process it started is stopped\n";
        return kExitInterrupted;
    } catch (const std::exception& e) {
        std::cerr << "nolb-compare calibrate: " << e.what() << "\n";
        return kExitFailed;
    }
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App app{
        "nolb-compare: zero-admin DNS, health-checked DNS and a load balancer, measured side "
        "by side.\nStarts nolb-stats nodes, nolbd and HAProxy on loopback, runs client "
        "profiles through each scenario's faults, and writes results.md, results.csv, "
        "results.json and an SVG timeline per scenario.\nAs root it runs in a network "
        "namespace of its own (needed for blackhole faults and the system profile)."};
    app.set_version_flag("--version", std::string("nolb-compare ") + nolb::kVersion);
    auto* scenario_opt =
        app.add_option("-s,--scenario", options.scenario_files, "scenario file (TOML); repeatable")
            ->check(CLI::ExistingFile);
    auto* all_opt = app.add_flag("--all", options.all, "every scenario in --scenarios-dir");
    app.add_option("--scenarios-dir", options.scenarios_dir,
                   "where --all looks (default: conf/scenarios, else the installed copy)");
    app.add_option("-o,--out", options.out, "output folder")->capture_default_str();
    auto model_check = CLI::IsMember({"zero-admin", "health-checked", "load-balancer"});
    app.add_option("--models", options.models, "models to run (default: the scenario's)")
        ->delimiter(',')
        ->check(model_check);
    app.add_option("--profiles", options.profiles, "client profiles (default: the scenario's)")
        ->delimiter(',')
        ->check(CLI::IsMember(profile_names()));
    app.add_option("--min-cache", options.min_cache,
                   "keep DNS answers at least this many seconds, whatever the TTL "
                   "(resolvers and runtimes that do)")
        ->check(CLI::Range(0.0, 3600.0));
    app.add_option("--nodes", options.nodes, "nodes (faults on missing nodes are dropped)")
        ->check(CLI::Range(2, 16));
    app.add_option("--duration", options.duration, "measured seconds per model")
        ->check(CLI::Range(1.0, 600.0));
    app.add_option("--clients", options.clients, "clients per profile")->check(CLI::Range(1, 1000));
    app.add_option("--rate", options.rate, "requests per second per client")
        ->check(CLI::Range(0.01, 1000.0));
    app.add_option("--repeat", options.repeat,
                   "runs of each scenario, each with its own seed; figures are means with 95 % "
                   "intervals (default: 5 with --all, else 1)")
        ->check(CLI::Range(1, 100));
    app.add_option("--seed", options.seed,
                   "the clients' arrivals in the first run (seed + k in run k)")
        ->capture_default_str();
    app.add_flag("--resume", options.resume,
                 "take every repetition already measured into --out's work/ by this build "
                 "with these settings from its checkpoint, and measure the rest");
    app.add_flag("--quick", options.run_quick,
                 "each model for the scenario's quick_duration (20 s) with at most 20 clients per "
                 "profile, once: a check, not a measurement");
    app.add_option("--bin-dir", options.bin_dir,
                   "where nolbd and nolb-stats are (default: beside nolb-compare; nolbd also in "
                   "../sbin)");
    app.add_option("--haproxy", options.haproxy, "the HAProxy binary")->capture_default_str();
    app.add_flag("--no-namespace", options.no_namespace, "as root too, run on the host's loopback");
    app.add_flag("-q,--quiet", options.quiet, "no progress line");
    app.add_option("--inside-namespace", options.inside_namespace)->group("");
    std::vector<std::string> real_programs;
    for (Profile p : kProfiles)
        if (profile_driver(p)) real_programs.emplace_back(profile_name(p));
    app.add_option("--real", options.real,
                   "real programs to run beside the profiles, one client each (their drivers "
                   "are in contrib/calibrate/)")
        ->delimiter(',')
        ->check(CLI::IsMember(real_programs));
    app.add_option("--ttl", options.ttls,
                   "a sweep: run each scenario at each of these TTLs (times written in TTLs "
                   "follow)")
        ->delimiter(',')
        ->check(CLI::Range(1, 86400));
    app.add_option("--resolver", options.resolvers,
                   "a sweep: run each scenario with each of these resolvers (none, unbound)")
        ->delimiter(',')
        ->check(CLI::IsMember({"none", "unbound"}));
    app.add_option("--drivers", options.drivers,
                   "the real programs' drivers (default: contrib/calibrate)");

    CLI::App* cal = app.add_subcommand(
        "calibrate",
        "run each real program beside its profile under the same faults, and compare (as root)");
    cal->fallthrough();  // -o, --bin-dir and the like are the main command's
    cal->add_option("--programs", options.programs, "programs (default: all with a driver)")
        ->delimiter(',')
        ->check(CLI::IsMember(real_programs));
    std::vector<std::string> fault_names;
    for (const CalibrationCase& c : calibration_cases())
        fault_names.push_back(c.name);
    cal->add_option("--faults", options.faults, "faults (default: all)")
        ->delimiter(',')
        ->check(CLI::IsMember(fault_names));
    cal->add_flag("--quick", options.quick, "watch each fault for 6 s only");
    cal->add_option("--rate", options.calibrate_rate, "requests per second, each client")
        ->check(CLI::Range(0.5, 50.0));
    options.command = command_line(argc, argv);
    try {
        app.parse(argc, argv);
        options.calibrate = cal->parsed();
        if (!options.calibrate && options.scenario_files.empty() && !options.all)
            throw CLI::RequiredError("--scenario FILE or --all");
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    }
    (void)scenario_opt;
    (void)all_opt;

    if (options.inside_namespace.empty() && !options.no_namespace && ::geteuid() == 0)
        return run_in_namespace(argc, argv, options.quiet);
    if (options.calibrate) return calibrate(options);
    return run(options);
}
