// Response rate limiting: the limiter with the time injected (rates over simulated seconds,
// slips, prefixes, collisions), the cut a slipped response gets, read back with ldns, and the
// UDP path of a real Server on loopback limiting one client.
#include "server/rrl.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "unit/server/server_fixture.hpp"
#include "unit/support.hpp"

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

config::Rrl rrl(unsigned rate, unsigned slip = 0) {
    config::Rrl config;
    config.responses_per_second = rate;
    config.slip = slip;
    config.buckets = 1024;
    return config;
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
    config::Rrl config = rrl(10);
    config.buckets = 3000;
    EXPECT_EQ(RateLimiter(config).slots(), 4096u);
    config.buckets = 65536;
    EXPECT_EQ(RateLimiter(config).slots(), 65536u);
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
    config::Rrl config = rrl(3);
    config.ipv4_prefix = 32;
    config.ipv6_prefix = 128;
    RateLimiter exact(config);
    EXPECT_FALSE(share(exact, "192.0.2.1", "192.0.2.2"));
    EXPECT_TRUE(share(exact, "192.0.2.1", "192.0.2.1"));
    EXPECT_FALSE(share(exact, "2001:db8::1", "2001:db8::2"));
    config.ipv4_prefix = 8;
    config.ipv6_prefix = 16;
    RateLimiter wide(config);
    EXPECT_TRUE(share(wide, "10.1.2.3", "10.200.0.1"));
    EXPECT_FALSE(share(wide, "10.1.2.3", "11.1.2.3"));
    EXPECT_TRUE(share(wide, "2001:db8::1", "2001:ffff::1"));
    EXPECT_FALSE(share(wide, "2001:db8::1", "2002:db8::1"));
}

