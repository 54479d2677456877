// Text put into HTML or XML markup (the demo page, nolb-compare's SVG timelines): the five
// characters that could end an attribute or open a tag become references, and control
// characters, which XML 1.0 does not allow, become spaces. The result is valid in both.
#pragma once

#include <string>
#include <string_view>

namespace nolb::util {

void append_markup_escaped(std::string& out, std::string_view text);

inline std::string markup_escaped(std::string_view text) {
    std::string out;
    append_markup_escaped(out, text);
    return out;
}

}  // namespace nolb::util
