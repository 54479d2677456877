// The lab: starts the servers a model needs and waits until each one really serves, plays the
// scenario's faults on the clients' event loop, samples what nolbd publishes, and reads what the
// servers cost. A start is blocking and bounded (nothing is measured yet); during the measured
// run the lab shares the loop with the clients, so everything it does there either returns at
// once or is a short exchange with a local process on loopback, bounded by a 1 s deadline: a
// POST that injects a fault is answered by the node within a millisecond, and waiting for that
// answer keeps the fault's time exact. Anything that lasts (a degraded node's hold, a restarted
// node coming up, a dying node's exit) is a timer, never a wait. Every process is stopped by PID.
//
// The load balancer is watched as nolbd is: every 100 ms the lab reads which servers HAProxy's
// `show stat` has UP, as it reads which nodes nolbd's answer names, so both models' detection
// times come from the same kind of sample; and the memory of nolbd and HAProxy is read from
// /proc on the same tick. The servers can fail too: HAProxy and ns1's nolbd are killed and
// started again by the server faults, and with two name servers the resolver tier knows both.
//
// The sites' distance is set up once per lab, before the first node starts, and stays until the
// lab is destroyed: the nodes' readiness checks, nolbd's probes and HAProxy cross it too.
#include "nolb-compare/lab.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "control/protocol.hpp"
#include "nolb-compare/dns_delay.hpp"
#include "nolb-compare/lab_io.hpp"
#include "nolb-compare/lab_process.hpp"
#include "nolb-compare/lab_servers.hpp"
#include "nolb-compare/site_delay.hpp"
#include "nolb-compare/timeval.hpp"
#include "util/event.hpp"

namespace nolb::compare {

std::string node_address(unsigned node) {
    return "127.0.0." + std::to_string(11 + node);
}

std::string node_address(const Scenario& scenario, unsigned node) {
    if (scenario.network == Network::loopback) return node_address(node);
    if (scenario.local_node == node) return "10.99.0." + std::to_string(11 + node);
    return "10." + std::to_string(100 + node) + ".0.11";
}

std::string node_site(unsigned node) {
    return "node" + std::to_string(node + 1);
}

const char* balancer_address(const Scenario& scenario) {
    return scenario.balancer.pair ? kPairAddress : kBalancerAddress;
}

std::string pair_machine_address(unsigned machine) {
    return "10.98.0." + std::to_string(11 + machine);
}

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr auto kNodeStartBound = 5s;
constexpr auto kNolbdStartBound = 10s;
constexpr auto kHaproxyStartBound = 10s;
constexpr auto kStopGrace = 2s;
constexpr auto kExchangeTimeout = 1s;       // a fault's POST, a counter read
constexpr auto kReadyProbeTimeout = 300ms;  // one GET /health while waiting for a node
constexpr auto kSampleEvery = 100ms;
constexpr auto kWatchEvery = 200ms;
constexpr auto kRestartPollEvery = 50ms;
constexpr auto kExitPollEvery = 10ms;
constexpr auto kExitBound = 3s;           // a node past its memory limit exits within ~1 s
constexpr unsigned kMaxAllocations = 64;  // far more than --memory-limit / --chunk needs
constexpr const char* kNodeMemoryLimit = "64";
constexpr const char* kNodeChunk = "16";
constexpr const char* kNodeDegradeAt = "50";
constexpr int kOutOfMemoryStatus = 3;  // nolb-stats' simulated crash
constexpr std::size_t kMaxSocketPath = 107;
constexpr const char* kBlackholeNeedsRoot =
    "blackhole needs root: run nolb-compare as root; it then runs in a network namespace of its "
    "own";

constexpr const char* kSitesNeedRoot =
    "sites not applied (every node as near as the loopback): their round trips need root; run "
    "nolb-compare as root, it then runs in a network namespace of its own";

bool has_distance(const Scenario& scenario) {
    return std::any_of(scenario.sites.begin(), scenario.sites.end(),
                       [](const Site& site) { return site.rtt.count() > 0; });
}

std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f s", s);
    return buf;
}

// A libevent timer running a closure, which gets the timer to arm it again. Owned by the lab
// until the run ends, never destroyed from its own callback.
class Timer {
  public:
    Timer(event_base* base, bool persist, std::function<void(Timer&)> fire)
        : fire_(std::move(fire)),
          event_(util::make_event(base, -1, persist ? EV_PERSIST : 0, &Timer::on_fire, this)) {}
    void arm(Clock::duration after) {
        timeval tv = to_timeval(after);
        event_add(event_.get(), &tv);
    }
    void disarm() { event_del(event_.get()); }

  private:
    static void on_fire(evutil_socket_t, short, void* arg) {
        auto* self = static_cast<Timer*>(arg);
        self->fire_(*self);
    }
    std::function<void(Timer&)> fire_;
    util::Event event_;
};

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

fs::path find_program(std::string_view name) {
    for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
        fs::path p = fs::path(dir) / name;
        if (::access(p.c_str(), X_OK) == 0) return p;
    }
    return fs::path(name);
}

// nolbd beside nolb-stats in bin_dir (a build tree), else in the sbin folder next to bin_dir
// (installed: /usr/bin/nolb-compare and nolb-stats, /usr/sbin/nolbd).
fs::path nolbd_binary(const fs::path& bin_dir) {
    const fs::path beside = bin_dir / "nolbd";
    const fs::path sbin = bin_dir.parent_path() / "sbin" / "nolbd";
    if (::access(beside.c_str(), X_OK) != 0 && ::access(sbin.c_str(), X_OK) == 0) return sbin;
    return beside;
}

std::optional<unsigned> node_of_address(const std::string& address, const Scenario& scenario) {
    for (unsigned i = 0; i < scenario.nodes; ++i)
        if (node_address(scenario, i) == address) return i;
    return std::nullopt;
}

// A JSON body, or null when it is not JSON.
Json parse_json(const std::string& body) {
    return Json::parse(body, nullptr, false);
}

bool json_flag(const Json& body, const char* key) {
    return body.is_object() && body.contains(key) && body[key].is_boolean() &&
           body[key].get<bool>();
}

// What the lab reads before and after the measured run, with the PIDs read from: a server
// killed and started again during the run counts from zero, so no difference is taken then.
struct Counters {
    std::optional<double> nolbd_cpu;
    std::optional<double> haproxy_cpu;
    std::optional<std::uint64_t> dns_queries;
    std::optional<std::uint64_t> lb_requests;
    std::vector<pid_t> nolbd_pids;
    // Per name server (ns1, ns2): its PID and query count, -1 and nullopt when unreadable.
    std::vector<std::pair<pid_t, std::optional<std::uint64_t>>> per_server;
    pid_t haproxy_pid = -1;
};

// The second name server's address (ns2), beside ns1's 127.0.0.1 or .2 and the resolver's .3.
constexpr const char* kSecondNolbdAddress = "127.0.0.4";
constexpr const char* kPairBridge = "nolbpair";  // in the lab's namespace
constexpr auto kFailoverPollEvery = 20ms;
constexpr auto kFailoverBound = 10s;

}  // namespace

struct Lab::Impl {
    struct Node {
        Child process;
        unsigned starts = 0;
        // Crashed, or pushed past its memory limit, by the lab: its exit is no surprise.
        bool stopped_by_lab = false;
        bool exit_noted = false;
    };

    // Asks nolbd for the service every 100 ms without waiting for the answer; the answer comes
    // back through a read event on the same socket.
    struct Sampler {
        int fd = -1;
        util::Event readable;
        std::uint16_t id = 0;
        std::uint64_t sent = 0;
        ~Sampler() { close(); }
        void close() {
            readable.reset();
            if (fd >= 0) ::close(fd);
            fd = -1;
        }
    };

    event_base* base;
    Scenario scenario;
    LabOptions options;
    std::optional<Model> model;
    fs::path dir;

    std::vector<Node> nodes;
    Child nolbd;
    Child nolbd2;  // ns2, when the scenario has two name servers
    bool nolbd2_exit_noted = false;
    fs::path nolbd2_socket;
    Child haproxy;
    Child unbound;
    std::unique_ptr<DnsDelay> dns_delay;  // in front of the clients' resolver, when asked
    bool nolbd_exit_noted = false;
    int nolbd_starts = 0;  // ns1's, for its log's name after a dns-restart
    bool unbound_exit_noted = false;
    std::string nolbd_address = "127.0.0.1";
    std::uint16_t nolbd_port = 53;
    std::string resolver_address = "127.0.0.1";
    std::uint16_t resolver_port = 53;
    std::vector<bool> drained;  // by node: drain faults applied
    std::string server_ns;      // the nodes' namespace of a routed network, once made
    bool haproxy_exit_noted = false;
    int haproxy_starts = 0;
    // The pair: lb2's HAProxy, each machine's keepalived, their namespaces and the bridge.
    Child haproxy2;
    Child keepalived[2];
    bool haproxy2_exit_noted = false;
    bool keepalived_exit_noted[2] = {false, false};
    int machine_starts[2] = {0, 0};
    int keepalived_starts[2] = {0, 0};
    std::vector<std::string> pair_ns;
    bool pair_bridge = false;
    fs::path haproxy2_socket;
    fs::path nolbd_socket;
    fs::path haproxy_socket;

