// zone::compile: a loaded model rendered into a snapshot that answers, with the serials and the
// addresses it is given. Reading and checking records is zone/load_test.cpp's.
#include "zone/compile.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "unit/support.hpp"

namespace nolb::test {
namespace {

struct TempFile {
    std::string path;
    explicit TempFile(const std::string& text) {
        char name[] = "/tmp/nolb-zone-XXXXXX";
        int fd = mkstemp(name);
        path = name;
        if (fd >= 0) {
            ssize_t w = write(fd, text.data(), text.size());
            (void)w;
            close(fd);
        }
    }
    ~TempFile() { unlink(path.c_str()); }
};

std::string problems_of(const config::Config& c) {
    try {
        zone::compile(c);
    } catch (const config::Error& e) {
        std::string all;
        for (const auto& p : e.problems())
            all += p + "\n";
        return all;
    }
    return "";
}

TEST(Compile, LargestRRsetIsAnsweredWholeOverTcp) {
    // One TXT record of 254 strings: 65,024 octets of RDATA, just inside the bound.
    std::string strings;
    for (int i = 0; i < 254; ++i)
        strings += " \"" + std::string(255, static_cast<char>('a' + i % 26)) + "\"";
    TempFile file("$ORIGIN demo.test.\nbig TXT" + strings + "\n");
    config::Config c = demo_config();
    c.zones[0].file = file.path;
    ASSERT_EQ(problems_of(c), "");
    Responder r(c);
    auto tcp = r.ask(make_query("big.demo.test.", LDNS_RR_TYPE_TXT), answer::Transport::tcp);
    ASSERT_TRUE(tcp);
    EXPECT_FALSE(ldns_pkt_tc(tcp.get()));
    EXPECT_EQ(ldns_rr_list_rr_count(ldns_pkt_answer(tcp.get())), 1u);
    auto udp = r.ask("big.demo.test.", LDNS_RR_TYPE_TXT);
    ASSERT_TRUE(udp);
    EXPECT_TRUE(ldns_pkt_tc(udp.get()));
}

TEST(Compile, SoaSerialAutoIsTheLoadTime) {
    config::Config c = demo_config();
    c.zones[0].soa.serial.reset();
    const auto before = static_cast<std::uint32_t>(time(nullptr));
    auto s = zone::compile(c);
    EXPECT_GE(s->zones[0].serial, before);
    EXPECT_LE(s->zones[0].serial, before + 5);
}

TEST(Compile, ChildZoneWinsOverTheParentsDelegation) {
    config::Config c = demo_config();
    config::Zone child;
    child.origin = "sub.demo.test.";
    child.ttl = 600;
    child.soa.mname = "ns.sub.demo.test.";
    child.soa.rname = "hostmaster.sub.demo.test.";
    child.soa.serial = 7;
    child.ns.push_back({"ns.sub.demo.test.", {ip("192.0.2.53")}, {}});
    child.records.push_back({"host A 192.0.2.99", {}});
    c.zones.push_back(child);
    Responder r(c);
    auto p = r.ask("host.sub.demo.test.", LDNS_RR_TYPE_A);
    EXPECT_TRUE(ldns_pkt_aa(p.get()));
    EXPECT_EQ(rr_strings(ldns_pkt_answer(p.get())),
              (std::vector<std::string>{"host.sub.demo.test.\t600\tIN\tA\t192.0.2.99"}));
}

}  // namespace
}  // namespace nolb::test

namespace nolb::test {
namespace {

TEST(Compile, OnlyAvailableServiceAddressesArePublished) {
    auto model = zone::load(demo_config());
    // www: london 127.0.0.2, 2001:db8::2; geneva 127.0.0.3, 2001:db8::3
    zone::Availability up{{true, false, false, true}};
    auto snapshot = zone::compile(*model, up, zone::next_serials(*model, {}));
    Responder r(demo_config());
    r.snapshot = snapshot;
    EXPECT_EQ(rr_strings(ldns_pkt_answer(r.ask("www.demo.test.", LDNS_RR_TYPE_A).get())),
              (std::vector<std::string>{"www.demo.test.\t20\tIN\tA\t127.0.0.2"}));
    EXPECT_EQ(rr_strings(ldns_pkt_answer(r.ask("www.demo.test.", LDNS_RR_TYPE_AAAA).get())),
              (std::vector<std::string>{"www.demo.test.\t20\tIN\tAAAA\t2001:db8::3"}));

    zone::Availability none{{false, false, false, false}};
    r.snapshot = zone::compile(*model, none, zone::next_serials(*model, {}));
    auto p = r.ask("www.demo.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
    EXPECT_EQ(ldns_pkt_nscount(p.get()), 1);  // NODATA: the SOA
    // A CNAME to the service follows it to the empty answer.
    EXPECT_EQ(ldns_pkt_ancount(r.ask("alias.demo.test.", LDNS_RR_TYPE_A).get()), 2);
}

TEST(Compile, AutomaticSerialsMoveForwardOnEveryRendering) {
    config::Config c = demo_config();
    c.zones[0].soa.serial.reset();
    auto model = zone::load(c);
    const auto now = static_cast<std::uint32_t>(time(nullptr));
    EXPECT_EQ(zone::next_serials(*model, {now + 100})[0], now + 101);
    EXPECT_GE(zone::next_serials(*model, {now - 100})[0], now);
    EXPECT_EQ(zone::next_serials(*model, {0xffffffffu})[0], now);  // RFC 1982: now is newer
    auto fixed = zone::load(demo_config());
    EXPECT_EQ(zone::next_serials(*fixed, {5})[0], 2024010101u);
    auto snapshot = zone::compile(*model, {}, {now + 7});
    EXPECT_EQ(snapshot->zones[0].serial, now + 7);
}

}  // namespace
}  // namespace nolb::test
