// The answering rules, one test per rule, with queries built and responses read by ldns.
#include "answer/respond.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "unit/support.hpp"

namespace nolb::test {
namespace {

class RespondTest : public ::testing::Test {
  protected:
    Responder r{demo_config()};

    static ldns_pkt_rcode rcode(const Pkt& p) { return ldns_pkt_get_rcode(p.get()); }
    static std::size_t count(ldns_rr_list* l) { return l ? ldns_rr_list_rr_count(l) : 0; }
    static std::vector<std::string> answer(const Pkt& p) {
        return rr_strings(ldns_pkt_answer(p.get()));
    }
    static std::vector<std::string> authority(const Pkt& p) {
        return rr_strings(ldns_pkt_authority(p.get()));
    }
    static std::vector<std::string> additional(const Pkt& p) {
        return rr_strings(ldns_pkt_additional(p.get()));
    }
};

TEST_F(RespondTest, ServiceAnswersEveryAddressOfTheFamilyWithTheServiceTtl) {
    auto p = r.ask("www.demo.test.", LDNS_RR_TYPE_A);
    ASSERT_TRUE(p);
    EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(ldns_pkt_aa(p.get()));
    EXPECT_FALSE(ldns_pkt_ra(p.get()));
    EXPECT_TRUE(ldns_pkt_qr(p.get()));
    auto a = answer(p);
    std::sort(a.begin(), a.end());
    EXPECT_EQ(a, (std::vector<std::string>{"www.demo.test.\t20\tIN\tA\t127.0.0.2",
                                           "www.demo.test.\t20\tIN\tA\t127.0.0.3"}));
    EXPECT_EQ(count(ldns_pkt_authority(p.get())), 0u);

    auto v6 = r.ask("www.demo.test.", LDNS_RR_TYPE_AAAA);
    auto b = answer(v6);
    std::sort(b.begin(), b.end());
    EXPECT_EQ(b, (std::vector<std::string>{"www.demo.test.\t20\tIN\tAAAA\t2001:db8::2",
                                           "www.demo.test.\t20\tIN\tAAAA\t2001:db8::3"}));
}

TEST_F(RespondTest, ServiceOrderIsUniformlyRandomPerResponse) {
    config::Config c = demo_config();
    c.services[0].nodes.push_back(node("paris", {ip("127.0.0.4")}));
    c.services[0].nodes.push_back(node("tokyo", {ip("127.0.0.5")}));
    Responder four(c);
    const auto query = make_query("www.demo.test.", LDNS_RR_TYPE_A);
    // 4 addresses x 4 positions; chi-square with 9 degrees of freedom (rows and columns fixed).
    std::map<std::string, std::array<int, 4>> seen;
    std::set<std::string> orders;
    const int n = 24000;
    for (int i = 0; i < n; ++i) {
        auto a = answer(four.ask(query));
        ASSERT_EQ(a.size(), 4u);
        std::string order;
        for (int pos = 0; pos < 4; ++pos) {
            seen[a[pos]][pos]++;
            order += a[pos].back();
        }
        orders.insert(order);
    }
    double chi = 0;
    for (auto& [rr, positions] : seen)
        for (int k : positions)
            chi += (k - n / 4.0) * (k - n / 4.0) / (n / 4.0);
    EXPECT_EQ(seen.size(), 4u);
    EXPECT_LT(chi, 40.0) << "chi-square over positions (p < 1e-5 at 9 dof is about 37.7)";
    EXPECT_EQ(orders.size(), 24u) << "every permutation of four addresses appears";
}

TEST_F(RespondTest, StaticRecordsAnsweredAsTheyAre) {
    auto p = r.ask("info.demo.test.", LDNS_RR_TYPE_TXT);
    EXPECT_EQ(answer(p),
              (std::vector<std::string>{"info.demo.test.\t3600\tIN\tTXT\t\"hello\" \"world\""}));
    auto unk = r.ask("unk.demo.test.", static_cast<ldns_rr_type>(65534));
    ASSERT_EQ(count(ldns_pkt_answer(unk.get())), 1u);
    EXPECT_EQ(ldns_rdf_size(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(unk.get()), 0), 0)), 3u);
}

