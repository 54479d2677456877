// transfer::Access from a configuration read by config::load: keys in wire form with their
// algorithm and secret; a transfer allowed only from a listed prefix and, where the zone names
// keys, only signed with one of them; a zone without [zone.transfer] allows nobody.
#include "transfer/access.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace nolb::transfer {
namespace {

TEST(Access, PrefixesAndKeysDecide) {
    char name[] = "/tmp/nolb-access-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    const std::filesystem::path dir = name;
    std::ofstream(dir / "k.key") << "Zm9vYmFy\n";
    const config::Config c = config::load_string(R"([[key]]
name = "xfr.demo.test"
algorithm = "hmac-sha512"
secret_file = "k.key"
[[key]]
name = "other.demo.test"
secret_file = "k.key"
[[zone]]
origin = "demo.test"
[[zone.ns]]
name = "ns.example."
[zone.transfer]
allow = ["192.0.2.0/24", "::1"]
keys = ["xfr.demo.test"]
[[zone]]
origin = "open.test"
[[zone.ns]]
name = "ns.example."
[zone.transfer]
allow = ["127.0.0.0/8"]
[[zone]]
origin = "closed.test"
[[zone.ns]]
name = "ns.example."
)",
                                                 (dir / "nolb.toml").string());
    std::filesystem::remove_all(dir);
    const Access access(c);
    ASSERT_EQ(access.keys().size(), 2u);
    const dns::tsig::Key& xfr = access.keys()[0];
    EXPECT_EQ(xfr.name, std::string("\x03xfr\x04"
                                    "demo\x04test\x00",
                                    15));
    EXPECT_EQ(xfr.algorithm, dns::tsig::Algorithm::hmac_sha512);
    EXPECT_EQ(std::string(xfr.secret.begin(), xfr.secret.end()), "foobar");
    const dns::tsig::Key& other = access.keys()[1];

    const auto ip = [](const char* text) { return *util::IpAddress::parse(text); };
    EXPECT_EQ(access.decide(0, ip("192.0.2.9"), &xfr), Decision::allowed);
    EXPECT_EQ(access.decide(0, ip("::1"), &xfr), Decision::allowed);
    EXPECT_EQ(access.decide(0, ip("192.0.2.9"), nullptr), Decision::unsigned_);
    EXPECT_EQ(access.decide(0, ip("192.0.2.9"), &other), Decision::unsigned_);
    EXPECT_EQ(access.decide(0, ip("198.51.100.1"), &xfr), Decision::not_allowed);
    EXPECT_EQ(access.decide(1, ip("127.0.0.7"), nullptr), Decision::allowed);
    EXPECT_EQ(access.decide(1, ip("127.0.0.7"), &other), Decision::allowed) << "any key will do";
    EXPECT_EQ(access.decide(2, ip("127.0.0.1"), nullptr), Decision::not_allowed);
    EXPECT_EQ(access.decide(9, ip("127.0.0.1"), nullptr), Decision::not_allowed);
}

}  // namespace
}  // namespace nolb::transfer
