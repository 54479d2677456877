// The control server on a real event loop and a real Unix socket in a temp dir: each verb's
// round trip, bad input answered without losing the connection, the line cap, watch streaming
// and unwatching, stale and live socket files, the socket's mode and the peer check.
#include "control/server.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <vector>

#include "unit/control/control_fixture.hpp"

namespace nolb::control {
namespace {

using namespace testing;

class ControlServerTest : public ::testing::Test {
  protected:
    void SetUp() override { config.socket = dir / "nolbd.sock"; }
    void TearDown() override { stop(); }

    void start() {
        loop.run([&] {
            server = std::make_unique<Server>(loop.base(), config, backend);
            if (check) server->set_peer_check(check);
            server->open();
            return 0;
        });
    }
    void stop() {
        loop.run([&] {
            server.reset();
            return 0;
        });
    }
    std::size_t clients() {
        return loop.run([&] { return server->clients(); });
    }

    TempDir dir;
    config::Control config;
    FakeBackend backend;
    Server::PeerCheck check;
    LoopThread loop;  // declared last: stopped first, after stop() has run on it
    std::unique_ptr<Server> server;
};

TEST_F(ControlServerTest, AnswersEveryVerb) {
    start();
    LineClient client(config.socket);

    Reply status = client.ask(Verb::status);
    ASSERT_TRUE(status.ok) << status.error;
    EXPECT_EQ(status.result, Json(status_document()));
    EXPECT_EQ(loop.run([&] { return backend.last_service; }), std::nullopt);

    status = client.ask(Verb::status, {{"service", "www.demo.test."}});
    ASSERT_TRUE(status.ok) << status.error;
    EXPECT_EQ(loop.run([&] { return backend.last_service; }), "www.demo.test.");

    Reply drain = client.ask(Verb::drain, {{"node", "london"}});
    ASSERT_TRUE(drain.ok) << drain.error;
    EXPECT_EQ(drain.result["node"], "london");
    EXPECT_EQ(drain.result["safe_in_s"], 20);
    EXPECT_TRUE(loop.run([&] { return backend.last_drained; }));

    Reply undrain = client.ask(Verb::undrain, {{"node", "london"}});
    ASSERT_TRUE(undrain.ok) << undrain.error;
    EXPECT_EQ(undrain.result["drained"], false);
    EXPECT_FALSE(loop.run([&] { return backend.last_drained; }));

    Reply explain = client.ask(Verb::explain, {{"name", "www.demo.test."}});
    ASSERT_TRUE(explain.ok) << explain.error;
    EXPECT_EQ(explain.result, Json(explain_document("www.demo.test.", "A")));  // TYPE defaults to A
    explain = client.ask(Verb::explain, {{"name", "www.demo.test."}, {"type", "AAAA"}});
    ASSERT_TRUE(explain.ok) << explain.error;
    EXPECT_EQ(explain.result["type"], "AAAA");

    Reply reload = client.ask(Verb::reload);
    ASSERT_TRUE(reload.ok) << reload.error;
    EXPECT_EQ(reload.result["reloaded"], true);
    EXPECT_EQ(loop.run([&] { return backend.reloads; }), 1);

    Reply stats = client.ask(Verb::stats);
    ASSERT_TRUE(stats.ok) << stats.error;
    EXPECT_EQ(stats.result, Json(stats_document()));

    Reply check_reply = client.ask(Verb::check);
    ASSERT_TRUE(check_reply.ok) << check_reply.error;
    EXPECT_EQ(check_reply.result, Json(check_document()));
}

TEST_F(ControlServerTest, BadRequestsGetErrorsAndTheConnectionStays) {
    start();
    LineClient client(config.socket);
    auto error_for = [&](const std::string& line) {
        EXPECT_TRUE(client.send(line));
        std::optional<std::string> reply = client.read_line();
        if (!reply) return std::string("(no reply)");
        Reply parsed = parse_reply(*reply);
        EXPECT_FALSE(parsed.ok);
        return parsed.error;
    };
    EXPECT_NE(error_for("this is not json\n").find("malformed request"), std::string::npos);
    EXPECT_EQ(error_for("{\"verb\": \"shutdown\"}\n"), "unknown verb \"shutdown\"");
    EXPECT_NE(error_for("[1, 2]\n").find("not a JSON object"), std::string::npos);
    EXPECT_NE(error_for("{\"verb\": 3}\n").find("verb"), std::string::npos);
    EXPECT_NE(error_for("{\"verb\": \"status\", \"args\": 3}\n").find("args"), std::string::npos);
    EXPECT_EQ(error_for("{\"verb\": \"drain\"}\n"), "drain needs \"node\"");
    EXPECT_EQ(error_for("{\"verb\": \"drain\", \"args\": {\"node\": 7}}\n"),
              "drain: \"node\" must be a string");
    EXPECT_NE(error_for("{\"verb\": \"\xff\xfe\"}\n").find("malformed"), std::string::npos);
    // Deep nesting is an ordinary parse, not a stack overflow.
    EXPECT_NE(error_for(std::string(30000, '[') + "\n").find("malformed"), std::string::npos);

    Reply stats = client.ask(Verb::stats);
    EXPECT_TRUE(stats.ok) << stats.error;
    EXPECT_TRUE(client.send("\n\r\n"));  // blank lines are ignored
    EXPECT_TRUE(client.ask(Verb::check).ok);
}

TEST_F(ControlServerTest, BackendExceptionsBecomeErrorReplies) {
    start();
    LineClient client(config.socket);
    Reply unknown = client.ask(Verb::drain, {{"node", "paris"}});
    EXPECT_FALSE(unknown.ok);
    EXPECT_EQ(unknown.error, "unknown node \"paris\"");
    Reply bad_type = client.ask(Verb::explain, {{"name", "www.demo.test."}, {"type", "MX"}});
    EXPECT_EQ(bad_type.error, "unknown type MX");
    loop.run([&] { return backend.fail_stats = true; });
    Reply failed = client.ask(Verb::stats);
    EXPECT_FALSE(failed.ok);
    EXPECT_EQ(failed.error, "counters unavailable");
    EXPECT_TRUE(client.ask(Verb::check).ok);
}

TEST_F(ControlServerTest, PipelinedRequestsAreAnsweredInOrder) {
    start();
    LineClient client(config.socket);
    ASSERT_TRUE(client.send(request_line(Verb::check) + request_line(Verb::stats) +
                            "{\"verb\":\"drain\",\"args\":{\"node\":\"x\"}}\r\n"));
    EXPECT_EQ(parse_reply(client.read_line().value_or("")).result, Json(check_document()));
    EXPECT_EQ(parse_reply(client.read_line().value_or("")).result, Json(stats_document()));
    EXPECT_EQ(parse_reply(client.read_line().value_or("")).error, "unknown node \"x\"");
}

TEST_F(ControlServerTest, LastRequestWithoutNewlineIsAnsweredBeforeClosing) {
    start();
    LineClient client(config.socket);
    ASSERT_TRUE(client.send("{\"verb\":\"check\"}"));
    client.shutdown_writing();
    EXPECT_EQ(parse_reply(client.read_line().value_or("")).result, Json(check_document()));
    EXPECT_TRUE(client.closed_by_server());
    EXPECT_TRUE(eventually(loop, [&] { return server->clients() == 0; }));
}

TEST_F(ControlServerTest, OversizeLineClosesTheConnection) {
    start();
    {
        LineClient client(config.socket);
        client.send(std::string(kMaxLine + 100, 'x'));  // no newline: the cap still applies
        Reply reply = parse_reply(client.read_line().value_or(""));
        EXPECT_FALSE(reply.ok);
        EXPECT_NE(reply.error.find("longer than"), std::string::npos) << reply.error;
        EXPECT_TRUE(client.closed_by_server());
    }
    {
        LineClient client(config.socket);
        std::string line =
            "{\"verb\":\"status\",\"args\":{\"service\":\"" + std::string(kMaxLine, 'a') + "\"}}\n";
        client.send(line);
        Reply reply = parse_reply(client.read_line().value_or(""));
        EXPECT_NE(reply.error.find("longer than"), std::string::npos) << reply.error;
        EXPECT_TRUE(client.closed_by_server());
    }
    // A line just under the cap is still a request.
    LineClient client(config.socket);
    std::string name(kMaxLine - 100, 'a');
    Reply reply = client.ask(Verb::status, {{"service", name}});
    EXPECT_EQ(reply.error, "unknown service \"" + name + "\"");
    EXPECT_TRUE(eventually(loop, [&] { return server->clients() == 1; }));
}

TEST_F(ControlServerTest, WatchStreamsEventsAndUnwatchesOnClose) {
    start();
    LineClient watcher(config.socket);
    Reply ack = watcher.ask(Verb::watch);
    ASSERT_TRUE(ack.ok) << ack.error;
    EXPECT_EQ(ack.result, Json({{"watching", true}}));
    ASSERT_EQ(loop.run([&] { return backend.listeners.size(); }), 1u);

    loop.run([&] {
        backend.emit(transition("london", "up", "down"));
        backend.emit(transition("london", "down", "up"));
        return 0;
    });
    EXPECT_EQ(Json::parse(watcher.read_line().value_or("null")),
              Json(transition("london", "up", "down")));
    EXPECT_EQ(Json::parse(watcher.read_line().value_or("null")),
              Json(transition("london", "down", "up")));

    // Another client is unaffected, and sees no events.
    LineClient other(config.socket);
    EXPECT_TRUE(other.ask(Verb::stats).ok);

    watcher.close();
    EXPECT_TRUE(eventually(loop, [&] { return backend.listeners.empty(); }));
    EXPECT_EQ(loop.run([&] { return backend.unwatches; }), 1);
    EXPECT_TRUE(eventually(loop, [&] { return server->clients() == 1; }));
}

TEST_F(ControlServerTest, WatcherThatStopsReadingIsDropped) {
    start();
    LineClient watcher(config.socket);
    ASSERT_TRUE(watcher.ask(Verb::watch).ok);
    WatchEvent big = transition("london", "up", "down");
    big.reason = std::string(16 * 1024, 'r');
    // Far more than the socket buffers and the server's backlog together.
    for (int round = 0; round < 20; ++round)
        loop.run([&] {
            for (int i = 0; i < 20; ++i)
                backend.emit(big);
            return 0;
        });
    EXPECT_TRUE(eventually(loop, [&] { return backend.listeners.empty(); }));
    EXPECT_TRUE(eventually(loop, [&] { return server->clients() == 0; }));
}

TEST_F(ControlServerTest, DestroyingTheServerUnwatchesAndRemovesTheSocket) {
    start();
    LineClient watcher(config.socket);
    ASSERT_TRUE(watcher.ask(Verb::watch).ok);
    stop();
    EXPECT_TRUE(loop.run([&] { return backend.listeners.empty(); }));
    EXPECT_FALSE(std::filesystem::exists(config.socket));
    EXPECT_TRUE(watcher.closed_by_server());
}

TEST_F(ControlServerTest, CreatesTheFolderAndAppliesTheMode) {
    config.socket = dir / "run/nolb/nolbd.sock";
    config.mode = 0600;
    start();
    struct stat st {};
    ASSERT_EQ(stat(config.socket.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    ASSERT_EQ(stat((dir / "run/nolb").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    LineClient client(config.socket);
    EXPECT_TRUE(client.ask(Verb::check).ok);
}

TEST_F(ControlServerTest, DefaultModeIs0660) {
    start();
    struct stat st {};
    ASSERT_EQ(stat(config.socket.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0660u);
}

TEST_F(ControlServerTest, ReplacesAStaleSocketFile) {
    {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address = unix_address(config.socket);
        ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
        ::close(fd);  // the file stays, nobody listens: what a crashed daemon leaves
    }
    ASSERT_TRUE(std::filesystem::exists(config.socket));
    start();
    LineClient client(config.socket);
    EXPECT_TRUE(client.ask(Verb::check).ok);
}

TEST_F(ControlServerTest, RefusesASocketSomeoneServes) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address = unix_address(config.socket);
    ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(listen(fd, 4), 0);
    try {
        start();
        ADD_FAILURE() << "open() succeeded on a live socket";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()), "another nolbd is serving " + config.socket);
    }
    EXPECT_TRUE(std::filesystem::exists(config.socket));  // left alone
    ::close(fd);
}

TEST_F(ControlServerTest, RefusesToReplaceAFileThatIsNotASocket) {
    std::ofstream(config.socket) << "precious";
    EXPECT_THROW(start(), std::runtime_error);
    std::ifstream in(config.socket);
    std::string content;
    in >> content;
    EXPECT_EQ(content, "precious");
}

TEST_F(ControlServerTest, RefusedPeerGetsOneErrorLine) {
    std::vector<Peer> seen;
    check = [&](const Peer& peer) {
        seen.push_back(peer);
        return false;
    };
    start();
    LineClient client(config.socket);
    std::optional<std::string> line = client.read_line();
    ASSERT_TRUE(line);
    Reply reply = parse_reply(*line);
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "permission denied");
    EXPECT_TRUE(client.closed_by_server());
    ASSERT_EQ(loop.run([&] { return seen.size(); }), 1u);
    Peer peer = loop.run([&] { return seen[0]; });
    EXPECT_EQ(peer.uid, geteuid());
    EXPECT_EQ(peer.pid, getpid());
    EXPECT_EQ(clients(), 0u);
}

TEST_F(ControlServerTest, DefaultPeerCheckMirrorsTheSocketMode) {
    start();
    struct stat st {};
    ASSERT_EQ(stat(config.socket.c_str(), &st), 0);
    gid_t group = st.st_gid;
    gid_t other_group = group + 4242;
    uid_t stranger = geteuid() + 4242;
    auto allowed = [&](Peer peer) {
        return loop.run([&] { return server->default_peer_check(peer); });
    };
    EXPECT_TRUE(allowed({1, 0, other_group, {}}));              // root
    EXPECT_TRUE(allowed({1, geteuid(), other_group, {}}));      // the daemon's own user
    EXPECT_TRUE(allowed({1, stranger, group, {}}));             // primary group
    EXPECT_TRUE(allowed({1, stranger, other_group, {group}}));  // supplementary group
    EXPECT_FALSE(allowed({1, stranger, other_group, {other_group + 1}}));
    stop();

    config.mode = 0600;
    start();
    EXPECT_FALSE(allowed({1, stranger, group, {group}}));
    EXPECT_TRUE(allowed({1, 0, other_group, {}}));
    stop();

    config.mode = 0666;
    start();
    EXPECT_TRUE(allowed({1, stranger, other_group, {}}));
}

TEST_F(ControlServerTest, LimitsSimultaneousClients) {
    start();
    std::vector<std::unique_ptr<LineClient>> held;
    for (std::size_t i = 0; i < Server::kMaxClients; ++i)
        held.push_back(std::make_unique<LineClient>(config.socket));
    ASSERT_TRUE(eventually(loop, [&] { return server->clients() == Server::kMaxClients; }));

    LineClient extra(config.socket);
    Reply refused = parse_reply(extra.read_line().value_or(""));
    EXPECT_FALSE(refused.ok);
    EXPECT_NE(refused.error.find("too many control clients"), std::string::npos);
    EXPECT_TRUE(held.back()->ask(Verb::check).ok);

    held.front()->close();
    ASSERT_TRUE(eventually(loop, [&] { return server->clients() == Server::kMaxClients - 1; }));
    LineClient next(config.socket);
    EXPECT_TRUE(next.ask(Verb::check).ok);
}

TEST_F(ControlServerTest, ClearErrorForAPathTooLong) {
    config.socket = dir / (std::string(120, 's') + ".sock");
    try {
        start();
        ADD_FAILURE() << "open() accepted a path longer than sun_path";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("too long"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace nolb::control
