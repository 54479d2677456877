// util::markup_escaped: what may not stand as itself in HTML or XML text and attributes.
#include "util/markup.hpp"

#include <gtest/gtest.h>

namespace nolb::util {
namespace {

TEST(Markup, EscapesTheCharactersThatEndAnAttributeOrOpenATag) {
    EXPECT_EQ(markup_escaped(R"(<a href="x">Tom & 'Jerry'</a>)"),
              "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
}

TEST(Markup, ControlCharactersBecomeSpacesButTabAndNewlineStay) {
    EXPECT_EQ(markup_escaped("a\x01"
                             "b\tc\nd\x1f"),
              "a b\tc\nd ");
    EXPECT_EQ(markup_escaped("plain text, é"), "plain text, é");
}

TEST(Markup, AppendsToWhatIsThere) {
    std::string out = "<p>";
    append_markup_escaped(out, "1 < 2");
    EXPECT_EQ(out, "<p>1 &lt; 2");
}

}  // namespace
}  // namespace nolb::util
