// IXFR's journal over real images from zone::Compiler: a delta holds exactly the records that
// left and came (applying the deltas of a chain to the first image's records gives the last
// image's), deltas chain by serial, the caps drop the oldest, and a serial the journal no longer
// reaches gives nothing (the caller then sends the whole zone).
#include "transfer/journal.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "unit/support.hpp"
#include "zone/compile.hpp"

namespace nolb::test {
namespace {

std::multiset<std::string> records(std::string_view block) {
    std::multiset<std::string> out;
    zone::for_each_record(block, [&out](std::string_view r) { out.emplace(r); });
    return out;
}

std::multiset<std::string> records(const zone::Image& image) {
    std::multiset<std::string> out;
    for (const zone::Block& block : image.blocks)
        for (const std::string& r : records(*block))
            out.insert(r);
    return out;
}

// demo.test. with a second service of four nodes, and a compiler over it.
struct Zone {
    Zone() { compiler = std::make_unique<zone::Compiler>(zone::load(with_api(demo_config()))); }
    std::shared_ptr<const zone::Image> render(zone::Availability available, std::uint32_t serial) {
        return compiler->render(available, {serial})->zones[0].image;
    }
    std::unique_ptr<zone::Compiler> compiler;
};

TEST(Journal, ADeltaHoldsWhatLeftAndWhatCame) {
    Zone zone;
    auto all = zone.render({{true, true, true, true}, {true, true, true, true}}, 10);
    auto changed = zone.render({{true, true, false, false}, {true, false, true, true}}, 11);
    const transfer::Delta d = transfer::diff(*all, *changed);
    EXPECT_EQ(d.from, 10u);
    EXPECT_EQ(d.to, 11u);
    EXPECT_EQ(d.from_soa, all->soa);
    EXPECT_EQ(d.to_soa, changed->soa);
    EXPECT_EQ(d.deleted_count, 3u);  // geneva's two addresses, api's n1
    EXPECT_EQ(d.added_count, 0u);
    EXPECT_EQ(records(d.deleted).size(), 3u);

    const transfer::Delta back = transfer::diff(*changed, *all);
    EXPECT_EQ(back.added_count, 3u);
    EXPECT_EQ(records(back.added), records(d.deleted));
}

TEST(Journal, DeltasAppliedInTurnGiveTheLastImage) {
    Zone zone;
    std::mt19937 random(7);
    transfer::Journal journal(1000, 1 << 20);
    auto first = zone.render({}, 100);
    auto previous = first;
    for (std::uint32_t serial = 101; serial <= 130; ++serial) {
        zone::Availability a(2);
        for (int i = 0; i < 4; ++i) {
            a[0].push_back(random() % 2 == 0);
            a[1].push_back(random() % 3 != 0);
        }
        auto next = zone.render(a, serial);
        journal.record(*previous, *next);
        previous = next;
    }
    const auto deltas = journal.since(100);
    ASSERT_EQ(deltas.size(), 30u);
    std::multiset<std::string> state = records(*first);
    std::uint32_t serial = 100;
    for (const auto& d : deltas) {
        ASSERT_EQ(d->from, serial);
        for (const std::string& r : records(d->deleted)) {
            auto it = state.find(r);
            ASSERT_NE(it, state.end()) << "a record deleted was there";
            state.erase(it);
        }
        for (const std::string& r : records(d->added))
            state.insert(r);
        serial = d->to;
    }
    EXPECT_EQ(serial, 130u);
    EXPECT_EQ(state, records(*previous));
    EXPECT_EQ(journal.since(120).size(), 10u);
    EXPECT_TRUE(journal.since(130).empty()) << "nothing newer";
    EXPECT_TRUE(journal.since(99).empty()) << "not reached";
}

TEST(Journal, CapsDropTheOldestAndABreakInTheChainClearsIt) {
    Zone zone;
    auto a = zone.render({}, 1);
    auto b = zone.render({{false, false, true, true}, {}}, 2);
    auto c = zone.render({{true, true, true, true}, {}}, 3);
    auto d = zone.render({{true, true, false, false}, {}}, 4);
    transfer::Journal two(2, 1 << 20);
    two.record(*a, *b);
    two.record(*b, *c);
    two.record(*c, *d);
    EXPECT_EQ(two.size(), 2u);
    EXPECT_TRUE(two.since(1).empty());
    EXPECT_EQ(two.since(2).size(), 2u);

    transfer::Journal small(100, 1);  // one delta at most, whatever its size
    small.record(*a, *b);
    EXPECT_EQ(small.size(), 0u) << "a delta over the byte cap is not kept";

    transfer::Journal chain(100, 1 << 20);
    chain.record(*a, *b);
    chain.record(*c, *d);  // 3 -> 4 does not follow 1 -> 2
    EXPECT_EQ(chain.size(), 1u);
    EXPECT_TRUE(chain.since(1).empty());
    EXPECT_EQ(chain.since(3).size(), 1u);
    chain.record(*d, *d);  // same serial: nothing
    EXPECT_EQ(chain.size(), 1u);
}

}  // namespace
}  // namespace nolb::test
