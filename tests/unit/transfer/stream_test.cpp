// Transfers' messages read back with ldns. AXFR: the SOA first and last, every record of the
// zone's image once and nothing else, the question in the first message only, whole records
// within the size limit; each message signed and verified by ldns when a key is given, and
// tampering detected; a transfer keeps the zone as it was when it began, whatever is published
// meanwhile. IXFR: the newest SOA, then per change the older SOA, what left, the newer SOA and
// what came, and the newest SOA again; a secondary up to date gets the SOA alone.
#include "transfer/stream.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <set>
#include <string>

#include "dns/name.hpp"
#include "unit/support.hpp"
#include "zone/compile.hpp"

namespace nolb::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

// demo.test. with 300 more services of 8 addresses each: some 2,400 records, many messages.
config::Config big_config() {
    config::Config c = demo_config();
    for (int i = 0; i < 300; ++i) {
        config::Service s;
        s.name = "s" + std::to_string(i) + ".demo.test.";
        s.ttl = 30;
        for (int n = 0; n < 8; ++n)
            s.nodes.push_back(node(("n" + std::to_string(n)).c_str(),
                                   {ip(("10." + std::to_string(i / 200) + "." +
                                        std::to_string(i % 200) + "." + std::to_string(n + 1))
                                           .c_str())}));
        c.services.push_back(s);
    }
    return c;
}

Bytes question_of(const Bytes& query) {
    return Bytes(query.begin() + 12, query.end());
}

std::vector<Bytes> drain(transfer::MessageStream stream) {
    std::vector<Bytes> messages;
    Bytes out(65535);
    for (std::size_t n; (n = stream.next(out)) > 0;) {
        messages.emplace_back(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
        if (messages.size() > 10000) break;
    }
    return messages;
}

std::string line_of(ldns_rr* rr) {
    char* text = ldns_rr2str(rr);
    std::string line = text;
    free(text);
    while (!line.empty() && line.back() == '\n')
        line.pop_back();
    return line;
}

TEST(Axfr, EveryRecordOnceBetweenTwoSoas) {
    auto snapshot = zone::compile(big_config());
    const zone::Image& image = *snapshot->zones[0].image;
    const Bytes query = make_query("demo.test.", LDNS_RR_TYPE_AXFR);
    const Bytes question = question_of(query);
    transfer::MessageStream stream = transfer::axfr({0x1234, 0x0100, question, {}}, *snapshot, 0);
    Bytes spare(65535);
    std::vector<Bytes> messages;
    for (std::size_t n; (n = stream.next(spare)) > 0;)
        messages.emplace_back(spare.begin(), spare.begin() + static_cast<std::ptrdiff_t>(n));
    ASSERT_GE(messages.size(), 4u);
    EXPECT_EQ(stream.next(spare), 0u) << "done stays done";

    std::multiset<std::string> got;
    std::vector<ldns_rr_type> types;
    for (std::size_t m = 0; m < messages.size(); ++m) {
        SCOPED_TRACE("message " + std::to_string(m));
        EXPECT_LE(messages[m].size(), 12 + query.size() + transfer::kMessageRecords + 512);
        ldns_pkt* raw = nullptr;
        ASSERT_EQ(ldns_wire2pkt(&raw, messages[m].data(), messages[m].size()), LDNS_STATUS_OK);
        Pkt pkt(raw);
        EXPECT_EQ(ldns_pkt_id(pkt.get()), 0x1234);
        EXPECT_TRUE(ldns_pkt_qr(pkt.get()));
        EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
        EXPECT_TRUE(ldns_pkt_rd(pkt.get()));
        EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
        EXPECT_EQ(ldns_pkt_qdcount(pkt.get()), m == 0 ? 1 : 0);
        ldns_rr_list* answer = ldns_pkt_answer(pkt.get());
        for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
            ldns_rr* rr = ldns_rr_list_rr(answer, i);
            types.push_back(ldns_rr_get_type(rr));
            if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA) got.insert(line_of(rr));
        }
    }
    ASSERT_GE(types.size(), 2u);
    EXPECT_EQ(types.front(), LDNS_RR_TYPE_SOA);
    EXPECT_EQ(types.back(), LDNS_RR_TYPE_SOA);
    EXPECT_EQ(std::count(types.begin(), types.end(), LDNS_RR_TYPE_SOA), 2);
    EXPECT_EQ(types.size(), image.records + 2);
    EXPECT_EQ(got.size(), image.records);
    EXPECT_EQ(got.count("s299.demo.test.\t30\tIN\tA\t10.1.99.8"), 1u);
    EXPECT_EQ(got.count("www.demo.test.\t20\tIN\tAAAA\t2001:db8::3"), 1u);
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size()) << "no duplicate";
}

