// Truncation: a UDP response larger than the client can take (512 bytes without EDNS, the
// smaller of its EDNS size and ours with it) carries only whole RRsets and sets TC; its counts
// match what it carries; the same query over TCP gets everything. Each truncated response is
// compared RRset by RRset with the complete TCP one.
#include <map>

#include "harness.hpp"

namespace nolb::system_test {
namespace {

// Records per "owner TYPE" in a section.
std::map<std::string, std::size_t> rrset_sizes(const ldns_rr_list* list) {
    std::map<std::string, std::size_t> out;
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i)
        ++out[rrset_key(ldns_rr_list_rr(list, i))];
    return out;
}

struct Case {
    const char* name;
    ldns_rr_type type;
    std::optional<std::uint16_t> edns;  // the client's EDNS payload size, if any
    std::size_t limit;                  // the largest UDP response allowed
    bool must_truncate;
};

void check_case(std::uint16_t port, const Case& c) {
    SCOPED_TRACE(std::string(c.name) +
                 (c.edns ? " with EDNS " + std::to_string(*c.edns) : " without EDNS"));
    const Bytes q = query(c.name, c.type, QueryOptions().with_id(0x6000).with_edns(c.edns));

    TcpClient tcp(port);
    ASSERT_TRUE(tcp.send_all(tcp_frame(q)));
    auto full_wire = tcp.read_message();
    ASSERT_TRUE(full_wire) << "TCP response";
    PktPtr full = parse(*full_wire);
    ASSERT_TRUE(full);
    EXPECT_FALSE(ldns_pkt_tc(full.get())) << "TCP carries all";

    auto udp_wire = udp_exchange(port, q);
    ASSERT_TRUE(udp_wire) << "UDP response";
    EXPECT_LE(udp_wire->size(), c.limit) << "the UDP response fits the client's limit";
    PktPtr udp = parse(*udp_wire);
    ASSERT_TRUE(udp) << "the truncated response is still a well-formed message";
    EXPECT_EQ(ldns_pkt_tc(udp.get()), c.must_truncate);
    EXPECT_EQ(ldns_pkt_get_rcode(udp.get()), ldns_pkt_get_rcode(full.get()));
    EXPECT_EQ(ldns_pkt_edns(udp.get()), c.edns.has_value()) << "OPT kept in a truncated response";

    // Counts in the header match what is there (OPT is one of the additional records).
    EXPECT_EQ(count_of(*udp_wire, 1), ldns_rr_list_rr_count(ldns_pkt_answer(udp.get())));
    EXPECT_EQ(count_of(*udp_wire, 2), ldns_rr_list_rr_count(ldns_pkt_authority(udp.get())));
    EXPECT_EQ(count_of(*udp_wire, 3),
              ldns_rr_list_rr_count(ldns_pkt_additional(udp.get())) + (c.edns ? 1u : 0u));

    // Every RRset present is complete: the same number of records as over TCP.
    for (auto section : {ldns_pkt_answer, ldns_pkt_authority}) {
        const auto got = rrset_sizes(section(udp.get()));
        const auto all = rrset_sizes(section(full.get()));
        for (const auto& [key, n] : got) {
            auto it = all.find(key);
            ASSERT_NE(it, all.end()) << key << " is not in the full response";
            EXPECT_EQ(n, it->second) << key << ": a truncated RRset";
        }
        if (!c.must_truncate) {
            EXPECT_EQ(got, all) << "nothing dropped when nothing had to be";
        }
    }
}

}  // namespace

TEST_F(NolbdTest, TruncationKeepsWholeRRsets) {
    const Case cases[] = {
        {"big.demo.test.", LDNS_RR_TYPE_TXT, std::nullopt, 512, true},
        {"bigalias.demo.test.", LDNS_RR_TYPE_TXT, std::nullopt, 512, true},
        {"big.demo.test.", LDNS_RR_TYPE_TXT, 1232, 1232, false},
        {"big.demo.test.", LDNS_RR_TYPE_TXT, 600, 600, true},
        {"huge.demo.test.", LDNS_RR_TYPE_TXT, 1232, 1232, true},
        {"huge.demo.test.", LDNS_RR_TYPE_TXT, 4096, 4096, true},  // our 1232 still applies
        {"txt.demo.test.", LDNS_RR_TYPE_TXT, 100, 512, false},    // under 512 counts as 512
        {"www.demo.test.", LDNS_RR_TYPE_A, std::nullopt, 512, false},
        {"demo.test.", LDNS_RR_TYPE_NS, std::nullopt, 512, false},
    };
    for (const Case& c : cases)
        check_case(port(), c);
}

TEST_F(NolbdTest, HugeResponseOverUdpStaysWithinOurPayload) {
    auto wire = udp_exchange(
        port(), query("huge.demo.test.", LDNS_RR_TYPE_TXT, QueryOptions().with_edns(4096)));
    ASSERT_TRUE(wire);
    EXPECT_LE(wire->size(), 1232u) << "edns_payload = 1232 caps UDP responses";
}

}  // namespace nolb::system_test
