// Listener setup: errors that name the endpoint, ports taken by others, IPv4/IPv6 wildcards
// side by side.
#include "server/socket.hpp"

#include <gtest/gtest.h>

#include "unit/server/server_fixture.hpp"

namespace nolb::server {
namespace {

using namespace testing;

// A socket of another "process": no SO_REUSEPORT unless asked.
Fd hold(const util::Endpoint& at, int type, bool reuseport = false) {
    Fd fd(socket(at.address.family, type | SOCK_CLOEXEC, 0));
    int one = 1;
    if (reuseport) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    sockaddr_storage address;
    socklen_t length = at.to_sockaddr(address);
    EXPECT_EQ(bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length), 0);
    if (type == SOCK_STREAM) {
        EXPECT_EQ(listen(fd.get(), 8), 0);
    }
    return fd;
}

std::string open_error(const Settings& settings) {
    HandlerStats stats;
    Server server(settings, [&stats](unsigned) { return std::make_unique<EchoHandler>(stats); });
    try {
        server.open();
    } catch (const ListenError& e) {
        return e.what();
    }
    return "";
}

TEST(Socket, UdpPortTakenNamesAddressAndPort) {
    Fd other = hold(loopback4(), SOCK_DGRAM);
    util::Endpoint taken = local_endpoint(other.get());
    std::string message = open_error(server_config({taken}));
    EXPECT_EQ(message, "cannot listen on 127.0.0.1:" + std::to_string(taken.port) +
                           "/udp: Address already in use");
}

TEST(Socket, TcpPortTakenNamesAddressAndPort) {
    Fd other = hold(loopback6(), SOCK_STREAM);
    util::Endpoint taken = local_endpoint(other.get());
    std::string message = open_error(server_config({taken}));
    EXPECT_EQ(message, "cannot listen on [::1]:" + std::to_string(taken.port) +
                           "/tcp: Address already in use");
}

// SO_REUSEPORT would let us share the port with, say, a second nolbd: refuse that too.
TEST(Socket, PortSharedWithReuseportIsStillTaken) {
    Fd other = hold(loopback4(), SOCK_DGRAM, /*reuseport=*/true);
    util::Endpoint taken = local_endpoint(other.get());
    EXPECT_NE(open_error(server_config({taken})).find("Address already in use"), std::string::npos);
}

TEST(Socket, Ipv4AndIpv6WildcardsShareAPort) {
    // A port free for UDP on 0.0.0.0 may still be busy for TCP, or be taken on [::] by another
    // test's client socket before we bind it: retry on a new port. Were the IPv6 wildcard not
    // IPv6-only, it would collide with the IPv4 one on every attempt, and the test fails.
    std::string last_error = "no attempt made";
    for (int attempt = 0; attempt < 20; ++attempt) {
        Fd probe = hold(endpoint("0.0.0.0"), SOCK_DGRAM);
        std::uint16_t port = local_endpoint(probe.get()).port;
        probe.reset();
        HandlerStats stats;
        Server server(server_config({endpoint("0.0.0.0", port), endpoint("::", port)}),
                      [&stats](unsigned) { return std::make_unique<EchoHandler>(stats); });
        try {
            server.open();
        } catch (const ListenError& e) {
            if (e.error_code() != EADDRINUSE) FAIL() << e.what();
            last_error = e.what();
            continue;  // taken by someone else before we got to it
        }
        EXPECT_EQ(server.endpoints().at(0).port, port);
        EXPECT_EQ(server.endpoints().at(1).port, port);
        return;
    }
    FAIL() << "20 ports in a row were in use; the last: " << last_error;
}

TEST(Socket, Wildcards) {
    EXPECT_TRUE(is_wildcard(*util::IpAddress::parse("0.0.0.0")));
    EXPECT_TRUE(is_wildcard(*util::IpAddress::parse("::")));
    EXPECT_FALSE(is_wildcard(*util::IpAddress::parse("127.0.0.1")));
    EXPECT_FALSE(is_wildcard(*util::IpAddress::parse("::1")));
}

TEST(Socket, DescribeNamesProtocol) {
    EXPECT_EQ(describe(endpoint("192.0.2.1", 53), Protocol::udp), "192.0.2.1:53/udp");
    EXPECT_EQ(describe(endpoint("2001:db8::1", 5353), Protocol::tcp), "[2001:db8::1]:5353/tcp");
}

}  // namespace
}  // namespace nolb::server
