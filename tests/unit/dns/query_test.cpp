// Query parsing on hand-made bytes: the well-formed shapes and every malformation the answering
// path must survive (FORMERR or drop, never a read out of bounds).
#include "dns/query.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "answer/respond.hpp"
#include "unit/support.hpp"

namespace nolb::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes header(std::uint16_t flags, std::uint16_t qd, std::uint16_t an = 0, std::uint16_t ns = 0,
             std::uint16_t ar = 0) {
    return {0xab,
            0xcd,
            std::uint8_t(flags >> 8),
            std::uint8_t(flags),
            std::uint8_t(qd >> 8),
            std::uint8_t(qd),
            std::uint8_t(an >> 8),
            std::uint8_t(an),
            std::uint8_t(ns >> 8),
            std::uint8_t(ns),
            std::uint8_t(ar >> 8),
            std::uint8_t(ar)};
}

void append(Bytes& b, std::initializer_list<std::uint8_t> more) {
    b.insert(b.end(), more);
}

Bytes www_demo_test() {
    return {3, 'W', 'w', 'w', 4, 'd', 'e', 'm', 'o', 4, 't', 'e', 's', 't', 0};
}

Bytes query(std::uint16_t flags = 0) {
    Bytes b = header(flags, 1);
    Bytes n = www_demo_test();
    b.insert(b.end(), n.begin(), n.end());
    append(b, {0, 1, 0, 1});
    return b;
}

Query parse(const Bytes& b) {
    Query q;
    parse_query(b, q);
    return q;
}

TEST(ParseQuery, WellFormedQuestion) {
    const Bytes packet = query();  // the Query points into it
    Query q = parse(packet);
    ASSERT_EQ(q.status, ParseStatus::ok);
    EXPECT_EQ(q.id, 0xabcd);
    EXPECT_EQ(q.qtype, 1);
    EXPECT_EQ(q.qclass, 1);
    EXPECT_EQ(q.label_count, 3);
    EXPECT_EQ(q.name_size, 15);
    EXPECT_EQ(q.name[1], 'w');      // lower-cased for lookup
    EXPECT_EQ(q.question[1], 'W');  // as sent, for the echo
    EXPECT_EQ(q.question_size, 19);
    EXPECT_FALSE(q.edns.present);
}

// Names are folded in eight-byte words: every byte value, at every offset in a word and in
// names of every length up to a few words, must come out as the byte-wise rule says (only
// A-Z change), and label offsets must still be found.
TEST(ParseQuery, EveryByteIsLowerCasedAsRfc4343Says) {
    for (std::size_t label = 1; label <= 40; ++label) {
        for (unsigned first = 0; first < 256; first += 7) {
            Bytes packet = header(0, 1);
            Bytes expected;
            packet.push_back(static_cast<std::uint8_t>(label));
            expected.push_back(static_cast<std::uint8_t>(label));
            for (std::size_t i = 0; i < label; ++i) {
                const auto c = static_cast<std::uint8_t>(first + i * 13);
                packet.push_back(c);
                expected.push_back(c >= 'A' && c <= 'Z' ? static_cast<std::uint8_t>(c + 32) : c);
            }
            append(packet, {1, 'X', 0, 0, 1, 0, 1});
            append(expected, {1, 'x', 0});
            Query q = parse(packet);
            ASSERT_EQ(q.status, ParseStatus::ok) << label << " " << first;
            ASSERT_EQ(Bytes(q.name, q.name + q.name_size), expected) << label << " " << first;
            ASSERT_EQ(q.label_count, 2);
            EXPECT_EQ(q.label_offsets[1], label + 1);
        }
    }
}

TEST(ParseQuery, ShortPacketsAreDropped) {
    for (std::size_t n = 0; n < 12; ++n) {
        Bytes b = query();
        b.resize(n);
        EXPECT_EQ(parse(b).status, ParseStatus::drop) << n;
    }
}

TEST(ParseQuery, ResponsesAreDropped) {
    EXPECT_EQ(parse(query(flag::QR)).status, ParseStatus::drop);
}

TEST(ParseQuery, QuestionCountOtherThanOneIsFormerr) {
    Bytes none = header(0, 0);
    EXPECT_EQ(parse(none).status, ParseStatus::formerr);
    Bytes two = query();
    two[5] = 2;
    Bytes n = www_demo_test();
    two.insert(two.end(), n.begin(), n.end());
    append(two, {0, 1, 0, 1});
    Query q = parse(two);
    EXPECT_EQ(q.status, ParseStatus::formerr);
    EXPECT_FALSE(q.has_question);
}

TEST(ParseQuery, TruncatedQuestionIsFormerr) {
    Bytes full = query();
    for (std::size_t n = 12; n < full.size(); ++n) {
        Bytes b(full.begin(), full.begin() + static_cast<long>(n));
        EXPECT_EQ(parse(b).status, ParseStatus::formerr) << n;
    }
}

TEST(ParseQuery, LabelLongerThan63IsFormerr) {
    Bytes b = header(0, 1);
    b.push_back(64);
    b.insert(b.end(), 64, 'a');
    append(b, {0, 0, 1, 0, 1});
    EXPECT_EQ(parse(b).status, ParseStatus::formerr);
}

