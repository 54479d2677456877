// transfer::Responder on real requests, read back with ldns and dns::tsig: AXFR to an allowed
// client, signed or not as the zone asks; REFUSED to others, NOTAUTH for a name that is no
// zone's apex, REFUSED for AXFR over UDP; IXFR from the journal, the SOA alone for a secondary
// up to date or over UDP, the whole zone when the journal does not reach back, FORMERR without
// the secondary's SOA; and RFC 8945's answers to bad signatures (BADKEY, BADSIG unsigned;
// BADTIME signed with the server's time), FORMERR for a TSIG that is not the last record, and
// other signed queries answered with a signed response that fits the UDP limit.
#include "transfer/serve.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <set>
#include <string>

#include "dns/wire.hpp"
#include "unit/support.hpp"
#include "zone/compile.hpp"

namespace nolb::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::uint64_t now() {
    return static_cast<std::uint64_t>(std::time(nullptr));
}

config::Key key_config(const char* name, std::uint8_t seed) {
    config::Key k;
    k.name = name;
    k.algorithm = "hmac-sha256";
    for (int i = 0; i < 32; ++i)
        k.secret.push_back(static_cast<std::uint8_t>(seed + i * 13));
    return k;
}

// demo.test. with a second service of four nodes (for IXFR's changes), transfers allowed from
// 127.0.0.0/8, signed with xfr.demo.test. when `require_key`; a second key that the zone does
// not name.
config::Config transfer_config(bool require_key) {
    config::Config c = with_api(demo_config());
    c.keys = {key_config("xfr.demo.test.", 1), key_config("other.demo.test.", 2)};
    c.zones[0].transfer.allow = {*util::Prefix::parse("127.0.0.0/8")};
    if (require_key) c.zones[0].transfer.keys = {"xfr.demo.test."};
    return c;
}

struct Lab {
    explicit Lab(bool require_key = false)
        : config(transfer_config(require_key)), compiler(zone::load(config)) {
        state.access = std::make_shared<const transfer::Access>(config);
        state.journals.emplace_back(100, 1 << 20);
        snapshot = compiler.render(all(), {10});
    }
    zone::Availability all() const { return {{true, true, true, true}, {true, true, true, true}}; }
    // Publishes serial `serial` with `available`, recording the change in the journal.
    void publish(zone::Availability available, std::uint32_t serial) {
        auto next = compiler.render(available, {serial});
        state.journals[0].record(*snapshot->zones[0].image, *next->zones[0].image);
        snapshot = next;
    }
    const dns::tsig::Key& key(std::size_t i) const { return state.access->keys()[i]; }

    // Every message of the response, the first from serve() and the rest from its stream.
    std::vector<Bytes> ask(const Bytes& query, util::Transport t = util::Transport::tcp,
                           const char* from = "127.0.0.1") {
        dns::Query q;
        dns::parse_query(query, q);
        EXPECT_TRUE(transfer::is_special(q));
        Bytes out(65535);
        transfer::Served served = responder.serve(*snapshot, state, query, q, t,
                                                  util::IpAddress::parse(from), now(), rng, out);
        std::vector<Bytes> messages;
        if (served.size == 0) return messages;
        messages.emplace_back(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(served.size));
        if (served.more)
            for (std::size_t n; (n = served.more->next(out)) > 0 && messages.size() < 1000;)
                messages.emplace_back(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
        return messages;
    }

    config::Config config;
    zone::Compiler compiler;
    std::shared_ptr<const zone::Snapshot> snapshot;
    transfer::State state;
    transfer::Secondaries seen;
    transfer::Responder responder{&seen};
    util::Rng rng{7};
};

Pkt parse(const Bytes& wire) {
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, wire.data(), wire.size()) != LDNS_STATUS_OK) return nullptr;
    return Pkt(raw);
}

std::uint16_t rcode_of(const Bytes& m) {
    return m.size() >= 4 ? m[3] & 0x0f : 0xffff;
}

// The records of the answer sections of `messages`, as ldns prints them.
std::vector<std::string> answers(const std::vector<Bytes>& messages) {
    std::vector<std::string> out;
    for (const Bytes& m : messages) {
        Pkt pkt = parse(m);
        if (!pkt) return {"(unparsable)"};
        for (const std::string& rr : rr_strings(ldns_pkt_answer(pkt.get())))
            out.push_back(rr);
    }
    return out;
}

