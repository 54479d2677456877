// The control protocol's names and lines: every verb round-trips through its name, and no
// input line, however malformed, makes the parsers throw.
#include "control/protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>

namespace nolb::control {
namespace {

TEST(ControlProtocol, VerbNamesRoundTrip) {
    for (const VerbInfo& info : kVerbs) {
        EXPECT_EQ(verb_name(info.verb), info.name);
        EXPECT_EQ(verb_from_name(info.name), info.verb);
    }
    EXPECT_EQ(verb_from_name("STATUS"), std::nullopt);
    EXPECT_EQ(verb_from_name(""), std::nullopt);
}

// nolbctl's help and its manual page come from kVerbs: every verb says what it does, with an
// example that runs it, and its synopsis brackets the optional arguments.
TEST(ControlProtocol, EveryVerbIsDocumented) {
    for (const VerbInfo& info : kVerbs) {
        EXPECT_FALSE(info.meaning.empty()) << info.name;
        EXPECT_TRUE(info.description.ends_with(".")) << info.name;
        EXPECT_TRUE(info.example.starts_with("nolbctl ")) << info.name;
        EXPECT_NE(info.example.find(info.name), std::string_view::npos) << info.name;
        EXPECT_TRUE(info.exit_status.empty() || info.exit_status.ends_with(".")) << info.name;
    }
    auto info = [](Verb verb) {
        return *std::find_if(std::begin(kVerbs), std::end(kVerbs),
                             [&](const VerbInfo& i) { return i.verb == verb; });
    };
    EXPECT_EQ(synopsis(info(Verb::status)), "status [SERVICE]");
    EXPECT_EQ(synopsis(info(Verb::drain)), "drain NODE [--wait]");
    EXPECT_EQ(synopsis(info(Verb::explain)), "explain NAME [TYPE]");
    EXPECT_EQ(synopsis(info(Verb::check)), "check");
}

TEST(ControlProtocol, RequestLineParsesBack) {
    std::string line = request_line(Verb::drain, {{"node", "london"}});
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    line.pop_back();
    ParsedRequest parsed = parse_request(line);
    ASSERT_TRUE(parsed.request) << parsed.error;
    EXPECT_EQ(parsed.request->verb, Verb::drain);
    EXPECT_EQ(parsed.request->args, Json({{"node", "london"}}));
}

TEST(ControlProtocol, RequestWithoutArgsHasAnEmptyObject) {
    for (const char* line :
         {R"({"verb":"stats"})", R"({"verb":"stats","args":null})", "{\"verb\":\"stats\"}\r"}) {
        ParsedRequest parsed = parse_request(line);
        ASSERT_TRUE(parsed.request) << line << ": " << parsed.error;
        EXPECT_TRUE(parsed.request->args.is_object());
        EXPECT_TRUE(parsed.request->args.empty());
    }
}

TEST(ControlProtocol, MalformedRequestsAreErrorsNotExceptions) {
    struct Case {
        std::string line;
        std::string error_part;
    };
    for (const Case& c : std::vector<Case>{
             {"", "malformed request"},
             {"{", "malformed request"},
             {"null", "not a JSON object"},
             {"\"status\"", "not a JSON object"},
             {"{}", "no \"verb\""},
             {R"({"verb": ["status"]})", "no \"verb\""},
             {R"({"verb": "launch"})", "unknown verb \"launch\""},
             {R"({"verb": "status", "args": []})", "\"args\" is not an object"},
             {"{\"verb\": \"st\xc3\"}", "malformed request"},
             {std::string(100000, '{'), "malformed request"},
             // A NUL would cut the name short in any C string made from it: JSON refuses a
             // raw one, nolbd an escaped one.
             {std::string(R"({"verb": "explain", "args": {"name": "a)") + '\0' + "\"}}",
              "must be escaped"},
             {R"({"verb": "drain", "args": {"node": "x\u0000"}})", "control characters"},
             {R"({"verb": "drain", "args": {"nodes": ["ok", "bell\u0007"]}})",
              "control characters"},
         }) {
        ParsedRequest parsed;
        EXPECT_NO_THROW(parsed = parse_request(c.line)) << c.line.substr(0, 40);
        EXPECT_FALSE(parsed.request) << c.line.substr(0, 40);
        EXPECT_NE(parsed.error.find(c.error_part), std::string::npos)
            << c.line.substr(0, 40) << " gave " << parsed.error;
        EXPECT_EQ(parsed.error.find("[json.exception"), std::string::npos) << parsed.error;
    }
}

TEST(ControlProtocol, ReplyLines) {
    Reply ok = parse_reply(ok_line({{"reloaded", true}}));
    EXPECT_TRUE(ok.ok);
    EXPECT_EQ(ok.result, Json({{"reloaded", true}}));

    Reply error = parse_reply(error_line("unknown node \"paris\""));
    EXPECT_FALSE(error.ok);
    EXPECT_EQ(error.error, "unknown node \"paris\"");

    EXPECT_NE(parse_reply("garbage").error.find("malformed reply"), std::string::npos);
    EXPECT_NE(parse_reply("{\"result\": 1}").error.find("malformed reply"), std::string::npos);
    EXPECT_FALSE(parse_reply("{\"ok\": false}").error.empty());
}

TEST(ControlProtocol, LinesRepairTextThatIsNotUtf8) {
    std::string line;
    EXPECT_NO_THROW(line = error_line("bad byte \xff here"));
    Reply reply = parse_reply(line);
    EXPECT_FALSE(reply.ok);
    EXPECT_NE(reply.error.find("bad byte"), std::string::npos);
    EXPECT_NO_THROW(json_line({{"reason", "\xc3"}}));
}

}  // namespace
}  // namespace nolb::control
