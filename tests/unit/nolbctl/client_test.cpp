// nolbctl's client against real Unix sockets in a temp dir: a reply read from a real control
// server, and every way of not getting one told apart (no socket, nobody listening, a daemon
// that never answers, one that hangs up), each within its deadline.
#include "nolbctl/client.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "control/server.hpp"
#include "unit/control/control_fixture.hpp"

namespace nolb::nolbctl {
namespace {

using namespace std::chrono_literals;
using control::testing::TempDir;

// A listening socket at `path` whose accepted connections are given to `serve` on a thread.
class RawServer {
  public:
    RawServer(const std::string& path, std::function<void(int)> serve) {
        fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address = control::testing::unix_address(path);
        if (fd_ < 0 ||
            bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
            listen(fd_, 4) != 0)
            throw std::runtime_error("cannot listen on " + path);
        if (serve)
            thread_ = std::thread([this, serve] {
                int connection = accept(fd_, nullptr, nullptr);
                if (connection >= 0) serve(connection);
            });
    }
    ~RawServer() {
        ::shutdown(fd_, SHUT_RDWR);  // wakes a blocked accept
        if (thread_.joinable()) thread_.join();
        ::close(fd_);
    }
    RawServer(const RawServer&) = delete;
    RawServer& operator=(const RawServer&) = delete;

  private:
    int fd_ = -1;
    std::thread thread_;
};

// Reads until the client's request line has arrived.
void read_request(int fd) {
    char byte = 0;
    while (recv(fd, &byte, 1, 0) == 1 && byte != '\n') {
    }
}

template <typename F>
std::string unreachable_message(F action) {
    try {
        action();
    } catch (const Unreachable& e) {
        return e.what();
    }
    return "(no Unreachable thrown)";
}

TEST(NolbctlClient, AsksARealControlServer) {
    TempDir dir;
    control::testing::FakeBackend backend;
    config::Control config;
    config.socket = dir / "nolbd.sock";
    control::testing::LoopThread loop;
    std::unique_ptr<control::Server> server;
    loop.run([&] {
        server = std::make_unique<control::Server>(loop.base(), config, backend);
        server->open();
        return 0;
    });

    {
        Client client(config.socket, 5s);
        control::Reply reply = client.request(control::Verb::status, control::Json::object());
        ASSERT_TRUE(reply.ok) << reply.error;
        EXPECT_EQ(reply.result, control::Json(control::testing::status_document()));
        // The same connection serves the next request.
        reply = client.request(control::Verb::drain, {{"node", "nowhere"}});
        EXPECT_FALSE(reply.ok);
        EXPECT_EQ(reply.error, "unknown node \"nowhere\"");
    }
    loop.run([&] {
        server.reset();
        return 0;
    });
}

TEST(NolbctlClient, NoSocketMeansNotRunning) {
    TempDir dir;
    const std::string path = dir / "nolbd.sock";
    EXPECT_EQ(unreachable_message([&] { Client client(path, 1s); }),
              "nolbd is not running (no socket at " + path + ")");
    EXPECT_EQ(unreachable_message([&] { Client client(dir / "missing/nolbd.sock", 1s); }),
              "nolbd is not running (no socket at " + dir / "missing/nolbd.sock" + ")");
}

TEST(NolbctlClient, ASocketNobodyListensOnMeansNotRunning) {
    TempDir dir;
    const std::string path = dir / "nolbd.sock";
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address = control::testing::unix_address(path);
    ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    ::close(fd);  // the file stays, as after a crash
    EXPECT_EQ(unreachable_message([&] { Client client(path, 1s); }),
              "nolbd is not running (no socket at " + path + ")");
}

TEST(NolbctlClient, APathTooLongForASocketIsSaidSo) {
    const std::string path = "/tmp/" + std::string(200, 'x') + "/nolbd.sock";
    EXPECT_EQ(unreachable_message([&] { Client client(path, 1s); }),
              "socket path is too long: " + path);
}

TEST(NolbctlClient, ADaemonThatNeverAnswersTimesOut) {
    TempDir dir;
    const std::string path = dir / "nolbd.sock";
    std::atomic<bool> done{false};
    RawServer server(path, [&](int fd) {
        read_request(fd);
        while (!done)  // holds the connection open, silent, until the client has given up
            std::this_thread::sleep_for(10ms);
        ::close(fd);
    });
    Client client(path, 200ms);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(unreachable_message([&] { client.request(control::Verb::stats, {}); }),
              "no reply from nolbd within 0.2 s");
    const auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_GE(waited, 150ms);
    EXPECT_LT(waited, 5s);
    done = true;
}

TEST(NolbctlClient, ADaemonThatHangsUpWithoutReplyingIsReported) {
    TempDir dir;
    const std::string path = dir / "nolbd.sock";
    RawServer server(path, [](int fd) {
        read_request(fd);
        ::close(fd);
    });
    Client client(path, 5s);
    EXPECT_EQ(unreachable_message([&] { client.request(control::Verb::check, {}); }),
              "nolbd closed the connection without replying");
}

TEST(NolbctlClient, ReadsLinesInOrderAndALastLineWithoutItsNewline) {
    TempDir dir;
    const std::string path = dir / "nolbd.sock";
    RawServer server(path, [](int fd) {
        const std::string lines = "first\nsecond\nlast";
        send(fd, lines.data(), lines.size(), MSG_NOSIGNAL);
        ::close(fd);
    });
    Client client(path, 5s);
    EXPECT_EQ(client.read_line(5s), "first");
    EXPECT_EQ(client.read_line(5s), "second");
    EXPECT_EQ(client.read_line(5s), "last");
    EXPECT_EQ(client.read_line(5s), std::nullopt);  // closed
}

TEST(NolbctlClient, ARefusalSentBeforeTheRequestIsStillRead) {
    TempDir dir;
    const std::string path = dir / "nolbd.sock";
    RawServer server(path, [](int fd) {
        const std::string refusal = control::error_line("permission denied");
        send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_RDWR);
        ::close(fd);
    });
    Client client(path, 5s);
    control::Reply reply = client.request(control::Verb::status, control::Json::object());
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "permission denied");
}

TEST(NolbctlClient, PermissionMessageNamesTheSocketsGroup) {
    TempDir dir;
    const std::string path = dir / "nolbd.sock";
    RawServer server(path, nullptr);
    ASSERT_EQ(chown(path.c_str(), getuid(), 0), 0);
    EXPECT_EQ(permission_message(path),
              "permission denied on " + path + " (run as root or a member of group root)");
    // No socket (its folder closed to us): the folder's group.
    ASSERT_EQ(chown(dir.path().c_str(), getuid(), 0), 0);
    EXPECT_EQ(
        permission_message(dir / "other.sock"),
        "permission denied on " + dir / "other.sock" + " (run as root or a member of group root)");
}

}  // namespace
}  // namespace nolb::nolbctl
