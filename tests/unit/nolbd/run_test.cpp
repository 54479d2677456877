// nolbd's two ways to run, by their exit status and what they print: --check-config says
// "<path>: ok" on stdout, or every problem (file:line:col) on stderr and exits 2; serving exits
// 2 for a bad configuration or a root start with no user to become, and 1 when it cannot start
// (its address taken), before any loop runs.
#include "nolbd/run.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "unit/control/control_fixture.hpp"

namespace nolb::nolbd {
namespace {

using control::testing::TempDir;

struct Printed {
    int status = -1;
    std::string out, err;
};

template <typename F>
Printed captured(F action) {
    Printed printed;
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    printed.status = action();
    printed.out = ::testing::internal::GetCapturedStdout();
    printed.err = ::testing::internal::GetCapturedStderr();
    return printed;
}

std::string config_text(std::uint16_t port, const std::string& ttl = "20",
                        const std::string& user = "") {
    return "[server]\nlisten = [\"127.0.0.1:" + std::to_string(port) + "\"]\n" +
           (user.empty() ? "" : "user = \"" + user + "\"\n") +
           "\n[[zone]]\norigin = \"demo.test.\"\nttl = 300\n\n"
           "[[zone.ns]]\nname = \"ns1\"\naddresses = [\"127.0.0.1\"]\n\n"
           "[[service]]\nname = \"www.demo.test.\"\nttl = " +
           ttl +
           "\nhealth = \"none\"\n\n[[service.node]]\nname = \"london\"\n"
           "addresses = [\"127.0.0.2\"]\n\n[control]\nsocket = \"\"\n";
}

// The 1-based line of `needle` in `text`.
long line_of(const std::string& text, const std::string& needle) {
    return 1 + std::count(text.begin(), text.begin() + text.find(needle), '\n');
}

TEST(CheckConfig, AGoodFileIsOk) {
    TempDir dir;
    const std::string path = dir / "nolb.toml";
    std::ofstream(path) << config_text(5353);
    const Printed printed = captured([&] { return check_config(path); });
    EXPECT_EQ(printed.status, kExitOk);
    EXPECT_EQ(printed.out, path + ": ok\n");
    EXPECT_EQ(printed.err, "");
}

TEST(CheckConfig, EveryProblemIsPrintedWithItsLocation) {
    TempDir dir;
    const std::string path = dir / "nolb.toml";
    std::string text = config_text(5353, "-5");
    text += "\n[[service]]\nname = \"api.demo.test.\"\nttl = \"soon\"\nhealth = \"none\"\n";
    std::ofstream(path) << text;
    const Printed printed = captured([&] { return check_config(path); });
    EXPECT_EQ(printed.status, kExitConfigError);
    EXPECT_EQ(printed.out, "");
    const std::string first = path + ":" + std::to_string(line_of(text, "ttl = -5")) + ":";
    const std::string second = path + ":" + std::to_string(line_of(text, "ttl = \"soon\"")) + ":";
    EXPECT_EQ(printed.err.rfind(first, 0), 0u) << printed.err;
    EXPECT_NE(printed.err.find(second), std::string::npos) << printed.err;
}

TEST(CheckConfig, AMissingFileIsAConfigurationError) {
    TempDir dir;
    const std::string path = dir / "absent.toml";
    const Printed printed = captured([&] { return check_config(path); });
    EXPECT_EQ(printed.status, kExitConfigError);
    EXPECT_EQ(printed.out, "");
    EXPECT_NE(printed.err.find(path), std::string::npos) << printed.err;
}

TEST(Run, ABadConfigurationExitsTwoBeforeOpeningAnything) {
    TempDir dir;
    Options options;
    options.config_path = dir / "nolb.toml";
    std::ofstream(options.config_path) << config_text(5353, "-5", "root");
    const Printed printed = captured([&] { return run(options); });
    EXPECT_EQ(printed.status, kExitConfigError);
    EXPECT_EQ(printed.err.rfind(options.config_path + ":", 0), 0u) << printed.err;
}

TEST(Run, RootWithNoUserToBecomeExitsTwo) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the rule is about starting as root";
    TempDir dir;
    Options options;
    options.config_path = dir / "nolb.toml";
    std::ofstream(options.config_path) << config_text(5353);
    const Printed printed = captured([&] { return run(options); });
    EXPECT_EQ(printed.status, kExitConfigError);
    EXPECT_NE(printed.err.find(options.config_path + ": server.user: nolbd was started as root"),
              std::string::npos)
        << printed.err;

    // -u names a user that does not exist: the command line's error.
    const Printed override = captured([&] {
        return run(options, UserOverride{"no-such-user-nolb", ""});
    });
    EXPECT_EQ(override.status, kExitConfigError);
    EXPECT_NE(override.err.find("--user: no user \"no-such-user-nolb\""), std::string::npos)
        << override.err;
}

TEST(Run, AnAddressInUseExitsOne) {
    int taken = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    ASSERT_EQ(bind(taken, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(getsockname(taken, reinterpret_cast<sockaddr*>(&address), &size), 0);

    TempDir dir;
    Options options;
    options.config_path = dir / "nolb.toml";
    // As root, "root" keeps root; otherwise it is ignored. Either way nolbd tries to bind.
    std::ofstream(options.config_path) << config_text(ntohs(address.sin_port), "20", "root");
    const Printed printed = captured([&] { return run(options); });
    close(taken);
    EXPECT_EQ(printed.status, kExitFailure) << printed.err;
}

}  // namespace
}  // namespace nolb::nolbd
