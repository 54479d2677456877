// nolbd's config into the network server's settings: every field carried over, the defaults of
// an unconfigured daemon equal to the server's own, and the cut a slipped response gets is the
// DNS one.
#include "nolbd/server_settings.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>

#include "answer/slip.hpp"
#include "dns/types.hpp"

namespace nolb::nolbd {
namespace {

using namespace std::chrono_literals;

util::Endpoint endpoint(const char* address, std::uint16_t port) {
    return {*util::IpAddress::parse(address), port};
}

// Everything but the slip cut, which config knows nothing of.
void expect_same_values(const server::Settings& a, const server::Settings& b) {
    EXPECT_EQ(a.listen, b.listen);
    EXPECT_EQ(a.workers, b.workers);
    EXPECT_EQ(a.tcp_idle_timeout, b.tcp_idle_timeout);
    EXPECT_EQ(a.tcp_io_timeout, b.tcp_io_timeout);
    EXPECT_EQ(a.tcp_max_connections, b.tcp_max_connections);
    EXPECT_EQ(a.tcp_max_per_client, b.tcp_max_per_client);
    EXPECT_EQ(a.rrl.responses_per_second, b.rrl.responses_per_second);
    EXPECT_EQ(a.rrl.slip, b.rrl.slip);
    EXPECT_EQ(a.rrl.ipv4_prefix, b.rrl.ipv4_prefix);
    EXPECT_EQ(a.rrl.ipv6_prefix, b.rrl.ipv6_prefix);
    EXPECT_EQ(a.rrl.buckets, b.rrl.buckets);
}

TEST(ServerSettings, CarriesEveryFieldOver) {
    config::Config config;
    config.server.listen = {endpoint("192.0.2.1", 5353), endpoint("2001:db8::1", 53)};
    config.server.workers = 3;
    config.server.tcp_idle_timeout = 7s;
    config.server.tcp_io_timeout = 1500ms;
    config.server.tcp_max_connections = 99;
    config.server.tcp_max_per_client = 7;
    config.rrl.responses_per_second = 20;
    config.rrl.slip = 3;
    config.rrl.ipv4_prefix = 22;
    config.rrl.ipv6_prefix = 48;
    config.rrl.buckets = 1000;

    server::Settings expected;
    expected.listen = config.server.listen;
    expected.workers = 3;
    expected.tcp_idle_timeout = 7s;
    expected.tcp_io_timeout = 1500ms;
    expected.tcp_max_connections = 99;
    expected.tcp_max_per_client = 7;
    expected.rrl.responses_per_second = 20;
    expected.rrl.slip = 3;
    expected.rrl.ipv4_prefix = 22;
    expected.rrl.ipv6_prefix = 48;
    expected.rrl.buckets = 1000;
    expect_same_values(server_settings(config), expected);
}

// A Server built from plain Settings (as the server's tests build it) behaves as nolbd does
// with nothing configured.
TEST(ServerSettings, AnUnconfiguredDaemonGetsTheServersDefaults) {
    expect_same_values(server_settings(config::Config{}), server::Settings{});
}

TEST(ServerSettings, SlipsAreCutTheDnsWay) {
    const server::Settings settings = server_settings(config::Config{});
    ASSERT_EQ(settings.rrl.slip_cut, &answer::slip_response);
    // A response with no question and no records: the cut keeps the header and sets TC.
    std::array<std::uint8_t, 12> header{0x12, 0x34, 0x84, 0x00};
    EXPECT_EQ(settings.rrl.slip_cut(header), header.size());
    EXPECT_EQ(header[2] & (dns::flag::TC >> 8), dns::flag::TC >> 8);
}

}  // namespace
}  // namespace nolb::nolbd
