// No amplification beyond what the protocol needs: nothing for a packet that is itself a
// response, at most 512 octets over UDP to a client without EDNS, at most the smaller of the
// client's and the server's payload sizes to one with EDNS, and one RRset for ANY. Checked
// over a zone whose answers are far larger than any of these limits.
#include <gtest/gtest.h>

#include <set>

#include "answer/respond.hpp"
#include "unit/support.hpp"

namespace nolb::test {
namespace {

// demo.test. plus "big": 20 TXT of 53 octets and an MX set whose targets have AAAA glue, so
// that the TXT set is over 1 KB and the MX set alone over 4 KB, glue aside.
config::Config big_config(std::uint16_t edns_payload = 1232) {
    config::Config c = demo_config();
    c.server.edns_payload = edns_payload;
    for (int i = 0; i < 20; ++i)
        c.zones[0].records.push_back({"big TXT \"" + std::string(50, char('a' + i)) + "\"", {}});
    for (int i = 0; i < 200; ++i) {
        c.zones[0].records.push_back(
            {"big MX " + std::to_string(i) + " mx" + std::to_string(i), {}});
        c.zones[0].records.push_back(
            {"mx" + std::to_string(i) + " AAAA 2001:db8::" + std::to_string(i + 1), {}});
    }
    c.zones[0].records.push_back({"big A 192.0.2.80", {}});
    return c;
}

struct Ask {
    const char* name;
    ldns_rr_type type;
};
constexpr Ask kLargeQuestions[] = {
    {"big.demo.test.", LDNS_RR_TYPE_TXT}, {"big.demo.test.", LDNS_RR_TYPE_MX},
    {"big.demo.test.", LDNS_RR_TYPE_ANY}, {"demo.test.", LDNS_RR_TYPE_NS},
    {"demo.test.", LDNS_RR_TYPE_ANY},     {"www.demo.test.", LDNS_RR_TYPE_AAAA},
};

bool truncated(const std::vector<std::uint8_t>& response) {
    return response.size() > 2 && (response[2] & 0x02) != 0;
}

TEST(Amplification, AResponseGetsNoResponse) {
    Responder r(big_config());
    for (bool edns : {false, true}) {
        QueryOptions o;
        o.edns = edns;
        std::vector<std::uint8_t> query = make_query("big.demo.test.", LDNS_RR_TYPE_TXT, o);
        query[2] |= 0x80;  // QR
        EXPECT_TRUE(r.raw(query).empty()) << "edns " << edns;
        EXPECT_TRUE(r.raw(query, answer::Transport::tcp).empty()) << "edns " << edns;
        // The same with QR clear is answered: the flag alone decides.
        query[2] &= 0x7f;
        EXPECT_FALSE(r.raw(query).empty());
    }
    EXPECT_EQ(r.counters.read().dropped, 4u);
}

TEST(Amplification, WithoutEdnsAtMost512OctetsOverUdp) {
    Responder r(big_config(4096));
    for (const Ask& ask : kLargeQuestions) {
        const auto udp = r.raw(make_query(ask.name, ask.type));
        const auto tcp = r.raw(make_query(ask.name, ask.type), answer::Transport::tcp);
        ASSERT_FALSE(udp.empty()) << ask.name << " " << ask.type;
        EXPECT_LE(udp.size(), 512u) << ask.name << " " << ask.type;
        // Whatever did not fit is left to TCP, and the client is told so when an RRset of the
        // answer is missing.
        if (tcp.size() > 512 && ask.type != LDNS_RR_TYPE_NS) {
            EXPECT_TRUE(truncated(udp)) << ask.name << " " << ask.type;
        }
    }
}

TEST(Amplification, WithEdnsAtMostTheSmallerOfBothPayloadSizes) {
    struct Case {
        std::uint16_t server;
        std::uint16_t client;
        std::size_t limit;
    };
    const Case cases[] = {
        {1232, 4096, 1232}, {1232, 600, 600}, {4096, 1500, 1500},
        {4096, 4096, 4096}, {1232, 100, 512},  // below 512 counts as 512 (RFC 6891 §6.2.5)
    };
    for (const Case& c : cases) {
        Responder r(big_config(c.server));
        QueryOptions o;
        o.edns = true;
        o.udp_size = c.client;
        bool some_truncated = false;
        for (const Ask& ask : kLargeQuestions) {
            const auto response = r.raw(make_query(ask.name, ask.type, o));
            ASSERT_FALSE(response.empty());
            EXPECT_LE(response.size(), c.limit)
                << ask.name << " " << ask.type << " server " << c.server << " client " << c.client;
            some_truncated |= truncated(response);
        }
        // The MX set is over 4 KB: every limit is actually reached.
        EXPECT_TRUE(some_truncated) << "server " << c.server << " client " << c.client;
    }
}

TEST(Amplification, AnyIsAnsweredWithOneRRset) {
    Responder r(big_config(4096));
    QueryOptions o;
    o.edns = true;
    o.udp_size = 4096;
    for (const char* name : {"big.demo.test.", "demo.test."}) {
        auto p = r.ask(name, LDNS_RR_TYPE_ANY, o);
        ASSERT_TRUE(p);
        ldns_rr_list* answer = ldns_pkt_answer(p.get());
        ASSERT_TRUE(answer && ldns_rr_list_rr_count(answer) > 0) << name;
        std::set<int> types;
        for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i)
            types.insert(ldns_rr_get_type(ldns_rr_list_rr(answer, i)));
        EXPECT_EQ(types.size(), 1u) << name;
    }
    // For "big" (A, TXT, MX with glue) the ANY answer is as large as one of its typed answers,
    // never their sum.
    const auto any = r.raw(make_query("big.demo.test.", LDNS_RR_TYPE_ANY, o));
    std::set<std::size_t> typed;
    for (ldns_rr_type type : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_MX})
        typed.insert(r.raw(make_query("big.demo.test.", type, o)).size());
    EXPECT_TRUE(typed.contains(any.size())) << any.size();
}

}  // namespace
}  // namespace nolb::test
