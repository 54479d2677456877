// Records read with ldns: one record string against an origin and a default TTL, and master
// files (RFC 1035 §5) with $ORIGIN, $TTL, relative and inherited owners, comments and records
// over several lines; each good record with the line it ends on, each bad one as
// "file:line: reason" without stopping the rest.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "dns/name.hpp"
#include "dns/types.hpp"
#include "zone/records.hpp"

namespace nolb::zone {
namespace {

namespace type = dns::type;

dns::WireName wire(const std::string& text) {
    dns::WireName out;
    std::string error;
    EXPECT_TRUE(dns::wire_from_text(text, dns::WireName(1, '\0'), out, error)) << error;
    return out;
}

std::string text(const dns::WireName& name) {
    return dns::text_from_wire(name);
}

struct TempFile {
    std::string path;
    explicit TempFile(const std::string& content) {
        char name[] = "/tmp/nolb-zone-file-XXXXXX";
        int fd = ::mkstemp(name);
        path = name;
        if (fd >= 0) {
            ssize_t w = ::write(fd, content.data(), content.size());
            (void)w;
            ::close(fd);
        }
    }
    ~TempFile() { ::unlink(path.c_str()); }
};

ParsedRecord parse(const std::string& record, const std::string& origin = "demo.test.",
                   std::uint32_t ttl = 3600) {
    ParsedRecord out;
    std::string error;
    EXPECT_TRUE(parse_record_text(record, wire(origin), ttl, out, error))
        << record << ": " << error;
    return out;
}

struct Read {
    std::vector<ParsedRecord> records;
    std::vector<std::string> problems;
};

Read read(const std::string& path, const std::string& origin = "demo.test.",
          std::uint32_t ttl = 3600) {
    Read r;
    r.records = read_zone_file(path, wire(origin), ttl, r.problems);
    return r;
}

// ------------------------------------------------------------------------- record strings

TEST(RecordText, RelativeOwnersHangFromTheOrigin) {
    EXPECT_EQ(text(parse("www A 192.0.2.1").owner), "www.demo.test.");
    EXPECT_EQ(text(parse("a.b.c A 192.0.2.1").owner), "a.b.c.demo.test.");
    EXPECT_EQ(text(parse("@ A 192.0.2.1").owner), "demo.test.");
    EXPECT_EQ(text(parse("www.example. A 192.0.2.1").owner), "www.example.");
    EXPECT_EQ(text(parse("*.wild TXT x").owner), "*.wild.demo.test.");
}

TEST(RecordText, OwnerKeepsItsCase) {
    EXPECT_EQ(parse("WWW A 192.0.2.1").owner, wire("WWW.demo.test."));
    EXPECT_NE(parse("WWW A 192.0.2.1").owner, wire("www.demo.test."));
}

TEST(RecordText, TtlClassAndTypeAsWrittenOrDefaulted) {
    ParsedRecord r = parse("www A 192.0.2.1", "demo.test.", 77);
    EXPECT_EQ(r.ttl, 77u);
    EXPECT_EQ(r.klass, 1);
    EXPECT_EQ(r.type, type::A);
    EXPECT_EQ(r.line, 0u);  // not from a file

    ParsedRecord given = parse("www 300 IN AAAA 2001:db8::1");
    EXPECT_EQ(given.ttl, 300u);
    EXPECT_EQ(given.type, type::AAAA);
    ParsedRecord chaos = parse("www 5 CH TXT x");
    EXPECT_EQ(chaos.klass, 3);
}

TEST(RecordText, AddressRdataIsItsBytes) {
    ParsedRecord a = parse("www A 192.0.2.1");
    ASSERT_EQ(a.rdata.pieces.size(), 1u);
    EXPECT_FALSE(a.rdata.pieces[0].is_name);
    EXPECT_EQ(a.rdata.pieces[0].bytes, std::string("\xc0\x00\x02\x01", 4));
    ParsedRecord aaaa = parse("www AAAA 2001:db8::1");
    ASSERT_EQ(aaaa.rdata.pieces.size(), 1u);
    EXPECT_EQ(aaaa.rdata.pieces[0].bytes.size(), 16u);
}

TEST(RecordText, NamesInRdataStandApartAndAreCompletedAgainstTheOrigin) {
    ParsedRecord mx = parse("@ MX 10 mail");
    ASSERT_EQ(mx.rdata.pieces.size(), 2u);
    EXPECT_FALSE(mx.rdata.pieces[0].is_name);
    EXPECT_EQ(mx.rdata.pieces[0].bytes, std::string("\x00\x0a", 2));
    EXPECT_TRUE(mx.rdata.pieces[1].is_name);
    EXPECT_EQ(text(mx.rdata.pieces[1].bytes), "mail.demo.test.");

    ParsedRecord cname = parse("alias CNAME www.example.");
    ASSERT_EQ(cname.rdata.pieces.size(), 1u);
    EXPECT_TRUE(cname.rdata.pieces[0].is_name);
    EXPECT_EQ(text(cname.rdata.pieces[0].bytes), "www.example.");

    // SRV: three numbers (one raw piece), then the target.
    ParsedRecord srv = parse("_http._tcp SRV 0 5 80 www");
    ASSERT_EQ(srv.rdata.pieces.size(), 2u);
    EXPECT_EQ(srv.rdata.pieces[0].bytes, std::string("\x00\x00\x00\x05\x00\x50", 6));
    EXPECT_EQ(text(srv.rdata.pieces[1].bytes), "www.demo.test.");
}

TEST(RecordText, AdjacentRawFieldsAreOnePiece) {
    // SOA: two names, then five 32-bit numbers in one piece.
    ParsedRecord soa = parse("@ SOA ns1 hostmaster 1 2 3 4 5");
    ASSERT_EQ(soa.rdata.pieces.size(), 3u);
    EXPECT_TRUE(soa.rdata.pieces[0].is_name);
    EXPECT_TRUE(soa.rdata.pieces[1].is_name);
    EXPECT_FALSE(soa.rdata.pieces[2].is_name);
    EXPECT_EQ(soa.rdata.pieces[2].bytes.size(), 20u);
    // TXT: every string in one piece, each with its length octet.
    ParsedRecord txt = parse(R"(info TXT "hello" "world")");
    ASSERT_EQ(txt.rdata.pieces.size(), 1u);
    EXPECT_EQ(txt.rdata.pieces[0].bytes, std::string("\x05hello\x05world"));
}

TEST(RecordText, GenericRdataOfUnknownTypes) {
    ParsedRecord r = parse(R"(unk TYPE65534 \# 3 abcdef)");
    EXPECT_EQ(r.type, 65534);
    ASSERT_EQ(r.rdata.pieces.size(), 1u);
    EXPECT_EQ(r.rdata.pieces[0].bytes, std::string("\xab\xcd\xef"));
}

TEST(RecordText, MistakesAreReportedNotThrown) {
    for (const char* bad : {"www A 300.1.2.3", "www A", "www BOGUS 1", "www MX mail", "",
                            "www AAAA 192.0.2.1", "www A 192.0.2.1 extra"}) {
        ParsedRecord out;
        std::string error;
        EXPECT_FALSE(parse_record_text(bad, wire("demo.test."), 60, out, error)) << bad;
        EXPECT_FALSE(error.empty()) << bad;
    }
}

// ------------------------------------------------------------------------- master files

TEST(ZoneFile, DirectivesRelativeNamesAndInheritedOwners) {
    TempFile file(
        "$ORIGIN demo.test.\n"
        "$TTL 300\n"
        "; a comment\n"
        "\n"
        "files  IN TXT \"from the file\"\n"
        "       AAAA 2001:db8::66 ; the same owner\n"
        "@      MX 20 files\n"
        "$ORIGIN sub.demo.test.\n"
        "deep   60 A 192.0.2.9\n"
        "$TTL 5\n"
        "last.demo.test. A 192.0.2.10\n");
    Read r = read(file.path, "other.test.", 3600);
    EXPECT_EQ(r.problems, std::vector<std::string>{});
    ASSERT_EQ(r.records.size(), 5u);
    EXPECT_EQ(text(r.records[0].owner), "files.demo.test.");
    EXPECT_EQ(r.records[0].type, type::TXT);
    EXPECT_EQ(r.records[0].ttl, 300u);
    EXPECT_EQ(r.records[0].line, 5u);
    EXPECT_EQ(text(r.records[1].owner), "files.demo.test.");
    EXPECT_EQ(r.records[1].type, type::AAAA);
    EXPECT_EQ(r.records[1].line, 6u);
    EXPECT_EQ(text(r.records[2].owner), "demo.test.");
    EXPECT_EQ(text(r.records[2].rdata.pieces.at(1).bytes), "files.demo.test.");
    EXPECT_EQ(r.records[2].line, 7u);
    EXPECT_EQ(text(r.records[3].owner), "deep.sub.demo.test.");
    EXPECT_EQ(r.records[3].ttl, 60u);
    EXPECT_EQ(r.records[3].line, 9u);
    EXPECT_EQ(text(r.records[4].owner), "last.demo.test.");
    EXPECT_EQ(r.records[4].ttl, 5u);
    EXPECT_EQ(r.records[4].line, 11u);
}

TEST(ZoneFile, WithoutDirectivesTheConfigsOriginAndTtlApply) {
    TempFile file("www A 192.0.2.1\n@ TXT apex\n");
    Read r = read(file.path, "demo.test.", 1234);
    EXPECT_EQ(r.problems, std::vector<std::string>{});
    ASSERT_EQ(r.records.size(), 2u);
    EXPECT_EQ(text(r.records[0].owner), "www.demo.test.");
    EXPECT_EQ(r.records[0].ttl, 1234u);
    EXPECT_EQ(text(r.records[1].owner), "demo.test.");
}

TEST(ZoneFile, ARecordOverSeveralLinesHasTheLineItEndsOn) {
    TempFile file(
        "a TXT \"one\"\n"
        "big TXT ( \"part one\"\n"
        "          \"part two\" )\n"
        "b TXT \"three\"\n");
    Read r = read(file.path);
    EXPECT_EQ(r.problems, std::vector<std::string>{});
    ASSERT_EQ(r.records.size(), 3u);
    EXPECT_EQ(r.records[0].line, 1u);
    EXPECT_EQ(text(r.records[1].owner), "big.demo.test.");
    EXPECT_EQ(r.records[1].rdata.pieces.at(0).bytes, std::string("\x08part one\x08part two"));
    EXPECT_EQ(r.records[1].line, 3u);
    EXPECT_EQ(r.records[2].line, 4u);
}

TEST(ZoneFile, SyntaxErrorNamesFileAndLineAndTheRestIsRead) {
    TempFile file(
        "$ORIGIN demo.test.\n\n; comment\nok TXT \"fine\"\nbad A 300.1.2.3\nok2 TXT \"x\"\n");
    Read r = read(file.path);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_EQ(r.problems[0].rfind(file.path + ":5: ", 0), 0u) << r.problems[0];
    EXPECT_GT(r.problems[0].size(), (file.path + ":5: ").size());  // and a reason
    ASSERT_EQ(r.records.size(), 2u);
    EXPECT_EQ(text(r.records[0].owner), "ok.demo.test.");
    EXPECT_EQ(text(r.records[1].owner), "ok2.demo.test.");
    EXPECT_EQ(r.records[1].line, 6u);
}

TEST(ZoneFile, EveryBadLineIsReported) {
    TempFile file("a A 1.2.3\nb A 192.0.2.1\nc MX x y\nd BOGUS 1\n");
    Read r = read(file.path);
    ASSERT_EQ(r.problems.size(), 3u);
    EXPECT_EQ(r.problems[0].rfind(file.path + ":1: ", 0), 0u) << r.problems[0];
    EXPECT_EQ(r.problems[1].rfind(file.path + ":3: ", 0), 0u) << r.problems[1];
    EXPECT_EQ(r.problems[2].rfind(file.path + ":4: ", 0), 0u) << r.problems[2];
    ASSERT_EQ(r.records.size(), 1u);
    EXPECT_EQ(r.records[0].line, 2u);
}

TEST(ZoneFile, IncludeIsNotFollowed) {
    TempFile other("x A 192.0.2.1\n");
    TempFile file("$INCLUDE " + other.path + "\nwww A 192.0.2.2\n");
    Read r = read(file.path);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_EQ(r.problems[0].rfind(file.path + ":1: ", 0), 0u) << r.problems[0];
    for (const ParsedRecord& rec : r.records)
        EXPECT_NE(text(rec.owner), "x.demo.test.");
}

TEST(ZoneFile, AFileOfMistakesStopsAfterFiftyOrSo) {
    std::string content;
    for (int i = 0; i < 500; ++i)
        content += "bad" + std::to_string(i) + " A 1.2.3\n";
    TempFile file(content);
    Read r = read(file.path);
    EXPECT_GT(r.problems.size(), 10u);
    EXPECT_LE(r.problems.size(), 60u);
}

TEST(ZoneFile, ProblemsAreAppendedToThoseAlreadyFound) {
    TempFile file("a A 1.2.3\n");
    Read r;
    r.problems.push_back("earlier");
    r.records = read_zone_file(file.path, wire("demo.test."), 60, r.problems);
    ASSERT_EQ(r.problems.size(), 2u);
    EXPECT_EQ(r.problems[0], "earlier");
    EXPECT_EQ(r.problems[1].rfind(file.path + ":1: ", 0), 0u);
}

TEST(ZoneFile, MissingFileIsOneProblem) {
    Read r = read("/nonexistent/demo.test.zone");
    EXPECT_TRUE(r.records.empty());
    EXPECT_EQ(r.problems,
              (std::vector<std::string>{
                  "/nonexistent/demo.test.zone: cannot open: No such file or directory"}));
}

TEST(ZoneFile, EmptyFileHasNoRecordsAndNoProblems) {
    TempFile empty("");
    Read r = read(empty.path);
    EXPECT_TRUE(r.records.empty());
    EXPECT_TRUE(r.problems.empty());
    TempFile comments("; nothing\n\n   \n$TTL 60\n");
    Read c = read(comments.path);
    EXPECT_TRUE(c.records.empty());
    EXPECT_TRUE(c.problems.empty()) << c.problems.front();
}

TEST(ZoneFile, LastRecordWithoutANewlineIsRead) {
    TempFile file("a A 192.0.2.1\nb A 192.0.2.2");
    Read r = read(file.path);
    EXPECT_EQ(r.problems, std::vector<std::string>{});
    ASSERT_EQ(r.records.size(), 2u);
    EXPECT_EQ(text(r.records[1].owner), "b.demo.test.");
    EXPECT_EQ(r.records[1].line, 2u);
}

}  // namespace
}  // namespace nolb::zone