bool is_soa(const std::string& rr, std::uint32_t serial) {
    return rr.find("\tSOA\t") != std::string::npos &&
           rr.find(" " + std::to_string(serial) + " ") != std::string::npos;
}

// An IXFR request for demo.test. from a secondary that holds `serial`.
Bytes ixfr_query(std::uint32_t serial) {
    Bytes q = make_query("demo.test.", LDNS_RR_TYPE_IXFR);
    q[9] = 1;  // NSCOUNT
    const Bytes owner = {4, 'd', 'e', 'm', 'o', 4, 't', 'e', 's', 't', 0};
    q.insert(q.end(), owner.begin(), owner.end());
    // SOA, IN, TTL 0, RDLENGTH 22: root MNAME and RNAME, the serial, four zero timers.
    const Bytes fixed = {0, 6, 0, 1, 0, 0, 0, 0, 0, 22, 0, 0};
    q.insert(q.end(), fixed.begin(), fixed.end());
    q.resize(q.size() + 20, 0);
    dns::store32(q.data() + q.size() - 20, serial);
    return q;
}

Bytes signed_query(Bytes query, const dns::tsig::Key& key, std::uint64_t at = now()) {
    dns::tsig::Signer(key, {}, at).sign(query);
    return query;
}

TEST(Serve, AxfrToAnAllowedClient) {
    Lab lab;
    const std::vector<Bytes> messages = lab.ask(make_query("demo.test.", LDNS_RR_TYPE_AXFR));
    const std::vector<std::string> rrs = answers(messages);
    ASSERT_GE(rrs.size(), 3u);
    EXPECT_TRUE(is_soa(rrs.front(), 10)) << rrs.front();
    EXPECT_TRUE(is_soa(rrs.back(), 10)) << rrs.back();
    const std::set<std::string> unique(rrs.begin() + 1, rrs.end() - 1);
    EXPECT_EQ(unique.size(), rrs.size() - 2);  // every record once
    EXPECT_EQ(rcode_of(messages[0]), LDNS_RCODE_NOERROR);
    EXPECT_EQ(lab.responder.tally().axfr.get(), 1u);
}

TEST(Serve, RefusesClientsOutsideTheAllowedPrefixes) {
    Lab lab;
    const std::vector<Bytes> messages =
        lab.ask(make_query("demo.test.", LDNS_RR_TYPE_AXFR), util::Transport::tcp, "10.1.2.3");
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(rcode_of(messages[0]), LDNS_RCODE_REFUSED);
    EXPECT_TRUE(answers(messages).empty());
    EXPECT_EQ(lab.responder.tally().refused.get(), 1u);
}

TEST(Serve, NotAuthForANameThatIsNoZone) {
    Lab lab;
    for (const char* name : {"www.demo.test.", "example.org."}) {
        const std::vector<Bytes> messages = lab.ask(make_query(name, LDNS_RR_TYPE_AXFR));
        ASSERT_EQ(messages.size(), 1u) << name;
        EXPECT_EQ(rcode_of(messages[0]), LDNS_RCODE_NOTAUTH) << name;
    }
}

TEST(Serve, AxfrOverUdpIsRefused) {
    Lab lab;
    const std::vector<Bytes> messages =
        lab.ask(make_query("demo.test.", LDNS_RR_TYPE_AXFR), util::Transport::udp);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(rcode_of(messages[0]), LDNS_RCODE_REFUSED);
}

TEST(Serve, AZoneThatNamesAKeyWantsItsSignature) {
    Lab lab(true);
    // Unsigned, or signed with a key the zone does not name: refused.
    EXPECT_EQ(rcode_of(lab.ask(make_query("demo.test.", LDNS_RR_TYPE_AXFR)).at(0)),
              LDNS_RCODE_REFUSED);
    const Bytes other = signed_query(make_query("demo.test.", LDNS_RR_TYPE_AXFR), lab.key(1));
    EXPECT_EQ(rcode_of(lab.ask(other).at(0)), LDNS_RCODE_REFUSED);

    // Signed with its key: every message signed, each over the MAC before it.
    const Bytes query = signed_query(make_query("demo.test.", LDNS_RR_TYPE_AXFR), lab.key(0));
    dns::tsig::Record request;
    ASSERT_EQ(dns::tsig::find(query, request), dns::tsig::Found::found);
    const std::vector<Bytes> messages = lab.ask(query);
    ASSERT_FALSE(messages.empty());
    EXPECT_EQ(rcode_of(messages[0]), LDNS_RCODE_NOERROR);
    std::vector<std::uint8_t> mac = request.mac;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        dns::tsig::Record record;
        ASSERT_EQ(dns::tsig::find(messages[i], record), dns::tsig::Found::found) << i;
        EXPECT_EQ(dns::tsig::verify_response(messages[i], record, lab.key(0), mac, i == 0, now()),
                  dns::tsig::Error::none)
            << i;
        mac = record.mac;
    }
}

