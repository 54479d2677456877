// The machinery under the schema, on a small table of its own: walk() checks a table against
// its rows (unknown keys with a near miss suggested, types, ranges, required keys, defaults
// applied as if written) and Context collects every problem as "file:line:column: path:
// message", sorted in file order, the ones without a position last.
#include "config/walk.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace nolb::config {
namespace {

struct Sample {
    bool flag = false;
    std::int64_t count = 0;
    double seconds = 0;
    double ratio = 0;
    std::string name;
    std::vector<std::string> names;
    std::size_t things = 0;
    std::string serial;
    std::string shape;  // "string" or "table"
    std::size_t tables = 0;
    bool finished = false;
    std::vector<std::string> stored;  // keys, in the order their rows stored them
};

// The rows of each [[row]]: only described, never walked, by the tests below.
struct Leaf {
    std::string id;
};
constexpr Item<Leaf> kLeafItems[] = {
    {.key = "id",
     .type = Type::string,
     .required = true,
     .min = 1,
     .max = 8,
     .meaning = "A row's name.",
     .store = [](Leaf& l, const Value& v, Context&) { l.id = v.string; }},
};
constexpr Table<Leaf> kLeaf{kLeafItems};

constexpr Item<Sample> kItems[] = {
    {.key = "flag",
     .type = Type::boolean,
     .fallback = "true",
     .store =
         [](Sample& s, const Value& v, Context&) {
             s.flag = v.boolean;
             s.stored.push_back("flag");
         }},
    {.key = "count",
     .type = Type::integer,
     .required = true,
     .min = 1,
     .max = 10,
     .store =
         [](Sample& s, const Value& v, Context&) {
             s.count = v.integer;
             s.stored.push_back("count");
         }},
    {.key = "seconds",
     .type = Type::seconds,
     .min = 0.5,
     .max = 60,
     .fallback = "2.5",
     .default_note = "two and a half",
     .meaning = "A duration.",
     .store =
         [](Sample& s, const Value& v, Context&) {
             s.seconds = v.number();
             s.stored.push_back("seconds");
         }},
    {.key = "ratio",
     .type = Type::number,
     .max = 1,
     .store =
         [](Sample& s, const Value& v, Context&) {
             s.ratio = v.number();
             s.stored.push_back("ratio");
         }},
    {.key = "name",
     .type = Type::string,
     .min = 1,
     .max = 5,
     .store =
         [](Sample& s, const Value& v, Context&) {
             s.name = v.string;
             s.stored.push_back("name");
         }},
    {.key = "names",
     .type = Type::strings,
     .min = 1,
     .store =
         [](Sample& s, const Value& v, Context&) {
             for (const Value& e : v.items)
                 s.names.push_back(e.string);
             s.stored.push_back("names");
         }},
    {.key = "things",
     .type = Type::array,
     .min = 1,
     .store =
         [](Sample& s, const Value& v, Context&) {
             s.things = v.items.size();
             s.stored.push_back("things");
         }},
    {.key = "serial",
     .type = Type::integer_or_auto,
     .max = 100,
     .store =
         [](Sample& s, const Value& v, Context&) {
             s.serial = v.kind == Value::Kind::string ? v.string : std::to_string(v.integer);
             s.stored.push_back("serial");
         }},
    {.key = "shape",
     .type = Type::string_or_table,
     .min = 1,
     .max = 10,
     .store =
         [](Sample& s, const Value& v, Context&) {
             s.shape = v.kind == Value::Kind::table ? "table" : "string";
             s.stored.push_back("shape");
         }},
    {.key = "sub",
     .type = Type::table,
     .store = [](Sample& s, const Value&, Context&) { s.stored.push_back("sub"); }},
    {.key = "row",
     .type = Type::tables,
     .required = true,
     .min = 1,
     .meaning = "Rows.",
     .nested = describe_rows<kLeaf>,
     .store =
         [](Sample& s, const Value& v, Context&) {
             s.tables = v.items.size();
             s.stored.push_back("row");
         }},
};
constexpr Table<Sample> kTable{kItems,
                               [](Sample& s, const Value&, Context&) { s.finished = true; }};

struct Walked {
    Sample sample;
    std::vector<std::string> problems;
};

Walked walk_text(std::string_view text) {
    Value doc = parse_document(text, "w.toml");
    Context ctx("w.toml", ".");
    Walked w;
    walk(kTable, doc, w.sample, ctx);
    w.problems = ctx.take_problems();
    return w;
}

// The only problem of `text`.
std::string problem(std::string_view text) {
    auto all = walk_text(text).problems;
    if (all.size() != 1) {
        std::string joined;
        for (const auto& p : all)
            joined += "\n  " + p;
        ADD_FAILURE() << "expected one problem, got " << all.size() << ":" << joined;
        return all.empty() ? "" : all.front();
    }
    return all.front();
}

TEST(Walk, GoodTableIsStoredInRowOrderAndFinished) {
    Walked w = walk_text(R"(row = [{}, {}]
shape = {}
serial = "auto"
things = [1, "two"]
names = ["a", "b"]
name = "abc"
ratio = 0.25
seconds = 3
count = 10
flag = false
)");
    EXPECT_EQ(w.problems, std::vector<std::string>{});
    const Sample& s = w.sample;
    EXPECT_FALSE(s.flag);
    EXPECT_EQ(s.count, 10);
    EXPECT_EQ(s.seconds, 3.0);
    EXPECT_EQ(s.ratio, 0.25);
    EXPECT_EQ(s.name, "abc");
    EXPECT_EQ(s.names, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(s.things, 2u);
    EXPECT_EQ(s.serial, "auto");
    EXPECT_EQ(s.shape, "table");
    EXPECT_EQ(s.tables, 2u);
    EXPECT_TRUE(s.finished);
    // The rows' order, not the file's: later rows may rely on earlier ones.
    EXPECT_EQ(s.stored, (std::vector<std::string>{"flag", "count", "seconds", "ratio", "name",
                                                  "names", "things", "serial", "shape", "row"}));
}

// describe() is what the reference is written from: a KeyDoc per row in walking order, with
// its full path ("[]" after an array of tables), the type and range in words, and a nested
// table's rows right after the row that holds it.
TEST(Walk, DescribeListsEveryRowWithItsPathAndFacts) {
    std::vector<KeyDoc> docs;
    describe(kTable, "", docs);
    std::vector<std::string> paths;
    for (const KeyDoc& doc : docs)
        paths.push_back(doc.path);
    EXPECT_EQ(paths,
              (std::vector<std::string>{"flag", "count", "seconds", "ratio", "name", "names",
                                        "things", "serial", "shape", "sub", "row[]", "row[].id"}));
    auto at = [&](std::string_view path) {
        return *std::find_if(docs.begin(), docs.end(),
                             [&](const KeyDoc& d) { return d.path == path; });
    };
    EXPECT_EQ(at("flag").type, "boolean");
    EXPECT_EQ(at("flag").fallback, "true");
    EXPECT_EQ(at("flag").range, "");
    EXPECT_TRUE(at("count").required);
    EXPECT_EQ(at("count").range, "1..10");
    EXPECT_EQ(at("seconds").type, "seconds");
    EXPECT_EQ(at("seconds").range, "0.5..60");
    EXPECT_EQ(at("seconds").default_note, "two and a half");
    EXPECT_EQ(at("seconds").meaning, "A duration.");
    EXPECT_EQ(at("ratio").range, "0..1");
    EXPECT_EQ(at("name").range, "1..5 octets");
    EXPECT_EQ(at("names").type, "array of strings");
    EXPECT_EQ(at("names").range, "at least 1");
    EXPECT_EQ(at("serial").type, "integer or \"auto\"");
    EXPECT_EQ(at("shape").range, "");
    EXPECT_EQ(at("row[]").type, "array of tables");
    EXPECT_EQ(at("row[]").table, "");
    const KeyDoc id = at("row[].id");
    EXPECT_EQ(id.table, "row[]");
    EXPECT_EQ(id.key, "id");
    EXPECT_EQ(id.range, "1..8 octets");
    EXPECT_EQ(id.meaning, "A row's name.");
    docs.clear();
    describe(kTable, "outer", docs);
    EXPECT_EQ(docs.back().path, "outer.row[].id");
}

TEST(Walk, DefaultsAreStoredAsIfWrittenAndAbsentKeysWithoutOneAreNot) {
    Walked w = walk_text("count = 1\nrow = [{}]\n");
    EXPECT_EQ(w.problems, std::vector<std::string>{});
    EXPECT_TRUE(w.sample.flag);
    EXPECT_EQ(w.sample.seconds, 2.5);
    EXPECT_EQ(w.sample.stored, (std::vector<std::string>{"flag", "count", "seconds", "row"}));
}

TEST(Walk, WrongTypesNameWhatWasExpected) {
    const std::string tail = "count = 1\nrow = [{}]\n";
    EXPECT_EQ(problem("flag = 1\n" + tail),
              "w.toml:1:8: flag: expected a boolean, found an integer");
    EXPECT_EQ(problem("count = 1.0\nrow = [{}]\n"),
              "w.toml:1:9: count: expected an integer, found a float");
    EXPECT_EQ(problem("seconds = \"2\"\n" + tail),
              "w.toml:1:11: seconds: expected a number of seconds, found a string");
    EXPECT_EQ(problem("ratio = true\n" + tail),
              "w.toml:1:9: ratio: expected a number, found a boolean");
    EXPECT_EQ(problem("name = 5\n" + tail),
              "w.toml:1:8: name: expected a string, found an integer");
    EXPECT_EQ(problem("names = \"a\"\n" + tail),
              "w.toml:1:9: names: expected an array of strings, found a string");
    EXPECT_EQ(problem("things = {}\n" + tail),
              "w.toml:1:10: things: expected an array, found a table");
    EXPECT_EQ(problem("serial = 1.5\n" + tail),
              "w.toml:1:10: serial: expected an integer or \"auto\", found a float");
    EXPECT_EQ(problem("shape = 1\n" + tail),
              "w.toml:1:9: shape: expected a string or a table ([shape]), found an integer");
    EXPECT_EQ(problem("sub = []\n" + tail),
              "w.toml:1:7: sub: expected a table ([sub]), found an array");
    EXPECT_EQ(problem("count = 1\nrow = {}\n"),
              "w.toml:2:7: row: expected an array of tables ([[row]]), found a table");
    EXPECT_EQ(problem("count = 1\nrow = 1979-05-27\n"),
              "w.toml:2:7: row: expected an array of tables ([[row]]), found a date");
}

TEST(Walk, ElementsOfTheWrongTypeAreEachReported) {
    auto all = walk_text("count = 1\nrow = [{}, 2]\nnames = [\"a\", 1, true]\n").problems;
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0], "w.toml:2:12: row[1]: expected a table, found an integer");
    EXPECT_EQ(all[1], "w.toml:3:15: names[1]: expected a string, found an integer");
    EXPECT_EQ(all[2], "w.toml:3:18: names[2]: expected a string, found a boolean");
}

