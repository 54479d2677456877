// zone::load: every record gathered by owner (SOA, NS and glue from the config, record strings,
// master files, services), the checks RFC 1034 asks for, and each problem reported with where
// it came from, all at once. Also the queries on the model that rendering shares.
#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <string>
#include <vector>

#include "dns/types.hpp"
#include "unit/support.hpp"
#include "zone/model.hpp"

namespace nolb::test {
namespace {

namespace type = dns::type;

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

dns::WireName wire(const std::string& text) {
    dns::WireName out;
    std::string error;
    EXPECT_TRUE(dns::wire_from_text(text, dns::WireName(1, '\0'), out, error)) << error;
    return out;
}

// Every problem of loading `c`, one a line; "" when it loads.
std::string problems_of(const config::Config& c) {
    try {
        zone::load(c);
    } catch (const config::Error& e) {
        std::string all;
        for (const auto& p : e.problems())
            all += p + "\n";
        return all;
    }
    return "";
}

const zone::NodeData* node(const zone::Model& m, const std::string& name) {
    auto it = m.nodes.find(wire(name));
    return it == m.nodes.end() ? nullptr : &it->second;
}

TEST(ZoneLoad, RecordsAreGroupedByOwnerAndType) {
    auto model = zone::load(demo_config());
    const zone::NodeData* apex = node(*model, "demo.test.");
    ASSERT_NE(apex, nullptr);
    EXPECT_TRUE(apex->rrsets.count(type::SOA));
    EXPECT_TRUE(apex->rrsets.count(type::NS));
    EXPECT_TRUE(apex->rrsets.count(type::MX));
    // Glue from [[zone.ns]] lands on the name server's own name.
    const zone::NodeData* ns1 = node(*model, "ns1.demo.test.");
    ASSERT_NE(ns1, nullptr);
    EXPECT_EQ(ns1->rrsets.at(type::A).rdatas.size(), 1u);
    EXPECT_EQ(ns1->rrsets.at(type::AAAA).rdatas.size(), 1u);
    // TXT with two strings is one record.
    EXPECT_EQ(node(*model, "info.demo.test.")->rrsets.at(type::TXT).rdatas.size(), 1u);
    // The delegation's two NS records are one RRset.
    EXPECT_EQ(node(*model, "sub.demo.test.")->rrsets.at(type::NS).rdatas.size(), 2u);
}

TEST(ZoneLoad, ServicesPublishTheirNodesAddressesInConfigOrder) {
    auto model = zone::load(demo_config());
    ASSERT_EQ(model->services.size(), 1u);
    const zone::ServiceModel& www = model->services[0];
    EXPECT_EQ(www.name, wire("www.demo.test."));
    EXPECT_EQ(www.ttl, 20u);
    EXPECT_EQ(www.zone, 0u);
    EXPECT_EQ(www.addresses, (std::vector{ip("127.0.0.2"), ip("2001:db8::2"), ip("127.0.0.3"),
                                          ip("2001:db8::3")}));
    const zone::NodeData* n = node(*model, "www.demo.test.");
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->service, 0u);
    EXPECT_TRUE(n->rrsets.empty());  // its addresses come at render time
}

TEST(ZoneLoad, EmptyNonTerminalsExist) {
    auto model = zone::load(demo_config());  // has a.b.c
    for (const char* name : {"b.c.demo.test.", "c.demo.test.", "_tcp.demo.test."}) {
        const zone::NodeData* n = node(*model, name);
        ASSERT_NE(n, nullptr) << name;
        EXPECT_TRUE(n->rrsets.empty()) << name;
    }
    EXPECT_EQ(node(*model, "nothing.demo.test."), nullptr);
}

TEST(ZoneLoad, NamesAreLowerCased) {
    config::Config c = demo_config();
    c.zones[0].records.push_back({"MiXeD A 192.0.2.44", {}});
    auto model = zone::load(c);
    EXPECT_NE(node(*model, "mixed.demo.test."), nullptr);
    EXPECT_EQ(node(*model, "MiXeD.demo.test."), nullptr);
}

TEST(ZoneLoad, RepeatedRecordsAreOneAndDifferingTtlsTakeTheLowest) {
    config::Config c = demo_config();
    c.zones[0].records.push_back({"twice A 192.0.2.1", {}});
    c.zones[0].records.push_back({"twice A 192.0.2.1", {}});
    c.zones[0].records.push_back({"ttls 300 A 192.0.2.1", {}});
    c.zones[0].records.push_back({"ttls 30 A 192.0.2.2", {}});
    c.zones[0].records.push_back({"ttls 3000 A 192.0.2.3", {}});
    auto model = zone::load(c);
    EXPECT_EQ(node(*model, "twice.demo.test.")->rrsets.at(type::A).rdatas.size(), 1u);
    const zone::RRset& ttls = node(*model, "ttls.demo.test.")->rrsets.at(type::A);
    EXPECT_EQ(ttls.rdatas.size(), 3u);
    EXPECT_EQ(ttls.ttl, 30u);
}

TEST(ZoneLoad, ZoneFileRecordsJoinTheConfigsOwnRecords) {
    TempFile file(
        "$ORIGIN demo.test.\n"
        "$TTL 300\n"
        "files  IN TXT \"from the file\"\n"
        "files6    AAAA 2001:db8::66\n"
        "@         MX 20 files\n");
    config::Config c = demo_config();
    c.zones[0].file = file.path;
    auto model = zone::load(c);
    EXPECT_EQ(node(*model, "files.demo.test.")->rrsets.at(type::TXT).ttl, 300u);
    EXPECT_TRUE(node(*model, "files6.demo.test.")->rrsets.count(type::AAAA));
    // The file's MX and the config's are one RRset.
    EXPECT_EQ(node(*model, "demo.test.")->rrsets.at(type::MX).rdatas.size(), 2u);
}

TEST(ZoneLoad, ZoneFileSyntaxErrorNamesFileAndLine) {
    TempFile file(
        "$ORIGIN demo.test.\n\n; comment\nok TXT \"fine\"\nbad A 300.1.2.3\nok2 TXT \"x\"\n");
    config::Config c = demo_config();
    c.zones[0].file = file.path;
    const std::string problems = problems_of(c);
    EXPECT_NE(problems.find(file.path + ":5: "), std::string::npos) << problems;
}

// Every RRset must fit one message after any question; a larger one is refused at load, not
// cut (with TC, meaningless over TCP) or thrown from a later rendering.
TEST(ZoneLoad, RRsetLargerThanAMessageIsAnError) {
    const std::string txt = "\"" + std::string(255, 'x') + "\"";
    std::string text = "$ORIGIN demo.test.\n";
    for (int i = 0; i < 260; ++i)
        text += "big TXT " + txt + " \"" + std::to_string(i) + "\"\n";
    TempFile file(text);
    config::Config c = demo_config();
    c.zones[0].file = file.path;
    const std::string problems = problems_of(c);
    EXPECT_NE(problems.find(file.path + ":"), std::string::npos) << problems;
    EXPECT_NE(problems.find("the TXT records at big.demo.test. add up to more than the 65253"),
              std::string::npos)
        << problems;
    EXPECT_EQ(problems.find('\n'), problems.size() - 1) << "reported once: " << problems;
}

TEST(ZoneLoad, RecordOutsideTheZoneIsAnError) {
    TempFile file("www.example.com. A 192.0.2.1\n");
    config::Config c = demo_config();
    c.zones[0].file = file.path;
    const std::string problems = problems_of(c);
    EXPECT_NE(problems.find(file.path + ":1: www.example.com. is outside zone demo.test."),
              std::string::npos)
        << problems;
    // From a record string, the string's position.
    config::Config s = demo_config();
    s.zones[0].records.push_back({"www.example.com. A 192.0.2.1", {"x.toml", 4, 2}});
    EXPECT_EQ(problems_of(s), "x.toml:4:2: www.example.com. is outside zone demo.test.\n");
}

TEST(ZoneLoad, SoaInTheFileIsAnError) {
    TempFile file("@ SOA ns1 hostmaster 1 2 3 4 5\n");
    config::Config c = demo_config();
    c.zones[0].file = file.path;
    EXPECT_EQ(problems_of(c), file.path +
                                  ":1: the SOA comes from [zone.soa] in the config; remove it "
                                  "from here\n");
}

TEST(ZoneLoad, TypesThatCannotBeServedAreErrors) {
    for (const char* record : {"x DNAME elsewhere.example.", "x TYPE41 \\# 0", "x TYPE255 \\# 0",
                               "x TYPE252 \\# 0", "x TYPE250 \\# 0"}) {
        config::Config c = demo_config();
        c.zones[0].records.push_back({record, {"x.toml", 3, 1}});
        EXPECT_EQ(problems_of(c), "x.toml:3:1: records of this type cannot be served\n") << record;
    }
}

TEST(ZoneLoad, OnlyClassInCanBeServed) {
    config::Config c = demo_config();
    c.zones[0].records.push_back({"x CH TXT hello", {"x.toml", 5, 1}});
    EXPECT_EQ(problems_of(c), "x.toml:5:1: only class IN records can be served\n");
}

TEST(ZoneLoad, CnameBesideOtherDataIsAnError) {
    config::Config c = demo_config();
    c.zones[0].records.push_back({"info CNAME www", {"x.toml", 7, 3}});
    EXPECT_NE(problems_of(c).find("info.demo.test.: CNAME and other data"), std::string::npos);
}

TEST(ZoneLoad, CnameAtTheApexOrTwiceIsAnError) {
    config::Config apex = demo_config();
    apex.zones[0].records.push_back({"@ CNAME www", {}});
    EXPECT_NE(problems_of(apex).find("demo.test.: CNAME at a zone apex"), std::string::npos)
        << problems_of(apex);
    config::Config twice = demo_config();
    twice.zones[0].records.push_back({"two CNAME www", {}});
    twice.zones[0].records.push_back({"two CNAME mail", {}});
    EXPECT_EQ(problems_of(twice), "two.demo.test.: more than one CNAME at the same name\n");
}

TEST(ZoneLoad, BadRecordTextNamesWhereItCameFrom) {
    config::Config c = demo_config();
    c.zones[0].records.push_back({"broken A not-an-address", {"x.toml", 9, 5}});
    EXPECT_NE(problems_of(c).find("x.toml:9:5: record \"broken A not-an-address\""),
              std::string::npos)
        << problems_of(c);
}

TEST(ZoneLoad, ServiceWithStaticAddressesIsAnError) {
    config::Config c = demo_config();
    c.zones[0].records.push_back({"www A 192.0.2.80", {}});
    EXPECT_NE(problems_of(c).find("also has static A, AAAA or CNAME"), std::string::npos);
}

TEST(ZoneLoad, ServiceOutsideEveryZoneOrBelowACutIsAnError) {
    config::Config outside = demo_config();
    outside.services[0].name = "www.example.";
    outside.services[0].where = {"x.toml", 12, 1};
    EXPECT_EQ(problems_of(outside), "x.toml:12:1: service www.example. is outside every zone\n");

    config::Config below = demo_config();
    below.services[0].name = "www.sub.demo.test.";
    EXPECT_EQ(problems_of(below),
              "www.sub.demo.test.: service below the zone cut at sub.demo.test.\n");
}

TEST(ZoneLoad, EveryProblemIsReportedAtOnce) {
    config::Config c = demo_config();
    c.zones[0].records.push_back({"broken A 1.2.3", {"x.toml", 1, 1}});
    c.zones[0].records.push_back({"x CH TXT y", {"x.toml", 2, 1}});
    c.zones[0].records.push_back({"www AAAA 2001:db8::80", {"x.toml", 3, 1}});
    try {
        zone::load(c);
        FAIL() << "loaded";
    } catch (const config::Error& e) {
        EXPECT_EQ(e.problems().size(), 3u) << e.what();
    }
}

TEST(ZoneLoad, ChildZoneOwnsItsNames) {
    config::Config c = demo_config();
    config::Zone child;
    child.origin = "sub.demo.test.";
    child.ttl = 600;
    child.soa.mname = "ns.sub.demo.test.";
    child.soa.rname = "hostmaster.sub.demo.test.";
    child.ns.push_back({"ns.sub.demo.test.", {ip("192.0.2.53")}, {}});
    child.records.push_back({"host A 192.0.2.99", {}});
    c.zones.push_back(child);
    auto model = zone::load(c);
    ASSERT_EQ(model->zones.size(), 2u);
    EXPECT_EQ(node(*model, "host.sub.demo.test.")->zone, 1u);
    // The parent's glue for ns.sub yields to the child's own record.
    const zone::NodeData* ns = node(*model, "ns.sub.demo.test.");
    EXPECT_EQ(ns->zone, 1u);
    EXPECT_EQ(ns->rrsets.at(type::A).rdatas.size(), 1u);
    EXPECT_EQ(ns->rrsets.at(type::A).ttl, 600u);

    EXPECT_EQ(zone::zone_of(model->zones, wire("x.host.sub.demo.test.")), 1u);
    EXPECT_EQ(zone::zone_of(model->zones, wire("sub.demo.test.")), 1u);
    EXPECT_EQ(zone::zone_of(model->zones, wire("other.demo.test.")), 0u);
    EXPECT_EQ(zone::zone_of(model->zones, wire("demo.test.")), 0u);
    EXPECT_EQ(zone::zone_of(model->zones, wire("test.")), std::nullopt);
    EXPECT_EQ(zone::zone_of(model->zones, wire("xdemo.test.")), std::nullopt);
}

TEST(ZoneLoad, CutAboveFindsTheHighestDelegation) {
    config::Config c = demo_config();
    c.zones[0].records.push_back({"deeper.sub NS ns.elsewhere.example.", {}});
    c.zones[0].records.push_back({"x.deeper.sub A 192.0.2.1", {}});
    auto model = zone::load(c);
    const zone::NodeData* sub = node(*model, "sub.demo.test.");
    EXPECT_EQ(zone::cut_above(model->nodes, model->zones, *sub), sub);
    EXPECT_EQ(zone::cut_above(model->nodes, model->zones, *node(*model, "ns.sub.demo.test.")), sub);
    EXPECT_EQ(zone::cut_above(model->nodes, model->zones, *node(*model, "x.deeper.sub.demo.test.")),
              sub);
    // The apex's own NS is not a cut; nor is anything outside a delegation.
    EXPECT_EQ(zone::cut_above(model->nodes, model->zones, *node(*model, "demo.test.")), nullptr);
    EXPECT_EQ(zone::cut_above(model->nodes, model->zones, *node(*model, "mail.demo.test.")),
              nullptr);
}

TEST(ZoneLoad, SoaFieldsComeFromTheConfig) {
    config::Config c = demo_config();
    c.zones[0].soa.refresh = 1;
    c.zones[0].soa.retry = 2;
    c.zones[0].soa.expire = 3;
    c.zones[0].soa.minimum = 4;
    c.zones[0].soa.ttl = 5;
    auto model = zone::load(c);
    const zone::ZoneModel& z = model->zones.at(0);
    EXPECT_EQ(z.origin, wire("demo.test."));
    EXPECT_EQ(z.serial, 2024010101u);
    EXPECT_EQ(z.soa_ttl, 5u);
    EXPECT_EQ(node(*model, "demo.test.")->rrsets.at(type::SOA).ttl, 5u);

    zone::RData soa = zone::soa_rdata(z, 0x01020304);
    ASSERT_EQ(soa.pieces.size(), 3u);
    EXPECT_EQ(soa.pieces[0].bytes, wire("ns1.demo.test."));
    EXPECT_EQ(soa.pieces[1].bytes, wire("hostmaster.demo.test."));
    EXPECT_EQ(soa.pieces[2].bytes, std::string("\x01\x02\x03\x04"
                                               "\x00\x00\x00\x01\x00\x00\x00\x02"
                                               "\x00\x00\x00\x03\x00\x00\x00\x04",
                                               20));
    // Without its own, the SOA takes the zone's TTL.
    config::Config d = demo_config();
    d.zones[0].soa.ttl.reset();
    EXPECT_EQ(zone::load(d)->zones.at(0).soa_ttl, 3600u);
}

TEST(ZoneLoad, AddressRdataIsTheAddressBytes) {
    EXPECT_EQ(zone::address_rdata(ip("192.0.2.1")).pieces.at(0).bytes,
              std::string("\xc0\x00\x02\x01", 4));
    const std::string v6 = zone::address_rdata(ip("2001:db8::1")).pieces.at(0).bytes;
    EXPECT_EQ(v6.size(), 16u);
    EXPECT_EQ(v6.substr(0, 4), std::string("\x20\x01\x0d\xb8", 4));
    EXPECT_FALSE(zone::address_rdata(ip("::1")).pieces.at(0).is_name);
}

}  // namespace
}  // namespace nolb::test
