// Protocol: the header and EDNS rules, what nolbd does with malformed or unusual messages, and
// DNS over TCP. Each malformed message must get FORMERR or no response at all, and nolbd must
// answer normally afterwards.
#include <thread>

#include "harness.hpp"

namespace nolb::system_test {
namespace {

constexpr std::uint16_t kRd = 0x0100;
constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kClassIn = 1;

// A query for www.demo.test. A built by hand, so that any field can be made wrong.
RawMessage plain_query(std::uint16_t id, std::uint16_t flags = kRd, std::uint16_t qd = 1,
                       std::uint16_t an = 0, std::uint16_t ns = 0, std::uint16_t ar = 0) {
    RawMessage m;
    m.header(id, flags, qd, an, ns, ar).name("www.demo.test.").u16(kTypeA).u16(kClassIn);
    return m;
}

// What nolbd may do with a malformed message: stay silent, or say FORMERR (to the same ID).
::testing::AssertionResult formerr_or_silent(const std::optional<Bytes>& response) {
    if (!response) return ::testing::AssertionSuccess() << "no response";
    if (response->size() < 12)
        return ::testing::AssertionFailure() << "a response of " << response->size() << " bytes";
    if (!qr_of(*response)) return ::testing::AssertionFailure() << "a response without QR";
    if (rcode_of(*response) != LDNS_RCODE_FORMERR)
        return ::testing::AssertionFailure()
               << "rcode " << int(rcode_of(*response)) << ", not FORMERR";
    return ::testing::AssertionSuccess() << "FORMERR";
}

}  // namespace

// --- the header

TEST_F(NolbdTest, HeaderOfAnAnswer) {
    auto wire = udp_exchange(
        port(), query("www.demo.test.", LDNS_RR_TYPE_A, QueryOptions().with_id(0xbeef)));
    ASSERT_TRUE(wire);
    PktPtr pkt = parse(*wire);
    ASSERT_TRUE(pkt);
    EXPECT_EQ(ldns_pkt_id(pkt.get()), 0xbeef);
    EXPECT_TRUE(ldns_pkt_qr(pkt.get()));
    EXPECT_TRUE(ldns_pkt_aa(pkt.get())) << "authoritative";
    EXPECT_FALSE(ldns_pkt_ra(pkt.get())) << "no recursion offered";
    EXPECT_TRUE(ldns_pkt_rd(pkt.get())) << "RD copied from the query";
    EXPECT_FALSE(ldns_pkt_tc(pkt.get()));
    EXPECT_EQ(ldns_pkt_get_opcode(pkt.get()), LDNS_PACKET_QUERY);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_qdcount(pkt.get()), 1);
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 2);
}

TEST_F(NolbdTest, RdClearStaysClear) {
    PktPtr pkt = ask("www.demo.test.", LDNS_RR_TYPE_A, QueryOptions().without_rd());
    ASSERT_TRUE(pkt);
    EXPECT_FALSE(ldns_pkt_rd(pkt.get()));
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 2);
}

TEST_F(NolbdTest, QueryNameCaseIsEchoed) {
    const std::string mixed = "WwW.DeMo.TeSt.";
    RawMessage m;
    m.header(0x1111, kRd, 1, 0, 0, 0).name(mixed).u16(kTypeA).u16(kClassIn);
    const std::size_t name_len = mixed.size() + 1;  // wire form: one byte longer than the text
    for (bool over_tcp : {false, true}) {
        SCOPED_TRACE(over_tcp ? "TCP" : "UDP");
        std::optional<Bytes> wire;
        if (over_tcp) {
            TcpClient tcp(port());
            ASSERT_TRUE(tcp.send_all(tcp_frame(m.wire())));
            wire = tcp.read_message();
        } else {
            wire = udp_exchange(port(), m.wire());
        }
        ASSERT_TRUE(wire);
        ASSERT_GE(wire->size(), 12 + name_len);
        EXPECT_TRUE(std::equal(m.wire().begin() + 12,
                               m.wire().begin() + 12 + static_cast<long>(name_len),
                               wire->begin() + 12))
            << "the question name comes back byte for byte";
        PktPtr pkt = parse(*wire);
        ASSERT_TRUE(pkt);
        EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 2) << "and is answered like www.demo.test.";
    }
    // Negative answers echo the case too.
    const std::string nxname = "NoSuch.DEMO.test.";
    RawMessage nx;
    nx.header(0x1112, kRd, 1, 0, 0, 0).name(nxname).u16(kTypeA).u16(kClassIn);
    auto wire = udp_exchange(port(), nx.wire());
    ASSERT_TRUE(wire);
    EXPECT_EQ(rcode_of(*wire), LDNS_RCODE_NXDOMAIN);
    ASSERT_GE(wire->size(), 12 + nxname.size() + 1);
    EXPECT_TRUE(std::equal(nx.wire().begin() + 12,
                           nx.wire().begin() + 12 + static_cast<long>(nxname.size() + 1),
                           wire->begin() + 12));
}

