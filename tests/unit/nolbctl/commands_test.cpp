// nolbctl's verbs end to end against a real control::Server on a real Unix socket, with a test
// Backend behind it: the exit status of each verb (0 done, 1 refused, check's own 0/1/2, 3 no
// daemon or a reply that is not the verb's document), what reaches the daemon (names made
// absolute and lower case, types upper case), and where the socket path comes from.
#include "nolbctl/commands.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "control/server.hpp"
#include "nolbctl/client.hpp"
#include "unit/control/control_fixture.hpp"

namespace nolb::nolbctl {
namespace {

using control::Json;
using control::Verb;
using control::testing::TempDir;

// check answers whatever status the test sets.
class Backend : public control::testing::FakeBackend {
  public:
    control::Check check() override {
        control::Check result = control::testing::check_document();
        result.status = check_status;
        return result;
    }
    int check_status = 0;
    std::string last_explain_name, last_explain_type;
    control::Explain explain(const std::string& name, const std::string& type) override {
        last_explain_name = name;
        last_explain_type = type;
        return FakeBackend::explain(name, type);
    }
};

struct Outcome {
    int status = -1;
    std::string out, err;
};

// nolbctl's own lines on stderr; the control server in this process logs there too.
std::string said(const std::string& err) {
    std::string lines;
    std::size_t start = 0;
    while (start < err.size()) {
        std::size_t end = err.find('\n', start);
        end = end == std::string::npos ? err.size() : end + 1;
        if (err.compare(start, 8, "nolbctl:") == 0) lines += err.substr(start, end - start);
        start = end;
    }
    return lines;
}

// The smallest valid configuration, and `control` after it.
std::string config_with(const std::string& control) {
    return "[[zone]]\norigin = \"demo.test.\"\n\n[[zone.ns]]\nname = \"ns1\"\n"
           "addresses = [\"127.0.0.1\"]\n\n[control]\n" +
           control;
}

class NolbctlCommandsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        config.socket = dir / "nolbd.sock";
        loop.run([&] {
            server = std::make_unique<control::Server>(loop.base(), config, backend);
            server->open();
            return 0;
        });
    }
    void TearDown() override {
        loop.run([&] {
            server.reset();
            return 0;
        });
    }

    Options options(Verb verb) const {
        Options o;
        o.socket = config.socket;
        o.verb = verb;
        return o;
    }

    static Outcome run_captured(const Options& o) {
        Outcome outcome;
        ::testing::internal::CaptureStdout();
        ::testing::internal::CaptureStderr();
        outcome.status = run(o);
        outcome.out = ::testing::internal::GetCapturedStdout();
        outcome.err = ::testing::internal::GetCapturedStderr();
        return outcome;
    }

    template <typename F>
    auto on_loop(F f) {
        return loop.run(f);
    }

    TempDir dir;
    config::Control config;
    Backend backend;
    control::testing::LoopThread loop;
    std::unique_ptr<control::Server> server;
};

