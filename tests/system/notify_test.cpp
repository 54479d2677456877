// Readiness reports to a service manager (systemd's sd_notify protocol): the test plays the
// manager, listening on a Unix datagram socket named by NOTIFY_SOCKET, and sees nolbd report
// STATUS= while it probes, READY=1 once it answers, RELOADING=1 (with MONOTONIC_USEC) then
// READY=1 around a SIGHUP reload, and STOPPING=1 on SIGTERM. Both a socket file and an
// abstract socket ('@' name) are checked, as systemd uses either.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "harness.hpp"

namespace nolb::system_test {
namespace {

// A manager's end: a bound datagram socket and the messages read from it so far.
class NotifySocket {
  public:
    // `name`: a path, or "@name" for an abstract socket.
    explicit NotifySocket(std::string name) : name_(std::move(name)) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path, name_.data(), name_.size());
        if (name_[0] == '@') address.sun_path[0] = '\0';
        const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
        bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0;
    }
    ~NotifySocket() {
        if (fd_ >= 0) ::close(fd_);
        if (bound_ && name_[0] == '/') ::unlink(name_.c_str());
    }
    bool bound() const { return bound_; }
    const std::string& name() const { return name_; }

    // Reads messages until one contains `line` (a whole line), for at most `wait`; returns
    // that message, or nothing. Every message read is kept in seen().
    std::optional<std::string> wait_for(const std::string& line, std::chrono::milliseconds wait) {
        const auto deadline = std::chrono::steady_clock::now() + wait;
        while (std::chrono::steady_clock::now() < deadline) {
            timeval tv{0, 100'000};
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            char buffer[4096];
            const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0) continue;
            std::string message(buffer, static_cast<std::size_t>(n));
            seen_.push_back(message);
            if (("\n" + message + "\n").find("\n" + line + "\n") != std::string::npos)
                return message;
        }
        return std::nullopt;
    }
    std::string seen() const {
        std::string all;
        for (const auto& m : seen_)
            all += "[" + m + "]\n";
        return all;
    }

  private:
    std::string name_;
    int fd_ = -1;
    bool bound_ = false;
    std::vector<std::string> seen_;
};

void check_lifecycle(NotifySocket& manager) {
    ASSERT_TRUE(manager.bound()) << manager.name() << ": " << std::strerror(errno);
    ::setenv("NOTIFY_SOCKET", manager.name().c_str(), 1);
    Nolbd nolbd;
    const std::string error = nolbd.start();
    ::unsetenv("NOTIFY_SOCKET");
    ASSERT_EQ(error, "");

    auto ready = manager.wait_for("READY=1", 10s);
    ASSERT_TRUE(ready) << "no READY=1; seen:\n" << manager.seen();
    EXPECT_NE(ready->find("STATUS=answering: zones "), std::string::npos) << *ready;
    EXPECT_NE(manager.seen().find("STATUS=probing"), std::string::npos)
        << "no status while probing; seen:\n"
        << manager.seen();

    ASSERT_EQ(::kill(nolbd.pid(), SIGHUP), 0);
    auto reloading = manager.wait_for("RELOADING=1", 10s);
    ASSERT_TRUE(reloading) << "no RELOADING=1 after SIGHUP; seen:\n" << manager.seen();
    EXPECT_NE(reloading->find("MONOTONIC_USEC="), std::string::npos) << *reloading;
    EXPECT_TRUE(manager.wait_for("READY=1", 10s)) << "no READY=1 after the reload; seen:\n"
                                                  << manager.seen();
    EXPECT_TRUE(udp_exchange(nolbd.port(), query("demo.test.", LDNS_RR_TYPE_SOA), 1s));

    EXPECT_EQ(nolbd.stop(), "");
    EXPECT_TRUE(manager.wait_for("STOPPING=1", 2s)) << "no STOPPING=1; seen:\n" << manager.seen();
}

TEST(Notify, ReportsReadyReloadingAndStoppingToASocketFile) {
    const std::filesystem::path dir = "/tmp/nolb-notify-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    ASSERT_TRUE(std::filesystem::create_directory(dir));
    {
        NotifySocket manager((dir / "notify").string());
        check_lifecycle(manager);
    }
    std::filesystem::remove_all(dir);
}

TEST(Notify, ReportsToAnAbstractSocket) {
    NotifySocket manager("@nolb-notify-test-" + std::to_string(::getpid()));
    check_lifecycle(manager);
}

}  // namespace
}  // namespace nolb::system_test
