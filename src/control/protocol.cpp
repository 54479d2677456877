// The control protocol's line encoding, shared by the daemon (which parses requests and writes
// replies) and nolbctl (the reverse). Every malformed input becomes an error value here, so
// neither side has to guard against a parser exception.
#include "control/protocol.hpp"

namespace nolb::control {
namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] "; operators need the rest.
std::string parser_message(const std::exception& e) {
    std::string_view text = e.what();
    if (text.starts_with("[json.exception.")) {
        auto end = text.find("] ");
        if (end != std::string_view::npos) text.remove_prefix(end + 2);
    }
    return std::string(text);
}

std::optional<Json> parse(std::string_view line, std::string& error) {
    try {
        return Json::parse(line);
    } catch (const Json::exception& e) {
        error = parser_message(e);
        return std::nullopt;
    }
}

// Names, node names and record types are printable text; a control character (a NUL above
// all, which cuts C strings short) in any string argument is refused up front.
bool printable(const Json& value) {
    if (value.is_string()) {
        for (unsigned char c : value.get_ref<const std::string&>())
            if (c < 0x20 || c == 0x7f) return false;
        return true;
    }
    if (value.is_structured()) {
        for (const Json& item : value)
            if (!printable(item)) return false;
    }
    return true;
}

}  // namespace

// A message may quote bytes from the peer that are not UTF-8; plain dump() would throw on them.
std::string json_line(const Json& document) {
    return document.dump(-1, ' ', false, Json::error_handler_t::replace) + '\n';
}

std::optional<Verb> verb_from_name(std::string_view name) {
    for (const VerbInfo& info : kVerbs)
        if (info.name == name) return info.verb;
    return std::nullopt;
}

std::string synopsis(const VerbInfo& info) {
    std::string out(info.name);
    for (const VerbArgument& argument : info.arguments) {
        if (argument.name.empty()) continue;
        out += argument.required ? " " : " [";
        out += argument.name;
        if (!argument.required) out += ']';
    }
    return out;
}

std::string_view verb_name(Verb verb) {
    for (const VerbInfo& info : kVerbs)
        if (info.verb == verb) return info.name;
    return "unknown";
}

ParsedRequest parse_request(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string error;
    std::optional<Json> document = parse(line, error);
    if (!document) return {std::nullopt, "malformed request: " + error};
    if (!document->is_object()) return {std::nullopt, "malformed request: not a JSON object"};
    auto verb = document->find("verb");
    if (verb == document->end() || !verb->is_string())
        return {std::nullopt, "malformed request: no \"verb\" string"};
    std::optional<Verb> known = verb_from_name(verb->get_ref<const std::string&>());
    if (!known) return {std::nullopt, "unknown verb \"" + verb->get<std::string>() + "\""};
    Request request{*known, Json::object()};
    auto args = document->find("args");
    if (args != document->end() && !args->is_null()) {
        if (!args->is_object())
            return {std::nullopt, "malformed request: \"args\" is not an object"};
        if (!printable(*args))
            return {std::nullopt, "malformed request: control characters in \"args\""};
        request.args = std::move(*args);
    }
    return {std::move(request), {}};
}

std::string request_line(Verb verb, const Json& args) {
    return json_line({{"verb", verb_name(verb)}, {"args", args.is_null() ? Json::object() : args}});
}

std::string ok_line(const Json& result) {
    return json_line({{"ok", true}, {"result", result}});
}

std::string error_line(std::string_view message) {
    return json_line({{"ok", false}, {"error", message}});
}

Reply parse_reply(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string error;
    std::optional<Json> document = parse(line, error);
    if (!document) return {false, nullptr, "malformed reply from nolbd: " + error};
    auto ok = document->find("ok");
    if (!document->is_object() || ok == document->end() || !ok->is_boolean())
        return {false, nullptr, "malformed reply from nolbd: no \"ok\" field"};
    if (ok->get<bool>()) {
        auto result = document->find("result");
        return {true, result == document->end() ? Json() : std::move(*result), {}};
    }
    auto message = document->find("error");
    if (message == document->end() || !message->is_string())
        return {false, nullptr, "nolbd refused the request without saying why"};
    return {false, nullptr, message->get<std::string>()};
}

}  // namespace nolb::control