TEST(Serve, BadSignaturesGetNotAuthWithTheRfcErrors) {
    Lab lab;
    const Bytes query = make_query("demo.test.", LDNS_RR_TYPE_SOA);
    dns::tsig::Key unknown = lab.key(0);
    unknown.name = std::string("\x07unknown\x04test\x00", 14);
    dns::tsig::Key wrong_secret = lab.key(0);
    wrong_secret.secret[0] ^= 1;

    struct Case {
        Bytes query;
        dns::tsig::Error error;
        bool signed_response;
    };
    const Case cases[] = {
        {signed_query(query, unknown), dns::tsig::Error::badkey, false},
        {signed_query(query, wrong_secret), dns::tsig::Error::badsig, false},
        {signed_query(query, lab.key(0), now() - 3600), dns::tsig::Error::badtime, true},
    };
    for (const Case& c : cases) {
        const std::vector<Bytes> messages = lab.ask(c.query, util::Transport::udp);
        ASSERT_EQ(messages.size(), 1u);
        EXPECT_EQ(rcode_of(messages[0]), LDNS_RCODE_NOTAUTH);
        dns::tsig::Record record;
        ASSERT_EQ(dns::tsig::find(messages[0], record), dns::tsig::Found::found);
        EXPECT_EQ(record.error, c.error);
        EXPECT_EQ(record.mac.empty(), !c.signed_response);
        if (c.error == dns::tsig::Error::badtime) {
            // Over the request's time, with the server's in the other data.
            dns::tsig::Record request;
            ASSERT_EQ(dns::tsig::find(c.query, request), dns::tsig::Found::found);
            EXPECT_EQ(record.time_signed, request.time_signed);
            ASSERT_EQ(record.other.size(), 6u);
            std::uint64_t server = 0;
            for (std::uint8_t b : record.other)
                server = server << 8 | b;
            EXPECT_NEAR(static_cast<double>(server), static_cast<double>(now()), 5);
            EXPECT_EQ(dns::tsig::verify_response(messages[0], record, lab.key(0), request.mac, true,
                                                 request.time_signed),
                      dns::tsig::Error::badtime);
        }
    }
    EXPECT_EQ(lab.responder.tally().tsig_errors.get(), 3u);
}