TEST_F(NolbdTest, QrSetIsDropped) {
    auto response = udp_exchange(port(), plain_query(0x2001, 0x8000 | kRd).wire(), 500ms);
    EXPECT_FALSE(response) << "a message with QR set is never answered";
    EXPECT_TRUE(still_answers());
}

// IQUERY, STATUS and UPDATE are not implemented, with a question or without one (QDCOUNT != 1 is
// FORMERR for QUERY only); a NOTIFY is refused: nolbd has no primary it could come from.
TEST_F(NolbdTest, OtherOpcodesAreNotImplementedAndNotifyIsRefused) {
    for (std::uint8_t opcode :
         {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{4}, std::uint8_t{5}}) {
        for (bool question : {true, false}) {
            SCOPED_TRACE("opcode " + std::to_string(opcode) + (question ? "" : ", QDCOUNT 0"));
            const auto id = static_cast<std::uint16_t>(0x2100 + opcode * 2 + question);
            const auto flags = static_cast<std::uint16_t>(opcode << 11);
            RawMessage empty;
            empty.header(id, flags, 0, 0, 0, 0);
            auto response =
                udp_exchange(port(), question ? plain_query(id, flags).wire() : empty.wire());
            ASSERT_TRUE(response);
            ASSERT_GE(response->size(), 12u);
            EXPECT_TRUE(qr_of(*response));
            EXPECT_EQ(id_of(*response), id);
            EXPECT_EQ(opcode_of(*response), opcode) << "opcode echoed";
            EXPECT_EQ(rcode_of(*response), opcode == 4 ? LDNS_RCODE_REFUSED : LDNS_RCODE_NOTIMPL);
        }
    }
    EXPECT_TRUE(still_answers());
}

TEST_F(NolbdTest, QuestionCountOtherThanOneIsFormErr) {
    RawMessage none;
    none.header(0x2201, kRd, 0, 0, 0, 0);
    auto response = udp_exchange(port(), none.wire());
    ASSERT_TRUE(response) << "QDCOUNT 0";
    EXPECT_EQ(rcode_of(*response), LDNS_RCODE_FORMERR) << "QDCOUNT 0";
    EXPECT_TRUE(qr_of(*response));

    RawMessage two;
    two.header(0x2202, kRd, 2, 0, 0, 0)
        .name("www.demo.test.")
        .u16(kTypeA)
        .u16(kClassIn)
        .name("pool.demo.test.")
        .u16(kTypeA)
        .u16(kClassIn);
    response = udp_exchange(port(), two.wire());
    ASSERT_TRUE(response) << "QDCOUNT 2";
    EXPECT_EQ(rcode_of(*response), LDNS_RCODE_FORMERR) << "QDCOUNT 2";
    EXPECT_TRUE(still_answers());
}

// --- EDNS (RFC 6891)

TEST_F(NolbdTest, EdnsOptIsEchoedWithOurPayloadSize) {
    PktPtr pkt = ask("www.demo.test.", LDNS_RR_TYPE_A, QueryOptions().with_edns(4096));
    ASSERT_TRUE(pkt);
    EXPECT_TRUE(ldns_pkt_edns(pkt.get())) << "OPT in the response";
    EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), 1232);
    EXPECT_EQ(ldns_pkt_edns_version(pkt.get()), 0);
    EXPECT_EQ(ldns_pkt_edns_extended_rcode(pkt.get()), 0);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 2);
}

TEST_F(NolbdTest, NoOptWithoutEdns) {
    auto wire = udp_exchange(port(), query("www.demo.test.", LDNS_RR_TYPE_A));
    ASSERT_TRUE(wire);
    PktPtr pkt = parse(*wire);
    ASSERT_TRUE(pkt);
    EXPECT_FALSE(ldns_pkt_edns(pkt.get()));
    EXPECT_EQ(count_of(*wire, 3), ldns_rr_list_rr_count(ldns_pkt_additional(pkt.get())))
        << "no OPT among the additional records";
}

