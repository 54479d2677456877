// One function per way of showing a result; the request itself is the same for every verb. The
// human output goes to stdout and errors to stderr, so `nolbctl status | grep down` and
// `nolbctl --json stats | jq` see only results.
#include "nolbctl/commands.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>
#include <thread>

#include "config/config.hpp"
#include "control/encoding.hpp"
#include "nolbctl/client.hpp"
#include "nolbctl/format.hpp"

namespace nolb::nolbctl {
namespace {

using control::Json;
using control::Verb;
using namespace std::chrono_literals;

constexpr auto kReloadTimeout = 30s;  // a reload reads and compiles every zone first
constexpr int kExitInterrupted = 130;

Clock now() {
    auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return {std::chrono::duration<double>(since_epoch).count(), false};
}

// Service and zone names in nolbd are absolute and lower case; accept them as people type them.
std::string absolute(std::string name, bool lower) {
    if (lower)
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!name.empty() && name.back() != '.') name += '.';
    return name;
}

Json arguments(const Options& o) {
    switch (o.verb) {
        case Verb::status:
            return o.service.empty() ? Json::object()
                                     : Json{{"service", absolute(o.service, true)}};
        case Verb::drain:
        case Verb::undrain:
            return {{"node", o.node}};
        case Verb::explain: {
            std::string type = o.type;
            std::transform(type.begin(), type.end(), type.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            return {{"name", absolute(o.name, false)}, {"type", type}};
        }
        case Verb::watch:
        case Verb::reload:
        case Verb::stats:
        case Verb::check:
            break;
    }
    return Json::object();
}

void print_json(const Json& document) {
    std::cout << document.dump(2, ' ', false, Json::error_handler_t::replace) << std::endl;
}

// A transition as a line; any other event the daemon may send, as the JSON it is.
std::string event_line(const Json& event) {
    try {
        return format_event(event.get<control::WatchEvent>(), now());
    } catch (const std::exception&) {
        return event.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
    }
}

int watch(Client& client, const Options& o) {
    control::Reply reply = client.request(Verb::watch, Json::object());
    if (!reply.ok) {
        std::cerr << "nolbctl: " << reply.error << "\n";
        return kExitRefused;
    }
    if (!o.json) std::cerr << "watching health transitions; Ctrl-C stops\n";
    while (true) {
        std::optional<std::string> line = client.read_line(std::nullopt);
        if (!line) {
            if (interrupted()) return kExitOk;
            std::cerr << "nolbctl: nolbd closed the connection\n";
            return kExitUnreachable;
        }
        if (o.json) {
            std::cout << *line << std::endl;
            continue;
        }
        Json event = Json::parse(*line, nullptr, false);
        if (event.is_discarded())
            std::cout << *line << std::endl;
        else
            std::cout << event_line(event) << std::flush;
    }
}

// Sleeps until the drained node's answers have expired from every cache, or Ctrl-C.
int wait_until_safe(const control::DrainResult& drain, const Options& o) {
    if (!drain.safe_in_s || *drain.safe_in_s <= 0) return kExitOk;
    auto until = std::chrono::steady_clock::now() +
                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                     std::chrono::duration<double>(*drain.safe_in_s));
    while (std::chrono::steady_clock::now() < until) {
        if (interrupted()) {
            std::cerr << "nolbctl: interrupted; " << o.node << " stays drained\n";
            return kExitInterrupted;
        }
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            100ms, until - std::chrono::steady_clock::now()));
    }
    if (!o.json) std::cout << "safe to stop " << o.node << " now" << std::endl;
    return kExitOk;
}

// The result decoded and shown; throws what decoding throws for a malformed one.
int show(const Json& result, const Options& o) {
    if (o.json) print_json(result);
    switch (o.verb) {
        case Verb::status:
            if (!o.json) std::cout << format_status(result.get<control::Status>(), now());
            return kExitOk;
        case Verb::stats:
            if (!o.json) std::cout << format_stats(result.get<control::Stats>());
            return kExitOk;
        case Verb::explain:
            if (!o.json) std::cout << format_explain(result.get<control::Explain>());
            return kExitOk;
        case Verb::drain:
        case Verb::undrain: {
            const auto drain = result.get<control::DrainResult>();
            if (!o.json) std::cout << format_drain(drain, now()) << std::flush;
            return o.verb == Verb::drain && o.wait ? wait_until_safe(drain, o) : kExitOk;
        }
        case Verb::reload: {
            const auto reload = result.get<control::ReloadResult>();
            if (!o.json) (reload.reloaded ? std::cout : std::cerr) << format_reload(reload);
            return reload.reloaded ? kExitOk : kExitRefused;
        }
        case Verb::check: {
            const auto check = result.get<control::Check>();
            if (!o.json) std::cout << format_check(check);
            return check.status >= 0 && check.status <= 2 ? check.status : kExitUnreachable;
        }
        case Verb::watch:
            break;
    }
    return kExitOk;
}

}  // namespace

ArgumentTarget argument_target(Options& options, std::string_view argument) {
    if (argument == "SERVICE") return {&options.service};
    if (argument == "NODE") return {&options.node};
    if (argument == "NAME") return {&options.name};
    if (argument == "TYPE") return {&options.type};
    if (argument == "--wait") return {nullptr, &options.wait};
    return {};
}

std::string socket_path(const Options& options) {
    if (!options.socket.empty()) return options.socket;
    if (options.config_path.empty()) return config::Control{}.socket;
    try {
        config::Config config = config::load(options.config_path);
        if (config.control.socket.empty())
            throw Unreachable("the control socket is off in " + options.config_path +
                              " (control.socket is empty)");
        return config.control.socket;
    } catch (const config::Error& e) {
        std::string message = "cannot find the socket: " + options.config_path + " has errors:";
        for (const std::string& problem : e.problems())
            message += "\n  " + problem;
        throw Unreachable(message);
    } catch (const Unreachable&) {
        throw;
    } catch (const std::exception& e) {
        throw Unreachable("cannot find the socket: " + std::string(e.what()));
    }
}

int run(const Options& o) {
    try {
        auto timeout = std::chrono::duration_cast<Client::Duration>(
            std::chrono::duration<double>(o.timeout_s));
        // Interrupts are caught only where nolbctl waits on purpose; elsewhere Ctrl-C kills.
        if (o.verb == Verb::watch || (o.verb == Verb::drain && o.wait)) catch_interrupts();
        Client client(socket_path(o), timeout);
        if (o.verb == Verb::watch) return watch(client, o);
        control::Reply reply = client.request(
            o.verb, arguments(o),
            o.verb == Verb::reload ? std::max<Client::Duration>(timeout, kReloadTimeout) : timeout);
        if (!reply.ok) {
            std::cerr << "nolbctl: " << reply.error << "\n";
            return kExitRefused;
        }
        try {
            return show(reply.result, o);
        } catch (const std::exception& e) {  // a reply that is not the verb's document
            std::cerr << "nolbctl: malformed reply from nolbd: " << e.what() << "\n";
            return kExitUnreachable;
        }
    } catch (const Unreachable& e) {
        std::cerr << "nolbctl: " << e.what() << "\n";
        return kExitUnreachable;
    }
}

}  // namespace nolb::nolbctl