TEST(Walk, RangesAreInclusiveAndReportedWithTheirBounds) {
    const std::string tail = "row = [{}]\n";
    EXPECT_EQ(walk_text("count = 1\n" + tail).problems.size(), 0u);
    EXPECT_EQ(walk_text("count = 10\n" + tail).problems.size(), 0u);
    EXPECT_EQ(problem("count = 0\n" + tail), "w.toml:1:9: count: 0 is out of range (1..10)");
    EXPECT_EQ(problem("count = 11\n" + tail), "w.toml:1:9: count: 11 is out of range (1..10)");
    EXPECT_EQ(problem("count = -9223372036854775808\n" + tail),
              "w.toml:1:9: count: -9223372036854775808 is out of range (1..10)");
    EXPECT_EQ(problem("count = 1\nseconds = 0.25\n" + tail),
              "w.toml:2:11: seconds: 0.25 is out of range (0.5..60)");
    EXPECT_EQ(problem("count = 1\nseconds = 61\n" + tail),
              "w.toml:2:11: seconds: 61 is out of range (0.5..60)");
    EXPECT_EQ(problem("count = 1\nratio = -0.5\n" + tail),
              "w.toml:2:9: ratio: -0.5 is out of range (0..1)");
    EXPECT_EQ(problem("count = 1\nratio = nan\n" + tail),
              "w.toml:2:9: ratio: nan is out of range (0..1)");
    EXPECT_EQ(problem("count = 1\nratio = inf\n" + tail),
              "w.toml:2:9: ratio: inf is out of range (0..1)");
    EXPECT_EQ(problem("count = 1\nserial = 101\n" + tail),
              "w.toml:2:10: serial: 101 is out of range (0..100)");
}

