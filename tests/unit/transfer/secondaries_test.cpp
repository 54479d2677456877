// transfer::Secondaries: one record per zone and address, holding the last request's outcome
// and the serials it carried (a serial not given keeps the one known before), listed by zone
// then address; past its cap it forgets the secondary heard from longest ago, never the one
// just heard.
#include "transfer/secondaries.hpp"

#include <gtest/gtest.h>

#include <string>

namespace nolb::transfer {
namespace {

TEST(Secondaries, OneRecordPerZoneAndAddress) {
    Secondaries seen;
    const std::uint32_t ten = 10, eleven = 11;
    seen.note("b.test.", "192.0.2.1", "axfr", 100, nullptr, &ten);
    seen.note("a.test.", "192.0.2.9", "refused", 101, nullptr, nullptr);
    seen.note("b.test.", "192.0.2.1", "ixfr", 102, &ten, &eleven);
    seen.note("b.test.", "192.0.2.1", "up_to_date", 103, &eleven, nullptr);

    const std::vector<SecondaryRecord> all = seen.list();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].zone, "a.test.");
    EXPECT_FALSE(all[0].held_known);
    EXPECT_FALSE(all[0].sent_known);
    const SecondaryRecord& b = all[1];
    EXPECT_EQ(b.last, "up_to_date");
    EXPECT_EQ(b.last_at, 103);
    EXPECT_EQ(b.held, 11u);
    EXPECT_TRUE(b.sent_known);
    EXPECT_EQ(b.sent, 11u) << "a request that sent nothing keeps the serial sent before";
    EXPECT_EQ(b.requests, 3u);
}

TEST(Secondaries, ForgetsTheOldestPastTheCap) {
    Secondaries seen;
    for (std::size_t i = 0; i < Secondaries::kMaxRecords; ++i)
        seen.note("a.test.", "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256),
                  "refused", static_cast<double>(1000 + i), nullptr, nullptr);
    seen.note("a.test.", "192.0.2.1", "axfr", 5000, nullptr, nullptr);
    const std::vector<SecondaryRecord> all = seen.list();
    ASSERT_EQ(all.size(), Secondaries::kMaxRecords);
    bool newest = false, oldest = false;
    for (const SecondaryRecord& r : all) {
        newest = newest || r.address == "192.0.2.1";
        oldest = oldest || r.address == "10.0.0.0";
    }
    EXPECT_TRUE(newest);
    EXPECT_FALSE(oldest);
}

}  // namespace
}  // namespace nolb::transfer