TEST_F(RespondTest, ApexSoaAndNsWithGlue) {
    auto soa = r.ask("demo.test.", LDNS_RR_TYPE_SOA);
    EXPECT_EQ(answer(soa), (std::vector<std::string>{
                               "demo.test.\t3600\tIN\tSOA\tns1.demo.test. hostmaster.demo.test. "
                               "2024010101 3600 600 1209600 60"}));
    auto ns = r.ask("demo.test.", LDNS_RR_TYPE_NS);
    EXPECT_EQ(answer(ns), (std::vector<std::string>{"demo.test.\t3600\tIN\tNS\tns1.demo.test."}));
    EXPECT_EQ(additional(ns), (std::vector<std::string>{"ns1.demo.test.\t3600\tIN\tA\t127.0.0.1",
                                                        "ns1.demo.test.\t3600\tIN\tAAAA\t::1"}));
    auto mx = r.ask("demo.test.", LDNS_RR_TYPE_MX);
    EXPECT_EQ(additional(mx),
              (std::vector<std::string>{"mail.demo.test.\t3600\tIN\tA\t192.0.2.25"}));
}

TEST_F(RespondTest, CnameChainFollowedInsideTheZone) {
    auto p = r.ask("alias.demo.test.", LDNS_RR_TYPE_A);
    auto a = answer(p);
    ASSERT_EQ(a.size(), 4u);
    EXPECT_EQ(a[0], "alias.demo.test.\t3600\tIN\tCNAME\talias2.demo.test.");
    EXPECT_EQ(a[1], "alias2.demo.test.\t3600\tIN\tCNAME\twww.demo.test.");
    EXPECT_NE(a[2].find("www.demo.test.\t20\tIN\tA\t127.0.0."), std::string::npos);
    // qtype CNAME: just the CNAME.
    EXPECT_EQ(answer(r.ask("alias.demo.test.", LDNS_RR_TYPE_CNAME)).size(), 1u);
    // A type the target lacks: the chain and NODATA.
    auto mx = r.ask("alias.demo.test.", LDNS_RR_TYPE_MX);
    EXPECT_EQ(rcode(mx), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answer(mx).size(), 2u);
    EXPECT_EQ(count(ldns_pkt_authority(mx.get())), 1u);
    // Out of zone target: the CNAME alone, no SOA.
    auto out = r.ask("out.demo.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(rcode(out), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answer(out).size(), 1u);
    EXPECT_EQ(count(ldns_pkt_authority(out.get())), 0u);
    // A target that does not exist: NXDOMAIN (RFC 6604) with the CNAME and the SOA.
    auto dangling = r.ask("dangling.demo.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(rcode(dangling), LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(answer(dangling).size(), 1u);
    EXPECT_EQ(count(ldns_pkt_authority(dangling.get())), 1u);
}

TEST_F(RespondTest, WildcardSynthesisesTheQueryName) {
    auto p = r.ask("anything.wild.demo.test.", LDNS_RR_TYPE_TXT);
    EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answer(p),
              (std::vector<std::string>{"anything.wild.demo.test.\t3600\tIN\tTXT\t\"wild\""}));
    auto deep = r.ask("a.much.longer.name.wild.demo.test.", LDNS_RR_TYPE_TXT);
    EXPECT_EQ(
        answer(deep),
        (std::vector<std::string>{"a.much.longer.name.wild.demo.test.\t3600\tIN\tTXT\t\"wild\""}));
    auto nodata = r.ask("x.wild.demo.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(rcode(nodata), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answer(nodata).size(), 0u);
    EXPECT_EQ(count(ldns_pkt_authority(nodata.get())), 1u);
    // The wildcard's parent exists but is not itself matched by it.
    EXPECT_EQ(rcode(r.ask("wild.demo.test.", LDNS_RR_TYPE_TXT)), LDNS_RCODE_NOERROR);
}

TEST_F(RespondTest, NegativeAnswersCarryTheSoaWithTheNegativeTtl) {
    auto nx = r.ask("nope.demo.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(rcode(nx), LDNS_RCODE_NXDOMAIN);
    EXPECT_TRUE(ldns_pkt_aa(nx.get()));
    auto auth = authority(nx);
    ASSERT_EQ(auth.size(), 1u);
    EXPECT_EQ(auth[0].substr(0, auth[0].find("SOA")), "demo.test.\t60\tIN\t");
    // A much longer nonexistent name re-aims the compression pointers.
    auto deep = r.ask("a.b.c.d.e.f.g.nope.demo.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(authority(deep), auth);

    auto nodata = r.ask("info.demo.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(rcode(nodata), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answer(nodata).size(), 0u);
    EXPECT_EQ(authority(nodata), auth);
}

TEST_F(RespondTest, EmptyNonTerminalIsNodata) {
    for (const char* name : {"b.c.demo.test.", "c.demo.test.", "_tcp.demo.test."}) {
        auto p = r.ask(name, LDNS_RR_TYPE_A);
        EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR) << name;
        EXPECT_EQ(answer(p).size(), 0u) << name;
        EXPECT_EQ(count(ldns_pkt_authority(p.get())), 1u) << name;
    }
}

TEST_F(RespondTest, DelegationGivesAReferral) {
    for (const char* name : {"sub.demo.test.", "host.sub.demo.test.", "ns.sub.demo.test."}) {
        auto p = r.ask(name, LDNS_RR_TYPE_A);
        EXPECT_EQ(rcode(p), LDNS_RCODE_NOERROR) << name;
        EXPECT_FALSE(ldns_pkt_aa(p.get())) << name;
        EXPECT_EQ(answer(p).size(), 0u) << name;
        auto ns = authority(p);
        std::sort(ns.begin(), ns.end());
        EXPECT_EQ(ns,
                  (std::vector<std::string>{"sub.demo.test.\t3600\tIN\tNS\tns.elsewhere.example.",
                                            "sub.demo.test.\t3600\tIN\tNS\tns.sub.demo.test."}));
        EXPECT_EQ(additional(p),
                  (std::vector<std::string>{"ns.sub.demo.test.\t3600\tIN\tA\t192.0.2.53"}));
    }
    // DS at the cut is the parent's: NODATA, authoritative.
    auto ds = r.ask("sub.demo.test.", LDNS_RR_TYPE_DS);
    EXPECT_TRUE(ldns_pkt_aa(ds.get()));
    EXPECT_EQ(count(ldns_pkt_authority(ds.get())), 1u);
}

TEST_F(RespondTest, OutsideEveryZoneIsRefused) {
    auto p = r.ask("example.com.", LDNS_RR_TYPE_A);
    EXPECT_EQ(rcode(p), LDNS_RCODE_REFUSED);
    EXPECT_FALSE(ldns_pkt_aa(p.get()));
    EXPECT_EQ(rcode(r.ask("test.", LDNS_RR_TYPE_SOA)), LDNS_RCODE_REFUSED);
    EXPECT_EQ(rcode(r.ask(".", LDNS_RR_TYPE_NS)), LDNS_RCODE_REFUSED);
}

TEST_F(RespondTest, OtherClassesAreRefusedAndChaosIsOffByDefault) {
    QueryOptions hs;
    hs.qclass = LDNS_RR_CLASS_HS;
    EXPECT_EQ(rcode(r.ask("www.demo.test.", LDNS_RR_TYPE_A, hs)), LDNS_RCODE_REFUSED);
    QueryOptions ch;
    ch.qclass = LDNS_RR_CLASS_CH;
    EXPECT_EQ(rcode(r.ask("version.bind.", LDNS_RR_TYPE_TXT, ch)), LDNS_RCODE_REFUSED);

    config::Config c = demo_config();
    c.server.chaos = true;
    c.server.identity = "ns-test-1";
    Responder chaos(c);
    auto id = chaos.ask("id.server.", LDNS_RR_TYPE_TXT, ch);
    EXPECT_EQ(answer(id), (std::vector<std::string>{"id.server.\t0\tCH\tTXT\t\"ns-test-1\""}));
    EXPECT_EQ(rcode(chaos.ask("other.bind.", LDNS_RR_TYPE_TXT, ch)), LDNS_RCODE_REFUSED);
}

TEST_F(RespondTest, AnyGetsOneRRset) {
    auto apex = r.ask("demo.test.", LDNS_RR_TYPE_ANY);
    EXPECT_EQ(rcode(apex), LDNS_RCODE_NOERROR);
    auto a = answer(apex);
    ASSERT_FALSE(a.empty());
    std::set<int> types;
    for (std::size_t i = 0; i < count(ldns_pkt_answer(apex.get())); ++i)
        types.insert(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(apex.get()), i)));
    EXPECT_EQ(types.size(), 1u);
    EXPECT_EQ(answer(r.ask("www.demo.test.", LDNS_RR_TYPE_ANY)).size(), 2u);
    EXPECT_EQ(rcode(r.ask("nope.demo.test.", LDNS_RR_TYPE_ANY)), LDNS_RCODE_NXDOMAIN);
}

TEST_F(RespondTest, OpcodeOtherThanQueryIsNotImplemented) {
    QueryOptions o;
    o.opcode = LDNS_PACKET_STATUS;
    EXPECT_EQ(rcode(r.ask("demo.test.", LDNS_RR_TYPE_SOA, o)), LDNS_RCODE_NOTIMPL);
    o.opcode = LDNS_PACKET_UPDATE;
    EXPECT_EQ(rcode(r.ask("demo.test.", LDNS_RR_TYPE_SOA, o)), LDNS_RCODE_NOTIMPL);
}

// QDCOUNT != 1 is FORMERR for QUERY only: an opcode nolbd does not implement is NOTIMP whatever
// the question section holds.
TEST_F(RespondTest, AnUnknownOpcodeIsNotImplementedWhateverTheQuestionCount) {
    for (int qdcount : {0, 2}) {
        SCOPED_TRACE(qdcount);
        QueryOptions o;
        o.opcode = LDNS_PACKET_STATUS;
        std::vector<std::uint8_t> q = make_query("demo.test.", LDNS_RR_TYPE_SOA, o);
        q[4] = static_cast<std::uint8_t>(qdcount >> 8);
        q[5] = static_cast<std::uint8_t>(qdcount);
        EXPECT_EQ(rcode(r.ask(q)), LDNS_RCODE_NOTIMPL);
        o.opcode = LDNS_PACKET_QUERY;
        q = make_query("demo.test.", LDNS_RR_TYPE_SOA, o);
        q[4] = static_cast<std::uint8_t>(qdcount >> 8);
        q[5] = static_cast<std::uint8_t>(qdcount);
        EXPECT_EQ(rcode(r.ask(q)), LDNS_RCODE_FORMERR);
    }
}

// nolbd is a primary only: a NOTIFY cannot come from a primary of its zones, and is refused
// (RFC 1996 §3.10), not called unimplemented.
TEST_F(RespondTest, ANotifyIsRefused) {
    QueryOptions o;
    o.opcode = LDNS_PACKET_NOTIFY;
    auto p = r.ask("demo.test.", LDNS_RR_TYPE_SOA, o);
    EXPECT_EQ(rcode(p), LDNS_RCODE_REFUSED);
    EXPECT_EQ(ldns_pkt_get_opcode(p.get()), LDNS_PACKET_NOTIFY);
    EXPECT_TRUE(ldns_pkt_qr(p.get()));
    EXPECT_EQ(ldns_pkt_qdcount(p.get()), 1);
}

TEST_F(RespondTest, QueryNameCaseIsEchoed) {
    auto p = r.ask("wWw.DeMo.TeSt.", LDNS_RR_TYPE_A);
    char* q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p.get()), 0)));
    EXPECT_STREQ(q, "wWw.DeMo.TeSt.");
    free(q);
    EXPECT_EQ(answer(p).size(), 2u);
    auto nx = r.ask("NoPe.DEMO.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(rcode(nx), LDNS_RCODE_NXDOMAIN);
}