TEST(Walk, StringLengthsAndEmptyArrays) {
    const std::string tail = "count = 1\nrow = [{}]\n";
    EXPECT_EQ(problem("name = \"\"\n" + tail), "w.toml:1:8: name: must not be empty");
    EXPECT_EQ(problem("name = \"123456\"\n" + tail), "w.toml:1:8: name: longer than 5 octets");
    // Octets, not characters.
    EXPECT_EQ(problem("name = \"ééé\"\n" + tail), "w.toml:1:8: name: longer than 5 octets");
    EXPECT_EQ(problem("names = []\n" + tail), "w.toml:1:9: names: must not be empty");
    EXPECT_EQ(problem("things = []\n" + tail), "w.toml:1:10: things: must not be empty");
    EXPECT_EQ(problem("shape = \"\"\n" + tail), "w.toml:1:9: shape: must not be empty");
    EXPECT_EQ(problem("count = 1\nrow = []\n"),
              "w.toml:2:7: row: at least one [[row]] is required");
    EXPECT_EQ(problem("serial = \"later\"\n" + tail),
              "w.toml:1:10: serial: \"later\" is neither \"auto\" nor an integer");
}

TEST(Walk, MissingRequiredKeysAreReportedAtTheTable) {
    auto all = walk_text("[sub]\n").problems;
    ASSERT_EQ(all.size(), 2u);
    // At the table that lacks them (here the document, at 1:1), in row order.
    EXPECT_EQ(all[0], "w.toml:1:1: count: required key is missing");
    EXPECT_EQ(all[1], "w.toml:1:1: row: at least one [[row]] is required");
}

