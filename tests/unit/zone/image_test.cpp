// zone::Image, each snapshot's zones as a transfer carries them, read back with ldns: every
// static record of demo.test. and its service's addresses as published, the SOA with the
// snapshot's serial; after a health change the new image holds the addresses published then,
// shares the blocks nothing changed, and carries the new serial.
#include "zone/image.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "unit/support.hpp"
#include "zone/compile.hpp"

namespace nolb::test {
namespace {

// Each record of the image as ldns prints it, the SOA apart.
std::multiset<std::string> records_of(const zone::Image& image) {
    std::multiset<std::string> out;
    for (const zone::Block& block : image.blocks)
        zone::for_each_record(*block, [&out](std::string_view record) {
            ldns_rr* rr = nullptr;
            std::size_t pos = 0;
            EXPECT_EQ(ldns_wire2rr(&rr, reinterpret_cast<const std::uint8_t*>(record.data()),
                                   record.size(), &pos, LDNS_SECTION_ANSWER),
                      LDNS_STATUS_OK);
            EXPECT_EQ(pos, record.size());
            char* text = ldns_rr2str(rr);
            std::string line = text;
            free(text);
            ldns_rr_free(rr);
            while (!line.empty() && line.back() == '\n')
                line.pop_back();
            out.insert(line);
        });
    return out;
}

std::uint32_t soa_serial(const zone::Image& image) {
    ldns_rr* rr = nullptr;
    std::size_t pos = 0;
    EXPECT_EQ(ldns_wire2rr(&rr, reinterpret_cast<const std::uint8_t*>(image.soa.data()),
                           image.soa.size(), &pos, LDNS_SECTION_ANSWER),
              LDNS_STATUS_OK);
    EXPECT_EQ(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
    const std::uint32_t serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
    ldns_rr_free(rr);
    return serial;
}

bool has(const std::multiset<std::string>& records, const std::string& line) {
    return records.count(line) == 1;
}

TEST(ZoneImage, HoldsEveryRecordOfTheZoneAndTheSoa) {
    auto snapshot = zone::compile(demo_config());
    const zone::Image& image = *snapshot->zones.at(0).image;
    EXPECT_EQ(image.serial, snapshot->zones[0].serial);
    EXPECT_EQ(soa_serial(image), image.serial);

    const auto records = records_of(image);
    EXPECT_EQ(records.size(), image.records);
    for (const char* line :
         {"demo.test.\t3600\tIN\tNS\tns1.demo.test.", "ns1.demo.test.\t3600\tIN\tA\t127.0.0.1",
          "ns1.demo.test.\t3600\tIN\tAAAA\t::1", "demo.test.\t3600\tIN\tMX\t10 mail.demo.test.",
          "mail.demo.test.\t3600\tIN\tA\t192.0.2.25",
          "info.demo.test.\t3600\tIN\tTXT\t\"hello\" \"world\"",
          "alias.demo.test.\t3600\tIN\tCNAME\talias2.demo.test.",
          "*.wild.demo.test.\t3600\tIN\tTXT\t\"wild\"", "a.b.c.demo.test.\t3600\tIN\tA\t192.0.2.7",
          "sub.demo.test.\t3600\tIN\tNS\tns.sub.demo.test.",
          "ns.sub.demo.test.\t3600\tIN\tA\t192.0.2.53",  // glue below the cut: transferred
          "www.demo.test.\t20\tIN\tA\t127.0.0.2", "www.demo.test.\t20\tIN\tA\t127.0.0.3",
          "www.demo.test.\t20\tIN\tAAAA\t2001:db8::2", "www.demo.test.\t20\tIN\tAAAA\t2001:db8::3"})
        EXPECT_TRUE(has(records, line)) << line;
    for (const std::string& line : records)
        EXPECT_EQ(line.find("\tSOA\t"), std::string::npos) << "the SOA is apart: " << line;
}

TEST(ZoneImage, AHealthChangeReplacesOnlyTheServicesBlockAndTheSerial) {
    auto model = zone::load(demo_config());
    zone::Compiler compiler(model);
    auto first = compiler.render({}, {100});
    auto before = first->zones[0].image;

    zone::Availability geneva_down = {{true, true, false, false}};  // london's two addresses
    auto second = compiler.render(geneva_down, {101});
    auto after = second->zones[0].image;
    ASSERT_NE(after, before);
    EXPECT_EQ(after->serial, 101u);
    EXPECT_EQ(soa_serial(*after), 101u);
    EXPECT_EQ(after->blocks.at(0), before->blocks.at(0)) << "the static block is shared";
    EXPECT_NE(after->blocks.at(1), before->blocks.at(1));

    const auto records = records_of(*after);
    EXPECT_TRUE(has(records, "www.demo.test.\t20\tIN\tA\t127.0.0.2"));
    EXPECT_FALSE(has(records, "www.demo.test.\t20\tIN\tA\t127.0.0.3"));
    EXPECT_FALSE(has(records, "www.demo.test.\t20\tIN\tAAAA\t2001:db8::3"));
    EXPECT_EQ(records.size() + 2, records_of(*before).size());
    EXPECT_EQ(after->records, records.size());

    // A serial that moves alone gives a new SOA over the same blocks.
    auto third = compiler.render(geneva_down, {102});
    EXPECT_EQ(third->zones[0].image->blocks, after->blocks);
    EXPECT_EQ(soa_serial(*third->zones[0].image), 102u);
    // Nothing changed: the image is the one before.
    auto fourth = compiler.render(geneva_down, {102});
    EXPECT_EQ(fourth->zones[0].image, third->zones[0].image);
}

}  // namespace
}  // namespace nolb::test
