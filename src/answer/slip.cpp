// The cut a slipped response gets. It reads only what it keeps: the header and the question,
// with the same bounds-checked cursor as the query parser, and the OPT record, which respond()
// always writes last.
#include "answer/slip.hpp"

#include <cstring>

#include "answer/respond.hpp"
#include "dns/name.hpp"
#include "dns/types.hpp"
#include "dns/wire.hpp"

namespace nolb::answer {

std::size_t slip_response(std::span<std::uint8_t> response) {
    if (response.size() < dns::kHeaderSize) return 0;
    std::uint8_t* p = response.data();
    const unsigned questions = dns::load16(p + 4);
    if (questions > 1) return 0;
    dns::Reader reader(p, response.size(), dns::kHeaderSize);
    if (questions == 1) {
        dns::skip_name(reader);
        reader.skip(4);  // type, class
    }
    if (reader.failed()) return 0;
    const std::size_t question_end = reader.pos();
    // The OPT is the response's last record; it moves up to follow the question.
    const bool opt = has_trailing_opt(response) && response.size() >= question_end + dns::kOptSize;
    if (opt) std::memmove(p + question_end, p + response.size() - dns::kOptSize, dns::kOptSize);
    dns::store16(p + 2, static_cast<std::uint16_t>(dns::load16(p + 2) | dns::flag::TC));
    dns::store16(p + 6, 0);
    dns::store16(p + 8, 0);
    dns::store16(p + 10, opt ? 1 : 0);
    return question_end + (opt ? dns::kOptSize : 0);
}

}  // namespace nolb::answer
