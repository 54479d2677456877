// control::execute: each verb's arguments checked and handed to the Backend, its document sent
// back as an ok reply; a missing or mistyped argument, an operator's mistake the backend
// reports (std::invalid_argument) and any other exception from the backend all become one
// error reply line, and nothing thrown escapes.
#include "control/commands.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "unit/control/control_fixture.hpp"

namespace nolb::control {
namespace {

using testing::FakeBackend;

// The reply as the client reads it; also checks it is one line, newline-terminated.
Reply ask(Backend& backend, Verb verb, const Json& args = Json::object()) {
    const std::string line = execute(backend, Request{verb, args});
    EXPECT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
    return parse_reply(line.substr(0, line.size() - 1));
}

TEST(ControlCommands, StatusWithAndWithoutAService) {
    FakeBackend backend;
    Reply reply = ask(backend, Verb::status);
    ASSERT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(reply.result, Json(testing::status_document()));
    EXPECT_EQ(backend.last_service, std::nullopt);

    reply = ask(backend, Verb::status, {{"service", nullptr}});  // null: no service
    ASSERT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(backend.last_service, std::nullopt);

    reply = ask(backend, Verb::status, {{"service", "www.demo.test."}});
    ASSERT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(backend.last_service, "www.demo.test.");
}

TEST(ControlCommands, DrainAndUndrainPassTheNodeAndTheDirection) {
    FakeBackend backend;
    Reply reply = ask(backend, Verb::drain, {{"node", "london"}});
    ASSERT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(backend.last_node, "london");
    EXPECT_TRUE(backend.last_drained);
    EXPECT_EQ(reply.result["drained"], true);

    reply = ask(backend, Verb::undrain, {{"node", "geneva"}});
    ASSERT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(backend.last_node, "geneva");
    EXPECT_FALSE(backend.last_drained);
    EXPECT_EQ(reply.result["drained"], false);
}

TEST(ControlCommands, ExplainDefaultsTheTypeToA) {
    FakeBackend backend;
    Reply reply = ask(backend, Verb::explain, {{"name", "www.demo.test."}});
    ASSERT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(reply.result, Json(testing::explain_document("www.demo.test.", "A")));

    reply = ask(backend, Verb::explain, {{"name", "www.demo.test."}, {"type", "AAAA"}});
    ASSERT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(reply.result["type"], "AAAA");
}

TEST(ControlCommands, ReloadStatsAndCheckReturnTheirDocuments) {
    FakeBackend backend;
    Reply reply = ask(backend, Verb::reload);
    ASSERT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(reply.result, Json(ReloadResult{true, {}}));
    EXPECT_EQ(backend.reloads, 1);

    // A rejected file is a successful request whose result says so.
    backend.reject_reload = true;
    reply = ask(backend, Verb::reload);
    ASSERT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(reply.result["reloaded"], false);
    EXPECT_EQ(reply.result["problems"][0], "nolb.toml:3:1: service.ttl: must be at most 86400");

    reply = ask(backend, Verb::stats);
    ASSERT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(reply.result, Json(testing::stats_document()));

    reply = ask(backend, Verb::check);
    ASSERT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(reply.result, Json(testing::check_document()));
}

TEST(ControlCommands, MissingArgumentsAreNamed) {
    FakeBackend backend;
    Reply reply = ask(backend, Verb::drain);
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "drain needs \"node\"");

    reply = ask(backend, Verb::undrain, {{"node", ""}});
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "undrain needs \"node\"");

    reply = ask(backend, Verb::explain, {{"type", "A"}});
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "explain needs \"name\"");
    EXPECT_EQ(backend.last_node, "");  // the backend never saw a malformed call
}

TEST(ControlCommands, MistypedArgumentsAreNamed) {
    FakeBackend backend;
    Reply reply = ask(backend, Verb::drain, {{"node", 7}});
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "drain: \"node\" must be a string");

    reply = ask(backend, Verb::status, {{"service", Json::array({"www"})}});
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "status: \"service\" must be a string");

    reply = ask(backend, Verb::explain, {{"name", 1}});
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "explain: \"name\" must be a string");

    reply = ask(backend, Verb::explain, {{"name", "www.demo.test."}, {"type", true}});
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "explain: \"type\" must be a string");
    EXPECT_EQ(backend.last_node, "");
}

TEST(ControlCommands, TheBackendsRefusalsBecomeErrorReplies) {
    FakeBackend backend;
    Reply reply = ask(backend, Verb::drain, {{"node", "paris"}});
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "unknown node \"paris\"");

    reply = ask(backend, Verb::status, {{"service", "ftp.demo.test."}});
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "unknown service \"ftp.demo.test.\"");

    reply = ask(backend, Verb::explain, {{"name", "www.demo.test."}, {"type", "MX"}});
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "unknown type MX");
}

TEST(ControlCommands, OtherExceptionsFromTheBackendBecomeErrorReplies) {
    FakeBackend backend;
    backend.fail_stats = true;
    std::string line;
    EXPECT_NO_THROW(line = execute(backend, Request{Verb::stats, Json::object()}));
    Reply reply = parse_reply(line.substr(0, line.size() - 1));
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "counters unavailable");
}

TEST(ControlCommands, WatchIsLeftToTheConnection) {
    FakeBackend backend;
    Reply reply = ask(backend, Verb::watch);
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "watch is only served on a control connection");
    EXPECT_TRUE(backend.listeners.empty());
}

}  // namespace
}  // namespace nolb::control