TEST_F(RespondTest, EdnsIsEchoedWithOurPayloadSize) {
    QueryOptions o;
    o.edns = true;
    o.udp_size = 4096;
    auto p = r.ask("www.demo.test.", LDNS_RR_TYPE_A, o);
    EXPECT_TRUE(ldns_pkt_edns(p.get()));
    EXPECT_EQ(ldns_pkt_edns_udp_size(p.get()), 1232);
    EXPECT_EQ(ldns_pkt_edns_version(p.get()), 0);
    auto none = r.ask("www.demo.test.", LDNS_RR_TYPE_A);
    EXPECT_FALSE(ldns_pkt_edns(none.get()));
}

TEST_F(RespondTest, EdnsVersionAboveZeroGetsBadvers) {
    QueryOptions o;
    o.edns = true;
    o.edns_version = 1;
    auto bytes = r.raw(make_query("www.demo.test.", LDNS_RR_TYPE_A, o));
    ASSERT_GE(bytes.size(), 12u + 11u);
    EXPECT_EQ(bytes[3] & 0x0f, 0);          // low bits of 16
    EXPECT_EQ(bytes[bytes.size() - 6], 1);  // extended rcode upper bits
    EXPECT_EQ(bytes[7], 0);                 // no answers
    EXPECT_EQ(r.counters.read().by_rcode[16], 1u);
}

