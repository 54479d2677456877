// TailBuilder: response tails rendered once for a question name, with compression pointers into
// the question (kept as fixups, so a longer or shorter name can re-aim them) and into the tail,
// RDATA names compressed only for RFC 1035 types, the cut points for truncation, and the region
// a worker shuffles. Each tail is put behind a header and a question and read back with ldns.
#include "zone/render.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dns/types.hpp"
#include "unit/support.hpp"

namespace nolb::test {
namespace {

namespace type = dns::type;
using zone::Section;

dns::WireName wire(const std::string& text) {
    dns::WireName out;
    std::string error;
    EXPECT_TRUE(dns::wire_from_text(text, dns::WireName(1, '\0'), out, error)) << error;
    return out;
}

zone::RRset rrset(std::uint16_t rtype, std::vector<zone::RData> rdatas, std::uint32_t ttl = 60) {
    zone::RRset set;
    set.type = rtype;
    set.ttl = ttl;
    set.rdatas = std::move(rdatas);
    return set;
}

zone::RData raw(std::string bytes) {
    return zone::RData{{zone::Piece{false, std::move(bytes)}}};
}

zone::RData name_rdata(const std::string& name) {
    return zone::RData{{zone::Piece{true, wire(name)}}};
}

zone::RData mx(std::uint16_t preference, const std::string& exchange) {
    std::string p{static_cast<char>(preference >> 8), static_cast<char>(preference & 0xff)};
    return zone::RData{{zone::Piece{false, p}, zone::Piece{true, wire(exchange)}}};
}

zone::RData a(const char* address) {
    return zone::address_rdata(ip(address));
}

// The whole message: a header with the answer's counts, the question `qname`, and the tail.
// The fixups are applied for `qname`, whatever its length, as respond does.
std::vector<std::uint8_t> message(const zone::Snapshot& s, const zone::Answer& answer,
                                  const dns::WireName& qname, std::uint16_t qtype) {
    std::string m(12, '\0');
    m[2] = '\x84';  // QR, AA
    m[5] = 1;
    m[7] = static_cast<char>(answer.an);
    m[9] = static_cast<char>(answer.ns);
    m[11] = static_cast<char>(answer.ar);
    m += qname;
    m += static_cast<char>(qtype >> 8);
    m += static_cast<char>(qtype & 0xff);
    m += std::string("\0\1", 2);
    const std::size_t tail_at = m.size();
    auto tail = s.tail(answer);
    m.append(reinterpret_cast<const char*>(tail.data()), tail.size());
    for (std::uint16_t i = 0; i < answer.fixups; ++i) {
        const zone::Fixup& f = s.fixups[answer.fixups_at + i];
        const std::size_t target = f.kind == zone::Fixup::kQnameSuffix
                                       ? 12 + qname.size() - f.value
                                       : 12 + qname.size() + 4 + f.value;
        m[tail_at + f.at] = static_cast<char>(0xc0 | (target >> 8));
        m[tail_at + f.at + 1] = static_cast<char>(target & 0xff);
    }
    return {m.begin(), m.end()};
}

// The records of each section, as ldns prints them.
struct Sections {
    std::vector<std::string> answer, authority, additional;
};

Sections parse(const std::vector<std::uint8_t>& m) {
    ldns_pkt* raw_pkt = nullptr;
    EXPECT_EQ(ldns_wire2pkt(&raw_pkt, m.data(), m.size()), LDNS_STATUS_OK);
    Pkt pkt(raw_pkt);
    if (!pkt) return {};
    return {rr_strings(ldns_pkt_answer(pkt.get())), rr_strings(ldns_pkt_authority(pkt.get())),
            rr_strings(ldns_pkt_additional(pkt.get()))};
}

TEST(TailBuilder, AnswerOwnedByTheQuestionPointsAtIt) {
    const dns::WireName q = wire("www.demo.test.");
    zone::TailBuilder b(q);
    b.add(Section::answer, {}, rrset(type::A, {a("192.0.2.1")}, 20));
    zone::Snapshot s;
    const std::uint32_t index = b.finish(s);
    ASSERT_EQ(index, 0u);
    const zone::Answer& answer = s.answers[0];
    EXPECT_EQ(answer.an, 1);
    EXPECT_EQ(answer.ns, 0);
    EXPECT_EQ(answer.qname_size, q.size());
    // Pointer to offset 12, type, class, TTL, RDLENGTH, RDATA.
    const std::vector<std::uint8_t> expected = {0xc0, 12, 0, 1, 0,   1, 0, 0,
                                                0,    20, 0, 4, 192, 0, 2, 1};
    auto tail = s.tail(answer);
    EXPECT_EQ(std::vector<std::uint8_t>(tail.begin(), tail.end()), expected);
    EXPECT_EQ(answer.fixups, 0);  // the question's own offset never moves
    EXPECT_EQ(parse(message(s, answer, q, type::A)).answer,
              std::vector<std::string>{"www.demo.test.\t20\tIN\tA\t192.0.2.1"});
}

TEST(TailBuilder, NamesEndingLikeTheQuestionPointIntoIt) {
    const dns::WireName q = wire("www.demo.test.");
    zone::TailBuilder b(q);
    b.add(Section::authority, wire("demo.test."), rrset(type::NS, {name_rdata("ns1.demo.test.")}));
    zone::Snapshot s;
    const zone::Answer& answer = s.answers[b.finish(s)];
    auto tail = s.tail(answer);
    // The owner is the question's suffix "demo.test.": a pointer to offset 12 + 4.
    ASSERT_GE(tail.size(), 2u);
    EXPECT_EQ(tail[0], 0xc0);
    EXPECT_EQ(tail[1], 16);
    ASSERT_GE(answer.fixups, 1);
    EXPECT_EQ(s.fixups[answer.fixups_at].kind, zone::Fixup::kQnameSuffix);
    EXPECT_EQ(s.fixups[answer.fixups_at].value, wire("demo.test.").size());
    EXPECT_EQ(parse(message(s, answer, q, type::A)).authority,
              std::vector<std::string>{"demo.test.\t60\tIN\tNS\tns1.demo.test."});
}

TEST(TailBuilder, FixupsReaimPointersForALongerQuestion) {
    // A wildcard answer rendered for "*.wild.demo.test." and asked as "a.b.wild.demo.test.".
    const dns::WireName rendered = wire("wild.demo.test.");
    zone::TailBuilder b(rendered);
    b.add(Section::answer, {}, rrset(type::TXT, {raw("\x04wild")}));
    b.add(Section::authority, wire("demo.test."), rrset(type::NS, {name_rdata("ns1.demo.test.")}));
    b.add(Section::additional, wire("ns1.demo.test."), rrset(type::A, {a("192.0.2.53")}));
    zone::Snapshot s;
    const zone::Answer& answer = s.answers[b.finish(s)];
    for (const char* asked : {"wild.demo.test.", "a.b.wild.demo.test.", "x.wild.demo.test."}) {
        SCOPED_TRACE(asked);
        Sections got = parse(message(s, answer, wire(asked), type::TXT));
        EXPECT_EQ(got.answer,
                  std::vector<std::string>{std::string(asked) + "\t60\tIN\tTXT\t\"wild\""});
        EXPECT_EQ(got.authority,
                  std::vector<std::string>{"demo.test.\t60\tIN\tNS\tns1.demo.test."});
        EXPECT_EQ(got.additional,
                  std::vector<std::string>{"ns1.demo.test.\t60\tIN\tA\t192.0.2.53"});
    }
}

TEST(TailBuilder, RdataNamesAreCompressedOnlyForRfc1035Types) {
    const dns::WireName q = wire("demo.test.");
    auto size_with = [&](std::uint16_t rtype) {
        zone::TailBuilder b(q);
        zone::RData rdata = rtype == type::MX
                                ? mx(10, "mail.demo.test.")
                                : zone::RData{{zone::Piece{false, std::string(6, '\0')},
                                               zone::Piece{true, wire("mail.demo.test.")}}};
        b.add(Section::answer, {}, rrset(rtype, {rdata}));
        zone::Snapshot s;
        return s.answers[b.finish(s)].size;
    };
    // MX: "mail" and a pointer to the question's "demo.test.". SRV (RFC 2782): the whole name.
    EXPECT_EQ(size_with(type::MX), 12 + 2 + 5 + 2);
    EXPECT_EQ(size_with(type::SRV), 12 + 6 + wire("mail.demo.test.").size());
}

TEST(TailBuilder, LaterNamesPointIntoTheTail) {
    const dns::WireName q = wire("demo.test.");
    zone::TailBuilder b(q);
    b.add(Section::answer, {}, rrset(type::MX, {mx(10, "mail.example."), mx(20, "mail.example.")}));
    b.add(Section::additional, wire("mail.example."), rrset(type::A, {a("192.0.2.25")}));
    zone::Snapshot s;
    const zone::Answer& answer = s.answers[b.finish(s)];
    // The second exchange and the additional owner are pointers to the first.
    EXPECT_EQ(answer.size, (12 + 2 + wire("mail.example.").size()) + (12 + 2 + 2) + (2 + 10 + 4));
    bool into_tail = false;
    for (std::uint16_t i = 0; i < answer.fixups; ++i)
        into_tail = into_tail || s.fixups[answer.fixups_at + i].kind == zone::Fixup::kTail;
    EXPECT_TRUE(into_tail);
    Sections got = parse(message(s, answer, q, type::MX));
    EXPECT_EQ(got.answer, (std::vector<std::string>{"demo.test.\t60\tIN\tMX\t10 mail.example.",
                                                    "demo.test.\t60\tIN\tMX\t20 mail.example."}));
    EXPECT_EQ(got.additional, std::vector<std::string>{"mail.example.\t60\tIN\tA\t192.0.2.25"});
    // Asked with a longer name (a wildcard), the pointers into the tail move with it.
    Sections longer = parse(message(s, answer, wire("x.y.demo.test."), type::MX));
    EXPECT_EQ(longer.additional, std::vector<std::string>{"mail.example.\t60\tIN\tA\t192.0.2.25"});
}

TEST(TailBuilder, CompressionIgnoresCase) {
    const dns::WireName q = wire("www.demo.test.");
    zone::TailBuilder b(q);
    b.add(Section::authority, wire("DEMO.Test."), rrset(type::NS, {name_rdata("NS1.demo.TEST.")}));
    zone::Snapshot s;
    const zone::Answer& answer = s.answers[b.finish(s)];
    EXPECT_EQ(answer.size, 2 + 10 + 4 + 2);  // owner and the suffix of the target: pointers
}

TEST(TailBuilder, CutsFollowEveryRRsetAndSayWhenTheyTruncate) {
    const dns::WireName q = wire("demo.test.");
    zone::TailBuilder b(q);
    b.add(Section::answer, {}, rrset(type::MX, {mx(10, "mail.demo.test.")}));
    b.add(Section::authority, {}, rrset(type::NS, {name_rdata("ns1.demo.test.")}));
    b.add(Section::additional, wire("ns1.demo.test."), rrset(type::A, {a("192.0.2.53")}));
    b.mark_required_additional();
    b.add(Section::additional, wire("mail.demo.test."), rrset(type::A, {a("192.0.2.25")}));
    zone::Snapshot s;
    const zone::Answer& answer = s.answers[b.finish(s)];
    ASSERT_EQ(answer.cuts, 5);
    const zone::Cut* cuts = &s.cuts[answer.cuts_at];
    EXPECT_EQ(cuts[0].size, 0);
    EXPECT_TRUE(cuts[0].truncates);  // nothing of the answer
    for (int i = 1; i < 5; ++i)
        EXPECT_GT(cuts[i].size, cuts[i - 1].size) << i;
    EXPECT_EQ(cuts[4].size, answer.size);
    EXPECT_TRUE(cuts[1].truncates);   // the authority is missing
    EXPECT_TRUE(cuts[2].truncates);   // the required glue is missing
    EXPECT_FALSE(cuts[3].truncates);  // only optional additional data is left out
    EXPECT_FALSE(cuts[4].truncates);
    EXPECT_EQ(cuts[3].an, 1);
    EXPECT_EQ(cuts[3].ns, 1);
    EXPECT_EQ(cuts[3].ar, 1);
    EXPECT_EQ(cuts[4].ar, 2);
}

TEST(TailBuilder, ShuffledAddressSetIsMarked) {
    const dns::WireName q = wire("www.demo.test.");
    zone::RRset set = rrset(type::AAAA, {a("2001:db8::1"), a("2001:db8::2"), a("2001:db8::3")});
    set.shuffled = true;
    zone::TailBuilder b(q);
    b.add(Section::answer, {}, set);
    zone::Snapshot s;
    const zone::Answer& answer = s.answers[b.finish(s)];
    EXPECT_EQ(answer.shuffle_at, 0);
    EXPECT_EQ(answer.shuffle_count, 3);
    EXPECT_EQ(answer.shuffle_stride, 2 + 10 + 16);
    EXPECT_EQ(answer.shuffle_rdata, 16);

    // One address, an unshuffled set, or a set outside the answer: nothing to shuffle.
    for (int variant = 0; variant < 3; ++variant) {
        zone::RRset other = rrset(type::A, {a("192.0.2.1"), a("192.0.2.2")});
        other.shuffled = variant != 1;
        if (variant == 0) other.rdatas.pop_back();
        zone::TailBuilder ob(q);
        ob.add(variant == 2 ? Section::additional : Section::answer, {}, other);
        zone::Snapshot os;
        EXPECT_EQ(os.answers[ob.finish(os)].shuffle_count, 0) << variant;
    }
}

TEST(TailBuilder, AnRRsetTooLargeForAMessageIsLeftOut) {
    const dns::WireName q = wire("demo.test.");
    zone::TailBuilder b(q);
    b.add(Section::answer, {}, rrset(type::A, {a("192.0.2.1")}));
    std::vector<zone::RData> big;
    for (int i = 0; i < 300; ++i)
        big.push_back(raw(std::string(1, static_cast<char>(255)) +
                          std::string(255, static_cast<char>('a' + i % 26))));
    b.add(Section::additional, wire("big.demo.test."), rrset(type::TXT, big));
    zone::Snapshot s;
    const zone::Answer& answer = s.answers[b.finish(s)];
    EXPECT_EQ(answer.an, 1);
    EXPECT_EQ(answer.ar, 0);
    EXPECT_EQ(answer.size, 16);
    EXPECT_EQ(answer.cuts, 2);
    EXPECT_EQ(parse(message(s, answer, q, type::A)).answer.size(), 1u);
}

TEST(TailBuilder, RcodeAndAuthorityAreKept) {
    zone::TailBuilder b(wire("nope.demo.test."));
    b.set_rcode(3);
    b.set_authoritative(false);
    EXPECT_EQ(b.answer_count(), 0u);
    zone::Snapshot s;
    const zone::Answer& answer = s.answers[b.finish(s)];
    EXPECT_EQ(answer.rcode, 3);
    EXPECT_FALSE(answer.authoritative);
    EXPECT_EQ(answer.size, 0);
}

TEST(TailBuilder, FinishAppendsOrReplaces) {
    zone::Snapshot s;
    zone::TailBuilder first(wire("a.demo.test."));
    first.add(Section::answer, {}, rrset(type::A, {a("192.0.2.1")}));
    EXPECT_EQ(first.finish(s), 0u);
    zone::TailBuilder second(wire("b.demo.test."));
    second.add(Section::answer, {}, rrset(type::A, {a("192.0.2.2"), a("192.0.2.3")}));
    EXPECT_EQ(second.finish(s), 1u);
    ASSERT_EQ(s.answers.size(), 2u);
    EXPECT_EQ(s.answers[1].bytes_at, s.answers[0].size);
    EXPECT_EQ(s.answers[1].cuts_at, s.answers[0].cuts);

    zone::TailBuilder again(wire("a.demo.test."));
    again.add(Section::answer, {}, rrset(type::A, {a("192.0.2.9")}));
    EXPECT_EQ(again.finish(s, 0), 0u);
    EXPECT_EQ(s.answers.size(), 2u);
    EXPECT_EQ(parse(message(s, s.answers[0], wire("a.demo.test."), type::A)).answer,
              std::vector<std::string>{"a.demo.test.\t60\tIN\tA\t192.0.2.9"});
    // The other answer is untouched.
    EXPECT_EQ(parse(message(s, s.answers[1], wire("b.demo.test."), type::A)).answer.size(), 2u);
}

}  // namespace
}  // namespace nolb::test
