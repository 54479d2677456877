// The lab's short exchanges against real peers on loopback: a listening socket that answers
// HTTP, one that refuses, one that accepts and stays silent (the deadline must hold); a Unix
// socket peer answering one line; and DNS messages built by the lab, answered by the real nolbd
// and read back.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "nolb-compare/lab_io.hpp"
#include "nolb-compare/lab_process.hpp"

namespace nolb::compare {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Listener {
    int fd = -1;
    std::uint16_t port = 0;
    Listener() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
        ::listen(fd, 8);
        socklen_t len = sizeof sin;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
        port = ntohs(sin.sin_port);
    }
    ~Listener() { ::close(fd); }
};

// Accepts one connection, reads the request head, writes `reply` and closes.
std::thread serve_once(int listen_fd, std::string reply, std::string* request) {
    return std::thread([listen_fd, reply, request] {
        int c = ::accept(listen_fd, nullptr, nullptr);
        if (c < 0) return;
        std::string got;
        char buf[1024];
        while (got.find("\r\n\r\n") == std::string::npos && got.find('\n') == std::string::npos) {
            ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        if (request) *request = got;
        ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        ::close(c);
    });
}

TEST(CompareLabIo, HttpExchangeReadsStatusAndBody) {
    Listener l;
    std::string request;
    std::thread t = serve_once(
        l.fd, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", &request);
    HttpReply r = http_exchange("127.0.0.1", l.port, "POST", "/fail?mode=slow", 2s);
    t.join();
    EXPECT_EQ(r.status, 503) << r.error;
    EXPECT_EQ(r.body, "busy");
    EXPECT_EQ(request.rfind("POST /fail?mode=slow HTTP/1.1\r\n", 0), 0u) << request;
    EXPECT_NE(request.find("Connection: close\r\n"), std::string::npos);
}

TEST(CompareLabIo, HttpExchangeReportsRefusedAndSilentPeers) {
    std::uint16_t closed_port = 0;
    {
        Listener gone;
        closed_port = gone.port;
    }
    HttpReply refused = http_exchange("127.0.0.1", closed_port, "GET", "/health", 1s);
    EXPECT_EQ(refused.status, 0);
    EXPECT_NE(refused.error.find("refused"), std::string::npos) << refused.error;

    Listener silent;  // the kernel completes the handshake; nobody ever answers
    const auto started = Clock::now();
    HttpReply r = http_exchange("127.0.0.1", silent.port, "GET", "/health", 300ms);
    const auto took = Clock::now() - started;
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.error, "timed out");
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 2s);
}

TEST(CompareLabIo, UnixExchangeReadsOneLine) {
    char templ[] = "/tmp/nolb-lab-io-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    const fs::path path = fs::path(templ) / "s.sock";
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::strcpy(sun.sun_path, path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    std::string request;
    std::thread t = serve_once(fd, "{\"ok\": true}\nmore\n", &request);
    std::string error;
    auto line = unix_exchange(path, "{\"verb\":\"stats\"}\n", true, 2s, error);
    t.join();
    ASSERT_TRUE(line) << error;
    EXPECT_EQ(*line, "{\"ok\": true}");
    EXPECT_EQ(request, "{\"verb\":\"stats\"}\n");

    EXPECT_FALSE(unix_exchange(fs::path(templ) / "none.sock", "x\n", true, 1s, error));
    EXPECT_FALSE(error.empty());
    ::close(fd);
    fs::remove_all(templ);
}

TEST(CompareLabIo, DnsQueryAnsweredByNolbd) {
    char templ[] = "/tmp/nolb-lab-io-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    const fs::path dir = templ;
    // A port the kernel just handed out for UDP and TCP alike is very likely free again.
    int probe = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(probe, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    socklen_t len = sizeof sin;
    ::getsockname(probe, reinterpret_cast<sockaddr*>(&sin), &len);
    ::close(probe);
    const std::uint16_t port = ntohs(sin.sin_port);
    std::ofstream(dir / "nolbd.toml")
        << "[server]\nlisten = [\"127.0.0.1:" << port
        << "\"]\n[[zone]]\norigin = \"t.test.\"\n[[zone.ns]]\nname = \"ns.t.test.\"\n"
           "addresses = [\"127.0.0.1\"]\n[[service]]\nname = \"www.t.test.\"\n"
           "[[service.node]]\nname = \"a\"\naddresses = [\"127.0.0.21\"]\n"
           "[[service.node]]\nname = \"b\"\naddresses = [\"127.0.0.22\"]\n[control]\nsocket = "
           "\"\"\n";
    std::vector<std::string> command = {NOLBD_PATH, "-c", (dir / "nolbd.toml").string()};
    // As root nolbd needs a user to become; the test's files are private: keep root.
    if (::geteuid() == 0) command.insert(command.end(), {"--user", "root"});
    Child nolbd = Child::spawn(command, dir / "n.log");
    std::optional<std::vector<std::string>> got;
    for (int i = 0; i < 100 && !got && !nolbd.poll(); ++i) {
        got = dns_lookup(port, "www.t.test", 100ms);
        if (!got) std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(got) << log_tail(dir / "n.log");
    std::sort(got->begin(), got->end());
    EXPECT_EQ(*got, (std::vector<std::string>{"127.0.0.21", "127.0.0.22"}));
    auto none = dns_lookup(port, "nothing.t.test", 1s);  // NXDOMAIN is not an answer
    EXPECT_FALSE(none);
    nolbd.terminate(2000ms);
    EXPECT_EQ(*nolbd.status(), 0) << log_tail(dir / "n.log");
    fs::remove_all(dir);

    // A message is only an answer to the query with its ID.
    std::vector<std::uint8_t> query = dns_query("www.t.test", 0x1234);
    ASSERT_GE(query.size(), 12u);
    EXPECT_EQ(query[0], 0x12);
    EXPECT_EQ(query[1], 0x34);
    EXPECT_FALSE(dns_addresses(query, 0x1234));  // a query, not a response
    EXPECT_FALSE(dns_addresses(std::vector<std::uint8_t>{1, 2, 3}, 0x1234));
}

}  // namespace
}  // namespace nolb::compare