TEST(Walk, UnknownKeysSuggestANearMissOrListTheKeys) {
    const std::string tail = "count = 1\nrow = [{}]\n";
    EXPECT_EQ(problem("cuont = 1\n" + tail),
              R"(w.toml:1:1: cuont: unknown key (did you mean "count"?))");
    EXPECT_EQ(problem("flags = 1\n" + tail),
              R"(w.toml:1:1: flags: unknown key (did you mean "flag"?))");
    EXPECT_EQ(problem("colour = 1\n" + tail),
              "w.toml:1:1: colour: unknown key (expected one of: flag count seconds ratio name "
              "names things serial shape sub row)");
    // A key too short to be a near miss of anything gets the list.
    EXPECT_EQ(problem("x = 1\n" + tail),
              "w.toml:1:1: x: unknown key (expected one of: flag count seconds ratio name "
              "names things serial shape sub row)");
    // A table is a key too, reported where its name is written.
    EXPECT_EQ(problem(tail + "[sbu]\na = 1\n"),
              R"(w.toml:3:2: sbu: unknown key (did you mean "sub"?))");
}

TEST(Walk, EveryProblemIsReportedInFileOrder) {
    auto all = walk_text("flag = 1\nname = \"\"\n\nunknown = 2\ncount = 0\n").problems;
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[0], "w.toml:1:1: row: at least one [[row]] is required");
    EXPECT_EQ(all[1], "w.toml:1:8: flag: expected a boolean, found an integer");
    EXPECT_EQ(all[2], "w.toml:2:8: name: must not be empty");
    EXPECT_EQ(all[3].rfind("w.toml:4:1: unknown: unknown key", 0), 0u) << all[3];
    EXPECT_EQ(all[4], "w.toml:5:9: count: 0 is out of range (1..10)");
}

