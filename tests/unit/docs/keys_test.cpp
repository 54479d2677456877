// The schema's keys as the reference groups and words them: each table under its TOML header,
// parents first, each key in the table it is written in, and the facts in one line.
#include "nolb-docs/keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "config/schema.hpp"

namespace nolb::docs {
namespace {

config::KeyDoc key(std::string path, std::string table, std::string type) {
    config::KeyDoc k;
    k.path = std::move(path);
    k.table = std::move(table);
    k.key = k.path.substr(k.table.empty() ? 0 : k.table.size() + 1);
    k.type = std::move(type);
    return k;
}

TEST(DocsKeys, HeadersAreWrittenAsInAFile) {
    EXPECT_EQ(toml_header("server"), "[server]");
    EXPECT_EQ(toml_header("zone[]"), "[[zone]]");
    EXPECT_EQ(toml_header("zone[].soa"), "[zone.soa]");
    EXPECT_EQ(toml_header("service[].node[]"), "[[service.node]]");
    EXPECT_EQ(toml_header("service[].node[].health"), "[service.node.health]");
}

TEST(DocsKeys, FactsSayTypeRangeAndDefaultOrRequired) {
    config::KeyDoc port = key("port", "", "integer");
    port.range = "1..65535";
    port.fallback = "80";
    EXPECT_EQ(facts(port), "integer, 1..65535; default: 80");
    port.required = true;
    EXPECT_EQ(facts(port), "integer, 1..65535; required");

    config::KeyDoc identity = key("identity", "", "string");
    identity.fallback = R"("")";
    identity.default_note = "the host name";
    EXPECT_EQ(facts(identity), R"(string; default: "" (the host name))");
    identity.fallback.clear();
    EXPECT_EQ(facts(identity), "string; default: the host name");
    identity.default_note.clear();
    EXPECT_EQ(facts(identity), "string; optional");

    config::KeyDoc server = key("server", "", "table");
    server.fallback = "{}";  // present, with its keys' own defaults: nothing to say
    EXPECT_EQ(facts(server), "table; optional");
}

TEST(DocsKeys, PresenceOfATable) {
    config::KeyDoc zones = key("zone[]", "", "array of tables");
    zones.required = true;
    zones.range = "at least 1";
    EXPECT_EQ(presence(zones), "Required, at least 1.");
    EXPECT_EQ(presence(key("service[]", "", "array of tables")), "Optional, any number.");
    EXPECT_EQ(presence(key("server", "", "table")), "Optional.");
}

TEST(DocsKeys, TablesGroupTheSchemasKeysUnderTheirHeaders) {
    const auto keys = config::describe_schema();
    const auto grouped = tables(keys);
    ASSERT_FALSE(grouped.empty());
    EXPECT_EQ(grouped.front().key, nullptr);  // the document, which holds tables only
    EXPECT_TRUE(grouped.front().keys.empty());
    std::vector<std::string> headers;
    std::size_t listed = 0;
    for (const Table& table : grouped) {
        if (table.key) headers.push_back(table.header);
        for (const config::KeyDoc* k : table.keys) {
            EXPECT_EQ(k->table, table.key ? table.key->path : "") << k->path;
            ++listed;
        }
    }
    EXPECT_EQ(headers, (std::vector<std::string>{"[server]", "[[key]]", "[[zone]]", "[[zone.ns]]",
                                                 "[zone.soa]", "[zone.transfer]", "[[service]]",
                                                 "[service.health]", "[[service.node]]",
                                                 "[control]", "[rrl]", "[metrics]"}));
    // Every key is a table or listed in one; health, a string or a table, is both.
    EXPECT_EQ(listed + headers.size(), keys.size() + 1);
    const Table& service = *std::find_if(grouped.begin(), grouped.end(),
                                         [](const Table& t) { return t.header == "[[service]]"; });
    std::vector<std::string> names;
    for (const config::KeyDoc* k : service.keys)
        names.push_back(k->key);
    EXPECT_EQ(names, (std::vector<std::string>{"name", "ttl", "health", "all_down", "startup"}));
}

}  // namespace
}  // namespace nolb::docs
