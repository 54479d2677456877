// Fuzz target: bytes a control client sends, cut into request lines by control::next_line as
// the control server does: reading at most max + 2 bytes ahead, then taking lines.
//
// The first byte chooses the line limit, the next ones how the input is cut into reads, and a
// flag whether the client shuts its side at the end. Checks: the input fed whole and fed in
// those pieces yields the same lines and the same verdict (a line too long, or not); no line is
// longer than the limit, holds a LF or ends with the CR of its CR LF; each line and its ending
// is exactly the bytes consumed; a reader that keeps max + 2 bytes is never left undecided.
#include <algorithm>
#include <string>
#include <vector>

#include "control/lines.hpp"
#include "fuzz.hpp"

namespace nolb::fuzz {
namespace {

using control::LineStatus;
using control::NextLine;

struct Outcome {
    std::vector<std::string> lines;
    bool too_long = false;

    bool operator==(const Outcome&) const = default;
};

Outcome drive(std::string_view input, std::string_view cuts, bool shut, std::size_t max) {
    Outcome out;
    std::string buffer;
    std::size_t fed = 0;
    std::size_t turn = 0;
    for (int rounds = 0; rounds < 100'000; ++rounds) {
        // Like the server's read watermark: never more than max + 2 bytes held.
        const std::size_t room = max + 2 - std::min(buffer.size(), max + 2);
        std::size_t n = std::min(room, input.size() - fed);
        const std::size_t want =
            cuts.empty() ? 0 : static_cast<std::uint8_t>(cuts[turn++ % cuts.size()]);
        if (want > 0) n = std::min(n, want);
        buffer.append(input.substr(fed, n));
        fed += n;
        const bool at_end = shut && fed == input.size();
        for (;;) {
            const NextLine next = control::next_line(buffer, at_end, max);
            if (next.status == LineStatus::too_long) {
                out.too_long = true;
                return out;
            }
            if (next.status == LineStatus::incomplete) {
                require(buffer.size() < max + 2, "a full window always decides");
                break;
            }
            require(next.line.size() <= max, "no line is longer than the limit");
            require(next.line.find('\n') == std::string_view::npos, "a line holds no LF");
            require(next.consumed > 0 && next.consumed <= buffer.size(), "a line consumes input");
            require(next.line.data() == buffer.data(), "a line starts the input");
            const std::string_view ending =
                std::string_view(buffer).substr(next.line.size(), next.consumed - next.line.size());
            require(ending == "\n" || ending == "\r\n" || (ending.empty() && at_end) ||
                        (ending == "\r" && at_end),
                    "a line ends with LF, CR LF, or the end of input");
            out.lines.emplace_back(next.line);
            buffer.erase(0, next.consumed);
        }
        if (fed == input.size()) return out;
    }
    fail("the reads end");
}

}  // namespace
}  // namespace nolb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nolb::fuzz;
    Bytes bytes(data, size);
    const std::uint8_t options = bytes.byte();
    const std::size_t max = 1 + (options & 0x7f);  // short limits reach the edges often
    const bool shut = (options & 0x80) != 0;
    const std::string_view cuts = bytes.take(bytes.byte() % 16);
    const std::string_view input = bytes.rest();
    const Outcome whole = drive(input, {}, shut, max);
    const Outcome split = drive(input, cuts, shut, max);
    require(whole == split, "the lines do not depend on how reads are cut");
    return 0;
}