    Clock::time_point origin{};
    bool begun = false;
    bool ended = false;
    std::vector<std::unique_ptr<Timer>> timers;
    Sampler sampler;
    std::optional<Counters> baseline;
    std::uint64_t sampler_queries_at_baseline = 0;

    std::vector<AppliedFault> faults;
    std::vector<PublishedSample> published;
    Costs costs;
    std::vector<std::string> notes;
    bool blackhole_noted = false;
    bool nft_table = false;
    std::unique_ptr<SiteDelay> site_delay;
    bool site_rules_in = false;
    SiteDelayCounts site_counts_at_start;  // of the running model, to note what it added

    Impl(event_base* b, const Scenario& s, LabOptions o)
        : base(b), scenario(s), options(std::move(o)) {}

    double since_origin() const {
        return std::chrono::duration<double>(Clock::now() - origin).count();
    }

    Timer& add_timer(bool persist, std::function<void(Timer&)> fire) {
        timers.push_back(std::make_unique<Timer>(base, persist, std::move(fire)));
        return *timers.back();
    }

    // ---- processes ----------------------------------------------------------------------

    void spawn_node(unsigned i) {
        Node& n = nodes[i];
        std::string log_name =
            node_site(i) + (n.starts == 0 ? std::string() : ".restart" + std::to_string(n.starts)) +
            ".log";
        std::vector<std::string> argv = {
            (options.bin_dir / "nolb-stats").string(),
            "--site",
            node_site(i),
            "--listen",
            node_address(scenario, i) + ":" + std::to_string(options.http_port),
            "--memory-limit",
            kNodeMemoryLimit,
            "--chunk",
            kNodeChunk,
            "--degrade-at",
            kNodeDegradeAt,
            "--allow-fault-injection"};
        if (scenario.keep_alive) argv.emplace_back("--keep-alive");
        n.process = Child::spawn(in_server_namespace(std::move(argv)), dir / log_name);
        ++n.starts;
        n.stopped_by_lab = false;
        n.exit_noted = false;
    }

    // True when the node answers GET /health with 200.
    bool node_healthy(unsigned i) const {
        return http_exchange(node_address(scenario, i), options.http_port, "GET", "/health",
                             kReadyProbeTimeout)
                   .status == 200;
    }

    void wait_node_ready(unsigned i) {
        Node& n = nodes[i];
        const auto deadline = Clock::now() + kNodeStartBound;
        for (;;) {
            if (n.process.poll())
                throw std::runtime_error(
                    node_site(i) + " (nolb-stats on " + node_address(scenario, i) + ":" +
                    std::to_string(options.http_port) + ") exited (" +
                    describe_status(*n.process.status()) + ") while starting; its log:\n" +
                    log_tail(n.process.log()));
            if (node_healthy(i)) return;
            if (Clock::now() >= deadline)
                throw std::runtime_error(node_site(i) + " (nolb-stats on " +
                                         node_address(scenario, i) + ":" +
                                         std::to_string(options.http_port) +
                                         ") did not answer GET /health with 200 within 5 s; its "
                                         "log:\n" +
                                         log_tail(n.process.log()));
            std::this_thread::sleep_for(20ms);
        }
    }

    NolbdSetup nolbd_setup(Model m) const {
        NolbdSetup setup;
        setup.listen_address = nolbd_address;
        setup.port = nolbd_port;
        setup.http_port = options.http_port;
        setup.control_socket = nolbd_socket;
        setup.calibration = options.calibration;
        setup.drained = drained;
        (void)m;
        return setup;
    }

    // Waits until `ask` (nolbd, or the resolver through recursion) lists every node not
    // drained for `name`; throws naming `who` otherwise.
    void wait_published(const std::string& who, Child& process, const std::string& address,
                        std::uint16_t port, bool recursion, Clock::duration bound) {
        const std::string name = options.calibration ? kCalibrationName : kServiceName;
        std::vector<std::string> expected;
        for (unsigned i = 0; i < scenario.nodes; ++i)
            if (!drained[i]) expected.push_back(node_address(scenario, i));
        std::sort(expected.begin(), expected.end());
        std::string last = "no answer";
        const auto deadline = Clock::now() + bound;
        for (;;) {
            if (process.poll())
                throw std::runtime_error(who + " exited (" + describe_status(*process.status()) +
                                         ") while starting; its log:\n" + log_tail(process.log()));
            if (auto got = dns_lookup(address, port, name, 200ms, recursion)) {
                std::sort(got->begin(), got->end());
                if (*got == expected) return;
                last.clear();
                for (const std::string& a : *got)
                    last += (last.empty() ? "" : " ") + a;
                if (last.empty()) last = "no addresses";
            }
            if (Clock::now() >= deadline)
                throw std::runtime_error(
                    who + " on " + address + ":" + std::to_string(port) +
                    " did not give every node for " + name + " within " +
                    std::to_string(
                        std::chrono::duration_cast<std::chrono::seconds>(bound).count()) +
                    " s (last: " + last + "); its log:\n" + log_tail(process.log()));
            std::this_thread::sleep_for(50ms);
        }
    }

    // The clients' address: answers from the resolver (or nolbd) behind it, held back.
    void start_dns_delay(bool resolver) {
        auto ipv4 = [](const std::string& address, std::uint16_t port) {
            sockaddr_in sin{};
            sin.sin_family = AF_INET;
            sin.sin_port = htons(port);
            ::inet_pton(AF_INET, address.c_str(), &sin.sin_addr);
            return sin;
        };
        const sockaddr_in upstream =
            resolver ? ipv4(resolver_address, resolver_port) : ipv4(nolbd_address, nolbd_port);
        dns_delay = std::make_unique<DnsDelay>(base, ipv4("127.0.0.1", options.dns_port), upstream,
                                               scenario.resolver.delay);
    }

    std::vector<std::string> name_server_addresses() const {
        std::vector<std::string> out = {nolbd_address};
        if (scenario.name_servers > 1) out.push_back(kSecondNolbdAddress);
        return out;
    }

    void start_unbound() {
        if (::access(options.unbound.c_str(), X_OK) != 0)
            throw std::runtime_error("unbound not found at " + options.unbound +
                                     ": install the unbound package");
        const fs::path config = dir / "unbound.conf";
        write_file(config, render_unbound_config(scenario.resolver, resolver_address, resolver_port,
                                                 name_server_addresses(), nolbd_port, dir));
        unbound = Child::spawn({options.unbound, "-d", "-c", config.string()}, dir / "unbound.log");
        unbound_exit_noted = false;
        wait_published("unbound", unbound, resolver_address, resolver_port, true, kNolbdStartBound);
    }

    // Writes ns1's (or ns2's) configuration and starts it; returns at once.
    void spawn_nolbd(Model m, bool second) {
        const std::string name = second ? "nolbd2" : "nolbd";
        const fs::path config = dir / (name + ".toml");
        NolbdSetup setup = nolbd_setup(m);
        setup.name_servers = name_server_addresses();
        if (second) {
            setup.listen_address = kSecondNolbdAddress;
            setup.control_socket = nolbd2_socket;
        }
        write_file(config, render_nolbd_config(scenario, m, setup));
        std::vector<std::string> command = {nolbd_binary(options.bin_dir).string(), "-c",
                                            config.string()};
        // The lab runs as root (its namespaces need it) and its files are its own: nolbd
        // keeps root, as it must be told.
        if (::geteuid() == 0) command.insert(command.end(), {"--user", "root"});
        const int starts = second ? 0 : nolbd_starts++;
        const std::string log = name + (starts == 0 ? "" : ".restart" + std::to_string(starts));
        (second ? nolbd2 : nolbd) = Child::spawn(command, dir / (log + ".log"));
        (second ? nolbd2_exit_noted : nolbd_exit_noted) = false;
    }

    void start_nolbd(Model m) {
        nolbd_starts = 0;
        spawn_nolbd(m, false);
        wait_published("nolbd", nolbd, nolbd_address, nolbd_port, false, kNolbdStartBound);
        if (scenario.name_servers < 2) return;
        spawn_nolbd(m, true);
        wait_published("nolbd (ns2)", nolbd2, kSecondNolbdAddress, nolbd_port, false,
                       kNolbdStartBound);
    }

