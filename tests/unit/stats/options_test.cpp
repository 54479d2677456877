// nolb-stats's option values that are more than a number: --listen, whose port is required and
// whose brackets are for IPv6 only, and --site, a name that goes into HTML, JSON and logs as is.
#include "nolb-stats/options.hpp"

#include <gtest/gtest.h>

#include <string>

namespace nolb::stats {
namespace {

util::Endpoint listen(std::string_view text) {
    auto e = parse_listen(text);
    EXPECT_TRUE(e.has_value()) << text;
    return e.value_or(util::Endpoint{});
}

TEST(Options, ListenTakesIpv4AndBracketedIpv6WithAPort) {
    EXPECT_EQ(listen("127.0.0.2:8080").to_string(), "127.0.0.2:8080");
    EXPECT_EQ(listen("[::1]:8080").to_string(), "[::1]:8080");
    EXPECT_EQ(listen("[2001:DB8::7]:1").to_string(), "[2001:db8::7]:1");
    EXPECT_EQ(listen("0.0.0.0:65535").port, 65535);
}

TEST(Options, ListenPortZeroLetsTheKernelChoose) {
    // Unlike a DNS listen address, 0 is allowed: tests and scripts read the chosen port.
    EXPECT_EQ(listen("127.0.0.1:0").port, 0);
    EXPECT_EQ(listen("[::1]:0").port, 0);
}

TEST(Options, ListenRefusesWhatItCannotReadWithoutGuessing) {
    for (const char* text : {
             "",
             "127.0.0.1",         // no port: none is worth guessing
             "127.0.0.1:",        //
             ":8080",             // no address
             "::1:8080",          // a bare IPv6 address: where would its port start?
             "::1",               //
             "[::1]",             //
             "[::1]:",            //
             "[::1]8080",         //
             "[::1:8080",         //
             "[127.0.0.1]:8080",  // brackets are for IPv6
             "localhost:8080",    // names are not resolved
             "127.0.0.1:65536",   //
             "127.0.0.1:-1",      //
             "127.0.0.1:+80",     //
             "127.0.0.1:80x",     //
             "127.0.0.1: 80",     //
             "127.0.0.1:8080:1",  //
             "[fe80::1%lo]:80",   // no scoped addresses
         }) {
        EXPECT_EQ(parse_listen(text), std::nullopt) << '"' << text << '"';
    }
}

TEST(Options, SiteNamesArePlain) {
    for (const char* name : {"london", "geneva-2", "site_1", "a.b", "A", "0"})
        EXPECT_TRUE(valid_site_name(name)) << name;
    EXPECT_TRUE(valid_site_name(std::string(63, 'x')));

    EXPECT_FALSE(valid_site_name(""));
    EXPECT_FALSE(valid_site_name(std::string(64, 'x')));
    for (const char* name : {"two words", "<b>", "a&b", "\"q\"", "a/b", "a:b", "tab\t", "é",
                             "new\nline", "semi;colon"})
        EXPECT_FALSE(valid_site_name(name)) << name;
    EXPECT_FALSE(valid_site_name(std::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace nolb::stats
