// util::notify speaks sd_notify: one datagram to the socket $NOTIFY_SOCKET names, a path or an
// abstract name ('@'), and nothing at all when the variable is unset.
#include "util/notify.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace nolb::util {
namespace {

// A bound datagram socket; `name` as in NOTIFY_SOCKET.
struct Listener {
    int fd = -1;
    std::string name;
    explicit Listener(std::string n) : name(std::move(n)) {
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path, name.data(), name.size());
        if (name[0] == '@') address.sun_path[0] = '\0';
        const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
        EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0) << name;
        timeval tv{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~Listener() {
        close(fd);
        if (name[0] == '/') unlink(name.c_str());
    }
    std::string receive() const {
        char buffer[512];
        const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
    }
};

struct NotifySocketEnv {
    explicit NotifySocketEnv(const std::string& name) { setenv("NOTIFY_SOCKET", name.c_str(), 1); }
    ~NotifySocketEnv() { unsetenv("NOTIFY_SOCKET"); }
};

TEST(Notify, SendsOneDatagramToASocketFile) {
    const std::string path = "/tmp/nolb-notify-unit-" + std::to_string(getpid());
    Listener listener(path);
    NotifySocketEnv env(path);
    EXPECT_TRUE(notify_ready("serving\nwell"));
    EXPECT_EQ(listener.receive(), "READY=1\nSTATUS=serving well");
}

TEST(Notify, SendsToAnAbstractSocket) {
    const std::string name = "@nolb-notify-unit-" + std::to_string(getpid());
    Listener listener(name);
    NotifySocketEnv env(name);
    EXPECT_TRUE(notify_stopping("bye"));
    EXPECT_EQ(listener.receive(), "STOPPING=1\nSTATUS=bye");
}

TEST(Notify, ReloadingCarriesTheMonotonicClock) {
    const std::string name = "@nolb-notify-unit-r-" + std::to_string(getpid());
    Listener listener(name);
    NotifySocketEnv env(name);
    timespec before{};
    clock_gettime(CLOCK_MONOTONIC, &before);
    EXPECT_TRUE(notify_reloading("reloading"));
    const std::string got = listener.receive();
    ASSERT_EQ(got.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << got;
    const auto usec = std::stoull(got.substr(got.find('=', 12) + 1));
    const auto before_usec = static_cast<unsigned long long>(before.tv_sec) * 1'000'000ull +
                             static_cast<unsigned long long>(before.tv_nsec) / 1'000ull;
    EXPECT_GE(usec, before_usec);
    EXPECT_LT(usec, before_usec + 10'000'000ull);
    EXPECT_NE(got.find("\nSTATUS=reloading"), std::string::npos) << got;
}

TEST(Notify, DoesNothingWithoutTheVariable) {
    unsetenv("NOTIFY_SOCKET");
    EXPECT_FALSE(notify_socket_set());
    EXPECT_TRUE(notify_ready("unused"));
}

TEST(Notify, ReportsAFailedSend) {
    NotifySocketEnv env("/nonexistent/nolb-notify");
    EXPECT_TRUE(notify_socket_set());
    EXPECT_FALSE(notify_status("nobody listens"));
}

}  // namespace
}  // namespace nolb::util
