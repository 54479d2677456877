// config::parse_document and parse_literal: TOML reduced to Values that carry their kind, their
// dotted path and where they were written, with table members back in the order the operator
// wrote them; syntax errors as "file:line:column: description".
#include "config/document.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace nolb::config {
namespace {

using Kind = Value::Kind;

std::vector<std::string> keys_of(const Value& table) {
    std::vector<std::string> keys;
    for (const Value& item : table.items)
        keys.push_back(item.key);
    return keys;
}

// The problems of a document that does not parse.
std::vector<std::string> syntax_problems(std::string_view text) {
    try {
        parse_document(text, "t.toml");
    } catch (const Error& e) {
        return e.problems();
    }
    ADD_FAILURE() << "parsed:\n" << text;
    return {};
}

TEST(Document, MembersKeepTheOrderTheyWereWrittenIn) {
    Value doc = parse_document("zeta = 1\nalpha = 2\n[middle]\nb = 1\na = 2\n", "t.toml");
    EXPECT_EQ(doc.kind, Kind::table);
    EXPECT_EQ(doc.path, "");
    EXPECT_EQ(keys_of(doc), (std::vector<std::string>{"zeta", "alpha", "middle"}));
    EXPECT_EQ(keys_of(*doc.member("middle")), (std::vector<std::string>{"b", "a"}));

    // Past the small-table path too (more than 16 members).
    std::string text;
    std::vector<std::string> expected;
    for (int i = 40; i > 0; --i) {
        text += "k" + std::to_string(i) + " = " + std::to_string(i) + "\n";
        expected.push_back("k" + std::to_string(i));
    }
    EXPECT_EQ(keys_of(parse_document(text, "t.toml")), expected);
}

TEST(Document, PathsNameEveryValue) {
    Value doc = parse_document(R"([[zone]]
origin = "a."
[[zone.ns]]
name = "ns1"
addresses = ["192.0.2.1", "192.0.2.2"]
[[zone]]
origin = "b."
)",
                               "t.toml");
    const Value* zones = doc.member("zone");
    ASSERT_NE(zones, nullptr);
    EXPECT_EQ(zones->kind, Kind::array);
    EXPECT_EQ(zones->path, "zone");
    ASSERT_EQ(zones->items.size(), 2u);
    const Value& first = zones->items[0];
    EXPECT_EQ(first.path, "zone[0]");
    EXPECT_EQ(first.key, "");  // an element has no key of its own
    EXPECT_EQ(first.member("origin")->path, "zone[0].origin");
    const Value& addresses = *first.member("ns")->items[0].member("addresses");
    EXPECT_EQ(addresses.path, "zone[0].ns[0].addresses");
    EXPECT_EQ(addresses.items[1].path, "zone[0].ns[0].addresses[1]");
    EXPECT_EQ(addresses.items[1].string, "192.0.2.2");
    EXPECT_EQ(zones->items[1].member("origin")->path, "zone[1].origin");
}

TEST(Document, PositionsOfValuesAndKeys) {
    Value doc =
        parse_document("\n[server]\n  workers =   4\nlisten = [\n  \"a\",\n  \"b\"]\n", "t.toml");
    const Value& server = *doc.member("server");
    EXPECT_EQ(server.at.line, 2u);
    const Value& workers = *server.member("workers");
    EXPECT_EQ(workers.at.line, 3u);
    EXPECT_EQ(workers.at.column, 15u);
    EXPECT_EQ(workers.key_at.line, 3u);
    EXPECT_EQ(workers.key_at.column, 3u);
    const Value& b = server.member("listen")->items[1];
    EXPECT_EQ(b.at.line, 6u);
    EXPECT_EQ(b.at.column, 3u);
    // An array element's key position is its own.
    EXPECT_EQ(b.key_at.line, b.at.line);
    EXPECT_EQ(b.key_at.column, b.at.column);
}

TEST(Document, EveryKindIsNamedForMessages) {
    Value doc = parse_document(R"(b = true
i = -7
f = 2.5
s = "text"
a = [1]
t = {x = 1}
d = 1979-05-27
tm = 07:32:00
dt = 1979-05-27T07:32:00Z
ldt = 1979-05-27T07:32:00
)",
                               "t.toml");
    auto kind_of = [&](const char* key) { return doc.member(key)->kind; };
    auto name_of = [&](const char* key) { return doc.member(key)->kind_name; };
    EXPECT_EQ(kind_of("b"), Kind::boolean);
    EXPECT_TRUE(doc.member("b")->boolean);
    EXPECT_EQ(name_of("b"), "a boolean");
    EXPECT_EQ(kind_of("i"), Kind::integer);
    EXPECT_EQ(doc.member("i")->integer, -7);
    EXPECT_EQ(doc.member("i")->number(), -7.0);
    EXPECT_EQ(name_of("i"), "an integer");
    EXPECT_EQ(kind_of("f"), Kind::floating);
    EXPECT_EQ(doc.member("f")->number(), 2.5);
    EXPECT_EQ(name_of("f"), "a float");
    EXPECT_EQ(kind_of("s"), Kind::string);
    EXPECT_EQ(doc.member("s")->string, "text");
    EXPECT_EQ(name_of("s"), "a string");
    EXPECT_EQ(name_of("a"), "an array");
    EXPECT_EQ(kind_of("t"), Kind::table);
    EXPECT_EQ(name_of("t"), "a table");
    EXPECT_EQ(doc.member("t")->member("x")->path, "t.x");
    for (const char* key : {"d", "tm", "dt", "ldt"})
        EXPECT_EQ(kind_of(key), Kind::other) << key;
    EXPECT_EQ(name_of("d"), "a date");
    EXPECT_EQ(name_of("tm"), "a time");
    EXPECT_EQ(name_of("dt"), "a date-time");
    EXPECT_EQ(name_of("ldt"), "a date-time");
}