TEST_F(NolbdTest, EdnsVersionOneIsBadVers) {
    PktPtr pkt = ask("www.demo.test.", LDNS_RR_TYPE_A, QueryOptions().with_edns(1232, 1));
    ASSERT_TRUE(pkt);
    EXPECT_TRUE(ldns_pkt_edns(pkt.get())) << "BADVERS needs the OPT to carry it";
    // BADVERS is 16: 0 in the header's four bits, 1 in the OPT's extended rcode.
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), 0);
    EXPECT_EQ(ldns_pkt_edns_extended_rcode(pkt.get()), 1);
    EXPECT_EQ(ldns_pkt_edns_version(pkt.get()), 0) << "we speak version 0";
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
}

TEST_F(NolbdTest, TwoOptRecordsAreFormErr) {
    auto m = plain_query(0x2301, kRd, 1, 0, 0, 2);
    m.opt(1232).opt(1232);
    auto response = udp_exchange(port(), m.wire());
    ASSERT_TRUE(response);
    EXPECT_EQ(rcode_of(*response), LDNS_RCODE_FORMERR);
    EXPECT_TRUE(qr_of(*response));
    EXPECT_TRUE(still_answers());
}

// --- malformed messages

struct Malformed {
    const char* what;
    Bytes wire;
};

std::vector<Malformed> malformed_messages() {
    std::vector<Malformed> out;
    out.push_back({"an empty datagram", {}});
    out.push_back({"a 5-byte header", {0x30, 0x01, 0x01, 0x00, 0x00}});
    out.push_back({"a header alone claiming a question",
                   RawMessage().header(0x3002, kRd, 1, 0, 0, 0).wire()});
    {
        RawMessage m;
        m.header(0x3003, kRd, 1, 0, 0, 0)
            .u8(64)
            .bytes(Bytes(64, 'a'))
            .u8(0)
            .u16(kTypeA)
            .u16(kClassIn);
        out.push_back({"a label of 64 bytes", m.wire()});
    }
    {
        RawMessage m;
        m.header(0x3004, kRd, 1, 0, 0, 0);
        for (int i = 0; i < 5; ++i)
            m.u8(60).bytes(Bytes(60, 'b'));
        m.u8(0).u16(kTypeA).u16(kClassIn);
        out.push_back({"a name of 306 bytes", m.wire()});
    }
    {
        RawMessage m;
        m.header(0x3005, kRd, 1, 0, 0, 0).u8(0xc0).u8(12).u16(kTypeA).u16(kClassIn);
        out.push_back({"a compression pointer to itself", m.wire()});
    }
    {
        RawMessage m;  // www -> pointer back to www: a loop two labels long
        m.header(0x3006, kRd, 1, 0, 0, 0)
            .u8(3)
            .bytes({'w', 'w', 'w'})
            .u8(0xc0)
            .u8(12)
            .u16(kTypeA)
            .u16(kClassIn);
        out.push_back({"a compression loop through a label", m.wire()});
    }
    {
        RawMessage m;  // a pointer forward to a valid name placed after the question
        m.header(0x3007, kRd, 1, 0, 0, 0)
            .u8(0xc0)
            .u8(18)
            .u16(kTypeA)
            .u16(kClassIn)
            .name("www.demo.test.");
        out.push_back({"a forward compression pointer", m.wire()});
    }
    {
        RawMessage m;
        m.header(0x3008, kRd, 1, 0, 0, 0).u8(3).bytes({'w', 'w', 'w'}).u8(0xc0);
        out.push_back({"a pointer cut in half", m.wire()});
    }
    {
        RawMessage m;
        m.header(0x3009, kRd, 1, 0, 0, 0).name("www.demo.test.").u8(0);
        out.push_back({"a question without its type and class", m.wire()});
    }
    {
        RawMessage m;
        m.header(0x300a, kRd, 1, 0, 0, 0).u8(10).bytes({'w', 'w', 'w'});
        out.push_back({"a label running past the end", m.wire()});
    }
    out.push_back({"ARCOUNT 3 with no records", plain_query(0x300b, kRd, 1, 0, 0, 3).wire()});
    out.push_back({"ANCOUNT 2 with no records", plain_query(0x300c, kRd, 1, 2, 0, 0).wire()});
    out.push_back(
        {"NSCOUNT 65535 with no records", plain_query(0x300d, kRd, 1, 0, 65535, 0).wire()});
    {
        auto m = plain_query(0x300e, kRd, 1, 0, 0, 1);
        m.u8(0).u16(41).u16(1232).u32(0).u16(20).u16(10);  // OPT whose RDLENGTH runs past the end
        out.push_back({"an OPT whose RDATA overruns", m.wire()});
    }
    {
        RawMessage m;
        m.header(0x300f, kRd, 1, 0, 0, 0)
            .u8(0x80)
            .u8(3)
            .bytes({'w', 'w', 'w'})
            .u8(0)
            .u16(kTypeA)
            .u16(kClassIn);
        out.push_back({"a reserved label type (10)", m.wire()});
    }
    return out;
}

