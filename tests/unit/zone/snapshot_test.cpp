// Snapshot's read side, as workers use it per packet: exact lookup of a lower-cased wire name in
// the open-addressing table (collisions included, and a miss that stops at an empty slot), and
// the answer a node gives for a query type.
#include "zone/snapshot.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "dns/name.hpp"
#include "dns/types.hpp"
#include "unit/support.hpp"

namespace nolb::test {
namespace {

namespace type = dns::type;

dns::WireName wire(const std::string& text) {
    dns::WireName out;
    std::string error;
    EXPECT_TRUE(dns::wire_from_text(text, dns::WireName(1, '\0'), out, error)) << error;
    return dns::lowered(out);
}

const zone::Node* find(const zone::Snapshot& s, const dns::WireName& name) {
    return s.find(reinterpret_cast<const std::uint8_t*>(name.data()), name.size());
}

std::string name_of(const zone::Snapshot& s, const zone::Node& n) {
    return dns::text_from_wire(
        dns::WireName(reinterpret_cast<const char*>(s.node_name(n)), n.name_size));
}

// A snapshot holding `names` only, inserted as compile does: linear probing from the hash.
zone::Snapshot table_of(const std::vector<dns::WireName>& names, std::size_t slots) {
    zone::Snapshot s;
    s.slots.assign(slots, 0);
    for (const dns::WireName& name : names) {
        zone::Node n;
        n.name_at = static_cast<std::uint32_t>(s.names.size());
        n.name_size = static_cast<std::uint8_t>(name.size());
        s.names.insert(s.names.end(), name.begin(), name.end());
        s.nodes.push_back(n);
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(name.data());
        std::size_t i = dns::name_hash(bytes, name.size()) & (slots - 1);
        while (s.slots[i] != 0)
            i = (i + 1) & (slots - 1);
        s.slots[i] = static_cast<std::uint32_t>(s.nodes.size());
    }
    return s;
}

TEST(Snapshot, FindsEveryNameOfACompiledZone) {
    auto s = zone::compile(demo_config());
    ASSERT_FALSE(s->nodes.empty());
    for (const zone::Node& n : s->nodes) {
        const dns::WireName name(reinterpret_cast<const char*>(s->node_name(n)), n.name_size);
        EXPECT_EQ(find(*s, name), &n) << dns::text_from_wire(name);
    }
    EXPECT_EQ(name_of(*s, *find(*s, wire("www.demo.test."))), "www.demo.test.");
    EXPECT_EQ(find(*s, wire("nothing.demo.test.")), nullptr);
    EXPECT_EQ(find(*s, wire("demo.test.example.")), nullptr);
    EXPECT_EQ(find(*s, wire(".")), nullptr);
}

TEST(Snapshot, LookupIsByLowerCasedWireName) {
    auto s = zone::compile(demo_config());
    dns::WireName upper;
    std::string error;
    ASSERT_TRUE(dns::wire_from_text("WWW.demo.test.", dns::WireName(1, '\0'), upper, error));
    // The caller lower-cases the question first; the table holds lower-case names only.
    EXPECT_EQ(find(*s, upper), nullptr);
    EXPECT_NE(find(*s, dns::lowered(upper)), nullptr);
}

TEST(Snapshot, EmptySnapshotFindsNothing) {
    zone::Snapshot s;
    EXPECT_EQ(find(s, wire("demo.test.")), nullptr);
}

TEST(Snapshot, CollidingNamesAreEachFoundAndAMissStopsAtAnEmptySlot) {
    constexpr std::size_t kSlots = 8;
    // Names that share a home slot, found by trying.
    std::map<std::size_t, std::vector<dns::WireName>> by_slot;
    for (int i = 0; i < 200; ++i) {
        dns::WireName name = wire("n" + std::to_string(i) + ".demo.test.");
        auto* bytes = reinterpret_cast<const std::uint8_t*>(name.data());
        by_slot[dns::name_hash(bytes, name.size()) & (kSlots - 1)].push_back(name);
    }
    std::vector<dns::WireName> same;
    for (auto& [slot, names] : by_slot)
        if (names.size() >= 4) same = {names.begin(), names.begin() + 4};
    ASSERT_EQ(same.size(), 4u);
    // Three of them in the table; the fourth shares their chain but is not there.
    zone::Snapshot s = table_of({same[0], same[1], same[2]}, kSlots);
    for (int i = 0; i < 3; ++i) {
        const zone::Node* n = find(s, same[i]);
        ASSERT_NE(n, nullptr) << i;
        EXPECT_EQ(n, &s.nodes[i]);
    }
    EXPECT_EQ(find(s, same[3]), nullptr);
}

TEST(Snapshot, AChainThatWrapsAroundTheTableIsFollowed) {
    constexpr std::size_t kSlots = 4;
    std::map<std::size_t, std::vector<dns::WireName>> by_slot;
    for (int i = 0; i < 100; ++i) {
        dns::WireName name = wire("w" + std::to_string(i) + ".test.");
        auto* bytes = reinterpret_cast<const std::uint8_t*>(name.data());
        by_slot[dns::name_hash(bytes, name.size()) & (kSlots - 1)].push_back(name);
    }
    ASSERT_GE(by_slot[kSlots - 1].size(), 3u);
    // Homed in the last slot: the second and third go to slots 0 and 1.
    const auto& last = by_slot[kSlots - 1];
    zone::Snapshot s = table_of({last[0], last[1], last[2]}, kSlots);
    EXPECT_NE(s.slots[0], 0u);
    EXPECT_NE(find(s, last[2]), nullptr);
    EXPECT_EQ(find(s, last[2]), &s.nodes[2]);
}

TEST(Snapshot, ANameIsNotFoundByItsPrefixOrSuffix) {
    zone::Snapshot s = table_of({wire("www.demo.test.")}, 8);
    EXPECT_NE(find(s, wire("www.demo.test.")), nullptr);
    EXPECT_EQ(find(s, wire("demo.test.")), nullptr);
    EXPECT_EQ(find(s, wire("a.www.demo.test.")), nullptr);
    const dns::WireName full = wire("www.demo.test.");
    // The same bytes, one short: not the name.
    EXPECT_EQ(s.find(reinterpret_cast<const std::uint8_t*>(full.data()), full.size() - 1), nullptr);
}

TEST(Snapshot, AnswerForATypeOrTheOtherAnswer) {
    zone::Snapshot s;
    s.typed = {{type::A, 10}, {type::MX, 11}, {type::TXT, 12}, {type::A, 99}};
    zone::Node n;
    n.typed_at = 1;  // MX, TXT
    n.typed = 2;
    n.other = 7;
    EXPECT_EQ(s.answer_for(n, type::MX), 11u);
    EXPECT_EQ(s.answer_for(n, type::TXT), 12u);
    // Entries outside the node's range are another node's.
    EXPECT_EQ(s.answer_for(n, type::A), 7u);
    EXPECT_EQ(s.answer_for(n, type::AAAA), 7u);
    // ANY: its own answer when there is one, else like any other type.
    EXPECT_EQ(s.answer_for(n, type::ANY), 7u);
    n.any = 5;
    EXPECT_EQ(s.answer_for(n, type::ANY), 5u);
    EXPECT_EQ(s.answer_for(n, type::MX), 11u);
    // A node without types: every type gets the other answer, kNoAnswer included.
    zone::Node empty;
    EXPECT_EQ(s.answer_for(empty, type::A), zone::kNoAnswer);
}

TEST(Snapshot, CompiledNodesAnswerTheirTypes) {
    auto s = zone::compile(demo_config());
    const zone::Node* mail = find(*s, wire("mail.demo.test."));
    ASSERT_NE(mail, nullptr);
    const std::uint32_t a = s->answer_for(*mail, type::A);
    ASSERT_NE(a, zone::kNoAnswer);
    EXPECT_EQ(s->answers.at(a).an, 1);
    // NODATA: no answer records, the SOA in the authority section.
    const std::uint32_t txt = s->answer_for(*mail, type::TXT);
    ASSERT_NE(txt, zone::kNoAnswer);
    EXPECT_EQ(s->answers.at(txt).an, 0);
    EXPECT_EQ(s->answers.at(txt).ns, 1);
    EXPECT_EQ(s->answer_for(*mail, type::TXT), s->answer_for(*mail, type::SRV));
}

}  // namespace
}  // namespace nolb::test
