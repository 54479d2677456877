// What a rate-limited response becomes when it slips (RRL, as NSD and Knot do it): instead of
// being dropped it goes out truncated, TC set and no records, so a real client behind a
// flooded prefix retries over TCP and still gets its answer, while a spoofed flood gains no
// amplification. The server's rate limiter decides which responses slip and knows nothing of
// DNS; it is handed this function (server::RrlSettings::slip_cut) and calls it only for them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace nolb::answer {

// Cuts a response respond() wrote, in place, to what a slip sends: the header (ID, opcode, AA,
// RD, CD and RCODE kept, TC set), the question, and the OPT record if the response had one, so
// the extended RCODE and our payload size still reach an EDNS client. Returns the new length; 0
// when `response` is not a message that can be cut (it is then better dropped).
std::size_t slip_response(std::span<std::uint8_t> response);

}  // namespace nolb::answer