std::string base64(const Bytes& data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    out.resize(static_cast<std::size_t>(EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(out.data()), data.data(), static_cast<int>(data.size()))));
    return out;
}

TEST(Axfr, EveryMessageIsSignedAndVerifiesInLdns) {
    dns::tsig::Key key;
    std::string error;
    ASSERT_TRUE(dns::wire_from_text("xfr.demo.test.", std::string(1, '\0'), key.name, error));
    key.secret.assign(32, 0x42);
    const Bytes request_mac(32, 0x17);
    auto snapshot = zone::compile(big_config());
    const Bytes query = make_query("demo.test.", LDNS_RR_TYPE_AXFR);
    const Bytes question = question_of(query);
    const std::vector<Bytes> messages = drain(transfer::axfr(
        {7, 0, question,
         transfer::Signing{&key, request_mac, static_cast<std::uint64_t>(std::time(nullptr))}},
        *snapshot, 0));
    ASSERT_GE(messages.size(), 4u);
    Bytes previous = request_mac;
    for (std::size_t m = 0; m < messages.size(); ++m) {
        SCOPED_TRACE("message " + std::to_string(m));
        ldns_pkt* raw = nullptr;
        ASSERT_EQ(ldns_wire2pkt(&raw, messages[m].data(), messages[m].size()), LDNS_STATUS_OK);
        Pkt pkt(raw);
        Bytes prefixed(2 + previous.size());  // ldns's form: a 16-bit length, then the MAC
        prefixed[1] = static_cast<std::uint8_t>(previous.size());
        std::copy(previous.begin(), previous.end(), prefixed.begin() + 2);
        ldns_rdf* mac =
            ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, prefixed.size(), prefixed.data());
        EXPECT_TRUE(ldns_pkt_tsig_verify_next(pkt.get(), messages[m].data(), messages[m].size(),
                                              "xfr.demo.test.", base64(key.secret).c_str(), mac,
                                              m > 0 ? 1 : 0));
        Bytes tampered = messages[m];
        tampered[tampered.size() / 3] ^= 1;
        ldns_pkt* raw2 = nullptr;
        if (ldns_wire2pkt(&raw2, tampered.data(), tampered.size()) == LDNS_STATUS_OK) {
            Pkt other(raw2);
            EXPECT_FALSE(ldns_pkt_tsig_verify_next(other.get(), tampered.data(), tampered.size(),
                                                   "xfr.demo.test.", base64(key.secret).c_str(),
                                                   mac, m > 0 ? 1 : 0));
        }
        ldns_rdf_deep_free(mac);
        dns::tsig::Record record;
        ASSERT_EQ(dns::tsig::find(messages[m], record), dns::tsig::Found::found);
        previous = record.mac;
    }
}

TEST(Axfr, ATransferKeepsTheZoneAsItWasWhenItBegan) {
    auto model = zone::load(demo_config());
    zone::Compiler compiler(model);
    auto before = compiler.render({}, {500});
    const Bytes query = make_query("demo.test.", LDNS_RR_TYPE_AXFR);
    const Bytes question = question_of(query);
    transfer::MessageStream stream = transfer::axfr({1, 0, question, {}}, *before, 0);
    before.reset();
    auto after = compiler.render({{false, false, true, true}}, {501});  // london down
    const std::vector<Bytes> messages = drain(std::move(stream));
    ASSERT_EQ(messages.size(), 1u);
    ldns_pkt* raw = nullptr;
    ASSERT_EQ(ldns_wire2pkt(&raw, messages[0].data(), messages[0].size()), LDNS_STATUS_OK);
    Pkt pkt(raw);
    std::set<std::string> lines;
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(pkt.get())); ++i)
        lines.insert(line_of(ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), i)));
    EXPECT_TRUE(lines.count("www.demo.test.\t20\tIN\tA\t127.0.0.2")) << "london, as it was";
    EXPECT_TRUE(lines.count(
        "demo.test.\t3600\tIN\tSOA\tns1.demo.test. hostmaster.demo.test. 500 3600 600 1209600 60"));
}

