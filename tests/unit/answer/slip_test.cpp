// The cut a rate-limited response gets when it slips: real responses from the answering code,
// cut and read back with ldns (header, question, OPT and extended RCODE kept, records gone),
// and messages that cannot be cut.
#include "answer/slip.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dns/wire.hpp"
#include "unit/support.hpp"

namespace nolb::answer {
namespace {

using test::make_query;
using test::Pkt;
using test::QueryOptions;
using test::Responder;

// A response from the real answering code, cut for a slip and parsed back.
struct Slipped {
    std::vector<std::uint8_t> original;
    std::vector<std::uint8_t> cut;
    Pkt pkt;
};

Slipped slip(Responder& r, const std::vector<std::uint8_t>& query) {
    Slipped s;
    s.original = r.raw(query);
    s.cut = s.original;
    s.cut.resize(slip_response(s.cut));
    ldns_pkt* raw = nullptr;
    if (!s.cut.empty() && ldns_wire2pkt(&raw, s.cut.data(), s.cut.size()) == LDNS_STATUS_OK)
        s.pkt.reset(raw);
    return s;
}

std::size_t count(ldns_rr_list* list) {
    return list ? ldns_rr_list_rr_count(list) : 0;
}

TEST(SlipResponse, KeepsHeaderAndQuestionSetsTcAndDropsTheRecords) {
    Responder r(test::demo_config());
    QueryOptions rd;
    rd.rd = true;
    Slipped s = slip(r, make_query("demo.test.", LDNS_RR_TYPE_NS, rd));
    ASSERT_TRUE(s.pkt);
    EXPECT_TRUE(ldns_pkt_tc(s.pkt.get()));
    EXPECT_TRUE(ldns_pkt_qr(s.pkt.get()));
    EXPECT_TRUE(ldns_pkt_aa(s.pkt.get()));
    EXPECT_TRUE(ldns_pkt_rd(s.pkt.get()));
    EXPECT_EQ(ldns_pkt_id(s.pkt.get()), 0x1234);
    EXPECT_EQ(ldns_pkt_get_rcode(s.pkt.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_qdcount(s.pkt.get()), 1);
    EXPECT_EQ(count(ldns_pkt_answer(s.pkt.get())), 0u);
    EXPECT_EQ(count(ldns_pkt_authority(s.pkt.get())), 0u);
    EXPECT_EQ(count(ldns_pkt_additional(s.pkt.get())), 0u);
    EXPECT_FALSE(ldns_pkt_edns(s.pkt.get()));
    // Header and question exactly as answered, and nothing after them.
    const std::size_t question = 12 + std::string("\4demo\4test").size() + 1 + 4;
    ASSERT_EQ(s.cut.size(), question);
    EXPECT_TRUE(std::equal(s.cut.begin() + 12, s.cut.end(), s.original.begin() + 12));
    EXPECT_LT(s.cut.size(), s.original.size());
}

TEST(SlipResponse, KeepsTheOptOfAnEdnsAnswer) {
    Responder r(test::demo_config());
    QueryOptions edns;
    edns.edns = true;
    edns.udp_size = 4096;
    Slipped s = slip(r, make_query("demo.test.", LDNS_RR_TYPE_NS, edns));  // NS with glue
    ASSERT_TRUE(s.pkt);
    EXPECT_TRUE(ldns_pkt_tc(s.pkt.get()));
    EXPECT_TRUE(ldns_pkt_edns(s.pkt.get()));
    EXPECT_EQ(ldns_pkt_edns_udp_size(s.pkt.get()), 1232);
    EXPECT_EQ(count(ldns_pkt_additional(s.pkt.get())), 0u) << "the glue is gone";
    EXPECT_EQ(ldns_pkt_ancount(s.pkt.get()), 0);
    EXPECT_EQ(s.cut[10] * 256 + s.cut[11], 1) << "ARCOUNT: the OPT alone";
    EXPECT_EQ(s.cut.size(), 12u + 15u + 11u);
}

TEST(SlipResponse, KeepsTheRcodeExtendedOrNot) {
    Responder r(test::demo_config());
    Slipped nx = slip(r, make_query("nope.demo.test.", LDNS_RR_TYPE_A));
    ASSERT_TRUE(nx.pkt);
    EXPECT_EQ(ldns_pkt_get_rcode(nx.pkt.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_TRUE(ldns_pkt_aa(nx.pkt.get()));
    EXPECT_EQ(ldns_pkt_nscount(nx.pkt.get()), 0);

    Slipped refused = slip(r, make_query("example.com.", LDNS_RR_TYPE_A));
    ASSERT_TRUE(refused.pkt);
    EXPECT_EQ(ldns_pkt_get_rcode(refused.pkt.get()), LDNS_RCODE_REFUSED);
    EXPECT_FALSE(ldns_pkt_aa(refused.pkt.get()));

    QueryOptions v1;
    v1.edns = true;
    v1.edns_version = 1;
    Slipped badvers = slip(r, make_query("www.demo.test.", LDNS_RR_TYPE_A, v1));
    ASSERT_EQ(badvers.cut.size(), badvers.original.size()) << "nothing to cut but the TC bit";
    EXPECT_EQ(badvers.cut[badvers.cut.size() - 6], 1) << "BADVERS's upper bits, in the OPT";
    EXPECT_TRUE(badvers.cut[2] & 0x02);
}

TEST(SlipResponse, RefusesWhatIsNotAWholeMessage) {
    std::vector<std::uint8_t> shortish(11, 0);
    EXPECT_EQ(slip_response(shortish), 0u);
    Responder r(test::demo_config());
    std::vector<std::uint8_t> answer = r.raw(make_query("www.demo.test.", LDNS_RR_TYPE_A));
    ASSERT_GT(answer.size(), 40u);
    answer.resize(dns::kHeaderSize + 5);  // the question cut short
    EXPECT_EQ(slip_response(answer), 0u);
    std::vector<std::uint8_t> two_questions = r.raw(make_query("www.demo.test.", LDNS_RR_TYPE_A));
    two_questions[5] = 2;
    EXPECT_EQ(slip_response(two_questions), 0u);
}

}  // namespace
}  // namespace nolb::answer
