// Marked blocks: the text between a begin and an end marker is replaced by its section, the
// markers and everything outside them are kept, and a malformed block is an error naming its
// line.
#include "nolb-docs/blocks.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <stdexcept>

namespace nolb::docs {
namespace {

std::string upper_name(std::string_view name) {
    std::string out;
    for (char c : name)
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out + "\n";
}

TEST(DocsBlocks, ReplacesWhatIsBetweenTheMarkers) {
    const std::string text =
        "# Title\n"
        "<!-- nolb-docs config-keys begin: generated -->\n"
        "stale line\n"
        "another\n"
        "<!-- nolb-docs config-keys end -->\n"
        "hand-written\n"
        "; nolb-docs metrics begin\n"
        "; nolb-docs metrics end\n";
    EXPECT_EQ(fill_blocks(text, upper_name),
              "# Title\n"
              "<!-- nolb-docs config-keys begin: generated -->\n"
              "CONFIG-KEYS\n"
              "<!-- nolb-docs config-keys end -->\n"
              "hand-written\n"
              "; nolb-docs metrics begin\n"
              "METRICS\n"
              "; nolb-docs metrics end\n");
}

TEST(DocsBlocks, TextWithoutBlocksIsKeptAsItIs) {
    EXPECT_EQ(fill_blocks("a\nnolb-docs is mentioned\nno newline at the end", upper_name),
              "a\nnolb-docs is mentioned\nno newline at the end");
    EXPECT_EQ(fill_blocks("", upper_name), "");
}

TEST(DocsBlocks, MalformedBlocksNameTheirLine) {
    auto error = [](const std::string& text) {
        try {
            fill_blocks(text, upper_name);
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(error("x\nnolb-docs metrics begin\ny\n"), "line 2: block metrics has no end");
    EXPECT_EQ(error("nolb-docs metrics end\n"), "line 1: block metrics ends but did not begin");
    EXPECT_EQ(error("nolb-docs a begin\nnolb-docs b begin\n"),
              "line 2: block b begins inside block a");
    EXPECT_EQ(error("nolb-docs a begin\nnolb-docs b end\n"),
              "line 2: block b ends but did not begin");
}

}  // namespace
}  // namespace nolb::docs
