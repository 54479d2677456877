// The generated sections: each is there by name, carries every row of the table it is written
// from, and escapes what its format would otherwise read as markup.
#include "nolb-docs/sections.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "config/schema.hpp"
#include "control/metrics.hpp"
#include "control/protocol.hpp"
#include "nolb-docs/keys.hpp"

namespace nolb::docs {
namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(DocsSections, EveryNamedSectionRendersAndUnknownNamesAreErrors) {
    for (std::string_view name : section_names()) {
        const std::string text = section(name);
        EXPECT_TRUE(text.starts_with("\n")) << name;  // a blank line after the begin marker
        EXPECT_GT(text.size(), 100u) << name;
    }
    EXPECT_THROW(section("no-such-section"), std::invalid_argument);
}

TEST(DocsSections, TheKeyTableHasARowPerKey) {
    const std::string table = section("config-keys");
    for (const config::KeyDoc& key : config::describe_schema())
        EXPECT_TRUE(contains(table, "| `" + key.key + "` |") ||
                    contains(table, "| `" + toml_header(key.path) + "` |"))
            << key.path;
    EXPECT_TRUE(contains(table, "| `[service.health]` | Optional. |"));
    EXPECT_TRUE(contains(table,
                         "| `fast_interval` | seconds, 0.01..3600; default: a fifth of "
                         "interval |"));
    EXPECT_TRUE(contains(table, "interval \\* (1 - jitter)"));  // not emphasis
}

TEST(DocsSections, TheMetricsListHasEveryFamilyWithItsLabels) {
    const std::string list = section("metrics");
    for (const control::FamilyDoc& family : control::metric_families())
        EXPECT_TRUE(contains(list, "- `" + std::string(family.name))) << family.name;
    EXPECT_TRUE(contains(list, "- `nolb_address_up{service,node,address}` (gauge): "));
    EXPECT_TRUE(contains(list, "- `nolb_dns_dropped_total` (counter): "));
    EXPECT_TRUE(contains(list, "TCP connections, by what became of them; result: accepted, "));
}

TEST(DocsSections, TheManualPagesSectionsAreScdoc) {
    const std::string keys = section("config-keys-scdoc");
    EXPECT_TRUE(contains(keys, "## [[zone.ns]]\n\n"));
    EXPECT_TRUE(contains(keys, "*tcp\\_idle\\_timeout* (seconds, 0.1..3600; default: 10)\n\t"));
    const std::string verbs = section("nolbctl-verbs");
    for (const control::VerbInfo& verb : control::kVerbs)
        EXPECT_TRUE(contains(verbs, "*" + std::string(verb.name) + "*")) << verb.name;
    EXPECT_TRUE(contains(verbs, "*drain* _NODE_ [*--wait*]\n\t"));
    EXPECT_TRUE(contains(verbs, "\tExample: *nolbctl check*\n"));
    EXPECT_TRUE(contains(section("metrics-scdoc"), "*nolb\\_uptime\\_seconds* (gauge)\n\t"));
}

TEST(DocsSections, MarkupIsEscaped) {
    EXPECT_EQ(scdoc_text("a_b * c\\d"), "a\\_b \\* c\\\\d");
    EXPECT_EQ(markdown_text("a|b *c* <v>"), "a\\|b \\*c\\* &lt;v&gt;");
}

}  // namespace
}  // namespace nolb::docs