TEST(Context, ProblemsWithoutAPositionComeLastAndTakingEmptiesTheList) {
    Context ctx("c.toml", ".");
    ctx.error(Position{}, "", "about the whole file");
    ctx.error(Position{9, 2}, "b", "later");
    ctx.error(Position{3, 7}, "a", "earlier");
    ctx.error(Position{3, 1}, "a0", "same line, before");
    EXPECT_EQ(
        ctx.take_problems(),
        (std::vector<std::string>{"c.toml:3:1: a0: same line, before", "c.toml:3:7: a: earlier",
                                  "c.toml:9:2: b: later", "c.toml: about the whole file"}));
    EXPECT_TRUE(ctx.take_problems().empty());
}

TEST(Context, UniqueNamesTheLineOfTheFirst) {
    Value doc = parse_document("a = \"x\"\nb = \"x\"\nc = \"x\"\n", "c.toml");
    Context ctx("c.toml", ".");
    EXPECT_TRUE(ctx.unique("scope", "x", *doc.member("a"), "x is already listed"));
    EXPECT_FALSE(ctx.unique("scope", "x", *doc.member("b"), "x is already listed"));
    // Another scope, another key: no clash.
    EXPECT_TRUE(ctx.unique("other", "x", *doc.member("c"), "x is already listed"));
    EXPECT_TRUE(ctx.unique("scope", "y", *doc.member("c"), "y is already listed"));
    // A first sighting without a position (a default) is not given a line.
    Value fallback = parse_literal("\"z\"", "d");
    EXPECT_TRUE(ctx.unique("scope", "z", fallback, "z"));
    EXPECT_FALSE(ctx.unique("scope", "z", *doc.member("c"), "z is already listed"));
    EXPECT_EQ(ctx.take_problems(),
              (std::vector<std::string>{"c.toml:2:5: b: x is already listed on line 1",
                                        "c.toml:3:5: c: z is already listed"}));
}

TEST(Context, KnowsItsFileAndFolder) {
    Context ctx("conf/nolb.toml", "conf");
    EXPECT_EQ(ctx.file(), "conf/nolb.toml");
    EXPECT_EQ(ctx.folder(), std::filesystem::path("conf"));
    EXPECT_EQ(ctx.source(Position{4, 2}).to_string(), "conf/nolb.toml:4:2");
    EXPECT_EQ(ctx.source(Position{}).to_string(), "conf/nolb.toml");
}

TEST(InQuotes, EscapesWhatWouldMakeAMessageAmbiguous) {
    EXPECT_EQ(in_quotes("plain"), "\"plain\"");
    EXPECT_EQ(in_quotes(""), "\"\"");
    EXPECT_EQ(in_quotes("say \"hi\""), R"("say \"hi\"")");
    EXPECT_EQ(in_quotes(R"(a\b)"), R"("a\\b")");
    EXPECT_EQ(in_quotes("a\r\nb\tc\x7f"), R"("a\x0d\x0ab\x09c\x7f")");
    EXPECT_EQ(in_quotes(std::string_view("nul\0", 4)), R"("nul\x00")");
    EXPECT_EQ(in_quotes("é"), "\"é\"");  // UTF-8 passes as it is
}

}  // namespace
}  // namespace nolb::config