    // The HAProxy whose counters and servers the lab reads: the only one, or for a pair the
    // first machine's while it runs and the second's after.
    const fs::path& active_haproxy_socket() const {
        return scenario.balancer.pair && !haproxy.running() ? haproxy2_socket : haproxy_socket;
    }

    std::optional<HaproxyStat> haproxy_stat(std::string& error) const {
        return haproxy_stat_at(active_haproxy_socket(), error);
    }

    std::optional<HaproxyStat> haproxy_stat_at(const fs::path& socket, std::string& error) const {
        auto csv = unix_exchange(socket, "show stat\n", false, kExchangeTimeout, error);
        if (!csv) return std::nullopt;
        auto stat = parse_haproxy_stat(*csv, kBackendName);
        if (!stat) error = "no CSV header in: " + csv->substr(0, 200);
        return stat;
    }

    void check_haproxy_config(const fs::path& config) {
        Child check =
            Child::spawn({options.haproxy, "-c", "-f", config.string()}, dir / "haproxy-check.log");
        if (!check.wait_for(10s)) {
            check.kill_now();
            throw std::runtime_error("haproxy -c -f " + config.string() + " did not finish");
        }
        if (*check.status() != 0)
            throw std::runtime_error("HAProxy refused " + config.string() + " (" +
                                     describe_status(*check.status()) + "):\n" +
                                     log_tail(check.log(), 30));
    }

    // Until `process` has every server UP and, when `through` is set, GET /stats through the
    // balancer's address answers from a node.
    void wait_haproxy_ready(Child& process, const fs::path& socket, bool through,
                            const std::string& who) {
        const std::string address = balancer_address(scenario);
        std::string last = "no answer yet";
        const auto deadline = Clock::now() + kHaproxyStartBound;
        for (;;) {
            if (process.poll())
                throw std::runtime_error(who + " exited (" + describe_status(*process.status()) +
                                         ") while starting; its log:\n" + log_tail(process.log()));
            std::string error;
            if (auto stat = haproxy_stat_at(socket, error)) {
                std::size_t up = 0;
                for (const auto& [name, status] : stat->servers)
                    if (status == "UP") ++up;
                if (up == scenario.nodes && stat->servers.size() == scenario.nodes) {
                    if (!through) return;
                    HttpReply reply =
                        http_exchange(address, options.http_port, "GET", "/stats", 1s);
                    if (reply.status == 200 && parse_json(reply.body).contains("site")) return;
                    last = "every server UP, but GET /stats through " + address + " gave " +
                           (reply.status ? std::to_string(reply.status) : reply.error);
                } else {
                    last = std::to_string(up) + " of " + std::to_string(scenario.nodes) +
                           " servers UP";
                }
            } else {
                last = "stats socket: " + error;
            }
            if (Clock::now() >= deadline)
                throw std::runtime_error(who + " on " + address + ":" +
                                         std::to_string(options.http_port) +
                                         " was not ready within 10 s (" + last + "); its log:\n" +
                                         log_tail(process.log()));
            std::this_thread::sleep_for(50ms);
        }
    }

    void start_haproxy() {
        if (::access(options.haproxy.c_str(), X_OK) != 0)
            throw std::runtime_error("HAProxy not found at " + options.haproxy +
                                     ": install the haproxy package");
        const fs::path config = dir / "haproxy.cfg";
        write_file(config, render_haproxy_config(scenario, options, haproxy_socket));
        check_haproxy_config(config);
        haproxy_starts = 0;
        machine_starts[0] = machine_starts[1] = 0;
        keepalived_starts[0] = keepalived_starts[1] = 0;
        if (!scenario.balancer.pair) {
            spawn_haproxy();
            wait_haproxy_ready(haproxy, haproxy_socket, true, "HAProxy");
            return;
        }
        start_pair();
    }

    // ---- the active/standby pair ----------------------------------------------------------

    std::string machine_ns(unsigned machine) const {
        return options.namespace_name + "-lb" + std::to_string(machine + 1);
    }

    // Two machines (namespaces) on a bridge in the lab's namespace, each with its HAProxy bound
    // to the floating address (reaching the nodes back in the lab's namespace) and, once both
    // serve, its keepalived: lb1's first, so that it takes the address, then lb2's as standby.
    void start_pair() {
        if (::access(find_program("keepalived").c_str(), X_OK) != 0)
            throw std::runtime_error(
                "keepalived not found: install the keepalived package (contrib/install-deps.sh "
                "compare)");
        build_pair_network();
        write_file(dir / "haproxy2.cfg", render_haproxy_config(scenario, options, haproxy2_socket));
        check_haproxy_config(dir / "haproxy2.cfg");
        for (unsigned m = 0; m < 2; ++m)
            write_file(dir / ("keepalived" + std::to_string(m + 1) + ".conf"),
                       render_keepalived_config(m));
        spawn_haproxy();
        spawn_machine_haproxy(1);
        wait_haproxy_ready(haproxy, haproxy_socket, false, "HAProxy on lb1");
        wait_haproxy_ready(haproxy2, haproxy2_socket, false, "HAProxy on lb2");
        spawn_keepalived(0);
        wait_haproxy_ready(haproxy, haproxy_socket, true, "HAProxy on lb1 (with keepalived)");
        spawn_keepalived(1);
        // lb2 must have heard lb1 before the run: then it is the standby, not a second master.
        const auto deadline = Clock::now() + kHaproxyStartBound;
        while (log_tail(keepalived[1].log(), 50).find("Entering BACKUP STATE") ==
               std::string::npos) {
            if (keepalived[1].poll() || Clock::now() >= deadline)
                throw std::runtime_error(
                    "keepalived on lb2 did not become the standby within "
                    "10 s; its log:\n" +
                    log_tail(keepalived[1].log()));
            std::this_thread::sleep_for(50ms);
        }
    }

    void spawn_machine_haproxy(unsigned machine) {
        Child& c = machine == 0 ? haproxy : haproxy2;
        const std::string config = machine == 0 ? "haproxy.cfg" : "haproxy2.cfg";
        const std::string log =
            "haproxy" + std::string(machine == 0 ? "" : "2") +
            (machine_starts[machine] == 0 ? ""
                                          : ".restart" + std::to_string(machine_starts[machine])) +
            ".log";
        c = Child::spawn(in_namespace(machine_ns(machine),
                                      {options.haproxy, "-f", (dir / config).string(), "-db"}),
                         dir / log);
        ++machine_starts[machine];
        (machine == 0 ? haproxy_exit_noted : haproxy2_exit_noted) = false;
    }

    void spawn_keepalived(unsigned machine) {
        const std::string n = std::to_string(machine + 1);
        const std::string restart = keepalived_starts[machine] == 0
                                        ? ""
                                        : ".restart" + std::to_string(keepalived_starts[machine]);
        // Its own PID files, in the scenario's folder: nothing of the host's keepalived is
        // touched.
        keepalived[machine] = Child::spawn(
            in_namespace(machine_ns(machine), {find_program("keepalived").string(), "--dont-fork",
                                               "--log-console", "--log-detail", "--vrrp", "-f",
                                               (dir / ("keepalived" + n + ".conf")).string(), "-p",
                                               (dir / ("keepalived" + n + ".pid")).string(), "-r",
                                               (dir / ("keepalived" + n + "-vrrp.pid")).string()}),
            dir / ("keepalived" + n + restart + ".log"));
        ++keepalived_starts[machine];
        keepalived_exit_noted[machine] = false;
    }

    std::vector<std::string> in_namespace(const std::string& ns,
                                          std::vector<std::string> argv) const {
        argv.insert(argv.begin(), {find_program("ip").string(), "netns", "exec", ns});
        return argv;
    }

    // The bridge in the lab's namespace (10.98.0.1/24) and, per machine, a namespace with its
    // end of a veth link on the bridge as eth0, its own address, and non-local binds allowed
    // (the standby's HAProxy binds the floating address it does not hold). Made once.
    void build_pair_network() {
        if (!pair_ns.empty()) return;
        if (!options.in_namespace || options.namespace_name.empty())
            throw std::runtime_error(
                "[balancer] pair needs a network namespace of nolb-compare's own: run it as "
                "root");
        const std::string ip = find_program("ip").string();
        std::string error;
        auto must = [&](std::vector<std::string> argv) {
            if (!run_tool(argv, std::nullopt, error))
                throw std::runtime_error("cannot build the balancer pair's network: " + error);
        };
        must({ip, "link", "add", kPairBridge, "type", "bridge"});
        pair_bridge = true;
        must({ip, "addr", "add", "10.98.0.1/24", "dev", kPairBridge});
        must({ip, "link", "set", kPairBridge, "up"});
        for (unsigned m = 0; m < 2; ++m) {
            const std::string ns = machine_ns(m);
            const std::string veth = "nolblb" + std::to_string(m + 1);
            must({ip, "netns", "add", ns});
            pair_ns.push_back(ns);  // from here on, the destructor removes it
            must({ip, "-n", ns, "link", "set", "lo", "up"});
            must({ip, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns});
            must({ip, "link", "set", veth, "master", kPairBridge});
            must({ip, "link", "set", veth, "up"});
            must({ip, "-n", ns, "addr", "add", pair_machine_address(m) + "/24", "dev", "eth0"});
            must({ip, "-n", ns, "link", "set", "eth0", "up"});
            must(in_namespace(
                ns, {find_program("sysctl").string(), "-qw", "net.ipv4.ip_nonlocal_bind=1"}));
        }
    }