TEST(Serve, ATsigThatIsNotLastIsAFormatError) {
    Lab lab;
    Bytes query = signed_query(make_query("demo.test.", LDNS_RR_TYPE_SOA), lab.key(0));
    // Append an empty-owner A record after the TSIG.
    const Bytes a = {0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
    query.insert(query.end(), a.begin(), a.end());
    query[11] = static_cast<std::uint8_t>(query[11] + 1);  // ARCOUNT
    const std::vector<Bytes> messages = lab.ask(query, util::Transport::udp);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(rcode_of(messages[0]), LDNS_RCODE_FORMERR);
}

TEST(Serve, OtherSignedQueriesGetSignedAnswersWithinTheUdpLimit) {
    Lab lab;
    const Bytes query = signed_query(make_query("www.demo.test.", LDNS_RR_TYPE_A), lab.key(0));
    dns::tsig::Record request;
    ASSERT_EQ(dns::tsig::find(query, request), dns::tsig::Found::found);
    const std::vector<Bytes> messages = lab.ask(query, util::Transport::udp);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_LE(messages[0].size(), 512u);
    EXPECT_EQ(answers(messages).size(), 2u);
    dns::tsig::Record record;
    ASSERT_EQ(dns::tsig::find(messages[0], record), dns::tsig::Found::found);
    EXPECT_EQ(dns::tsig::verify_response(messages[0], record, lab.key(0), request.mac, true, now()),
              dns::tsig::Error::none);
}

TEST(Serve, IxfrFromTheJournal) {
    Lab lab;
    lab.publish({{true, true, false, false}, {true, true, true, true}}, 11);   // geneva leaves
    lab.publish({{true, true, false, false}, {true, true, false, true}}, 12);  // so does api's n2
    const std::vector<std::string> rrs = answers(lab.ask(ixfr_query(10)));
    // 12, then 10 / what left / 11 / what came, 11 / what left / 12 / what came, then 12.
    ASSERT_GE(rrs.size(), 6u);
    EXPECT_TRUE(is_soa(rrs.front(), 12));
    EXPECT_TRUE(is_soa(rrs[1], 10));
    EXPECT_TRUE(is_soa(rrs.back(), 12));
    std::size_t soas = 0;
    for (const std::string& rr : rrs)
        soas += rr.find("\tSOA\t") != std::string::npos;
    EXPECT_EQ(soas, 6u);
    EXPECT_EQ(rrs.size(), 6u + 3u);  // and the three addresses that left
    EXPECT_EQ(lab.responder.tally().ixfr.get(), 1u);
}

TEST(Serve, NotesWhatEachSecondaryHolds) {
    Lab lab;
    lab.ask(make_query("demo.test.", LDNS_RR_TYPE_AXFR), util::Transport::tcp, "127.0.0.7");
    lab.publish({{true, true, false, false}, {true, true, true, true}}, 11);
    lab.ask(ixfr_query(10), util::Transport::tcp, "127.0.0.8");
    lab.ask(make_query("demo.test.", LDNS_RR_TYPE_AXFR), util::Transport::tcp, "10.9.9.9");
    const std::vector<transfer::SecondaryRecord> seen = lab.seen.list();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].address, "10.9.9.9");
    EXPECT_EQ(seen[0].last, "refused");
    EXPECT_EQ(seen[1].address, "127.0.0.7");
    EXPECT_EQ(seen[1].last, "axfr");
    EXPECT_EQ(seen[1].sent, 10u);
    EXPECT_EQ(seen[2].last, "ixfr");
    EXPECT_EQ(seen[2].held, 10u);
    EXPECT_EQ(seen[2].sent, 11u);
    EXPECT_EQ(seen[2].zone, "demo.test.");
}

TEST(Serve, IxfrUpToDateOverUdpOrUnreachableByTheJournal) {
    Lab lab;
    lab.publish({{true, true, false, false}, {true, true, true, true}}, 11);
    // Up to date: the SOA alone.
    std::vector<std::string> rrs = answers(lab.ask(ixfr_query(11)));
    ASSERT_EQ(rrs.size(), 1u);
    EXPECT_TRUE(is_soa(rrs[0], 11));
    // Over UDP: the SOA alone, whatever the secondary holds.
    rrs = answers(lab.ask(ixfr_query(10), util::Transport::udp));
    ASSERT_EQ(rrs.size(), 1u);
    EXPECT_TRUE(is_soa(rrs[0], 11));
    // A serial the journal never held: the whole zone, AXFR-style.
    rrs = answers(lab.ask(ixfr_query(3)));
    ASSERT_GE(rrs.size(), 3u);
    EXPECT_TRUE(is_soa(rrs.front(), 11));
    EXPECT_TRUE(is_soa(rrs.back(), 11));
    EXPECT_FALSE(is_soa(rrs[1], 3));
    EXPECT_EQ(lab.responder.tally().axfr.get(), 1u);
    // Without the secondary's SOA: FORMERR.
    const std::vector<Bytes> bare = lab.ask(make_query("demo.test.", LDNS_RR_TYPE_IXFR));
    ASSERT_EQ(bare.size(), 1u);
    EXPECT_EQ(rcode_of(bare[0]), LDNS_RCODE_FORMERR);
}

TEST(Serve, IxfrSerialIsReadFromTheAuthoritySection) {
    EXPECT_EQ(transfer::ixfr_serial(ixfr_query(4242)), 4242u);
    EXPECT_EQ(transfer::ixfr_serial(make_query("demo.test.", LDNS_RR_TYPE_IXFR)), std::nullopt);
    Bytes cut = ixfr_query(1);
    cut.erase(cut.end() - 3, cut.end());
    EXPECT_EQ(transfer::ixfr_serial(cut), std::nullopt);
}

}  // namespace
}  // namespace nolb::test
