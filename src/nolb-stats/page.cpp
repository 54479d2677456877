// Filling the page template. index.html names its slots "{{name}}"; the template is scanned once
// and what goes in is never scanned again, so a value (or the script) cannot create a slot.
// Values are HTML-escaped; the style and script go in as they are.
#include "nolb-stats/page.hpp"

#include "page_assets.hpp"
#include "util/markup.hpp"

namespace nolb::stats {

std::string render_page(const PageValues& v) {
    std::string_view tmpl = page::kIndexHtml;
    std::string out;
    out.reserve(tmpl.size() + page::kStyleCss.size() + page::kAppJs.size() + 256);
    std::size_t pos = 0;
    while (pos < tmpl.size()) {
        auto open = tmpl.find("{{", pos);
        auto close = open == std::string_view::npos ? open : tmpl.find("}}", open + 2);
        if (close == std::string_view::npos) {
            out += tmpl.substr(pos);
            break;
        }
        out += tmpl.substr(pos, open - pos);
        std::string_view name = tmpl.substr(open + 2, close - open - 2);
        if (name == "style") {
            out += page::kStyleCss;
        } else if (name == "script") {
            out += page::kAppJs;
        } else if (name == "site") {
            util::append_markup_escaped(out, v.site);
        } else if (name == "address") {
            util::append_markup_escaped(out, v.address);
        } else if (name == "chunk_mb") {
            out += std::to_string(v.chunk_mb);
        } else if (name == "limit_mb") {
            out += std::to_string(v.limit_mb);
        } else if (name == "degrade_at_percent") {
            out += std::to_string(v.degrade_at_percent);
        } else {
            out += tmpl.substr(open, close + 2 - open);  // not a slot: keep the text
        }
        pos = close + 2;
    }
    return out;
}

}  // namespace nolb::stats
