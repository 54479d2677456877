// Request line splitting for the control socket.
#include "control/lines.hpp"

namespace nolb::control {
namespace {

std::string_view without_cr(std::string_view text) {
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    return text;
}

}  // namespace

NextLine next_line(std::string_view input, bool at_end, std::size_t max_line) {
    const std::size_t lf = input.find('\n');
    if (lf != std::string_view::npos) {
        std::string_view line = without_cr(input.substr(0, lf));
        if (line.size() > max_line) return {LineStatus::too_long, {}, 0};
        return {LineStatus::line, line, lf + 1};
    }
    // A CR at the end may yet be followed by its LF, so it does not count against the limit.
    std::string_view started = without_cr(input);
    if (started.size() > max_line) return {LineStatus::too_long, {}, 0};
    if (at_end && !input.empty()) return {LineStatus::line, started, input.size()};
    return {};
}

}  // namespace nolb::control
