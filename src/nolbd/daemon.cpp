// The daemon's life: load, bind, probe once, publish, serve, and on SIGHUP or `nolbctl reload`
// load again. A file that fails is reported and the running configuration keeps serving. The
// control verbs are control/verbs.hpp's; this file hands them the daemon's state.
#include "nolbd/daemon.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "control/metrics.hpp"
#include "control/server.hpp"
#include "health/drains.hpp"
#include "nolbd/dns_handler.hpp"
#include "nolbd/server_settings.hpp"
#include "util/log.hpp"
#include "util/notify.hpp"
#include "zone/compile.hpp"

namespace nolb::nolbd {
namespace {

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

void apply_log_level(const Options& options, const config::Server& server) {
    log::Level level = log::Level::info;
    if (options.log_level)
        level = *options.log_level;
    else if (!log::parse_level(server.log_level, level))
        level = log::Level::info;
    log::set_level(level);
}

Daemon::Daemon(const Options& options, Loaded loaded, PrivilegePlan privileges)
    : options_(options),
      loaded_(std::move(loaded)),
      privileges_(std::move(privileges)),
      base_(util::make_event_base()),
      monitor_(base_.get()),
      notifier_(base_.get(), loaded_.config.server.listen),
      started_(std::chrono::steady_clock::now()) {
    for (int signal : {SIGINT, SIGTERM})
        signals_.push_back(util::make_signal_event(base_.get(), signal, &Daemon::on_stop, this));
    signals_.push_back(util::make_signal_event(base_.get(), SIGHUP, &Daemon::on_reload, this));
    for (auto& event : signals_)
        event_add(event.get(), nullptr);

    if (!loaded_.config.control.state_file.empty())
        publisher_.set_drains(health::read_drains(loaded_.config.control.state_file));
    publisher_.adopt(loaded_.config, loaded_.model);
    notifier_.configure(loaded_.config);
    monitor_.configure(loaded_.config);
    monitor_.on_change([this] { publish("health", false); });
    monitor_.on_transition([this](const health::Transition& t) { on_transition(t); });
    // Before the first probe round every address is unknown; this snapshot is never served
    // (workers start after the round) but readers need one to exist.
    publish("startup", true);
}

Daemon::~Daemon() = default;

bool Daemon::open_sockets() {
    const config::Config& config = loaded_.config;
    server_ = std::make_unique<server::Server>(server_settings(config), [this](unsigned) {
        auto handler = std::make_unique<DnsHandler>(publisher_.published(), publisher_.transfers(),
                                                    &secondaries_);
        std::lock_guard lock(handlers_mutex_);
        handler_counters_.push_back(&handler->counters());
        handler_tallies_.push_back(&handler->transfer_tally());
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
        return false;
    }
    return true;
}

int Daemon::serve() {
    const config::Config& config = loaded_.config;
    if (!open_sockets()) return kExitFailure;
    // Every socket is open: nothing below needs root, and probes and queries are untrusted.
    if (!drop_privileges_now()) return kExitFailure;
    util::notify_status("probing every address once before answering");

    // Probe every address once, then answer: the first answer already reflects health.
    bool started = false;
    std::string start_error;
    monitor_.start([&] {
        publish("first probe round", true);
        try {
            server_->start();
        } catch (const std::exception& e) {
            start_error = e.what();
            event_base_loopbreak(base_.get());
            return;
        }
        started = true;
        answering_ = true;
        notifier_.published(*publisher_.snapshot());
        log::info("ready", {{"listen", join(server_->endpoints())},
                            {"zones", config.zones.size()},
                            {"services", config.services.size()},
                            {"workers", server_->workers()},
                            {"generation", publisher_.generation()}});
        util::notify_ready(serving_status(config, publisher_.generation()));
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
    return !switching || state_folder_writable();
}

// Drains are saved as a new file renamed over the old one: the folder must be writable by the
// user nolbd now is, or every drain would fail to persist, unnoticed until a restart.
bool Daemon::state_folder_writable() const {
    const std::string& state_file = loaded_.config.control.state_file;
    if (state_file.empty()) return true;
    std::string folder = std::filesystem::path(state_file).parent_path().string();
    if (folder.empty()) folder = ".";
    if (access(folder.c_str(), W_OK | X_OK) == 0) return true;
    log::error(
        "control.state_file: its folder is not writable by the user nolbd runs "
        "as; make it so (the systemd unit's StateDirectory= does)",
        {{"file", state_file}, {"folder", folder}, {"user", privileges_.user}});
    return false;
}

void Daemon::on_stop(evutil_socket_t, short, void* self) {
    event_base_loopbreak(static_cast<Daemon*>(self)->base_.get());
}

void Daemon::on_reload(evutil_socket_t, short, void* self) {
    static_cast<Daemon*>(self)->reload();
}

control::ReloadResult Daemon::reload() {
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
                           serving_status(loaded_.config, publisher_.generation()));
        return {false, std::move(problems)};
    }
    const std::string changed = restart_only_changes(loaded_.config, next.config);
    if (!changed.empty())
        log::warning("some settings take effect only after a restart", {{"settings", changed}});
    loaded_ = std::move(next);
    publisher_.adopt(loaded_.config, loaded_.model);
    notifier_.configure(loaded_.config);
    monitor_.configure(loaded_.config);
    publish("reload", true);
    apply_log_level(options_, loaded_.config.server);
    log::info("reloaded", {{"zones", loaded_.config.zones.size()},
                           {"services", loaded_.config.services.size()},
                           {"generation", publisher_.generation()}});
    util::notify_ready(serving_status(loaded_.config, publisher_.generation()));
    return {true, {}};
}

void Daemon::on_transition(const health::Transition& t) {
    // The change callback that follows plans this service again.
    publisher_.mark(t.service_name);
    const control::WatchEvent event = control::watch_event(t);
    // A listener may unwatch from inside its call: iterate over a copy of the ids.
    std::vector<int> ids;
    for (const auto& [id, fn] : watchers_)
        ids.push_back(id);
    for (int id : ids) {
        auto it = watchers_.find(id);
        if (it != watchers_.end()) it->second(event);
    }
}

control::Status Daemon::status(const std::optional<std::string>& service) {
    return control::status(view(), service);
}

control::Check Daemon::check() {
    return control::check(view());
}

control::Explain Daemon::explain(const std::string& name, const std::string& type) {
    return control::explain(view(), name, type);
}

control::DrainResult Daemon::drain(const std::string& node, bool drained) {
    const control::DrainChange change =
        control::change_drains(loaded_.config, publisher_.drains(), node, drained);
    publisher_.set_drains(change.drains);
    const bool persisted = save_drains();
    log::info(drained ? "node drained" : "node undrained", {{"node", node}});
    publish(drained ? "drain" : "undrain", false);
    return control::drain_result(view(), change, node, drained, persisted, health::Clock::now());
}

bool Daemon::save_drains() {
    const std::string& file = loaded_.config.control.state_file;
    if (file.empty()) return true;
    try {
        health::write_drains(file, publisher_.drains());
    } catch (const std::exception& e) {
        log::error("cannot save drains", {{"file", file}, {"error", e.what()}});
        return false;
    }
    return true;
}

control::Stats Daemon::stats() {
    control::Counts counts;
    counts.queries = query_totals();
    {
        std::lock_guard lock(handlers_mutex_);
        for (const transfer::Tally* t : handler_tallies_)
            counts.transfers.add(t->read());
    }
    counts.monitor = monitor_.stats();
    if (server_) counts.network = server_->counters();
    counts.publish = publisher_.times();
    counts.generation = publisher_.generation();
    counts.uptime_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    return control::stats(counts);
}

int Daemon::watch(std::function<void(const control::WatchEvent&)> listener) {
    const int id = next_watch_id_++;
    watchers_.emplace(id, std::move(listener));
    return id;
}

void Daemon::unwatch(int id) {
    watchers_.erase(id);
}

answer::Totals Daemon::query_totals() const {
    answer::Totals totals;
    std::lock_guard lock(handlers_mutex_);
    for (const answer::Counters* c : handler_counters_)
        totals.add(c->read());
    return totals;
}

}  // namespace nolb::nolbd
