// The page nolb-stats serves at /: the template's slots filled once with the server's values
// (escaped where they are text), the style and script inlined whole, no slot left behind, and
// nothing a value holds read as a slot.
#include "nolb-stats/page.hpp"

#include <gtest/gtest.h>

#include <string>

#include "page_assets.hpp"

namespace nolb::stats {
namespace {

PageValues values() {
    PageValues v;
    v.site = "london";
    v.address = "127.0.0.2:8080";
    v.chunk_mb = 16;
    v.limit_mb = 256;
    v.degrade_at_percent = 80;
    return v;
}

std::size_t occurrences(const std::string& text, std::string_view what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

TEST(Page, EverySlotIsFilled) {
    const std::string page = render_page(values());
    EXPECT_EQ(page.find("{{"), std::string::npos);
    EXPECT_EQ(page.rfind("<!doctype html>", 0), 0u) << page.substr(0, 40);
    EXPECT_NE(page.find("<title>london · nolb demo</title>"), std::string::npos);
    EXPECT_NE(page.find("data-site=\"london\" data-address=\"127.0.0.2:8080\""), std::string::npos);
    EXPECT_NE(page.find("<span id=\"site\">london</span>"), std::string::npos);
    EXPECT_NE(page.find("<code id=\"address\">127.0.0.2:8080</code>"), std::string::npos);
    EXPECT_NE(page.find("<span id=\"memory-limit\">256</span>"), std::string::npos);
    EXPECT_NE(page.find("<span id=\"hint-chunk\">16</span>"), std::string::npos);
    EXPECT_NE(page.find("style=\"left: 80%\""), std::string::npos);
    EXPECT_NE(page.find("<span id=\"hint-degrade\">80</span>"), std::string::npos);
}

TEST(Page, StyleAndScriptAreInlinedWhole) {
    const std::string page = render_page(values());
    ASSERT_FALSE(page::kStyleCss.empty());
    ASSERT_FALSE(page::kAppJs.empty());
    EXPECT_EQ(occurrences(page, page::kStyleCss), 1u);
    EXPECT_EQ(occurrences(page, page::kAppJs), 1u);
    // Inlined where the template says: the style in the head, the script after the body.
    EXPECT_LT(page.find(page::kStyleCss), page.find("<body"));
    EXPECT_GT(page.find(page::kAppJs), page.find("<body"));
    // The page needs nothing from the network: everything is in it.
    EXPECT_EQ(page.find("src=\"http"), std::string::npos);
    EXPECT_EQ(page.find("href=\"http"), std::string::npos);
}

TEST(Page, SizeIsTheTemplateWithItsSlotsReplaced) {
    PageValues v = values();
    const std::string page = render_page(v);
    // Three sites, two addresses, one chunk, one limit, two percentages, and the assets.
    const std::size_t slots =
        3 * std::string_view("{{site}}").size() + 2 * std::string_view("{{address}}").size() +
        std::string_view("{{chunk_mb}}").size() + std::string_view("{{limit_mb}}").size() +
        2 * std::string_view("{{degrade_at_percent}}").size() +
        std::string_view("{{style}}").size() + std::string_view("{{script}}").size();
    const std::size_t filled = 3 * v.site.size() + 2 * v.address.size() + 2 + 3 + 2 * 2 +
                               page::kStyleCss.size() + page::kAppJs.size();
    EXPECT_EQ(page.size(), page::kIndexHtml.size() - slots + filled);
}

TEST(Page, TextValuesAreEscaped) {
    PageValues v = values();
    v.site = "<script>\"x\"&'y'";
    v.address = "[::1]:80\"><b>";
    const std::string page = render_page(v);
    EXPECT_EQ(page.find("<script>\"x\""), std::string::npos);
    EXPECT_EQ(page.find("\"><b>"), std::string::npos);
    EXPECT_NE(page.find("<span id=\"site\">&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;</span>"),
              std::string::npos)
        << page.substr(0, 2000);
    EXPECT_NE(page.find("&lt;b&gt;"), std::string::npos);
}

TEST(Page, AValueThatLooksLikeASlotStaysText) {
    PageValues v = values();
    v.site = "{{script}}";
    v.address = "{{site}}";
    const std::string page = render_page(v);
    EXPECT_EQ(occurrences(page, page::kAppJs), 1u);
    EXPECT_EQ(occurrences(page, "{{script}}"), 3u);
    EXPECT_EQ(occurrences(page, "{{site}}"), 2u);
}

TEST(Page, NumbersAreWrittenInFull) {
    PageValues v = values();
    v.chunk_mb = 0;
    v.limit_mb = 1048576;
    v.degrade_at_percent = 100;
    const std::string page = render_page(v);
    EXPECT_NE(page.find("<span id=\"memory-limit\">1048576</span>"), std::string::npos);
    EXPECT_NE(page.find("<span id=\"hint-chunk\">0</span>"), std::string::npos);
    EXPECT_NE(page.find("style=\"left: 100%\""), std::string::npos);
}

}  // namespace
}  // namespace nolb::stats
