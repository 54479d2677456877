// Argument checking and dispatch for the control verbs, and the encoding of their results. A verb's
// arguments are named fields of the request's "args" object; a missing or mistyped one is the
// client's error and is answered as such, so the backend only ever sees well-formed calls.
#include "control/commands.hpp"

#include <stdexcept>

#include "control/encoding.hpp"
#include "util/log.hpp"

namespace nolb::control {
namespace {

// The client's mistake, answered with its message.
struct BadArguments : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

std::optional<std::string> optional_string(const Request& request, const char* key) {
    auto it = request.args.find(key);
    if (it == request.args.end() || it->is_null()) return std::nullopt;
    if (!it->is_string())
        throw BadArguments(std::string(verb_name(request.verb)) + ": \"" + key +
                           "\" must be a string");
    return it->get<std::string>();
}

std::string required_string(const Request& request, const char* key) {
    std::optional<std::string> value = optional_string(request, key);
    if (!value || value->empty())
        throw BadArguments(std::string(verb_name(request.verb)) + " needs \"" + key + "\"");
    return *value;
}

Json run(Backend& backend, const Request& request) {
    switch (request.verb) {
        case Verb::status:
            return backend.status(optional_string(request, "service"));
        case Verb::drain:
            return backend.drain(required_string(request, "node"), true);
        case Verb::undrain:
            return backend.drain(required_string(request, "node"), false);
        case Verb::explain:
            return backend.explain(required_string(request, "name"),
                                   optional_string(request, "type").value_or("A"));
        case Verb::reload:
            return backend.reload();
        case Verb::stats:
            return backend.stats();
        case Verb::check:
            return backend.check();
        case Verb::watch:
            break;
    }
    throw BadArguments("watch is only served on a control connection");
}

}  // namespace

std::string execute(Backend& backend, const Request& request) {
    try {
        return ok_line(run(backend, request));
    } catch (const std::invalid_argument& e) {
        // Unknown node, bad type, missing argument: the operator's to fix, not ours to log.
        return error_line(e.what());
    } catch (const std::exception& e) {
        log::warning("control request failed",
                     {{"verb", verb_name(request.verb)}, {"error", e.what()}});
        return error_line(e.what());
    }
}

}  // namespace nolb::control