TEST_F(RespondTest, LargeAnswersAreTruncatedToWholeRRsetsOverUdp) {
    config::Config c = demo_config();
    for (int i = 0; i < 20; ++i)  // 20 x 53 octets: over 512, under 1232
        c.zones[0].records.push_back({"big TXT \"" + std::string(40, char('a' + i)) + "\"", {}});
    Responder big(c);
    auto udp = big.ask("big.demo.test.", LDNS_RR_TYPE_TXT);
    EXPECT_TRUE(ldns_pkt_tc(udp.get()));
    EXPECT_EQ(count(ldns_pkt_answer(udp.get())), 0u);  // the RRset does not fit whole
    auto raw = big.raw(make_query("big.demo.test.", LDNS_RR_TYPE_TXT));
    EXPECT_LE(raw.size(), 512u);

    QueryOptions o;
    o.edns = true;
    o.udp_size = 4096;
    auto edns = big.ask("big.demo.test.", LDNS_RR_TYPE_TXT, o);
    EXPECT_FALSE(ldns_pkt_tc(edns.get()));
    EXPECT_EQ(count(ldns_pkt_answer(edns.get())), 20u);

    auto tcp = big.ask(make_query("big.demo.test.", LDNS_RR_TYPE_TXT), answer::Transport::tcp);
    EXPECT_FALSE(ldns_pkt_tc(tcp.get()));
    EXPECT_EQ(count(ldns_pkt_answer(tcp.get())), 20u);
}

