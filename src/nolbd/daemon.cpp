// The daemon's life: load, bind, probe once, publish, serve, and on SIGHUP or `nolbctl reload`
// load again. A file that fails is reported and the running configuration keeps serving.
#include "nolbd/daemon.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>

#include "control/metrics.hpp"
#include "control/server.hpp"
#include "nolbd/daemon_state.hpp"
#include "nolbd/dns_handler.hpp"
#include "nolbd/server_settings.hpp"
#include "util/log.hpp"
#include "util/notify.hpp"
#include "zone/compile.hpp"

namespace nolb::nolbd {
namespace {

void print_problems(const config::Error& error) {
    if (error.problems().empty()) {
        std::cerr << error.what() << '\n';
        return;
    }
    for (const auto& problem : error.problems())
        std::cerr << problem << '\n';
}

void apply_log_level(const Options& options, const config::Server& server) {
    log::Level level = log::Level::info;
    if (options.log_level)
        level = *options.log_level;
    else if (!log::parse_level(server.log_level, level))
        level = log::Level::info;
    log::set_level(level);
}

std::string join(const std::vector<util::Endpoint>& endpoints) {
    std::string text;
    for (const auto& endpoint : endpoints) {
        if (!text.empty()) text += ',';
        text += endpoint.to_string();
    }
    return text;
}

// Settings a running server::Server was built from; a reload cannot change them.
std::string restart_only_changes(const config::Config& running, const config::Config& next) {
    std::string changed;
    auto note = [&changed](bool differs, const char* key) {
        if (!differs) return;
        if (!changed.empty()) changed += ',';
        changed += key;
    };
    note(running.server.listen != next.server.listen, "server.listen");
    note(running.server.workers != next.server.workers, "server.workers");
    note(running.server.tcp_idle_timeout != next.server.tcp_idle_timeout,
         "server.tcp_idle_timeout");
    note(running.server.tcp_io_timeout != next.server.tcp_io_timeout, "server.tcp_io_timeout");
    note(running.server.tcp_max_connections != next.server.tcp_max_connections,
         "server.tcp_max_connections");
    note(running.server.tcp_max_per_client != next.server.tcp_max_per_client,
         "server.tcp_max_per_client");
    note(running.server.user != next.server.user || running.server.group != next.server.group,
         "server.user");
    note(running.rrl != next.rrl, "rrl");
    note(running.control.socket != next.control.socket || running.control.mode != next.control.mode,
         "control.socket");
    note(running.control.state_file != next.control.state_file, "control.state_file");
    note(running.metrics.listen != next.metrics.listen, "metrics.listen");
    return changed;
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

std::string milliseconds_text(double ms) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", ms);
    return text;
}

// The STATUS= line `systemctl status` shows while nolbd answers.
std::string serving_status(const config::Config& config, std::uint64_t generation) {
    return "answering: zones " + std::to_string(config.zones.size()) + ", services " +
           std::to_string(config.services.size()) + ", generation " + std::to_string(generation);
}

}  // namespace

Loaded load(const std::string& path) {
    const auto started = std::chrono::steady_clock::now();
    Loaded loaded;
    loaded.config = config::load(path);
    const double config_ms = milliseconds_since(started);
    const auto zones_started = std::chrono::steady_clock::now();
    loaded.model = zone::load(loaded.config);
    log::debug("loaded", {{"config", path},
                          {"config_ms", milliseconds_text(config_ms)},
                          {"zones_ms", milliseconds_text(milliseconds_since(zones_started))},
                          {"services", loaded.config.services.size()}});
    return loaded;
}

Daemon::Daemon(const Options& options, Loaded loaded, PrivilegePlan privileges)
    : options_(options),
      loaded_(std::move(loaded)),
      privileges_(std::move(privileges)),
      base_(util::make_event_base()),
      monitor_(base_.get()),
      published_(nullptr),
      started_(std::chrono::steady_clock::now()) {
    for (int signal : {SIGINT, SIGTERM})
        signals_.push_back(util::make_signal_event(base_.get(), signal, &Daemon::on_stop, this));
    signals_.push_back(util::make_signal_event(base_.get(), SIGHUP, &Daemon::on_reload, this));
    for (auto& event : signals_)
        event_add(event.get(), nullptr);

    if (!loaded_.config.control.state_file.empty())
        drains_ = read_drains(loaded_.config.control.state_file);
    adopt_loaded();
    monitor_.configure(loaded_.config);
    monitor_.on_change([this] { republish("health", false); });
    monitor_.on_transition([this](const health::Transition& t) { on_transition(t); });
    // Before the first probe round every address is unknown; this snapshot is never served
    // (workers start after the round) but readers need one to exist.
    republish("startup", true);
}

Daemon::~Daemon() = default;

int Daemon::serve() {
    const config::Config& config = loaded_.config;
    server_ = std::make_unique<server::Server>(server_settings(config), [this](unsigned) {
        auto handler = std::make_unique<DnsHandler>(published_);
        std::lock_guard lock(handlers_mutex_);
        handler_counters_.push_back(&handler->counters());
        return handler;
    });
    try {
        server_->open();
        if (!config.control.socket.empty()) {
            control_ = std::make_unique<control::Server>(base_.get(), config.control, *this);
            control_->open();
        }
        if (config.metrics.listen) {
            metrics_ = std::make_unique<control::MetricsServer>(base_.get(), *config.metrics.listen,
                                                                *this);
            metrics_->open();
        }
    } catch (const std::exception& e) {
        log::error(e.what());
        return kExitFailure;
    }
    // Every socket is open: nothing below needs root, and probes and queries are untrusted.
    if (!drop_privileges_now()) return kExitFailure;
    util::notify_status("probing every address once before answering");

    // Probe every address once, then answer: the first answer already reflects health.
    bool started = false;
    std::string start_error;
    monitor_.start([&] {
        republish("first probe round", true);
        try {
            server_->start();
        } catch (const std::exception& e) {
            start_error = e.what();
            event_base_loopbreak(base_.get());
            return;
        }
        started = true;
        log::info("ready", {{"listen", join(server_->endpoints())},
                            {"zones", config.zones.size()},
                            {"services", config.services.size()},
                            {"workers", server_->workers()},
                            {"generation", generation_}});
        util::notify_ready(serving_status(config, generation_));
    });
    event_base_dispatch(base_.get());
    if (!start_error.empty()) {
        log::error(start_error);
        return kExitFailure;
    }
    util::notify_stopping("stopping");
    log::info("stopping");
    if (started) server_->stop();
    log::info("stopped");
    return kExitOk;
}

bool Daemon::drop_privileges_now() {
    const PrivilegePlan& plan = privileges_;
    const bool switching = plan.action == PrivilegePlan::Action::switch_user;
    try {
        // Owned by the user, the socket's mode says who else may connect, and nolbd can
        // still remove it at stop.
        if (switching && control_) control_->set_owner(plan.uid, plan.gid);
        drop_privileges(plan);
    } catch (const std::exception& e) {
        log::error("cannot give up root", {{"user", plan.user}, {"error", e.what()}});
        return false;
    }
    if (switching)
        log::info("running as", {{"user", plan.user}, {"uid", plan.uid}, {"gid", plan.gid}});
    else if (plan.action == PrivilegePlan::Action::keep_root)
        log::warning("running as root, as server.user says; an unprivileged user is safer",
                     {{"config", options_.config_path}});
    else if (!plan.ignored.empty())
        log::warning("not started as root: cannot switch user; ignored",
                     {{"settings", plan.ignored}, {"uid", geteuid()}});

    // Drains are saved as a new file renamed over the old one: the folder must be writable by
    // the user nolbd now is, or every drain would fail to persist, unnoticed until a restart.
    const std::string& state_file = loaded_.config.control.state_file;
    if (switching && !state_file.empty()) {
        std::string folder = std::filesystem::path(state_file).parent_path().string();
        if (folder.empty()) folder = ".";
        if (access(folder.c_str(), W_OK | X_OK) != 0) {
            log::error(
                "control.state_file: its folder is not writable by the user nolbd runs "
                "as; make it so (the systemd unit's StateDirectory= does)",
                {{"file", state_file}, {"folder", folder}, {"user", plan.user}});
            return false;
        }
    }
    return true;
}

void Daemon::on_stop(evutil_socket_t, short, void* self) {
    event_base_loopbreak(static_cast<Daemon*>(self)->base_.get());
}

void Daemon::on_reload(evutil_socket_t, short, void* self) {
    static_cast<Daemon*>(self)->reload();
}

control::Json Daemon::reload() {
    log::info("reloading", {{"config", options_.config_path}});
    util::notify_reloading("reloading " + options_.config_path);
    Loaded next;
    std::vector<std::string> problems;
    try {
        next = load(options_.config_path);
    } catch (const config::Error& e) {
        problems = e.problems();
        if (problems.empty()) problems.push_back(e.what());
    } catch (const std::exception& e) {
        problems.push_back(options_.config_path + ": " + e.what());
    }
    if (!problems.empty()) {
        for (const auto& problem : problems)
            log::error("reload rejected", {{"problem", problem}});
        util::notify_ready("reload rejected (" + std::to_string(problems.size()) + " problems); " +
                           serving_status(loaded_.config, generation_));
        return {{"reloaded", false}, {"problems", problems}};
    }
    const std::string changed = restart_only_changes(loaded_.config, next.config);
    if (!changed.empty())
        log::warning("some settings take effect only after a restart", {{"settings", changed}});
    loaded_ = std::move(next);
    adopt_loaded();
    monitor_.configure(loaded_.config);
    republish("reload", true);
    apply_log_level(options_, loaded_.config.server);
    log::info("reloaded", {{"zones", loaded_.config.zones.size()},
                           {"services", loaded_.config.services.size()},
                           {"generation", generation_}});
    util::notify_ready(serving_status(loaded_.config, generation_));
    return {{"reloaded", true}, {"problems", control::Json::array()}};
}

std::string Daemon::address_key(const health::AddressState& s) const {
    return s.service_name + "/" + s.node_name + "/" + s.published.to_string();
}

void Daemon::adopt_loaded() {
    compiler_ = std::make_unique<zone::Compiler>(loaded_.model);
    service_index_.clear();
    for (std::size_t si = 0; si < loaded_.config.services.size(); ++si)
        service_index_.emplace(loaded_.config.services[si].name, si);
    replan_all_ = true;
}

void Daemon::mark_drain_changes() {
    if (drains_.nodes == planned_drains_.nodes) return;
    std::vector<std::string> changed;
    std::set_symmetric_difference(drains_.nodes.begin(), drains_.nodes.end(),
                                  planned_drains_.nodes.begin(), planned_drains_.nodes.end(),
                                  std::back_inserter(changed));
    const auto& services = loaded_.config.services;
    for (const std::string& drain : changed) {
        // "www.demo.test./london" names one service; "london" every service with that node.
        if (const std::size_t slash = drain.rfind('/'); slash != std::string::npos) {
            auto it = service_index_.find(drain.substr(0, slash));
            if (it != service_index_.end()) dirty_.push_back(it->second);
            continue;
        }
        for (std::size_t si = 0; si < services.size(); ++si)
            for (const config::Node& n : services[si].nodes)
                if (n.name == drain) dirty_.push_back(si);
    }
}

void Daemon::republish(const char* why, bool force) {
    const auto started = std::chrono::steady_clock::now();
    const auto& states = monitor_.states();
    std::vector<std::size_t> planned;  // the services planned again
    if (force || replan_all_) {
        health::plan(loaded_.config, states, drains_, plan_);
        planned.resize(plan_.size());
        for (std::size_t si = 0; si < planned.size(); ++si)
            planned[si] = si;
    } else {
        mark_drain_changes();
        std::sort(dirty_.begin(), dirty_.end());
        dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
        planned.swap(dirty_);
        health::replan(loaded_.config, states, drains_, planned, plan_);
    }
    dirty_.clear();
    replan_all_ = false;
    planned_drains_ = drains_;

    // The rows that change, remembering when addresses leave the answers, for drain's "safe
    // to stop" time.
    const auto now = health::Clock::now();
    std::vector<std::size_t> changed;
    available_.resize(plan_.size());
    for (std::size_t si : planned) {
        const health::ServicePlan& p = plan_[si];
        std::vector<bool>& row = available_[si];
        bool differs = row.size() != p.addresses.size();
        for (std::size_t ai = 0; ai < p.addresses.size(); ++ai) {
            const bool was = ai < row.size() && row[ai];
            const bool is = p.addresses[ai].published;
            if (was == is) continue;
            differs = true;
            if (was && p.first + ai < states.size())
                left_at_[address_key(states[p.first + ai])] = now;
        }
        if (!differs) continue;
        row.resize(p.addresses.size());
        for (std::size_t ai = 0; ai < p.addresses.size(); ++ai)
            row[ai] = p.addresses[ai].published;
        changed.push_back(si);
    }
    if (!force && changed.empty()) return;
    serials_ = zone::next_serials(compiler_->model(), serials_);
    published_.publish(compiler_->render(available_, serials_, changed));
    ++generation_;
    const double ms = milliseconds_since(started);
    const zone::Compiler::Work& work = compiler_->last_work();
    if (work.full) {
        publish_times_.full_ms = ms;
    } else if (!force) {
        publish_times_.last_ms = ms;
        publish_times_.max_ms = std::max(publish_times_.max_ms, ms);
        ++publish_times_.changes;
    }
    log::info("published", {{"generation", generation_}, {"why", why}});
    log::debug("publish work", {{"generation", generation_},
                                {"ms", milliseconds_text(ms)},
                                {"whole", work.full ? "yes" : "no"},
                                {"services", work.services},
                                {"names", work.nodes},
                                {"referrals", work.referrals},
                                {"packed", work.packed ? "yes" : "no"}});
}

void Daemon::on_transition(const health::Transition& t) {
    // The change callback that follows plans this service again.
    auto service = service_index_.find(t.service_name);
    if (service != service_index_.end())
        dirty_.push_back(service->second);
    else
        replan_all_ = true;
    control::Json event = {{"event", "transition"},
                           {"at", std::chrono::duration<double>(t.at.time_since_epoch()).count()},
                           {"service", t.service_name},
                           {"node", t.node_name},
                           {"address", t.published.to_string()},
                           {"from", health::observed_name(t.from)},
                           {"to", health::observed_name(t.to)},
                           {"reason", t.reason}};
    // A listener may unwatch from inside its call: iterate over a copy of the ids.
    std::vector<int> ids;
    for (const auto& [id, fn] : watchers_)
        ids.push_back(id);
    for (int id : ids) {
        auto it = watchers_.find(id);
        if (it != watchers_.end()) it->second(event);
    }
}

answer::Totals Daemon::query_totals() const {
    answer::Totals totals;
    std::lock_guard lock(handlers_mutex_);
    for (const answer::Counters* c : handler_counters_)
        totals.add(c->read());
    return totals;
}

int check_config(const std::string& path) {
    try {
        const Loaded loaded = load(path);
        zone::compile(*loaded.model, {}, zone::next_serials(*loaded.model, {}));
    } catch (const config::Error& e) {
        print_problems(e);
        return kExitConfigError;
    } catch (const std::exception& e) {
        std::cerr << path << ": " << e.what() << '\n';
        return kExitConfigError;
    }
    std::cout << path << ": ok\n";
    return kExitOk;
}

// Probes and TCP clients each hold a descriptor; the soft limit (often 1024) is a default for
// interactive programs, not for a server. Raise it to the hard limit.
static void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
        log::warning("cannot raise the open-file limit", {{"limit", limit.rlim_max}});
}

int run(const Options& options, const std::optional<UserOverride>& user) {
    log::set_program("nolbd");
    signal(SIGPIPE, SIG_IGN);
    raise_descriptor_limit();
    if (options.log_level) log::set_level(*options.log_level);

    Loaded loaded;
    try {
        loaded = load(options.config_path);
    } catch (const config::Error& e) {
        print_problems(e);
        return kExitConfigError;
    } catch (const std::exception& e) {
        log::error("cannot load the configuration",
                   {{"config", options.config_path}, {"error", e.what()}});
        return kExitFailure;
    }
    apply_log_level(options, loaded.config.server);

    // The override stays out of the loaded config, which reloads compare with the file.
    PrivilegePlan privileges;
    try {
        config::Server names = loaded.config.server;
        if (user) {
            names.user = user->user;
            names.group = user->group;
        }
        privileges = plan_privileges(names, user ? "--user" : options.config_path, geteuid());
    } catch (const config::Error& e) {
        print_problems(e);
        return kExitConfigError;
    }

    try {
        Daemon daemon(options, std::move(loaded), std::move(privileges));
        return daemon.serve();
    } catch (const std::exception& e) {
        log::error(e.what());
        return kExitFailure;
    }
}

}  // namespace nolb::nolbd