TEST(Rrl, ACollidingPrefixTakesTheSlotOver) {
    config::Rrl config = rrl(2);
    config.buckets = 1;  // one slot: every prefix collides with every other
    RateLimiter limiter(config);
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

// ---- the slipped response

using test::make_query;
using test::Pkt;
using test::QueryOptions;
using test::Responder;

// A response from the real answering code, cut for a slip and parsed back.
struct Slipped {
    std::vector<std::uint8_t> original;
    std::vector<std::uint8_t> cut;
    Pkt pkt;
};

Slipped slip(Responder& r, const std::vector<std::uint8_t>& query) {
    Slipped s;
    s.original = r.raw(query);
    s.cut = s.original;
    s.cut.resize(slip_response(s.cut));
    ldns_pkt* raw = nullptr;
    if (!s.cut.empty() && ldns_wire2pkt(&raw, s.cut.data(), s.cut.size()) == LDNS_STATUS_OK)
        s.pkt.reset(raw);
    return s;
}

std::size_t count(ldns_rr_list* list) {
    return list ? ldns_rr_list_rr_count(list) : 0;
}

TEST(RrlSlip, KeepsHeaderAndQuestionSetsTcAndDropsTheRecords) {
    Responder r(test::demo_config());
    QueryOptions rd;
    rd.rd = true;
    Slipped s = slip(r, make_query("demo.test.", LDNS_RR_TYPE_NS, rd));
    ASSERT_TRUE(s.pkt);
    EXPECT_TRUE(ldns_pkt_tc(s.pkt.get()));
    EXPECT_TRUE(ldns_pkt_qr(s.pkt.get()));
    EXPECT_TRUE(ldns_pkt_aa(s.pkt.get()));
    EXPECT_TRUE(ldns_pkt_rd(s.pkt.get()));
    EXPECT_EQ(ldns_pkt_id(s.pkt.get()), 0x1234);
    EXPECT_EQ(ldns_pkt_get_rcode(s.pkt.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_qdcount(s.pkt.get()), 1);
    EXPECT_EQ(count(ldns_pkt_answer(s.pkt.get())), 0u);
    EXPECT_EQ(count(ldns_pkt_authority(s.pkt.get())), 0u);
    EXPECT_EQ(count(ldns_pkt_additional(s.pkt.get())), 0u);
    EXPECT_FALSE(ldns_pkt_edns(s.pkt.get()));
    // Header and question exactly as answered, and nothing after them.
    const std::size_t question = 12 + std::string("\4demo\4test").size() + 1 + 4;
    ASSERT_EQ(s.cut.size(), question);
    EXPECT_TRUE(std::equal(s.cut.begin() + 12, s.cut.end(), s.original.begin() + 12));
    EXPECT_LT(s.cut.size(), s.original.size());
}

TEST(RrlSlip, KeepsTheOptOfAnEdnsAnswer) {
    Responder r(test::demo_config());
    QueryOptions edns;
    edns.edns = true;
    edns.udp_size = 4096;
    Slipped s = slip(r, make_query("demo.test.", LDNS_RR_TYPE_NS, edns));  // NS with glue
    ASSERT_TRUE(s.pkt);
    EXPECT_TRUE(ldns_pkt_tc(s.pkt.get()));
    EXPECT_TRUE(ldns_pkt_edns(s.pkt.get()));
    EXPECT_EQ(ldns_pkt_edns_udp_size(s.pkt.get()), 1232);
    EXPECT_EQ(count(ldns_pkt_additional(s.pkt.get())), 0u) << "the glue is gone";
    EXPECT_EQ(ldns_pkt_ancount(s.pkt.get()), 0);
    EXPECT_EQ(s.cut[10] * 256 + s.cut[11], 1) << "ARCOUNT: the OPT alone";
    EXPECT_EQ(s.cut.size(), 12u + 15u + 11u);
}

TEST(RrlSlip, KeepsTheRcodeExtendedOrNot) {
    Responder r(test::demo_config());
    Slipped nx = slip(r, make_query("nope.demo.test.", LDNS_RR_TYPE_A));
    ASSERT_TRUE(nx.pkt);
    EXPECT_EQ(ldns_pkt_get_rcode(nx.pkt.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_TRUE(ldns_pkt_aa(nx.pkt.get()));
    EXPECT_EQ(ldns_pkt_nscount(nx.pkt.get()), 0);

    Slipped refused = slip(r, make_query("example.com.", LDNS_RR_TYPE_A));
    ASSERT_TRUE(refused.pkt);
    EXPECT_EQ(ldns_pkt_get_rcode(refused.pkt.get()), LDNS_RCODE_REFUSED);
    EXPECT_FALSE(ldns_pkt_aa(refused.pkt.get()));

    QueryOptions v1;
    v1.edns = true;
    v1.edns_version = 1;
    Slipped badvers = slip(r, make_query("www.demo.test.", LDNS_RR_TYPE_A, v1));
    ASSERT_EQ(badvers.cut.size(), badvers.original.size()) << "nothing to cut but the TC bit";
    EXPECT_EQ(badvers.cut[badvers.cut.size() - 6], 1) << "BADVERS's upper bits, in the OPT";
    EXPECT_TRUE(badvers.cut[2] & 0x02);
}

TEST(RrlSlip, RefusesWhatIsNotAWholeMessage) {
    std::vector<std::uint8_t> shortish(11, 0);
    EXPECT_EQ(slip_response(shortish), 0u);
    Responder r(test::demo_config());
    std::vector<std::uint8_t> answer = r.raw(make_query("www.demo.test.", LDNS_RR_TYPE_A));
    ASSERT_GT(answer.size(), 40u);
    answer.resize(dns::kHeaderSize + 5);  // the question cut short
    EXPECT_EQ(slip_response(answer), 0u);
    std::vector<std::uint8_t> two_questions = r.raw(make_query("www.demo.test.", LDNS_RR_TYPE_A));
    two_questions[5] = 2;
    EXPECT_EQ(slip_response(two_questions), 0u);
}

// ---- one client over the limit, through a real Server

TEST(RrlServer, OneClientOverTheLimitIsSlippedAndDroppedAnotherIsServed) {
    using namespace testing;
    HandlerStats stats;
    config::Rrl config = rrl(5, 2);
    Server server(
        server_config({loopback4()}, 1),
        [&stats](unsigned) { return std::make_unique<EchoHandler>(stats); }, config);
    server.open();
    server.start();
    // A DNS-shaped query, so the echo (QR set) is a message a slip can cut.
    const Bytes query = make_query("www.demo.test.", LDNS_RR_TYPE_A);

    Fd flooder = udp_client(AF_INET);
    constexpr unsigned kFlood = 40;
    for (unsigned i = 0; i < kFlood; ++i)
        ASSERT_TRUE(send_udp(flooder, server.endpoints()[0], query));
    unsigned whole = 0, truncated = 0;
    while (auto response = receive_udp(flooder, 500ms)) {
        ASSERT_GE(response->size(), 12u);
        if ((*response)[2] & 0x02) {
            ++truncated;
            EXPECT_EQ(response->size(), query.size()) << "header and question only";
        } else {
            ++whole;
            EXPECT_EQ(*response, echoed(query));
        }
    }
    // 5 at once, and perhaps one more if the clock ticked over a fifth of a second.
    EXPECT_GE(whole, 5u);
    EXPECT_LE(whole, 6u);
    EXPECT_GE(truncated, (kFlood - whole) / 2);

    ASSERT_TRUE(eventually([&] { return server.counters().udp_received == kFlood; }));
    const Counters c = server.counters();
    EXPECT_EQ(c.rrl_limited, kFlood - whole);
    EXPECT_EQ(c.rrl_slipped, truncated);
    EXPECT_EQ(c.rrl_dropped, c.rrl_limited - c.rrl_slipped);
    EXPECT_EQ(c.udp_sent, whole + truncated);

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

}  // namespace
}  // namespace nolb::server