TEST_F(RespondTest, DroppingAdditionalGlueOfAnAnswerDoesNotTruncate) {
    config::Config c = demo_config();
    for (int i = 0; i < 40; ++i)
        c.zones[0].records.push_back({"mx MX " + std::to_string(i) + " m" + std::to_string(i), {}});
    for (int i = 0; i < 40; ++i)
        c.zones[0].records.push_back(
            {"m" + std::to_string(i) + " AAAA 2001:db8::" + std::to_string(i), {}});
    Responder big(c);
    QueryOptions o;
    o.edns = true;
    o.udp_size = 1232;
    auto p = big.ask("mx.demo.test.", LDNS_RR_TYPE_MX, o);
    EXPECT_FALSE(ldns_pkt_tc(p.get()));
    EXPECT_EQ(count(ldns_pkt_answer(p.get())), 40u);
    EXPECT_LT(count(ldns_pkt_additional(p.get())), 40u);
}

TEST_F(RespondTest, CountersTallyRcodesAndTypes) {
    r.ask("www.demo.test.", LDNS_RR_TYPE_A);
    r.ask("nope.demo.test.", LDNS_RR_TYPE_AAAA);
    r.ask("example.com.", LDNS_RR_TYPE_A);
    const answer::Totals t = r.counters.read();
    EXPECT_EQ(t.queries, 3u);
    EXPECT_EQ(t.by_rcode[LDNS_RCODE_NOERROR], 1u);
    EXPECT_EQ(t.by_rcode[LDNS_RCODE_NXDOMAIN], 1u);
    EXPECT_EQ(t.by_rcode[LDNS_RCODE_REFUSED], 1u);
    EXPECT_EQ(t.by_qtype[answer::qtype_slot(LDNS_RR_TYPE_A)], 2u);
}

}  // namespace
}  // namespace nolb::test