TEST(Document, MemberLooksOnlyIntoTables) {
    Value doc = parse_document("a = [1]\ns = \"x\"\n", "t.toml");
    EXPECT_EQ(doc.member("missing"), nullptr);
    EXPECT_EQ(doc.member("a")->member("0"), nullptr);
    EXPECT_EQ(doc.member("s")->member(""), nullptr);
    // Element keys are "", but an array is not a table: nothing is found by "".
    EXPECT_EQ(doc.member("a")->member(""), nullptr);
}

TEST(Document, KeysThatAreNotBareAreQuotedInPaths) {
    Value doc =
        parse_document("\"two words\" = 1\n[\"a.b\"]\nc = 2\n[x]\n\"q\\\"\" = 3\n", "t.toml");
    EXPECT_EQ(doc.member("two words")->path, "\"two words\"");
    EXPECT_EQ(doc.member("a.b")->member("c")->path, "\"a.b\".c");
    EXPECT_EQ(doc.member("x")->member("q\"")->path, "x.\"q\\\"\"");
}

TEST(Document, ChildPath) {
    EXPECT_EQ(child_path("", "server"), "server");
    EXPECT_EQ(child_path("server", "listen"), "server.listen");
    EXPECT_EQ(child_path("zone[0]", "ns"), "zone[0].ns");
    EXPECT_EQ(child_path("a", "with-dash_and_0"), "a.with-dash_and_0");
    EXPECT_EQ(child_path("a", ""), "a.\"\"");
    EXPECT_EQ(child_path("a", "b.c"), "a.\"b.c\"");
    EXPECT_EQ(child_path("a", "é"), "a.\"é\"");
    EXPECT_EQ(child_path("a", R"(back\slash)"), R"(a."back\\slash")");
}

TEST(Document, SyntaxErrorReportsItsPosition) {
    auto all = syntax_problems("[server]\nworkers = 2\nlisten = [\"127.0.0.1\",\n  = 3\n");
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].rfind("t.toml:4:3: ", 0), 0u) << all[0];

    auto repeated = syntax_problems("[server]\nworkers = 2\nworkers = 3\n");
    ASSERT_EQ(repeated.size(), 1u);
    EXPECT_EQ(repeated[0].rfind("t.toml:3:", 0), 0u) << repeated[0];

    auto unterminated = syntax_problems("a = 1\nb = \"open\n");
    ASSERT_EQ(unterminated.size(), 1u);
    EXPECT_EQ(unterminated[0].rfind("t.toml:2:", 0), 0u) << unterminated[0];
    // The description follows the position.
    EXPECT_GT(unterminated[0].size(), std::string("t.toml:2:1: ").size());
}

TEST(Document, EmptyDocumentIsAnEmptyTable) {
    Value doc = parse_document("", "t.toml");
    EXPECT_EQ(doc.kind, Kind::table);
    EXPECT_TRUE(doc.items.empty());
    EXPECT_TRUE(parse_document("# only a comment\n\n", "t.toml").items.empty());
}

TEST(Document, LiteralTakesThePathItIsGivenAndNoPosition) {
    Value listen = parse_literal(R"(["0.0.0.0:53", "[::]:53"])", "server.listen");
    EXPECT_EQ(listen.kind, Kind::array);
    EXPECT_EQ(listen.path, "server.listen");
    ASSERT_EQ(listen.items.size(), 2u);
    EXPECT_EQ(listen.items[1].path, "server.listen[1]");
    EXPECT_EQ(listen.items[1].string, "[::]:53");
    EXPECT_EQ(listen.at.line, 0u);
    EXPECT_EQ(listen.items[1].at.line, 0u);
    EXPECT_EQ(listen.items[1].key_at.line, 0u);

    Value table = parse_literal("{a = 1, b = {c = true}}", "zone[3].soa");
    EXPECT_EQ(table.member("b")->member("c")->path, "zone[3].soa.b.c");
    EXPECT_TRUE(table.member("b")->member("c")->boolean);

    EXPECT_EQ(parse_literal("0.1", "x").floating, 0.1);
    EXPECT_EQ(parse_literal(R"("")", "x").string, "");
}

TEST(Document, LiteralsAreCachedButEachCopyHasItsOwnPath) {
    // The same literal under two paths: the second must not inherit the first's.
    Value a = parse_literal(R"(["200-299"])", "service[0].health.status");
    Value b = parse_literal(R"(["200-299"])", "service[1].node[2].health.status");
    EXPECT_EQ(a.items[0].path, "service[0].health.status[0]");
    EXPECT_EQ(b.items[0].path, "service[1].node[2].health.status[0]");
}

TEST(Document, BadLiteralIsABugInTheSchema) {
    EXPECT_THROW(parse_literal("[1, ", "x"), std::logic_error);
    EXPECT_THROW(parse_literal("bare words", "x"), std::logic_error);
}

}  // namespace
}  // namespace nolb::config