    void remove_pair_network() {
        const std::string ip = find_program("ip").string();
        std::string error;
        for (const std::string& ns : pair_ns)
            if (!run_tool({ip, "netns", "delete", ns}, std::nullopt, error))
                notes.push_back("the balancer machine's namespace " + ns +
                                " is left behind: " + error);
        pair_ns.clear();
        if (pair_bridge && !run_tool({ip, "link", "delete", kPairBridge}, std::nullopt, error))
            notes.push_back(std::string("the bridge ") + kPairBridge + " is left behind: " + error);
        pair_bridge = false;
    }

    // Whether the floating address is on `machine`'s eth0 (`ip -o addr show`, a few ms).
    bool holds_floating_address(unsigned machine) {
        const fs::path out = dir / "ip-addr.out";
        std::string error;
        try {
            Child tool = Child::spawn({find_program("ip").string(), "-n", machine_ns(machine), "-4",
                                       "-o", "addr", "show", "dev", "eth0"},
                                      options.work_dir / "tools.log", std::nullopt, out);
            if (!tool.wait_for(2s)) {
                tool.kill_now();
                return false;
            }
        } catch (const std::exception&) {
            return false;
        }
        std::ifstream in(out);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return text.find(std::string(" ") + kPairAddress + "/") != std::string::npos;
    }

    // HAProxy on haproxy.cfg as written by start_haproxy(); returns at once.
    void spawn_haproxy() {
        if (scenario.balancer.pair) {
            spawn_machine_haproxy(0);
            return;
        }
        const std::string log = haproxy_starts == 0
                                    ? "haproxy.log"
                                    : "haproxy.restart" + std::to_string(haproxy_starts) + ".log";
        haproxy =
            Child::spawn({options.haproxy, "-f", (dir / "haproxy.cfg").string(), "-db"}, dir / log);
        ++haproxy_starts;
        haproxy_exit_noted = false;
    }

    std::vector<Child*> children() {
        std::vector<Child*> out;
        for (Node& n : nodes)
            out.push_back(&n.process);
        out.push_back(&nolbd);
        out.push_back(&nolbd2);
        out.push_back(&haproxy);
        out.push_back(&haproxy2);
        out.push_back(&keepalived[0]);
        out.push_back(&keepalived[1]);
        out.push_back(&unbound);
        return out;
    }

    // ---- the run ------------------------------------------------------------------------

    // Notes a server that died on its own (not crashed or degraded by the lab).
    void check_exits() {
        const std::string at = begun ? " at " + seconds_text(since_origin()) : std::string();
        for (unsigned i = 0; i < nodes.size(); ++i) {
            Node& n = nodes[i];
            if (!n.process.started() || n.stopped_by_lab || n.exit_noted) continue;
            if (!n.process.poll()) continue;
            n.exit_noted = true;
            notes.push_back(node_site(i) + " exited unexpectedly" + at + " (" +
                            describe_status(*n.process.status()) +
                            "); its log: " + n.process.log().string());
        }
        auto check = [&](Child& c, bool& noted, const char* name) {
            if (!c.started() || noted || !c.poll()) return;
            noted = true;
            notes.push_back(std::string(name) + " exited unexpectedly" + at + " (" +
                            describe_status(*c.status()) + "); its log: " + c.log().string());
        };
        check(nolbd, nolbd_exit_noted, "nolbd");
        check(nolbd2, nolbd2_exit_noted, "nolbd (ns2)");
        check(haproxy, haproxy_exit_noted, "HAProxy");
        check(haproxy2, haproxy2_exit_noted, "HAProxy on lb2");
        check(keepalived[0], keepalived_exit_noted[0], "keepalived on lb1");
        check(keepalived[1], keepalived_exit_noted[1], "keepalived on lb2");
        check(unbound, unbound_exit_noted, "unbound");
    }

    // nolbd's query count from its control socket; nullopt (and a note) when unreadable.
    std::optional<std::uint64_t> nolbd_queries(const fs::path& socket) {
        std::string error;
        auto line = unix_exchange(socket, control::request_line(control::Verb::stats), true,
                                  kExchangeTimeout, error);
        if (line) {
            control::Reply reply = control::parse_reply(*line);
            const Json& q = reply.result;
            if (reply.ok && q.contains("queries") && q["queries"].contains("total") &&
                q["queries"]["total"].is_number_unsigned())
                return q["queries"]["total"].get<std::uint64_t>();
            error = reply.ok ? "no queries.total in the stats reply" : reply.error;
        }
        notes.push_back("cannot read nolbd's query count from " + socket.string() + ": " + error);
        return std::nullopt;
    }

    // Every nolbd instance's CPU and queries summed; nothing when one of them is down.
    Counters read_counters() {
        Counters c;
        std::vector<std::pair<Child*, fs::path>> instances = {{&nolbd, nolbd_socket}};
        if (nolbd2.started()) instances.emplace_back(&nolbd2, nolbd2_socket);
        bool all = true;
        double cpu = 0;
        std::uint64_t queries = 0;
        for (auto& [child, socket] : instances) {
            auto seconds = child->running() ? process_cpu_seconds(child->pid()) : std::nullopt;
            auto count = seconds ? nolbd_queries(socket) : std::nullopt;
            c.per_server.emplace_back(count ? child->pid() : -1, count);
            if (!seconds || !count) {
                all = false;
                continue;
            }
            cpu += *seconds;
            queries += *count;
            c.nolbd_pids.push_back(child->pid());
        }
        if (all) {
            c.nolbd_cpu = cpu;
            c.dns_queries = queries;
        }
        if (haproxy.running()) {
            c.haproxy_pid = haproxy.pid();
            c.haproxy_cpu = process_cpu_seconds(haproxy.pid());
            std::string error;
            if (auto stat = haproxy_stat(error)) c.lb_requests = stat->requests;
            if (!c.lb_requests)
                notes.push_back("cannot read HAProxy's request count from " +
                                haproxy_socket.string() + ": " + error);
        }
        return c;
    }

    void at_origin() {
        baseline = read_counters();
        sampler_queries_at_baseline = sampler.sent;
        if (model != Model::load_balancer) start_sampler();
        Timer& tick = add_timer(true, [this](Timer&) {
            sample_memory();
            if (model == Model::load_balancer) sample_haproxy();
        });
        tick.arm(kSampleEvery);
        sample_memory();
        if (model == Model::load_balancer) sample_haproxy();
    }

    // The servers HAProxy has in rotation; nothing while it is down (lb-crash).
    void sample_haproxy() {
        if (!haproxy.running() && !haproxy2.running()) return;
        std::string error;
        auto stat = haproxy_stat(error);
        if (!stat) return;
        published.push_back({since_origin(), haproxy_serving(*stat, scenario.nodes)});
    }

    // The largest resident size seen, and the peak so far, of nolbd's instances and HAProxy.
    void sample_memory() {
        auto read = [](std::initializer_list<Child*> children, std::uint64_t& rss,
                       std::uint64_t& hwm) {
            std::uint64_t rss_now = 0, hwm_now = 0;
            for (Child* c : children) {
                if (!c->running()) continue;
                if (auto m = process_memory(c->pid())) {
                    rss_now += m->rss_kb;
                    hwm_now += m->hwm_kb;
                }
            }
            rss = std::max(rss, rss_now);
            if (hwm_now > 0) hwm = std::max(hwm, hwm_now);
        };
        read({&nolbd, &nolbd2}, costs.nolbd_rss_kb, costs.nolbd_hwm_kb);
        read({&haproxy, &haproxy2}, costs.lb_rss_kb, costs.lb_hwm_kb);
    }