// The answer section of every message, in order, as (type, serial for an SOA or the record's
// text).
std::vector<std::pair<ldns_rr_type, std::string>> records_of(const std::vector<Bytes>& messages) {
    std::vector<std::pair<ldns_rr_type, std::string>> out;
    for (const Bytes& m : messages) {
        ldns_pkt* raw = nullptr;
        EXPECT_EQ(ldns_wire2pkt(&raw, m.data(), m.size()), LDNS_STATUS_OK);
        Pkt pkt(raw);
        for (std::size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(pkt.get())); ++i) {
            ldns_rr* rr = ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), i);
            const ldns_rr_type type = ldns_rr_get_type(rr);
            out.emplace_back(type, type == LDNS_RR_TYPE_SOA
                                       ? std::to_string(ldns_rdf2native_int32(ldns_rr_rdf(rr, 2)))
                                       : line_of(rr));
        }
    }
    return out;
}

TEST(Ixfr, EachChangeBetweenItsSoasAndTheNewestAround) {
    auto model = zone::load(demo_config());
    zone::Compiler compiler(model);
    transfer::Journal journal(10, 1 << 20);
    auto s1 = compiler.render({}, {1});
    auto s2 = compiler.render({{false, false, true, true}}, {2});  // london down
    auto s3 = compiler.render({{true, true, false, true}}, {3});   // london up, geneva's v4 down
    journal.record(*s1->zones[0].image, *s2->zones[0].image);
    journal.record(*s2->zones[0].image, *s3->zones[0].image);
    const Bytes query = make_query("demo.test.", LDNS_RR_TYPE_IXFR);
    const Bytes question = question_of(query);
    const auto got =
        records_of(drain(transfer::ixfr({9, 0, question, {}}, *s3, 0, journal.since(1))));

    using R = std::pair<ldns_rr_type, std::string>;
    ASSERT_EQ(got.size(), 1u + (1 + 2 + 1 + 0) + (1 + 1 + 1 + 2) + 1);
    EXPECT_EQ(got[0], R(LDNS_RR_TYPE_SOA, "3"));
    EXPECT_EQ(got[1], R(LDNS_RR_TYPE_SOA, "1"));  // 1 -> 2: london's two leave
    EXPECT_EQ(std::set<R>(got.begin() + 2, got.begin() + 4),
              (std::set<R>{{LDNS_RR_TYPE_A, "www.demo.test.\t20\tIN\tA\t127.0.0.2"},
                           {LDNS_RR_TYPE_AAAA, "www.demo.test.\t20\tIN\tAAAA\t2001:db8::2"}}));
    EXPECT_EQ(got[4], R(LDNS_RR_TYPE_SOA, "2"));  // nothing came
    EXPECT_EQ(got[5], R(LDNS_RR_TYPE_SOA, "2"));  // 2 -> 3: geneva's v4 leaves, london's come
    EXPECT_EQ(got[6], R(LDNS_RR_TYPE_A, "www.demo.test.\t20\tIN\tA\t127.0.0.3"));
    EXPECT_EQ(got[7], R(LDNS_RR_TYPE_SOA, "3"));
    EXPECT_EQ(std::set<R>(got.begin() + 8, got.begin() + 10),
              (std::set<R>{{LDNS_RR_TYPE_A, "www.demo.test.\t20\tIN\tA\t127.0.0.2"},
                           {LDNS_RR_TYPE_AAAA, "www.demo.test.\t20\tIN\tAAAA\t2001:db8::2"}}));
    EXPECT_EQ(got.back(), R(LDNS_RR_TYPE_SOA, "3"));

    const auto up_to_date = records_of(drain(transfer::ixfr({9, 0, question, {}}, *s3, 0, {})));
    ASSERT_EQ(up_to_date.size(), 1u);
    EXPECT_EQ(up_to_date[0], R(LDNS_RR_TYPE_SOA, "3"));
}

}  // namespace
}  // namespace nolb::test
