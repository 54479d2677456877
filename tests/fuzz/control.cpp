// Fuzz target: lines a control client (or a confused peer) could send, through the control
// protocol's parsers (control::parse_request, control::parse_reply) and, for every request that
// parses, through control::execute against nolbd's own Daemon, serving
// tests/fuzz/data/query.toml without sockets: the verbs run as they do on the daemon's loop.
//
// Checks: no parser throws; a request re-encoded with request_line parses to the same request;
// every reply is one line that parse_reply accepts, either a result or an error with a message;
// explain answers every name it accepts from the snapshot (its response reads back); status,
// check and stats results have the shape control/protocol.hpp describes.
#include <signal.h>

#include <string>
#include <string_view>
#include <vector>

#include "control/commands.hpp"
#include "control/protocol.hpp"
#include "fuzz.hpp"
#include "nolbd/daemon.hpp"
#include "util/log.hpp"

namespace nolb::fuzz {
namespace {

using control::Json;

// The daemon requests reach: one for the whole run, since building one costs far more than a
// request. Its signal events would take SIGINT, SIGTERM and SIGHUP from the fuzzer; the
// fuzzer's handlers are put back at once (the daemon's loop never runs to see them).
nolbd::Daemon& shared_daemon() {
    static const nolbd::Options options{data_path("query.toml"), log::Level::error};
    static nolbd::Daemon* const instance = [] {
        struct sigaction saved[3]{};
        const int signals[3] = {SIGINT, SIGTERM, SIGHUP};
        for (int i = 0; i < 3; ++i)
            sigaction(signals[i], nullptr, &saved[i]);
        auto* d = new nolbd::Daemon(options, nolbd::load(options.config_path));
        for (int i = 0; i < 3; ++i)
            sigaction(signals[i], &saved[i], nullptr);
        return d;
    }();
    return *instance;
}

// Nodes drained by the current input, undrained after it so that inputs stay independent.
std::vector<std::string>& drained_nodes() {
    static std::vector<std::string> nodes;
    return nodes;
}

void check_result(control::Verb verb, const Json& result) {
    switch (verb) {
        case control::Verb::status:
            require(result.contains("services") && result["services"].is_array(),
                    "status lists services");
            break;
        case control::Verb::check: {
            const int status = result.value("status", -1);
            require(status >= 0 && status <= 2, "check's status is 0, 1 or 2");
            break;
        }
        case control::Verb::stats:
            require(result.contains("generation") && result.contains("queries"),
                    "stats has a generation and query counts");
            break;
        case control::Verb::explain:
            require(result.contains("rcode") && result["answer"].is_array(),
                    "explain gives an rcode and the answer");
            break;
        case control::Verb::drain:
        case control::Verb::undrain: {
            require(result.contains("matched") && !result["matched"].empty(),
                    "a drain names what it matched");
            const std::string node = result.value("node", "");
            drained_nodes().push_back(node.substr(node.rfind('/') + 1));
            break;
        }
        case control::Verb::reload:
            require(result.value("reloaded", false), "the fuzz config reloads");
            break;
        case control::Verb::watch:
            fail("watch is never executed");
    }
}

void check_reply(const control::Request& request, const std::string& line) {
    require(!line.empty() && line.back() == '\n' && line.find('\n') == line.size() - 1,
            "a reply is one line");
    const control::Reply reply = control::parse_reply(line);
    if (reply.ok) {
        check_result(request.verb, reply.result);
        return;
    }
    require(!reply.error.empty(), "an error reply says why");
    require(!reply.error.starts_with("malformed reply"), "the daemon's replies parse", reply.error);
    require(reply.error != "the answer could not be read back",
            "explain reads back every answer it gives", request.args.dump());
}

void one_line(std::string_view line) {
    // Whatever the bytes, the client's reader gives an answer or an error, never an exception.
    const control::Reply as_reply = control::parse_reply(line);
    require(as_reply.ok || !as_reply.error.empty(), "parse_reply explains a refusal");

    const control::ParsedRequest parsed = control::parse_request(line);
    if (!parsed.request) {
        require(!parsed.error.empty(), "parse_request explains a refusal");
        const control::Reply refusal = control::parse_reply(control::error_line(parsed.error));
        require(!refusal.ok && !refusal.error.empty(), "a refusal travels as an error reply");
        return;
    }
    const control::Request& request = *parsed.request;
    require(request.args.is_object(), "arguments are an object");
    require(control::verb_from_name(control::verb_name(request.verb)) == request.verb,
            "verb names round-trip");
    const std::string again = control::request_line(request.verb, request.args);
    require(again.back() == '\n', "request_line ends the line");
    const control::ParsedRequest reparsed =
        control::parse_request(std::string_view(again).substr(0, again.size() - 1));
    require(reparsed.request && reparsed.request->verb == request.verb &&
                reparsed.request->args == request.args,
            "a request re-encoded parses to itself");

    check_reply(request, control::execute(shared_daemon(), request));
}

}  // namespace
}  // namespace nolb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nolb;
    using namespace nolb::fuzz;
    log::set_level(log::Level::error);
    if (size > control::kMaxLine) return 0;  // the server closes such a connection unread
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    // One request per line, as the control server splits them; a bounded number per input.
    for (int lines = 0; lines < 16 && !rest.empty(); ++lines) {
        const std::size_t end = rest.find('\n');
        one_line(rest.substr(0, end));
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
    }
    for (const std::string& node : drained_nodes())
        shared_daemon().drain(node, false);  // a plain name lifts its per-service drains too
    drained_nodes().clear();
    return 0;
}