TEST(ParseQuery, NameLongerThan255IsFormerr) {
    Bytes b = header(0, 1);
    for (int i = 0; i < 5; ++i) {  // 5 x 51 + 1 = 256 octets
        b.push_back(50);
        b.insert(b.end(), 50, 'a');
    }
    append(b, {0, 0, 1, 0, 1});
    EXPECT_EQ(parse(b).status, ParseStatus::formerr);
    Bytes ok = header(0, 1);
    for (int i = 0; i < 5; ++i) {  // 5 x 50 + 4 + 1 = 255 octets
        ok.push_back(49);
        ok.insert(ok.end(), 49, 'a');
    }
    append(ok, {3, 'a', 'b', 'c', 0, 0, 1, 0, 1});
    EXPECT_EQ(parse(ok).status, ParseStatus::ok);
}

TEST(ParseQuery, CompressionInTheQuestionIsFormerr) {
    Bytes self_loop = header(0, 1);
    append(self_loop, {0xc0, 12, 0, 1, 0, 1});
    EXPECT_EQ(parse(self_loop).status, ParseStatus::formerr);
    Bytes forward = header(0, 1);
    append(forward, {1, 'a', 0xc0, 20, 0, 1, 0, 1, 0});
    EXPECT_EQ(parse(forward).status, ParseStatus::formerr);
    Bytes reserved = header(0, 1);
    append(reserved, {0x41, 'a', 0, 0, 1, 0, 1});
    EXPECT_EQ(parse(reserved).status, ParseStatus::formerr);
}

TEST(ParseQuery, RecordCountsThatOverrunAreFormerr) {
    Bytes b = query();
    b[11] = 5;  // five additional records, none present
    EXPECT_EQ(parse(b).status, ParseStatus::formerr);
    Bytes an = query();
    an[7] = 1;
    append(an, {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 10, 0, 200, 1, 2});  // RDLENGTH past the end
    EXPECT_EQ(parse(an).status, ParseStatus::formerr);
}

TEST(ParseQuery, CompressionLoopOrForwardPointerInOtherSectionsIsFormerr) {
    Bytes loop = query();
    loop[7] = 1;
    const std::uint8_t at = static_cast<std::uint8_t>(loop.size());
    append(loop, {0xc0, at, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 1, 2, 3, 4});
    EXPECT_EQ(parse(loop).status, ParseStatus::formerr);
    Bytes forward = query();
    forward[7] = 1;
    append(forward, {0xc0, 0xff, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 1, 2, 3, 4});
    EXPECT_EQ(parse(forward).status, ParseStatus::formerr);
    Bytes backward = query();
    backward[7] = 1;
    append(backward, {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 1, 2, 3, 4});
    EXPECT_EQ(parse(backward).status, ParseStatus::ok);
}

Bytes with_opt(Bytes b, std::uint8_t version, std::initializer_list<std::uint8_t> rdata = {}) {
    b[11] = static_cast<std::uint8_t>(b[11] + 1);
    append(b, {0, 0, 41, 0x04, 0xd0, 0, version, 0x80, 0, 0, std::uint8_t(rdata.size())});
    b.insert(b.end(), rdata);
    return b;
}

TEST(ParseQuery, EdnsIsRead) {
    Query q = parse(with_opt(query(), 0));
    ASSERT_EQ(q.status, ParseStatus::ok);
    EXPECT_TRUE(q.edns.present);
    EXPECT_EQ(q.edns.udp_payload, 1232);
    EXPECT_TRUE(q.edns.dnssec_ok);
    Query v1 = parse(with_opt(query(), 1));
    EXPECT_EQ(v1.status, ParseStatus::ok);
    EXPECT_EQ(v1.edns.version, 1);
    Query cookie = parse(with_opt(query(), 0, {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(cookie.status, ParseStatus::ok);
}

TEST(ParseQuery, TwoOptRecordsOrABadOneAreFormerr) {
    EXPECT_EQ(parse(with_opt(with_opt(query(), 0), 0)).status, ParseStatus::formerr);
    EXPECT_EQ(parse(with_opt(query(), 0, {0, 10, 0, 9, 1})).status, ParseStatus::formerr);
    Bytes owned = query();  // OPT with a non-root owner
    owned[11] = 1;
    append(owned, {0xc0, 12, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0});
    EXPECT_EQ(parse(owned).status, ParseStatus::formerr);
    Bytes in_answer = query();  // OPT outside the additional section
    in_answer[7] = 1;
    append(in_answer, {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0});
    EXPECT_EQ(parse(in_answer).status, ParseStatus::formerr);
}

// Every prefix and many single-byte corruptions of real queries parse and answer without a
// fault (the sanitizer build turns any out-of-bounds access into a failure).
TEST(ParseQuery, CorruptedPacketsNeverFault) {
    test::Responder r(test::demo_config());
    Bytes base = with_opt(query(), 0, {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8});
    std::uint64_t answered = 0;
    for (std::size_t n = 0; n <= base.size(); ++n) {
        Bytes b(base.begin(), base.begin() + static_cast<long>(n));
        answered += !r.raw(b).empty();
    }
    util::Rng rng(7);
    for (int i = 0; i < 20000; ++i) {
        Bytes b = base;
        const int flips = 1 + static_cast<int>(rng.below(4));
        for (int k = 0; k < flips; ++k)
            b[rng.below(static_cast<std::uint32_t>(b.size()))] =
                static_cast<std::uint8_t>(rng.next());
        auto out = r.raw(b);
        if (!out.empty()) {
            ++answered;
            EXPECT_EQ(out[0], b[0]);
            EXPECT_EQ(out[1], b[1]);
            EXPECT_TRUE(out[2] & 0x80);
        }
    }
    EXPECT_GT(answered, 0u);
}

}  // namespace
}  // namespace nolb::dns