    void start_sampler() {
        sampler.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (sampler.fd < 0) {
            notes.push_back(std::string("no sampler of nolbd's answers: socket: ") +
                            std::strerror(errno));
            return;
        }
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(nolbd_port);
        ::inet_pton(AF_INET, nolbd_address.c_str(), &sin.sin_addr);
        if (::connect(sampler.fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0) {
            notes.push_back(std::string("no sampler of nolbd's answers: connect: ") +
                            std::strerror(errno));
            sampler.close();
            return;
        }
        sampler.readable = util::make_event(base, sampler.fd, EV_READ | EV_PERSIST,
                                            &Impl::on_sampler_readable, this);
        event_add(sampler.readable.get(), nullptr);
        Timer& tick = add_timer(true, [this](Timer&) { sample(); });
        tick.arm(kSampleEvery);
        sample();
    }

    void sample() {
        if (sampler.fd < 0) return;
        // A new ID per query: an answer that comes after the next query went out is stale.
        ++sampler.id;
        std::vector<std::uint8_t> query =
            dns_query(options.calibration ? kCalibrationName : kServiceName, sampler.id);
        if (::send(sampler.fd, query.data(), query.size(), 0) >= 0) ++sampler.sent;
    }

    static void on_sampler_readable(evutil_socket_t, short, void* arg) {
        static_cast<Impl*>(arg)->read_samples();
    }

    void read_samples() {
        std::uint8_t buffer[4096];
        for (int i = 0; i < 64; ++i) {
            ssize_t n = ::recv(sampler.fd, buffer, sizeof buffer, 0);
            if (n < 0) return;  // drained, or refused while nolbd is down
            auto addresses =
                dns_addresses(std::span(buffer, static_cast<std::size_t>(n)), sampler.id);
            if (!addresses) continue;
            PublishedSample s;
            s.at = since_origin();
            for (const std::string& a : *addresses)
                if (auto node = node_of_address(a, scenario))
                    s.nodes.push_back(static_cast<std::uint16_t>(*node));
            std::sort(s.nodes.begin(), s.nodes.end());
            s.nodes.erase(std::unique(s.nodes.begin(), s.nodes.end()), s.nodes.end());
            published.push_back(std::move(s));
        }
    }

    // ---- faults ---------------------------------------------------------------------------

    void record(AppliedFault f) {
        const bool blackhole_kind =
            f.fault.kind == FaultKind::blackhole || f.fault.kind == FaultKind::unblackhole;
        // Outside a namespace, one note says why no blackhole can be applied; see blackhole().
        if (!f.ok && !(blackhole_kind && !options.in_namespace))
            notes.push_back(std::string("fault ") + fault_name(f.fault.kind) +
                            (hits_server(f.fault.kind) ? "" : " on " + node_site(f.fault.node)) +
                            " at " + seconds_text(f.at) + " not applied: " + f.detail);
        faults.push_back(std::move(f));
    }

    void apply(const Fault& fault) {
        AppliedFault f;
        f.fault = fault;
        f.at = f.done = since_origin();
        if (hits_server(fault.kind)) {
            apply_to_server(std::move(f));
            return;
        }
        if (fault.node >= nodes.size()) {
            f.ok = false;
            f.detail = "there is no " + node_site(fault.node) + " in this scenario";
            record(std::move(f));
            return;
        }
        const unsigned i = fault.node;
        Node& n = nodes[i];
        switch (fault.kind) {
            case FaultKind::crash:
                if (!n.process.running() || n.process.poll()) {
                    f.ok = false;
                    f.detail = node_site(i) + " was not running";
                } else {
                    const pid_t pid = n.process.pid();
                    n.stopped_by_lab = true;
                    n.process.kill_now();
                    f.detail = "SIGKILL to pid " + std::to_string(pid);
                }
                break;
            case FaultKind::restart:
                restart(i, f);
                return;
            case FaultKind::http500:
            case FaultKind::slow:
            case FaultKind::hang:
            case FaultKind::close:
                post(i, std::string("/fail?mode=") + fault_name(fault.kind), f);
                break;
            case FaultKind::drain:
            case FaultKind::undrain:
                drain(i, fault.kind == FaultKind::drain, f);
                break;
            case FaultKind::recover:
                post(i, "/recover", f);
                break;
            case FaultKind::degrade:
                degrade(i, f);
                return;
            case FaultKind::blackhole:
            case FaultKind::unblackhole:
                blackhole(i, fault.kind == FaultKind::blackhole, f);
                break;
            case FaultKind::lb_crash:
            case FaultKind::lb_restart:
            case FaultKind::dns_crash:
            case FaultKind::dns_restart:
                break;  // apply_to_server
        }
        // Applying it took a moment (a POST, nft, a reload): the fault is in force from here.
        f.done = since_origin();
        record(std::move(f));
    }

    // lb-crash and lb-restart (HAProxy; a no-op but in the load-balancer model), dns-crash and
    // dns-restart (ns1's nolbd). A restart returns at once; a timer sees the server serve again.
    void apply_to_server(AppliedFault f) {
        const bool lb =
            f.fault.kind == FaultKind::lb_crash || f.fault.kind == FaultKind::lb_restart;
        const bool crash =
            f.fault.kind == FaultKind::lb_crash || f.fault.kind == FaultKind::dns_crash;
        if (lb && model != Model::load_balancer) {
            f.detail =
                std::string("no-op: the ") + model_name(*model) + " model has no load balancer";
            notes.push_back(std::string("fault ") + fault_name(f.fault.kind) + " at " +
                            seconds_text(f.at) + ": " + f.detail);
            faults.push_back(std::move(f));
            return;
        }
        if (lb && scenario.balancer.pair) {
            if (crash)
                machine_gone(std::move(f));
            else
                machine_back(std::move(f));
            return;
        }
        Child& child = lb ? haproxy : nolbd;
        const std::string who = lb ? "HAProxy" : "nolbd (ns1)";
        if (crash) {
            if (!child.running() || child.poll()) {
                f.ok = false;
                f.detail = who + " was not running";
            } else {
                const pid_t pid = child.pid();
                child.kill_now();
                (lb ? haproxy_exit_noted : nolbd_exit_noted) = true;  // no surprise
                f.detail = "SIGKILL to " + who + ", pid " + std::to_string(pid);
            }
            f.done = since_origin();
            record(std::move(f));
            return;
        }
        if (child.running() && !child.poll()) {
            f.ok = false;
            f.detail = who + " is already running";
            record(std::move(f));
            return;
        }
        try {
            if (lb)
                spawn_haproxy();
            else
                spawn_nolbd(*model, false);
        } catch (const std::exception& e) {
            f.ok = false;
            f.detail = e.what();
            record(std::move(f));
            return;
        }
        f.detail = "started again as pid " + std::to_string(child.pid());
        const std::size_t index = faults.size();
        record(std::move(f));
        const Clock::time_point spawned = Clock::now();
        add_timer(false, [this, lb, index, spawned](Timer& self) {
            if (!server_ready(lb, index, spawned)) self.arm(kRestartPollEvery);
        }).arm(kRestartPollEvery);
    }

    // lb-crash on a pair: lb1 goes away whole, as a machine that loses power: SIGKILL to its
    // HAProxy and its keepalived, and its link down, so that nothing of it answers on the
    // bridge. The fault is in force (`done`) once the floating address is on lb2.
    void machine_gone(AppliedFault f) {
        if (!haproxy.running() || haproxy.poll()) {
            f.ok = false;
            f.detail = "lb1 was not running";
            record(std::move(f));
            return;
        }
        const pid_t haproxy_pid = haproxy.pid();
        const pid_t keepalived_pid = keepalived[0].pid();
        haproxy.kill_now();
        keepalived[0].kill_now();
        haproxy_exit_noted = keepalived_exit_noted[0] = true;  // no surprise
        std::string error;
        const bool down = run_tool(
            {find_program("ip").string(), "-n", machine_ns(0), "link", "set", "eth0", "down"},
            std::nullopt, error);
        f.detail = "lb1 gone: SIGKILL to HAProxy (pid " + std::to_string(haproxy_pid) +
                   ") and keepalived (pid " + std::to_string(keepalived_pid) + ")" +
                   (down ? ", link down" : "; its link stays up: " + error);
        f.ok = down;
        const std::size_t index = faults.size();
        record(std::move(f));
        const Clock::time_point killed = Clock::now();
        add_timer(false, [this, index, killed](Timer& self) {
            if (!failed_over(index, killed)) self.arm(kFailoverPollEvery);
        }).arm(kFailoverPollEvery);
    }

    // One look at lb2: true when the floating address is there (or never will be).
    bool failed_over(std::size_t index, Clock::time_point killed) {
        if (index >= faults.size()) return true;
        const auto waited =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed);
        if (holds_floating_address(1)) {
            faults[index].done = since_origin();
            faults[index].detail +=
                "; the floating address was on lb2 after " + std::to_string(waited.count()) + " ms";
            return true;
        }
        if (waited >= kFailoverBound) {
            faults[index].ok = false;
            faults[index].detail += "; the floating address was not on lb2 within 10 s";
            notes.push_back(
                "fault lb-crash: keepalived on lb2 did not take the floating address "
                "within 10 s; its log: " +
                keepalived[1].log().string());
            return true;
        }
        return false;
    }