TEST_F(NolbdTest, MalformedOverUdpGetFormErrOrNothing) {
    for (const auto& m : malformed_messages()) {
        SCOPED_TRACE(m.what);
        auto response = udp_exchange(port(), m.wire, 500ms);
        EXPECT_TRUE(formerr_or_silent(response));
        EXPECT_TRUE(still_answers()) << "after " << m.what;
    }
}

TEST_F(NolbdTest, MalformedOverTcpGetFormErrOrClose) {
    for (const auto& m : malformed_messages()) {
        SCOPED_TRACE(m.what);
        TcpClient tcp(port());
        ASSERT_TRUE(tcp.connected());
        ASSERT_TRUE(tcp.send_all(tcp_frame(m.wire)));
        auto response = tcp.read_message(1000ms);
        EXPECT_TRUE(formerr_or_silent(response));
    }
    TcpClient tcp(port());
    ASSERT_TRUE(tcp.send_all(
        tcp_frame(query("www.demo.test.", LDNS_RR_TYPE_A, QueryOptions().with_id(9)))));
    auto response = tcp.read_message();
    ASSERT_TRUE(response) << "TCP still answers";
    EXPECT_EQ(id_of(*response), 9);
    EXPECT_TRUE(still_answers());
}

// --- TCP (RFC 7766)

TEST_F(NolbdTest, TcpPipelinedQueriesAnsweredInOrder) {
    const char* names[] = {"www.demo.test.", "pool.demo.test.", "nonexistent.demo.test.",
                           "big.demo.test.", "example.com."};
    const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_A, LDNS_RR_TYPE_A, LDNS_RR_TYPE_TXT,
                                  LDNS_RR_TYPE_A};
    const ldns_pkt_rcode rcodes[] = {LDNS_RCODE_NOERROR, LDNS_RCODE_NOERROR, LDNS_RCODE_NXDOMAIN,
                                     LDNS_RCODE_NOERROR, LDNS_RCODE_REFUSED};
    Bytes stream;
    for (std::uint16_t i = 0; i < 10; ++i) {
        const Bytes frame =
            tcp_frame(query(names[i % 5], types[i % 5],
                            QueryOptions().with_id(static_cast<std::uint16_t>(500 + i))));
        stream.insert(stream.end(), frame.begin(), frame.end());
    }
    TcpClient tcp(port());
    ASSERT_TRUE(tcp.connected());
    ASSERT_TRUE(tcp.send_all(stream)) << "ten queries in one write";
    for (std::uint16_t i = 0; i < 10; ++i) {
        auto wire = tcp.read_message();
        ASSERT_TRUE(wire) << "response " << i << " of 10";
        PktPtr pkt = parse(*wire);
        ASSERT_TRUE(pkt);
        EXPECT_EQ(ldns_pkt_id(pkt.get()), 500 + i) << "responses come in query order";
        EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), rcodes[i % 5]) << names[i % 5];
        EXPECT_FALSE(ldns_pkt_tc(pkt.get()));
    }
}

TEST_F(NolbdTest, TcpMessageInPieces) {
    const Bytes frame =
        tcp_frame(query("www.demo.test.", LDNS_RR_TYPE_A, QueryOptions().with_id(0x5151)));
    TcpClient tcp(port());
    ASSERT_TRUE(tcp.connected());
    // The length prefix split, then the message in two parts, with pauses between.
    const std::size_t cuts[] = {0, 1, 9, frame.size()};
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(tcp.send_all(Bytes(frame.begin() + static_cast<long>(cuts[i]),
                                       frame.begin() + static_cast<long>(cuts[i + 1]))));
        std::this_thread::sleep_for(50ms);
    }
    auto wire = tcp.read_message();
    ASSERT_TRUE(wire);
    EXPECT_EQ(id_of(*wire), 0x5151);
    EXPECT_EQ(count_of(*wire, 1), 2);
}

TEST_F(NolbdTest, TcpConnectionServesManyQueries) {
    TcpClient tcp(port());
    ASSERT_TRUE(tcp.connected());
    for (std::uint16_t i = 0; i < 50; ++i) {
        ASSERT_TRUE(tcp.send_all(
            tcp_frame(query("www.demo.test.", LDNS_RR_TYPE_A, QueryOptions().with_id(i)))));
        auto wire = tcp.read_message();
        ASSERT_TRUE(wire) << "query " << i;
        EXPECT_EQ(id_of(*wire), i);
    }
}

}  // namespace nolb::system_test
