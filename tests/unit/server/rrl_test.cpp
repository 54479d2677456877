// Response rate limiting: the limiter with the time injected (rates over simulated seconds,
// slips, prefixes, collisions), and the UDP path of a real Server on loopback limiting one
// client, slipping through the cut it was given. What a DNS slip holds is answer/'s, and tested
// there (tests/unit/answer/slip_test.cpp).
#include "server/rrl.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "unit/server/server_fixture.hpp"

namespace nolb::server {
namespace {

sockaddr_storage peer(const char* text) {
    sockaddr_storage address{};
    if (std::strchr(text, ':') == nullptr) {
        auto& sin = reinterpret_cast<sockaddr_in&>(address);
        sin.sin_family = AF_INET;
        EXPECT_EQ(inet_pton(AF_INET, text, &sin.sin_addr), 1) << text;
    } else {
        auto& sin6 = reinterpret_cast<sockaddr_in6&>(address);
        sin6.sin6_family = AF_INET6;
        EXPECT_EQ(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1) << text;
    }
    return address;
}

RrlSettings rrl(unsigned rate, unsigned slip = 0) {
    RrlSettings settings;
    settings.responses_per_second = rate;
    settings.slip = slip;
    settings.buckets = 1024;
    return settings;
}

// Asks `count` times for `client`; returns how many were allowed out whole.
unsigned sends(RateLimiter& limiter, const sockaddr_storage& client, unsigned count) {
    unsigned sent = 0;
    for (unsigned i = 0; i < count; ++i)
        sent += limiter.decide(client) == RrlAction::send ? 1 : 0;
    return sent;
}

TEST(Rrl, OffLimitsNothingAndAllocatesNothing) {
    RateLimiter off(rrl(0, 2));
    EXPECT_FALSE(off.enabled());
    EXPECT_EQ(off.slots(), 1u);  // no table behind it
    RateLimiter on(rrl(1, 2));
    EXPECT_TRUE(on.enabled());
}

TEST(Rrl, TableIsRoundedUpToAPowerOfTwo) {
    RrlSettings settings = rrl(10);
    settings.buckets = 3000;
    EXPECT_EQ(RateLimiter(settings).slots(), 4096u);
    settings.buckets = 65536;
    EXPECT_EQ(RateLimiter(settings).slots(), 65536u);
}

TEST(Rrl, BurstOfOneSecondThenTheRate) {
    RateLimiter limiter(rrl(10));
    const sockaddr_storage client = peer("192.0.2.1");
    limiter.set_now(50'000);
    EXPECT_EQ(sends(limiter, client, 25), 10u) << "a new prefix starts with one second's worth";
    limiter.set_now(50'100);
    EXPECT_EQ(sends(limiter, client, 5), 1u) << "100 ms earns one response at 10/s";
    limiter.set_now(50'150);
    EXPECT_EQ(sends(limiter, client, 5), 0u) << "50 ms earns half of one";
    limiter.set_now(50'200);
    EXPECT_EQ(sends(limiter, client, 5), 1u) << "the half is kept";
    limiter.set_now(60'000);
    EXPECT_EQ(sends(limiter, client, 100), 10u) << "ten idle seconds still fill only one second";
}

TEST(Rrl, RateHoldsOverSimulatedSeconds) {
    RateLimiter limiter(rrl(50));
    const sockaddr_storage client = peer("198.51.100.7");
    // A flood of 1000/s, one batch of 4 every 4 ms (a coarse clock's tick), for 10 s.
    unsigned sent = 0;
    for (std::uint64_t ms = 0; ms < 10'000; ms += 4) {
        limiter.set_now(1'000'000 + ms);
        sent += sends(limiter, client, 4);
    }
    // The first second's burst, then 50 a second: 50 + 9.996 s x 50.
    EXPECT_GE(sent, 545u);
    EXPECT_LE(sent, 550u);
}

TEST(Rrl, TheClockIsMonotonicAndCoarse) {
    const std::uint64_t a = RateLimiter::clock_ms();
    const std::uint64_t b = RateLimiter::clock_ms();
    EXPECT_GT(a, 0u);
    EXPECT_GE(b, a);
}

TEST(Rrl, EverySlipthLimitedResponseSlips) {
    for (unsigned slip : {1u, 2u, 3u}) {
        RateLimiter limiter(rrl(1, slip));
        const sockaddr_storage client = peer("203.0.113.9");
        limiter.set_now(5'000);
        ASSERT_EQ(limiter.decide(client), RrlAction::send);
        std::string seen;
        for (int i = 0; i < 9; ++i)
            seen += limiter.decide(client) == RrlAction::slip ? 's' : 'd';
        const std::string expected = slip == 1   ? "sssssssss"
                                     : slip == 2 ? "dsdsdsdsd"
                                                 : "ddsddsdds";
        EXPECT_EQ(seen, expected) << "slip " << slip;
    }
    RateLimiter never(rrl(1, 0));
    const sockaddr_storage client = peer("203.0.113.9");
    never.set_now(5'000);
    EXPECT_EQ(never.decide(client), RrlAction::send);
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(never.decide(client), RrlAction::drop) << "slip 0 drops every one";
}

// Whether `b` shares `a`'s bucket: `a` spends it all, then `b` asks.
bool share(RateLimiter& limiter, const char* a, const char* b) {
    static std::uint64_t now = 100'000;
    now += 10'000;  // every bucket full again
    limiter.set_now(now);
    sends(limiter, peer(a), 3);
    return limiter.decide(peer(b)) != RrlAction::send;
}

TEST(Rrl, Ipv4PrefixesOfTwentyFourBitsShareABucket) {
    RateLimiter limiter(rrl(3));
    EXPECT_TRUE(share(limiter, "192.0.2.1", "192.0.2.254"));
    EXPECT_TRUE(share(limiter, "192.0.2.1", "::ffff:192.0.2.77")) << "an IPv4-mapped client";
    EXPECT_FALSE(share(limiter, "192.0.2.1", "192.0.3.1"));
    EXPECT_FALSE(share(limiter, "192.0.2.1", "10.0.2.1"));
    EXPECT_FALSE(share(limiter, "0.0.0.1", "::1")) << "IPv4 and IPv6 keys differ";
}

TEST(Rrl, Ipv6PrefixesOfFiftySixBitsShareABucket) {
    RateLimiter limiter(rrl(3));
    EXPECT_TRUE(share(limiter, "2001:db8:0:ab00::1", "2001:db8:0:abff:ffff::9"));
    EXPECT_FALSE(share(limiter, "2001:db8:0:ab00::1", "2001:db8:0:ac00::1"));
    EXPECT_FALSE(share(limiter, "2001:db8:0:ab00::1", "2001:db8:1:ab00::1"));
    EXPECT_TRUE(share(limiter, "::1", "::2"));
}

TEST(Rrl, PrefixLengthsAreConfigurable) {
    RrlSettings settings = rrl(3);
    settings.ipv4_prefix = 32;
    settings.ipv6_prefix = 128;
    RateLimiter exact(settings);
    EXPECT_FALSE(share(exact, "192.0.2.1", "192.0.2.2"));
    EXPECT_TRUE(share(exact, "192.0.2.1", "192.0.2.1"));
    EXPECT_FALSE(share(exact, "2001:db8::1", "2001:db8::2"));
    settings.ipv4_prefix = 8;
    settings.ipv6_prefix = 16;
    RateLimiter wide(settings);
    EXPECT_TRUE(share(wide, "10.1.2.3", "10.200.0.1"));
    EXPECT_FALSE(share(wide, "10.1.2.3", "11.1.2.3"));
    EXPECT_TRUE(share(wide, "2001:db8::1", "2001:ffff::1"));
    EXPECT_FALSE(share(wide, "2001:db8::1", "2002:db8::1"));
}

TEST(Rrl, ACollidingPrefixTakesTheSlotOver) {
    RrlSettings settings = rrl(2);
    settings.buckets = 1;  // one slot: every prefix collides with every other
    RateLimiter limiter(settings);
    ASSERT_EQ(limiter.slots(), 1u);
    const sockaddr_storage a = peer("192.0.2.1");
    const sockaddr_storage b = peer("198.51.100.1");
    limiter.set_now(1'000);
    EXPECT_EQ(sends(limiter, a, 5), 2u);
    EXPECT_EQ(sends(limiter, b, 5), 2u) << "b takes the slot with a full bucket";
    EXPECT_EQ(sends(limiter, a, 5), 2u) << "and a takes it back the same way";

    // With room for both, each keeps its own bucket.
    RateLimiter roomy(rrl(2));
    roomy.set_now(1'000);
    EXPECT_EQ(sends(roomy, a, 5), 2u);
    EXPECT_EQ(sends(roomy, b, 5), 2u);
    EXPECT_EQ(sends(roomy, a, 5), 0u);
}

// ---- one client over the limit, through a real Server

// A stand-in for the protocol's cut, so that a slipped response is told from a whole one: the
// first four bytes, the last of them replaced by '!'. A message shorter than eight bytes cannot
// be cut.
std::size_t cut_to_four(std::span<std::uint8_t> response) {
    if (response.size() < 8) return 0;
    response[3] = '!';
    return 4;
}

// What a flood of `count` copies of `query` from one address got back.
struct Flood {
    unsigned whole = 0;
    unsigned slipped = 0;
};

Flood flood(const util::Endpoint& server, const testing::Bytes& query, unsigned count) {
    using namespace testing;
    Fd flooder = udp_client(AF_INET);
    for (unsigned i = 0; i < count; ++i)
        EXPECT_TRUE(send_udp(flooder, server, query));
    Bytes slipped = echoed(query);  // what the handler answered, then cut
    slipped.resize(4);
    slipped[3] = '!';
    Flood got;
    while (auto response = receive_udp(flooder, 500ms)) {
        if (*response == slipped) {
            ++got.slipped;
        } else {
            ++got.whole;
            EXPECT_EQ(*response, echoed(query));
        }
    }
    return got;
}

TEST(RrlServer, OneClientOverTheLimitIsSlippedAndDroppedAnotherIsServed) {
    using namespace testing;
    HandlerStats stats;
    Settings settings = server_config({loopback4()}, 1);
    settings.rrl = rrl(5, 2);
    settings.rrl.slip_cut = &cut_to_four;
    Server server(settings, [&stats](unsigned) { return std::make_unique<EchoHandler>(stats); });
    server.open();
    server.start();
    const Bytes query = bytes("flood-query");

    constexpr unsigned kFlood = 40;
    const Flood got = flood(server.endpoints()[0], query, kFlood);
    // 5 at once, and perhaps one more if the clock ticked over a fifth of a second.
    EXPECT_GE(got.whole, 5u);
    EXPECT_LE(got.whole, 6u);
    EXPECT_GE(got.slipped, (kFlood - got.whole) / 2);

    ASSERT_TRUE(eventually([&] { return server.counters().udp_received == kFlood; }));
    const Counters c = server.counters();
    EXPECT_EQ(c.rrl_limited, kFlood - got.whole);
    EXPECT_EQ(c.rrl_slipped, got.slipped);
    EXPECT_EQ(c.rrl_dropped, c.rrl_limited - c.rrl_slipped);
    EXPECT_EQ(c.udp_sent, got.whole + got.slipped);

    // 127.0.9.9 is in another /24: served in full while the first is limited.
    Fd other = udp_client(AF_INET);
    const util::Endpoint source = endpoint("127.0.9.9");
    sockaddr_storage bind_to;
    socklen_t length = source.to_sockaddr(bind_to);
    ASSERT_EQ(bind(other.get(), reinterpret_cast<sockaddr*>(&bind_to), length), 0);
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(send_udp(other, server.endpoints()[0], query));
        auto response = receive_udp(other, 2s);
        ASSERT_TRUE(response);
        EXPECT_EQ(*response, echoed(query));
    }
    server.stop();
}

// A slip the cut refuses (0), or with no cut at all, is dropped and counted as dropped.
TEST(RrlServer, ASlipThatCannotBeCutIsDropped) {
    using namespace testing;
    for (const bool with_cut : {true, false}) {
        HandlerStats stats;
        Settings settings = server_config({loopback4()}, 1);
        settings.rrl = rrl(5, 1);  // every limited response would slip
        settings.rrl.slip_cut = with_cut ? &cut_to_four : nullptr;
        Server server(settings,
                      [&stats](unsigned) { return std::make_unique<EchoHandler>(stats); });
        server.open();
        server.start();
        constexpr unsigned kFlood = 30;
        const Flood got = flood(server.endpoints()[0], bytes("short"), kFlood);  // under 8
        EXPECT_EQ(got.slipped, 0u) << "with cut " << with_cut;
        EXPECT_GE(got.whole, 5u);
        EXPECT_LE(got.whole, 6u);
        ASSERT_TRUE(eventually([&] { return server.counters().udp_received == kFlood; }));
        const Counters c = server.counters();
        EXPECT_EQ(c.rrl_limited, kFlood - got.whole);
        EXPECT_EQ(c.rrl_slipped, 0u);
        EXPECT_EQ(c.rrl_dropped, c.rrl_limited);
        EXPECT_EQ(c.udp_sent, got.whole);
    }
}

}  // namespace
}  // namespace nolb::server