    // lb-restart on a pair: lb1 comes back as the standby (nopreempt): its link up, the
    // floating address it held when it died removed, its HAProxy and keepalived started.
    void machine_back(AppliedFault f) {
        if (haproxy.running() && !haproxy.poll()) {
            f.ok = false;
            f.detail = "lb1 is already running";
            record(std::move(f));
            return;
        }
        const std::string ip = find_program("ip").string();
        std::string error;
        // The address may be gone already (a missing address is not an error here).
        run_tool({ip, "-n", machine_ns(0), "addr", "del", std::string(kPairAddress) + "/24", "dev",
                  "eth0"},
                 std::nullopt, error);
        error.clear();
        if (!run_tool({ip, "-n", machine_ns(0), "link", "set", "eth0", "up"}, std::nullopt,
                      error)) {
            f.ok = false;
            f.detail = error;
            record(std::move(f));
            return;
        }
        try {
            spawn_machine_haproxy(0);
            spawn_keepalived(0);
        } catch (const std::exception& e) {
            f.ok = false;
            f.detail = e.what();
            record(std::move(f));
            return;
        }
        f.detail = "lb1 back: HAProxy pid " + std::to_string(haproxy.pid()) + ", keepalived pid " +
                   std::to_string(keepalived[0].pid()) + ", as the standby";
        record(std::move(f));
    }

