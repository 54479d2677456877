// util::IpAddress and util::Endpoint: text to bytes and back, the forms config files and command
// lines use ("ADDR:PORT", "[V6]:PORT", a bare address), and everything else refused.
#include "util/ip.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

namespace nolb::util {
namespace {

IpAddress parsed(std::string_view text) {
    auto a = IpAddress::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(IpAddress{});
}

TEST(IpAddress, ParsesIpv4IntoFourBytes) {
    IpAddress a = parsed("192.0.2.254");
    EXPECT_TRUE(a.is_v4());
    EXPECT_EQ(a.family, AF_INET);
    EXPECT_EQ(a.size(), 4u);
    EXPECT_EQ(a.bytes[0], 192);
    EXPECT_EQ(a.bytes[1], 0);
    EXPECT_EQ(a.bytes[2], 2);
    EXPECT_EQ(a.bytes[3], 254);
    // The unused bytes stay zero, so that equality compares addresses only.
    for (std::size_t i = 4; i < a.bytes.size(); ++i)
        EXPECT_EQ(a.bytes[i], 0) << i;
    EXPECT_EQ(a, parsed("192.0.2.254"));
    EXPECT_NE(a, parsed("192.0.2.253"));
}

TEST(IpAddress, ParsesIpv6IntoSixteenBytes) {
    IpAddress a = parsed("2001:db8::1");
    EXPECT_FALSE(a.is_v4());
    EXPECT_EQ(a.family, AF_INET6);
    EXPECT_EQ(a.size(), 16u);
    const std::uint8_t expected[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    EXPECT_EQ(std::memcmp(a.bytes.data(), expected, 16), 0);
    // Case and zero compression do not matter.
    EXPECT_EQ(parsed("2001:DB8:0:0:0:0:0:1"), a);
    EXPECT_EQ(parsed("2001:0db8:0000::0001"), a);
}

TEST(IpAddress, SameBitsOfDifferentFamiliesDiffer) {
    // ::c000:2fe holds 192.0.2.254 in its last four bytes, but it is another address.
    EXPECT_NE(parsed("::c000:2fe"), parsed("192.0.2.254"));
    EXPECT_NE(parsed("::ffff:192.0.2.254"), parsed("192.0.2.254"));
}

TEST(IpAddress, FormatsInCanonicalForm) {
    EXPECT_EQ(parsed("192.0.2.1").to_string(), "192.0.2.1");
    EXPECT_EQ(parsed("0.0.0.0").to_string(), "0.0.0.0");
    EXPECT_EQ(parsed("255.255.255.255").to_string(), "255.255.255.255");
    // RFC 5952: lower case, leading zeros dropped, the longest run of zeros compressed.
    EXPECT_EQ(parsed("2001:0DB8:0000:0000:0000:0000:0000:0001").to_string(), "2001:db8::1");
    EXPECT_EQ(parsed("2001:db8:0:0:1:0:0:1").to_string(), "2001:db8::1:0:0:1");
    EXPECT_EQ(parsed("::").to_string(), "::");
    EXPECT_EQ(parsed("::1").to_string(), "::1");
    EXPECT_EQ(parsed("fe80::").to_string(), "fe80::");
    EXPECT_EQ(parsed("::ffff:192.0.2.1").to_string(), "::ffff:192.0.2.1");
    const std::string longest = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
    EXPECT_EQ(parsed(longest).to_string(), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(IpAddress, TextRoundTrips) {
    for (const char* text : {"127.0.0.1", "10.1.2.3", "::1", "2001:db8::53", "fd00:1:2:3:4:5:6:7",
                             "::ffff:10.0.0.1"}) {
        EXPECT_EQ(parsed(text).to_string(), text);
        EXPECT_EQ(parsed(parsed(text).to_string()), parsed(text));
    }
}

TEST(IpAddress, BadTextIsRefused) {
    for (const char* text : {"",
                             " ",
                             "localhost",
                             "1.2.3",
                             "1.2.3.4.5",
                             "256.1.1.1",
                             "1.2.3.-4",
                             "01.2.3.4",
                             "1.2.3.4 ",
                             " 1.2.3.4",
                             "0x7f.0.0.1",
                             "1.2.3.4/24",
                             "1:2:3:4:5:6:7:8:9",
                             "2001:db8:::1",
                             "2001:db8::1::2",
                             "12345::",
                             ":1",
                             "1:",
                             "g::1",
                             "[::1]",
                             "::1%",
                             "1.2.3.4:53"}) {
        EXPECT_EQ(IpAddress::parse(text), std::nullopt) << '"' << text << '"';
    }
}

TEST(IpAddress, ScopedAddressesAreRefused) {
    // A zone index names an interface of this host: no use in a DNS answer or a config.
    EXPECT_EQ(IpAddress::parse("fe80::1%eth0"), std::nullopt);
    EXPECT_EQ(IpAddress::parse("fe80::1%1"), std::nullopt);
}

TEST(IpAddress, TextIsReadExactlyAsLongAsItIs) {
    // Longer than any address can be written, whatever it holds.
    EXPECT_EQ(IpAddress::parse(std::string(INET6_ADDRSTRLEN + 1, '1')), std::nullopt);
    // A view into a longer buffer stops where the view does.
    std::string_view prefix("192.0.2.1999", 9);
    EXPECT_EQ(parsed(prefix).to_string(), "192.0.2.1");
}

TEST(IpAddress, EmbeddedNulIsRefused) {
    // A TOML string may hold "\u0000": the whole text must be the address, not what precedes
    // the NUL.
    EXPECT_EQ(IpAddress::parse(std::string_view("1.2.3.4\0x", 9)), std::nullopt);
    EXPECT_EQ(IpAddress::parse(std::string_view("::1\0", 4)), std::nullopt);
    EXPECT_EQ(IpAddress::parse(std::string_view("\0", 1)), std::nullopt);
}

// ------------------------------------------------------------------------- Endpoint

Endpoint endpoint(std::string_view text, std::uint16_t default_port = 53) {
    auto e = Endpoint::parse(text, default_port);
    EXPECT_TRUE(e.has_value()) << text;
    return e.value_or(Endpoint{});
}

TEST(Endpoint, ParsesEveryWrittenForm) {
    EXPECT_EQ(endpoint("192.0.2.1:5300"), (Endpoint{parsed("192.0.2.1"), 5300}));
    EXPECT_EQ(endpoint("[2001:db8::1]:5300"), (Endpoint{parsed("2001:db8::1"), 5300}));
    // A bare address takes the default port, bracketed or not.
    EXPECT_EQ(endpoint("192.0.2.1", 9153), (Endpoint{parsed("192.0.2.1"), 9153}));
    EXPECT_EQ(endpoint("2001:db8::1", 9153), (Endpoint{parsed("2001:db8::1"), 9153}));
    EXPECT_EQ(endpoint("[2001:db8::1]", 9153), (Endpoint{parsed("2001:db8::1"), 9153}));
    EXPECT_EQ(endpoint("[::]:53"), (Endpoint{parsed("::"), 53}));
    EXPECT_EQ(endpoint("1.2.3.4:1").port, 1);
    EXPECT_EQ(endpoint("1.2.3.4:65535").port, 65535);
}

TEST(Endpoint, BareIpv6AddressNeverLosesItsLastGroupToAPort) {
    // "::1:53" is an address (::0.1.0.83), not ::1 on port 53: without brackets every colon
    // belongs to the address.
    Endpoint e = endpoint("::1:53", 9);
    EXPECT_EQ(e.address, parsed("::1:53"));
    EXPECT_EQ(e.port, 9);
}

TEST(Endpoint, BareIpv6AddressEndingInDoubleColonTakesTheDefaultPort) {
    // The last colon is part of the address, not an empty port.
    EXPECT_EQ(endpoint("::", 53), (Endpoint{parsed("::"), 53}));
    EXPECT_EQ(endpoint("fe80::", 53), (Endpoint{parsed("fe80::"), 53}));
    EXPECT_EQ(endpoint("2001:db8::", 9153), (Endpoint{parsed("2001:db8::"), 9153}));
}

TEST(Endpoint, BadEndpointsAreRefused) {
    for (const char* text : {"",
                             ":",
                             ":53",
                             "1.2.3.4:",
                             "1.2.3.4:0",
                             "1.2.3.4:65536",
                             "1.2.3.4:99999999999",
                             "1.2.3.4:-1",
                             "1.2.3.4:+53",
                             "1.2.3.4:53x",
                             "1.2.3.4: 53",
                             "1.2.3.4:0x35",
                             "localhost:53",
                             "[::1",
                             "[::1]:",
                             "[::1]x",
                             "[::1]:x",
                             "[::1]53",
                             "[]:53",
                             "[localhost]:53",
                             "::1]:53",
                             "[fe80::1%eth0]:53"}) {
        EXPECT_EQ(Endpoint::parse(text, 53), std::nullopt) << '"' << text << '"';
    }
}

TEST(Endpoint, FormatsWithBracketsForIpv6) {
    EXPECT_EQ(endpoint("192.0.2.1:53").to_string(), "192.0.2.1:53");
    EXPECT_EQ(endpoint("[2001:DB8:0::1]:8080").to_string(), "[2001:db8::1]:8080");
    EXPECT_EQ(endpoint("::", 0).to_string(), "[::]:0");
    // What to_string writes, parse reads back as the same endpoint.
    for (const char* text : {"127.0.0.1:5353", "[::1]:5353", "[::ffff:10.0.0.1]:1"})
        EXPECT_EQ(endpoint(endpoint(text).to_string()), endpoint(text)) << text;
}

TEST(Endpoint, FillsSockaddrOfItsFamily) {
    sockaddr_storage ss;
    std::memset(&ss, 0xff, sizeof ss);
    ASSERT_EQ(endpoint("192.0.2.7:5300").to_sockaddr(ss), sizeof(sockaddr_in));
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    EXPECT_EQ(sin->sin_family, AF_INET);
    EXPECT_EQ(ntohs(sin->sin_port), 5300);
    char text[INET6_ADDRSTRLEN] = {};
    ASSERT_NE(inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text), nullptr);
    EXPECT_STREQ(text, "192.0.2.7");
    // The rest is cleared, not left as it was.
    EXPECT_EQ(sin->sin_zero[0], 0);

    std::memset(&ss, 0xff, sizeof ss);
    ASSERT_EQ(endpoint("[2001:db8::9]:853").to_sockaddr(ss), sizeof(sockaddr_in6));
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    EXPECT_EQ(sin6->sin6_family, AF_INET6);
    EXPECT_EQ(ntohs(sin6->sin6_port), 853);
    EXPECT_EQ(sin6->sin6_scope_id, 0u);
    EXPECT_EQ(sin6->sin6_flowinfo, 0u);
    ASSERT_NE(inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text), nullptr);
    EXPECT_STREQ(text, "2001:db8::9");
}

TEST(Prefix, ParsesBlocksAndSingleAddresses) {
    auto block = Prefix::parse("198.51.100.0/24");
    ASSERT_TRUE(block);
    EXPECT_EQ(block->length, 24);
    EXPECT_EQ(block->to_string(), "198.51.100.0/24");
    auto one = Prefix::parse("2001:db8::7");
    ASSERT_TRUE(one);
    EXPECT_EQ(one->length, 128);
    EXPECT_TRUE(Prefix::parse("0.0.0.0/0"));
    EXPECT_TRUE(Prefix::parse("::/0"));
    for (const char* bad : {"198.51.100.1/24", "198.51.100.0/33", "2001:db8::/129", "10.0.0.0/",
                            "10.0.0.0/x", "10.0.0.0/-1", "nope/8", "", "10.0.0.0/0008"})
        EXPECT_FALSE(Prefix::parse(bad)) << bad;
}

TEST(Prefix, ContainsItsAddressesOnlyAndMappedOnes) {
    const Prefix block = *Prefix::parse("198.51.100.0/23");
    EXPECT_TRUE(block.contains(*IpAddress::parse("198.51.100.0")));
    EXPECT_TRUE(block.contains(*IpAddress::parse("198.51.101.255")));
    EXPECT_FALSE(block.contains(*IpAddress::parse("198.51.102.0")));
    EXPECT_FALSE(block.contains(*IpAddress::parse("198.51.99.255")));
    EXPECT_TRUE(block.contains(*IpAddress::parse("::ffff:198.51.100.9")));
    EXPECT_FALSE(block.contains(*IpAddress::parse("2001:db8::1")));
    const Prefix v6 = *Prefix::parse("2001:db8:1::/48");
    EXPECT_TRUE(v6.contains(*IpAddress::parse("2001:db8:1:ffff::1")));
    EXPECT_FALSE(v6.contains(*IpAddress::parse("2001:db8:2::1")));
    EXPECT_FALSE(v6.contains(*IpAddress::parse("198.51.100.1")));
    EXPECT_TRUE(Prefix::parse("0.0.0.0/0")->contains(*IpAddress::parse("203.0.113.1")));
    const Prefix one = *Prefix::parse("127.0.0.1");
    EXPECT_TRUE(one.contains(*IpAddress::parse("127.0.0.1")));
    EXPECT_FALSE(one.contains(*IpAddress::parse("127.0.0.2")));
}

TEST(Prefix, AddressOfASocketAddress) {
    sockaddr_storage storage{};
    Endpoint{*IpAddress::parse("192.0.2.8"), 53}.to_sockaddr(storage);
    EXPECT_EQ(address_of(storage), IpAddress::parse("192.0.2.8"));
    Endpoint{*IpAddress::parse("2001:db8::8"), 53}.to_sockaddr(storage);
    EXPECT_EQ(address_of(storage), IpAddress::parse("2001:db8::8"));
    storage.ss_family = AF_UNIX;
    EXPECT_FALSE(address_of(storage));
}

}  // namespace
}  // namespace nolb::util
