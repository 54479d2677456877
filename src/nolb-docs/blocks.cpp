// Line by line: outside a block a line is copied, inside one it is dropped, and a begin marker is
// followed by the section it names.
#include "nolb-docs/blocks.hpp"

#include <algorithm>
#include <regex>
#include <stdexcept>

namespace nolb::docs {
namespace {

std::runtime_error problem(std::size_t line, const std::string& message) {
    return std::runtime_error("line " + std::to_string(line) + ": " + message);
}

}  // namespace

std::string fill_blocks(std::string_view text, const SectionSource& section) {
    static const std::regex marker(R"(nolb-docs ([a-z-]+) (begin|end)\b)");
    std::string out;
    std::string open;  // the block being replaced; "" outside one
    std::size_t number = 0, opened_at = 0;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t end = std::min(text.find('\n', at), text.size() - 1) + 1;
        const std::string line(text.substr(at, end - at));
        at = end;
        ++number;
        std::smatch match;
        if (!std::regex_search(line, match, marker)) {
            if (open.empty()) out += line;
            continue;
        }
        const std::string name = match[1], edge = match[2];
        if (edge == "begin" && !open.empty())
            throw problem(number, "block " + name + " begins inside block " + open);
        if (edge == "end" && open != name)
            throw problem(number, "block " + name + " ends but did not begin");
        out += line;
        if (edge == "begin") {
            out += section(name);
            open = name;
            opened_at = number;
        } else {
            open.clear();
        }
    }
    if (!open.empty()) throw problem(opened_at, "block " + open + " has no end");
    return out;
}

}  // namespace nolb::docs