    // One look at a restarted HAProxy (GET /stats through it) or nolbd (a lookup of the
    // service, answered); true when there is nothing more to wait for. `done` is when it served.
    bool server_ready(bool lb, std::size_t index, Clock::time_point spawned) {
        Child& child = lb ? haproxy : nolbd;
        const std::string who = lb ? "HAProxy" : "nolbd (ns1)";
        const auto waited =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - spawned);
        auto conclude = [&](bool ok, const std::string& more) {
            if (index >= faults.size()) return true;
            faults[index].ok = ok;
            faults[index].detail += more;
            if (ok) faults[index].done = since_origin();
            if (!ok)
                notes.push_back(std::string("fault ") + fault_name(faults[index].fault.kind) +
                                ": " + who + more);
            return true;
        };
        if (child.poll()) {
            (lb ? haproxy_exit_noted : nolbd_exit_noted) = true;
            return conclude(false, ": exited (" + describe_status(*child.status()) +
                                       ") while starting; its log: " + child.log().string());
        }
        const bool serving =
            lb ? http_exchange(balancer_address(scenario), options.http_port, "GET", "/stats",
                               kReadyProbeTimeout)
                         .status == 200
               : dns_lookup(nolbd_address, nolbd_port,
                            options.calibration ? kCalibrationName : kServiceName, 50ms, false)
                     .has_value();
        if (serving)
            return conclude(true, "; served after " + std::to_string(waited.count()) + " ms");
        if (waited >= kNolbdStartBound) return conclude(false, ": not serving within 10 s");
        return false;
    }

    // The service's node leaves nolbd's answers (nolbctl drain), or, for calibration's static
    // name, the records are written without it and nolbd reloads.
    void drain(unsigned i, bool drain, AppliedFault& f) {
        drained[i] = drain;
        std::string error;
        std::optional<std::string> line;
        if (options.calibration) {
            try {
                write_file(dir / "nolbd.toml",
                           render_nolbd_config(scenario, *model, nolbd_setup(*model)));
            } catch (const std::exception& e) {
                f.ok = false;
                f.detail = e.what();
                return;
            }
            line = unix_exchange(nolbd_socket, control::request_line(control::Verb::reload), true,
                                 kExchangeTimeout, error);
        } else {
            line = unix_exchange(
                nolbd_socket,
                control::request_line(drain ? control::Verb::drain : control::Verb::undrain,
                                      Json{{"node", node_site(i)}}),
                true, kExchangeTimeout, error);
        }
        if (!line) {
            f.ok = false;
            f.detail = "nolbd's control socket: " + error;
            return;
        }
        const control::Reply reply = control::parse_reply(*line);
        f.ok = reply.ok;
        f.detail = reply.ok
                       ? std::string(options.calibration ? "reloaded without "
                                                         : (drain ? "drained " : "undrained ")) +
                             node_site(i)
                       : "nolbd refused: " + reply.error;
        if (options.calibration && !drain) f.detail = "reloaded with " + node_site(i);
    }

    void post(unsigned i, const std::string& target, AppliedFault& f) {
        HttpReply reply = http_exchange(node_address(scenario, i), options.http_port, "POST",
                                        target, kExchangeTimeout);
        f.ok = reply.status == 200;
        f.detail =
            "POST " + target + ": " + (reply.status ? std::to_string(reply.status) : reply.error);
    }

    void restart(unsigned i, AppliedFault& f) {
        Node& n = nodes[i];
        if (n.process.running() && !n.process.poll()) {
            f.ok = false;
            f.detail = node_site(i) + " is already running";
            record(std::move(f));
            return;
        }
        try {
            spawn_node(i);
        } catch (const std::exception& e) {
            f.ok = false;
            f.detail = e.what();
            record(std::move(f));
            return;
        }
        f.detail = "started again as pid " + std::to_string(n.process.pid());
        const std::size_t index = faults.size();
        record(std::move(f));
        // Coming up takes a few milliseconds; waiting for it here would stall every client.
        const Clock::time_point spawned = Clock::now();
        add_timer(false, [this, i, index, spawned](Timer& self) {
            if (!restart_ready(i, index, spawned)) self.arm(kRestartPollEvery);
        }).arm(kRestartPollEvery);
    }

    // One look at a restarted node; true when there is nothing more to wait for.
    bool restart_ready(unsigned i, std::size_t index, Clock::time_point spawned) {
        Node& n = nodes[i];
        const auto waited =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - spawned);
        auto conclude = [&](bool ok, const std::string& more) {
            if (index >= faults.size()) return true;
            faults[index].ok = ok;
            faults[index].detail += more;
            if (!ok) notes.push_back("fault restart on " + node_site(i) + more);
            return true;
        };
        if (n.process.poll()) {
            n.exit_noted = true;
            return conclude(false, ": exited (" + describe_status(*n.process.status()) +
                                       ") while starting; its log: " + n.process.log().string());
        }
        if (node_healthy(i))
            return conclude(
                true, "; answered GET /health after " + std::to_string(waited.count()) + " ms");
        if (waited >= kNodeStartBound)
            return conclude(false, ": did not answer GET /health with 200 within 5 s");
        return false;
    }

    // One POST /malloc. Returns the reply's JSON (null when there is none) and its status.
    std::pair<int, Json> allocate(unsigned i, std::string& error) {
        HttpReply reply = http_exchange(node_address(scenario, i), options.http_port, "POST",
                                        "/malloc", kExchangeTimeout);
        if (!reply.status) error = reply.error;
        return {reply.status, parse_json(reply.body)};
    }

    void degrade(unsigned i, AppliedFault& f) {
        if (!nodes[i].process.running() || nodes[i].process.poll()) {
            f.ok = false;
            f.detail = node_site(i) + " was not running";
            record(std::move(f));
            return;
        }
        unsigned allocations = 0;
        bool degraded = false;
        std::string error;
        while (!degraded && allocations < kMaxAllocations) {
            auto [status, body] = allocate(i, error);
            if (status == 0) break;
            ++allocations;
            if (json_flag(body, "out_of_memory")) {
                error = "ran out of memory before it degraded";
                nodes[i].stopped_by_lab = true;
                break;
            }
            if (status != 200) {
                error = "POST /malloc answered " + std::to_string(status);
                break;
            }
            degraded = json_flag(body, "degraded");
        }
        if (!degraded) {
            f.ok = false;
            f.detail = "not degraded after " + std::to_string(allocations) +
                       " allocations: " + (error.empty() ? "no \"degraded\": true" : error);
            record(std::move(f));
            return;
        }
        f.detail = "degraded after " + std::to_string(allocations) + " allocations";
        const std::size_t index = faults.size();
        record(std::move(f));
        add_timer(false, [this, i, index](Timer&) {
            push_over(i, index);
        }).arm(std::chrono::duration_cast<Clock::duration>(faults[index].fault.hold));
    }

    // After the hold: allocate until the node runs out of memory, then wait for its exit.
    void push_over(unsigned i, std::size_t index) {
        if (index >= faults.size()) return;
        AppliedFault& f = faults[index];
        Node& n = nodes[i];
        auto fail = [&](const std::string& why) {
            f.ok = false;
            f.detail += "; " + why;
            notes.push_back("fault degrade on " + node_site(i) + ": " + why);
        };
        if (!n.process.running() || n.process.poll()) {
            fail("the node was gone before the hold ended");
            return;
        }
        unsigned more = 0;
        bool dying = false;
        std::string error;
        while (!dying && more < kMaxAllocations) {
            auto [status, body] = allocate(i, error);
            if (status == 0) break;
            ++more;
            dying = json_flag(body, "out_of_memory");
        }
        if (!dying) {
            fail("did not run out of memory after " + std::to_string(more) + " more allocations" +
                 (error.empty() ? "" : ": " + error));
            return;
        }
        n.stopped_by_lab = true;
        f.detail += "; out of memory after " + std::to_string(more) + " more allocations";
        const Clock::time_point pushed = Clock::now();
        add_timer(false, [this, i, index, pushed](Timer& self) {
            if (!exited(i, index, pushed)) self.arm(kExitPollEvery);
        }).arm(kExitPollEvery);
    }

    bool exited(unsigned i, std::size_t index, Clock::time_point pushed) {
        if (index >= faults.size()) return true;
        AppliedFault& f = faults[index];
        Child& c = nodes[i].process;
        if (c.poll()) {
            f.done = since_origin();
            const int status = *c.status();
            f.detail += ", then exited (" + describe_status(status) + ")";
            if (!WIFEXITED(status) || WEXITSTATUS(status) != kOutOfMemoryStatus) {
                f.ok = false;
                notes.push_back("fault degrade on " + node_site(i) + ": the node ended with " +
                                describe_status(status) + ", not exit status 3");
            }
            return true;
        }
        if (Clock::now() - pushed >= kExitBound) {
            f.ok = false;
            f.detail += ", but had not exited 3 s later";
            notes.push_back("fault degrade on " + node_site(i) +
                            ": out of memory, but the process had not exited 3 s later");
            return true;
        }
        return false;
    }

    void blackhole(unsigned i, bool add, AppliedFault& f) {
        if (!options.in_namespace) {
            f.ok = false;
            f.detail = kBlackholeNeedsRoot;
            if (!blackhole_noted) notes.push_back(kBlackholeNeedsRoot);
            blackhole_noted = true;
            return;
        }
        std::string error;
        if (!nft_table) {
            if (!run_nft(nft_create_table(), error)) {
                f.ok = false;
                f.detail = "cannot create the nftables table: " + error;
                return;
            }
            nft_table = true;
        }
        f.ok = run_nft(nft_blackhole(node_address(scenario, i), add), error);
        f.detail = f.ok ? std::string(add ? "packets to " : "no longer dropping packets to ") +
                              node_address(scenario, i) + (add ? " dropped" : "")
                        : error;
    }

    // `nft -f -` with the script on stdin; a few milliseconds.
    // `nft -f -` with the script on stdin, where the nodes are; a few milliseconds.
    bool run_nft(const std::string& script, std::string& error) {
        return run_tool(in_server_namespace({find_program("nft").string(), "-f", "-"}), script,
                        error);
    }

    // A short command of the system's (nft, ip), bounded to 2 s.
    bool run_tool(const std::vector<std::string>& argv, const std::optional<std::string>& input,
                  std::string& error) {
        const fs::path log = options.work_dir / "tools.log";
        const std::string name = fs::path(argv.front()).filename().string();
        try {
            Child tool = Child::spawn(argv, log, input);
            if (!tool.wait_for(2s)) {
                tool.kill_now();
                error = name + " did not finish within 2 s";
                return false;
            }
            if (*tool.status() != 0) {
                std::string command;
                for (const std::string& a : argv)
                    command += (command.empty() ? "" : " ") + a;
                error = command + " failed (" + describe_status(*tool.status()) +
                        "): " + log_tail(log, 5);
                return false;
            }
        } catch (const std::exception& e) {
            error = e.what();
            return false;
        }
        return true;
    }

    // The command run in the nodes' namespace when the network is routed.
    std::vector<std::string> in_server_namespace(std::vector<std::string> argv) const {
        return server_ns.empty() ? argv : in_namespace(server_ns, std::move(argv));
    }

    // A routed network: the nodes' namespace, a veth link to it, the clients' side with an IPv6
    // address of its own, each node's address on the far side (the local node's in the clients'
    // subnet, the others on its loopback), and the route there. Made once, for every model.
    void build_routed_network() {
        if (!server_ns.empty()) return;
        if (!options.in_namespace || options.namespace_name.empty())
            throw std::runtime_error(
                "network = \"routed\" needs a network namespace of nolb-compare's own: run it "
                "as root");
        const std::string ns = options.namespace_name + "-s";
        const std::string ip = find_program("ip").string();
        std::string error;
        auto must = [&](std::vector<std::string> argv) {
            argv.insert(argv.begin(), ip);
            if (!run_tool(argv, std::nullopt, error))
                throw std::runtime_error("cannot build the routed network: " + error);
        };
        must({"netns", "add", ns});
        server_ns = ns;  // from here on, the destructor removes it
        must({"-n", ns, "link", "set", "lo", "up"});
        must({"link", "add", "nolbc", "type", "veth", "peer", "name", "nolbs", "netns", ns});
        must({"addr", "add", "10.99.0.1/24", "dev", "nolbc"});
        must({"-6", "addr", "add", "fd99::1/64", "dev", "nolbc", "nodad"});
        must({"link", "set", "nolbc", "up"});
        must({"-n", ns, "addr", "add", "10.99.0.254/24", "dev", "nolbs"});
        must({"-n", ns, "link", "set", "nolbs", "up"});
        for (unsigned i = 0; i < scenario.nodes; ++i) {
            const bool local = scenario.local_node == i;
            must({"-n", ns, "addr", "add", node_address(scenario, i) + (local ? "/24" : "/32"),
                  "dev", local ? "nolbs" : "lo"});
        }
        must({"route", "add", "default", "via", "10.99.0.254"});
    }

    void remove_routed_network() {
        if (server_ns.empty()) return;
        std::string error;
        if (!run_tool({find_program("ip").string(), "netns", "delete", server_ns}, std::nullopt,
                      error))
            notes.push_back("the nodes' namespace " + server_ns + " is left behind: " + error);
        server_ns.clear();
    }

    // ---- start and stop -------------------------------------------------------------------

    void start(Model m) {
        stop();
        model = m;
        faults.clear();
        published.clear();
        notes.clear();
        costs = {};
        baseline.reset();
        begun = ended = false;
        blackhole_noted = false;
        sampler.id = 0;
        sampler.sent = 0;

        // Absolute: HAProxy reads a stats socket path without a leading slash as host:port.
        dir = fs::absolute(options.work_dir / model_name(m)).lexically_normal();
        fs::create_directories(dir);
        nolbd_socket = dir / "nolbd.sock";
        nolbd2_socket = dir / "nolbd2.sock";
        haproxy_socket = dir / "haproxy.sock";
        haproxy2_socket = dir / "haproxy2.sock";
        for (const fs::path& p : {nolbd_socket, nolbd2_socket, haproxy_socket, haproxy2_socket})
            if (p.string().size() > kMaxSocketPath)
                throw std::runtime_error("the socket path " + p.string() +
                                         " is too long for a Unix socket (at most 107 octets): "
                                         "use a shorter work folder");
        if (scenario.nodes == 0 || scenario.nodes > 200)
            throw std::runtime_error("a scenario needs 1 to 200 nodes, not " +
                                     std::to_string(scenario.nodes));

        // The address clients ask (resolv.conf's in a namespace) belongs to the delay relay,
        // else to the resolver, else to nolbd; what stands behind moves to 127.0.0.2 (nolbd)
        // and 127.0.0.3 (the resolver).
        const bool resolver = scenario.resolver.kind == ResolverKind::unbound;
        const bool relay = scenario.resolver.delay.count() > 0;
        if (relay && !options.in_namespace)
            throw std::runtime_error(
                "[resolver] delay needs the lab's own network namespace: run nolb-compare as "
                "root");
        nolbd_address = (resolver || relay) && options.in_namespace ? "127.0.0.2" : "127.0.0.1";
        nolbd_port = options.dns_port;
        resolver_address = relay ? "127.0.0.3" : "127.0.0.1";
        resolver_port = options.in_namespace ? options.dns_port : options.resolver_port;
        drained.assign(scenario.nodes, false);

        if (scenario.network == Network::routed) build_routed_network();
        start_sites();
        nodes.clear();
        nodes.resize(scenario.nodes);
        for (unsigned i = 0; i < scenario.nodes; ++i)
            spawn_node(i);
        for (unsigned i = 0; i < scenario.nodes; ++i)
            wait_node_ready(i);
        start_nolbd(m);
        if (resolver) start_unbound();
        if (relay) start_dns_delay(resolver);
        if (m == Model::load_balancer) start_haproxy();
    }

    void stop_run() {
        timers.clear();
        sampler.close();
    }

    // ---- sites ----------------------------------------------------------------------------

    // The delay first, then the rules that feed it, so that no packet waits for a reader.
    void start_sites() {
        if (!has_distance(scenario)) return;
        if (!options.in_namespace) {
            notes.push_back(kSitesNeedRoot);
            return;
        }
        if (!site_delay) {
            std::vector<HeldQueue> queues;
            for (std::size_t i = 0; i < scenario.sites.size(); ++i)
                if (scenario.sites[i].rtt.count() > 0)
                    queues.push_back({site_queue(i), scenario.sites[i].rtt / 2});
            try {
                site_delay = std::make_unique<SiteDelay>(std::move(queues));
            } catch (const std::exception& e) {
                throw std::runtime_error(std::string("cannot hold the sites' packets: ") +
                                         e.what());
            }
        }
        if (!site_rules_in) {
            std::string error;
            if (!run_iptables(site_rules(scenario), error))
                throw std::runtime_error("cannot add the sites' iptables rules: " + error);
            site_rules_in = true;
        }
        site_counts_at_start = site_delay->counts();
    }

    // What the running model's packets met: a full hold, or a delay that gave up.
    void note_sites() {
        if (!site_delay) return;
        const SiteDelayCounts now = site_delay->counts();
        const std::uint64_t early = now.released_early - site_counts_at_start.released_early;
        if (early > 0)
            notes.push_back(
                std::to_string(early) +
                " packets of the sites' nodes were let go before their time: the hold (" +
                std::to_string(SiteDelay::kHoldLimit) + " packets) was full");
        if (!now.failure.empty() && now.failure != site_counts_at_start.failure)
            notes.push_back("the sites' delay stopped (" + now.failure +
                            "): later packets passed without it");
        site_counts_at_start = now;
    }

    void stop_sites() {
        if (site_rules_in) {
            std::string error;
            if (!run_iptables(site_rules_removal(scenario), error))
                notes.push_back("the sites' iptables rules are left in the lab's namespace: " +
                                error);
            site_rules_in = false;
        }
        site_delay.reset();
    }

    // `iptables-restore --noflush` with the script on stdin, in the clients' namespace (where
    // the delay reads its queues); a few milliseconds.
    bool run_iptables(const std::string& script, std::string& error) {
        return run_tool({find_program("iptables-restore").string(), "--noflush"}, script, error);
    }

    void stop() {
        stop_run();
        check_exits();
        std::vector<Child*> running;
        for (Child* c : children())
            if (c->running()) running.push_back(c);
        stop_all(running, kStopGrace);
        for (Child* c : running) {
            if (!c->status()) continue;
            const int status = *c->status();
            // HAProxy ends by the signal itself; the others exit 0.
            const bool clean = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
                               ((c == &haproxy || c == &haproxy2) && WIFSIGNALED(status) &&
                                WTERMSIG(status) == SIGTERM);
            if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
                notes.push_back(c->log().string() +
                                ": the process did not stop on SIGTERM within 2 s and was killed");
            else if (!clean)
                notes.push_back(c->log().string() + ": the process ended (" +
                                describe_status(status) + ") when stopped");
        }
        nodes.clear();
        dns_delay.reset();
        nolbd = Child();
        nolbd2 = Child();
        haproxy = Child();
        haproxy2 = Child();
        keepalived[0] = Child();
        keepalived[1] = Child();
        unbound = Child();
        model.reset();
    }

    ~Impl() {
        stop();
        stop_sites();
        if (nft_table) {
            std::string error;
            run_nft(nft_delete_table(), error);
        }
        remove_routed_network();
        remove_pair_network();
    }
};

