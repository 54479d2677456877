// dns::wire_from_text, the load-time reader of presentation-format names (ldns underneath).
#include "dns/name.hpp"

#include <gtest/gtest.h>

#include <string>

namespace nolb::dns {
namespace {

const WireName kRoot(1, '\0');

TEST(WireFromText, RelativeNamesHangFromTheOrigin) {
    WireName origin, out;
    std::string error;
    ASSERT_TRUE(wire_from_text("demo.test.", kRoot, origin, error)) << error;
    ASSERT_TRUE(wire_from_text("www", origin, out, error)) << error;
    EXPECT_EQ(out, WireName("\3www\4demo\4test\0", 15));
    ASSERT_TRUE(wire_from_text("@", origin, out, error));
    EXPECT_EQ(out, origin);
    EXPECT_EQ(text_from_wire(out), "demo.test.");
}

TEST(WireFromText, EscapedNulIsAnOctetOfTheName) {
    WireName out;
    std::string error;
    ASSERT_TRUE(wire_from_text("a\\000b.test.", kRoot, out, error)) << error;
    EXPECT_EQ(out, WireName("\3a\0b\4test\0", 10));
}

// ldns reads a C string: a raw NUL would end the name early and another name would be used.
TEST(WireFromText, RawNulIsRefusedNotTruncated) {
    WireName out = WireName("\1x\0", 3);
    std::string error;
    EXPECT_FALSE(wire_from_text(std::string("www\0.evil.test.", 15), kRoot, out, error));
    EXPECT_NE(error.find("NUL"), std::string::npos) << error;
    EXPECT_EQ(out, WireName("\1x\0", 3)) << "left as it was";
    EXPECT_FALSE(wire_from_text(std::string("\0", 1), kRoot, out, error));
}

TEST(WireFromText, MalformedNamesAreRefused) {
    WireName out;
    std::string error;
    EXPECT_FALSE(wire_from_text("", kRoot, out, error));
    EXPECT_FALSE(wire_from_text(std::string(64, 'a') + ".test.", kRoot, out, error));
    std::string long_name;
    for (int i = 0; i < 130; ++i)
        long_name += "a.";
    EXPECT_FALSE(wire_from_text(long_name, kRoot, out, error));
}

TEST(TypeText, MnemonicsAndRfc3597NumbersBothWays) {
    EXPECT_EQ(type_from_text("a"), std::optional<std::uint16_t>(1));
    EXPECT_EQ(type_from_text("AAAA"), std::optional<std::uint16_t>(28));
    EXPECT_EQ(type_from_text("type65535"), std::optional<std::uint16_t>(65535));
    EXPECT_EQ(type_from_text("TYPE0"), std::optional<std::uint16_t>(0));
    EXPECT_EQ(type_name(1), "A");
    EXPECT_EQ(type_name(65280), "TYPE65280");
    EXPECT_EQ(type_from_text(type_name(65280)), std::optional<std::uint16_t>(65280));
}

// ldns reads TYPEnnn with atoi: out-of-range numbers must not reach it.
TEST(TypeText, UnknownAndOutOfRangeAreRefused) {
    for (const char* text :
         {"", "bogus", "TYPE", "TYPE65536", "TYPE310034", "TYPE-5", "TYPE1x", "TYPE 1"})
        EXPECT_FALSE(type_from_text(text)) << text;
}

// read_name follows compression pointers backwards only, lower-cases, and leaves the reader
// after the name where it appears.
TEST(ReadName, FollowsPointersBackwardsAndLowersTheName) {
    // "Demo.TEST." at 0; at 11, "www" + a pointer to 0; then one more byte.
    const std::uint8_t msg[] = {4,   'D', 'e', 'm', 'o', 4,   'T',  'E', 'S',
                                'T', 0,   3,   'w', 'W', 'w', 0xc0, 0,   0xff};
    Reader r(msg, sizeof msg, 11);
    std::string name;
    ASSERT_TRUE(read_name(r, name));
    EXPECT_EQ(name, std::string("\x03www\x04"
                                "demo\x04test\x00",
                                15));
    EXPECT_EQ(r.pos(), 17u);
    Reader first(msg, sizeof msg);
    ASSERT_TRUE(read_name(first, name));
    EXPECT_EQ(name, std::string("\x04"
                                "demo\x04test\x00",
                                11));
    EXPECT_EQ(first.pos(), 11u);
}

TEST(ReadName, RefusesForwardPointersLoopsAndOverruns) {
    std::string name;
    const std::uint8_t forward[] = {0xc0, 2, 0};
    Reader f(forward, sizeof forward);
    EXPECT_FALSE(read_name(f, name));
    EXPECT_TRUE(f.failed());
    const std::uint8_t self[] = {1, 'a', 0xc0, 0};  // points at its own name: a loop back to 0
    Reader s(self, sizeof self, 0);
    EXPECT_FALSE(read_name(s, name));
    const std::uint8_t overrun[] = {5, 'a', 'b'};
    Reader o(overrun, sizeof overrun);
    EXPECT_FALSE(read_name(o, name));
    const std::uint8_t extended[] = {0x41, 0};
    Reader e(extended, sizeof extended);
    EXPECT_FALSE(read_name(e, name));
}

}  // namespace
}  // namespace nolb::dns
