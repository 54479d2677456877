// The daemon's life: load and compile the configuration, publish the snapshot, open the
// listeners, start the workers, then wait on the main thread's own event loop for signals.
// SIGHUP loads and compiles the same file again and publishes the result; a file that fails
// is reported and the running snapshot keeps serving.
#include "nolbd/daemon.hpp"

#include <signal.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "nolbd/dns_handler.hpp"
#include "server/server.hpp"
#include "util/event.hpp"
#include "util/published.hpp"
#include "zone/compile.hpp"

namespace nolb::nolbd {
namespace {

struct Loaded {
    config::Config config;
    std::shared_ptr<const zone::Snapshot> snapshot;
};

Loaded load(const std::string& path) {
    Loaded loaded;
    loaded.config = config::load(path);
    loaded.snapshot = zone::compile(loaded.config);
    return loaded;
}

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
std::string restart_only_changes(const config::Server& running, const config::Server& next) {
    std::string changed;
    auto note = [&changed](bool differs, const char* key) {
        if (!differs) return;
        if (!changed.empty()) changed += ',';
        changed += key;
    };
    note(running.listen != next.listen, "listen");
    note(running.workers != next.workers, "workers");
    note(running.tcp_idle_timeout != next.tcp_idle_timeout, "tcp_idle_timeout");
    note(running.tcp_max_connections != next.tcp_max_connections, "tcp_max_connections");
    return changed;
}

// The main thread's loop: signals in, reloads and the stop out.
class Daemon {
  public:
    Daemon(const Options& options, const config::Server& running,
           std::shared_ptr<const zone::Snapshot> snapshot)
        : options_(options),
          running_(running),
          published_(std::move(snapshot)),
          base_(util::make_event_base()) {
        for (int signal : {SIGINT, SIGTERM})
            signals_.push_back(
                util::make_signal_event(base_.get(), signal, &Daemon::on_stop, this));
        signals_.push_back(util::make_signal_event(base_.get(), SIGHUP, &Daemon::on_reload, this));
        for (auto& event : signals_)
            event_add(event.get(), nullptr);
    }

    int serve(const config::Config& config) {
        server::Server server(
            config.server, [this](unsigned) { return std::make_unique<DnsHandler>(published_); });
        try {
            server.open();
            server.start();
        } catch (const std::exception& e) {
            log::error(e.what());
            return kExitFailure;
        }
        log::info("ready", {{"listen", join(server.endpoints())},
                            {"zones", config.zones.size()},
                            {"services", config.services.size()},
                            {"workers", server.workers()}});
        event_base_dispatch(base_.get());
        log::info("stopping");
        server.stop();
        log::info("stopped");
        return kExitOk;
    }

  private:
    static void on_stop(evutil_socket_t, short, void* argument) {
        event_base_loopbreak(static_cast<Daemon*>(argument)->base_.get());
    }

    static void on_reload(evutil_socket_t, short, void* argument) {
        static_cast<Daemon*>(argument)->reload();
    }

    void reload() {
        log::info("reloading", {{"config", options_.config_path}});
        Loaded next;
        try {
            next = load(options_.config_path);
        } catch (const config::Error& e) {
            for (const auto& problem : e.problems())
                log::error("reload rejected", {{"problem", problem}});
            if (e.problems().empty()) log::error("reload rejected", {{"error", e.what()}});
            return;
        } catch (const std::exception& e) {
            log::error("reload rejected", {{"error", e.what()}});
            return;
        }
        published_.publish(std::move(next.snapshot));
        std::string changed = restart_only_changes(running_, next.config.server);
        if (!changed.empty())
            log::warning("some server settings take effect only after a restart",
                         {{"settings", changed}});
        log::info("reloaded",
                  {{"zones", next.config.zones.size()}, {"services", next.config.services.size()}});
        apply_log_level(options_, next.config.server);
    }

    const Options& options_;
    config::Server running_;
    util::Published<zone::Snapshot> published_;
    util::EventBase base_;  // before the events, so it is freed after them
    std::vector<util::Event> signals_;
};

}  // namespace

int check_config(const std::string& path) {
    try {
        load(path);
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

int run(const Options& options) {
    log::set_program("nolbd");
    signal(SIGPIPE, SIG_IGN);
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

    try {
        Daemon daemon(options, loaded.config.server, std::move(loaded.snapshot));
        return daemon.serve(loaded.config);
    } catch (const std::exception& e) {
        log::error(e.what());
        return kExitFailure;
    }
}

}  // namespace nolb::nolbd