Lab::Lab(event_base* base, const Scenario& scenario, LabOptions options)
    : impl_(std::make_unique<Impl>(base, scenario, std::move(options))) {}

Lab::~Lab() = default;

void Lab::start(Model model) {
    try {
        impl_->start(model);
    } catch (...) {
        impl_->stop();
        throw;
    }
}

void Lab::stop() {
    impl_->stop();
}

Target Lab::target() const {
    const Impl& lab = *impl_;
    Target t;
    t.name = lab.model == Model::load_balancer ? kBalancerName
             : lab.options.calibration         ? kCalibrationName
                                               : kServiceName;
    const bool resolver = lab.scenario.resolver.kind == ResolverKind::unbound;
    if (lab.dns_delay) {
        t.dns.address = *util::IpAddress::parse("127.0.0.1");
        t.dns.port = lab.options.dns_port;
    } else {
        t.dns.address =
            *util::IpAddress::parse(resolver ? lab.resolver_address : lab.nolbd_address);
        t.dns.port = resolver ? lab.resolver_port : lab.nolbd_port;
    }
    t.port = impl_->options.http_port;
    for (unsigned i = 0; i < impl_->scenario.nodes; ++i) {
        t.node_sites.push_back(node_site(i));
        t.node_addresses.push_back(node_address(impl_->scenario, i));
    }
    t.system_resolver = lab.options.in_namespace && lab.options.dns_port == 53;
    return t;
}

void Lab::begin(Clock::time_point origin) {
    Impl& lab = *impl_;
    if (!lab.model || lab.begun) return;
    lab.begun = true;
    lab.origin = origin;
    const auto until_origin = origin - Clock::now();
    lab.add_timer(false, [&lab](Timer&) { lab.at_origin(); }).arm(until_origin);
    for (const Fault& fault : lab.scenario.faults)
        lab.add_timer(false, [&lab, fault](Timer&) { lab.apply(fault); })
            .arm(until_origin + std::chrono::duration_cast<Clock::duration>(fault.at));
    lab.add_timer(true, [&lab](Timer&) { lab.check_exits(); }).arm(kWatchEvery);
}

void Lab::end() {
    Impl& lab = *impl_;
    if (!lab.begun || lab.ended) return;
    lab.ended = true;
    if (lab.baseline) lab.sample_memory();  // VmHWM as the run ends
    lab.stop_run();
    lab.check_exits();
    lab.note_sites();
    if (!lab.baseline) return;
    const Counters before = *lab.baseline;
    const Counters after = lab.read_counters();
    Costs& c = lab.costs;
    // A server killed (and perhaps started again) during the run has no cost over the whole
    // run: its counters are left at zero, and a note says so.
    const bool same_nolbd = before.nolbd_pids == after.nolbd_pids && before.nolbd_cpu &&
                            after.nolbd_cpu && before.dns_queries && after.dns_queries;
    const bool same_haproxy = before.haproxy_pid == after.haproxy_pid;
    if (!same_nolbd && before.nolbd_cpu)
        lab.notes.push_back(
            "nolbd's CPU and queries are not counted: it was not the same "
            "process (or not running) at the start and the end of the run");
    if (!same_haproxy && before.haproxy_cpu)
        lab.notes.push_back(
            "HAProxy's CPU and requests are not counted: it was not the same "
            "process (or not running) at the start and the end of the run");
    if (same_nolbd) c.nolbd_cpu_s = *after.nolbd_cpu - *before.nolbd_cpu;
    if (same_haproxy && before.haproxy_cpu && after.haproxy_cpu)
        c.lb_cpu_s = *after.haproxy_cpu - *before.haproxy_cpu;
    if (same_nolbd && *after.dns_queries >= *before.dns_queries) {
        const std::uint64_t all = *after.dns_queries - *before.dns_queries;
        const std::uint64_t own = lab.sampler.sent - lab.sampler_queries_at_baseline;
        c.dns_queries = all > own ? all - own : 0;
    }
    for (std::size_t i = 0; i < after.per_server.size(); ++i) {
        std::optional<std::uint64_t> queries;
        if (i < before.per_server.size() && before.per_server[i].second &&
            after.per_server[i].second && before.per_server[i].first == after.per_server[i].first &&
            *after.per_server[i].second >= *before.per_server[i].second) {
            queries = *after.per_server[i].second - *before.per_server[i].second;
            // The lab's own sampler asks ns1.
            const std::uint64_t own = lab.sampler.sent - lab.sampler_queries_at_baseline;
            if (i == 0) *queries = *queries > own ? *queries - own : 0;
        }
        c.dns_queries_by_server.push_back(queries);
    }
    if (same_haproxy && before.lb_requests && after.lb_requests &&
        *after.lb_requests >= *before.lb_requests)
        c.lb_requests = *after.lb_requests - *before.lb_requests;
}

std::vector<AppliedFault> Lab::take_faults() {
    return std::exchange(impl_->faults, {});
}

std::vector<PublishedSample> Lab::take_published() {
    return std::exchange(impl_->published, {});
}

Costs Lab::costs() const {
    return impl_->costs;
}

std::vector<std::string> Lab::notes() const {
    return impl_->notes;
}

}  // namespace nolb::compare
