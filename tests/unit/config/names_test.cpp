// Presentation-format names: escapes, limits with their reasons, lower-casing, label-wise
// containment, and printing back in the form zone files read.
#include "config/names.hpp"

#include <gtest/gtest.h>

namespace nolb::config {
namespace {

std::string normalised(std::string_view text) {
    std::string why;
    auto name = parse_name(text, why);
    if (!name) return "error: " + why;
    return name->to_string();
}

std::string why_not(std::string_view text) {
    std::string why;
    auto name = parse_name(text, why);
    return name ? "accepted" : why;
}

TEST(Names, NormalisedToLowerCase) {
    EXPECT_EQ(normalised("WWW.Demo.Test."), "www.demo.test.");
    EXPECT_EQ(normalised("Mail"), "mail");
    EXPECT_EQ(normalised("."), ".");
    EXPECT_EQ(normalised("_sip._tcp.example."), "_sip._tcp.example.");
}

TEST(Names, EscapesAreReadAndWrittenBack) {
    EXPECT_EQ(normalised("a\\.b.example."), "a\\.b.example.");
    EXPECT_EQ(normalised("\\065\\066c."), "abc.");  // \065 is 'A', folded like any letter
    EXPECT_EQ(normalised("a\\032b."), "a\\032b.");
    EXPECT_EQ(normalised("a\\\\b."), "a\\\\b.");
    EXPECT_EQ(normalised("\\@home."), "\\@home.");
    EXPECT_EQ(normalised("\\000."), "\\000.");
    std::string why;
    auto name = parse_name("a\\.b.c", why);
    ASSERT_TRUE(name);
    EXPECT_EQ(name->labels, (std::vector<std::string>{"a.b", "c"}));
    EXPECT_FALSE(name->absolute);
}

TEST(Names, RejectedWithAReason) {
    EXPECT_EQ(why_not(""), "empty name");
    EXPECT_EQ(why_not("a..b"), "empty label");
    EXPECT_EQ(why_not(".a"), "empty label");
    EXPECT_EQ(why_not("a.."), "empty label");
    EXPECT_EQ(why_not("a\\"), "name ends with a lone backslash");
    EXPECT_EQ(why_not("a\\25"), "\\DDD escape needs three digits");
    EXPECT_EQ(why_not("a\\25x"), "\\DDD escape needs three digits");
    EXPECT_EQ(why_not("a\\256"), "\\DDD escape above 255");
    EXPECT_EQ(why_not("a b"), "character 32 must be written as a \\DDD escape");
    EXPECT_EQ(why_not(std::string(63, 'a') + "."), "accepted");
    EXPECT_EQ(why_not(std::string(64, 'a') + "."), "label longer than 63 octets");
    EXPECT_EQ(why_not(std::string(62, 'a') + "\\065\\066."), "label longer than 63 octets");
}

TEST(Names, WholeNameAtMost255Octets) {
    std::string label(63, 'a');
    std::string longest = label + "." + label + "." + label + "." + std::string(61, 'a') + ".";
    std::string why;
    auto name = parse_name(longest, why);
    ASSERT_TRUE(name) << why;
    EXPECT_EQ(name->wire_length(), 255u);
    EXPECT_EQ(why_not("b." + longest), "name longer than 255 octets");
}

TEST(Names, AtOrBelowComparesLabels) {
    std::string why;
    auto zone = *parse_name("demo.test.", why);
    EXPECT_TRUE(parse_name("demo.test.", why)->at_or_below(zone));
    EXPECT_TRUE(parse_name("a.b.DEMO.test.", why)->at_or_below(zone));
    EXPECT_FALSE(parse_name("xdemo.test.", why)->at_or_below(zone));
    EXPECT_FALSE(parse_name("a\\.demo.test.", why)->at_or_below(*parse_name("a.demo.test.", why)));
    EXPECT_FALSE(parse_name("test.", why)->at_or_below(zone));
    EXPECT_FALSE(parse_name("demo.test", why)->at_or_below(zone));  // relative
}

TEST(Names, UnderCompletesARelativeName) {
    std::string why;
    auto full = parse_name("ns1", why)->under(*parse_name("demo.test.", why));
    EXPECT_TRUE(full.absolute);
    EXPECT_EQ(full.to_string(), "ns1.demo.test.");
}

}  // namespace
}  // namespace nolb::config