TEST_F(NolbctlCommandsTest, StatusExitsZeroAndPrintsEveryNode) {
    Outcome o = run_captured(options(Verb::status));
    EXPECT_EQ(o.status, kExitOk) << o.err;
    EXPECT_NE(o.out.find("london"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("geneva"), std::string::npos) << o.out;
    EXPECT_EQ(said(o.err), "");
}

TEST_F(NolbctlCommandsTest, StatusOfAServiceIsAskedAbsoluteAndLowerCase) {
    Options opts = options(Verb::status);
    opts.service = "WWW.Demo.Test";
    Outcome o = run_captured(opts);
    EXPECT_EQ(o.status, kExitOk) << o.err;
    EXPECT_EQ(on_loop([&] { return backend.last_service; }), "www.demo.test.");

    opts.service = "ftp.demo.test";
    o = run_captured(opts);
    EXPECT_EQ(o.status, kExitRefused);
    EXPECT_EQ(said(o.err), "nolbctl: unknown service \"ftp.demo.test.\"\n");
}

TEST_F(NolbctlCommandsTest, JsonPrintsTheResultDocument) {
    Options opts = options(Verb::status);
    opts.json = true;
    Outcome o = run_captured(opts);
    EXPECT_EQ(o.status, kExitOk) << o.err;
    EXPECT_EQ(Json::parse(o.out), Json(control::testing::status_document()));
}

TEST_F(NolbctlCommandsTest, DrainAndUndrainExitZeroAndAnUnknownNodeOne) {
    Options opts = options(Verb::drain);
    opts.node = "london";
    Outcome o = run_captured(opts);
    EXPECT_EQ(o.status, kExitOk) << o.err;
    EXPECT_TRUE(on_loop([&] { return backend.last_drained; }));

    opts.verb = Verb::undrain;
    o = run_captured(opts);
    EXPECT_EQ(o.status, kExitOk) << o.err;
    EXPECT_FALSE(on_loop([&] { return backend.last_drained; }));

    opts.node = "paris";
    o = run_captured(opts);
    EXPECT_EQ(o.status, kExitRefused);
    EXPECT_EQ(said(o.err), "nolbctl: unknown node \"paris\"\n");
    EXPECT_EQ(o.out, "");
}

TEST_F(NolbctlCommandsTest, ExplainSendsAnAbsoluteNameAndAnUpperCaseType) {
    Options opts = options(Verb::explain);
    opts.name = "www.demo.test";
    opts.type = "aaaa";
    Outcome o = run_captured(opts);
    EXPECT_EQ(o.status, kExitOk) << o.err;
    EXPECT_EQ(on_loop([&] { return backend.last_explain_name; }), "www.demo.test.");
    EXPECT_EQ(on_loop([&] { return backend.last_explain_type; }), "AAAA");

    opts.type = "mx";
    o = run_captured(opts);
    EXPECT_EQ(o.status, kExitRefused);
    EXPECT_EQ(said(o.err), "nolbctl: unknown type MX\n");
}

TEST_F(NolbctlCommandsTest, ReloadExitsOneWhenTheFileIsRejected) {
    Outcome o = run_captured(options(Verb::reload));
    EXPECT_EQ(o.status, kExitOk) << o.err;
    EXPECT_EQ(on_loop([&] { return backend.reloads; }), 1);

    on_loop([&] { return backend.reject_reload = true; });
    o = run_captured(options(Verb::reload));
    EXPECT_EQ(o.status, kExitRefused);
    // The problems go to stderr, where a script's operator sees them.
    EXPECT_NE(o.err.find("nolb.toml:3:1: service.ttl: must be at most 86400"), std::string::npos)
        << o.err;
}

TEST_F(NolbctlCommandsTest, CheckExitsWithTheDaemonsVerdict) {
    for (int verdict : {0, 1, 2}) {
        on_loop([&] { return backend.check_status = verdict; });
        Outcome o = run_captured(options(Verb::check));
        EXPECT_EQ(o.status, verdict) << o.err;
    }
    // A status outside the protocol is not taken for a verdict.
    on_loop([&] { return backend.check_status = 7; });
    EXPECT_EQ(run_captured(options(Verb::check)).status, kExitUnreachable);
}

TEST_F(NolbctlCommandsTest, StatsExitsZeroAndABackendFailureOne) {
    Outcome o = run_captured(options(Verb::stats));
    EXPECT_EQ(o.status, kExitOk) << o.err;
    EXPECT_FALSE(o.out.empty());

    on_loop([&] { return backend.fail_stats = true; });
    o = run_captured(options(Verb::stats));
    EXPECT_EQ(o.status, kExitRefused);
    EXPECT_EQ(said(o.err), "nolbctl: counters unavailable\n");
}

TEST_F(NolbctlCommandsTest, NoDaemonExitsThree) {
    Options opts = options(Verb::status);
    opts.socket = dir / "gone.sock";
    Outcome o = run_captured(opts);
    EXPECT_EQ(o.status, kExitUnreachable);
    EXPECT_EQ(said(o.err), "nolbctl: nolbd is not running (no socket at " + opts.socket + ")\n");
}

// A reply that is not the verb's document: a daemon of another version, or not nolbd at all.
TEST(NolbctlCommands, AMalformedReplyExitsThree) {
    TempDir dir;
    const std::string path = dir / "odd.sock";
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address = control::testing::unix_address(path);
    ASSERT_EQ(bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(listen(listener, 1), 0);
    std::thread peer([listener] {
        int fd = accept(listener, nullptr, nullptr);
        if (fd < 0) return;
        char byte = 0;
        while (recv(fd, &byte, 1, 0) == 1 && byte != '\n') {
        }
        const std::string reply = control::ok_line(Json{{"services", "not a list"}});
        send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
        close(fd);
    });
    Options opts;
    opts.socket = path;
    opts.verb = Verb::status;
    ::testing::internal::CaptureStderr();
    const int status = run(opts);
    const std::string err = ::testing::internal::GetCapturedStderr();
    peer.join();
    close(listener);
    EXPECT_EQ(status, kExitUnreachable);
    EXPECT_NE(err.find("nolbctl: malformed reply from nolbd"), std::string::npos) << err;
}

TEST(NolbctlSocketPath, TheCommandLineWinsThenTheConfigThenTheDefault) {
    TempDir dir;
    const std::string file = dir / "nolb.toml";
    std::ofstream(file) << config_with("socket = \"" + dir / "from-config.sock" + "\"\n");
    Options o;
    EXPECT_EQ(socket_path(o), config::Control{}.socket);
    o.config_path = file;
    EXPECT_EQ(socket_path(o), dir / "from-config.sock");
    o.socket = dir / "given.sock";
    EXPECT_EQ(socket_path(o), dir / "given.sock");
}

TEST(NolbctlSocketPath, AConfigWithoutASocketOrWithErrorsSaysSo) {
    TempDir dir;
    const std::string file = dir / "nolb.toml";
    std::ofstream(file) << config_with("socket = \"\"\n");
    Options o;
    o.config_path = file;
    try {
        socket_path(o);
        ADD_FAILURE() << "no Unreachable thrown";
    } catch (const Unreachable& e) {
        EXPECT_EQ(std::string(e.what()),
                  "the control socket is off in " + file + " (control.socket is empty)");
    }

    std::ofstream(file) << config_with("socket = 5\n");
    try {
        socket_path(o);
        ADD_FAILURE() << "no Unreachable thrown";
    } catch (const Unreachable& e) {
        const std::string message = e.what();
        EXPECT_EQ(
            message.rfind("cannot find the socket: " + file + " has errors:\n  " + file + ":9:", 0),
            0u)
            << message;
    }
}

// The command line is built from control::kVerbs: every argument a verb lists lands somewhere
// in Options, a --flag in a bool and the others in strings.
TEST(NolbctlCommands, EveryArgumentOfTheVerbsHasATarget) {
    Options options;
    for (const control::VerbInfo& info : control::kVerbs) {
        for (const control::VerbArgument& argument : info.arguments) {
            if (argument.name.empty()) continue;
            ArgumentTarget target = argument_target(options, argument.name);
            if (argument.name.starts_with("--"))
                EXPECT_NE(target.flag, nullptr) << info.name << " " << argument.name;
            else
                EXPECT_NE(target.text, nullptr) << info.name << " " << argument.name;
        }
    }
    EXPECT_EQ(argument_target(options, "NODE").text, &options.node);
    EXPECT_EQ(argument_target(options, "--wait").flag, &options.wait);
    EXPECT_EQ(argument_target(options, "UNKNOWN").text, nullptr);
    EXPECT_EQ(argument_target(options, "UNKNOWN").flag, nullptr);
}

}  // namespace
}  // namespace nolb::nolbctl
