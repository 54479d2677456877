// A parsed query: what answer::respond needs to know about the client's message, read once with
// a sticky-error cursor and no allocation. The question name is kept twice: lower-cased for
// lookup, and as a pointer to the bytes the client sent, which the response echoes verbatim.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dns/types.hpp"

namespace nolb::dns {

enum class ParseStatus : std::uint8_t {
    ok,       // a question to answer (opcode and EDNS version are judged by respond)
    formerr,  // answer FORMERR (question echoed when has_question)
    drop,     // send nothing: a response (QR set) or fewer bytes than a header
};

struct Edns {
    bool present = false;
    bool valid = true;  // false: malformed OPT (answer FORMERR without OPT)
    std::uint8_t version = 0;
    std::uint16_t udp_payload = 0;  // the client's limit, as sent
    bool dnssec_ok = false;
};

struct Query {
    ParseStatus status = ParseStatus::drop;
    std::uint16_t id = 0;
    std::uint16_t flags = 0;  // the header's second word, as sent
    std::uint8_t opcode = 0;
    bool has_question = false;

    // The question as it appeared on the wire: name (uncompressed), type and class.
    const std::uint8_t* question = nullptr;
    std::uint16_t question_size = 0;
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;

    // Lower-cased question name and the offset of each label in it.
    std::uint8_t name[kMaxNameSize];
    std::uint8_t name_size = 0;
    std::uint8_t label_count = 0;  // not counting the root
    std::uint8_t label_offsets[128];

    Edns edns;
    // The message holds a TSIG record: it is signed, or malformed if the record is not the
    // last (dns/tsig.hpp judges; the plain answering path never sees such a message).
    bool has_tsig = false;

    std::span<const std::uint8_t> name_span() const { return {name, name_size}; }
};

// Parses an untrusted message. Never reads out of bounds, never allocates.
void parse_query(std::span<const std::uint8_t> packet, Query& out);

}  // namespace nolb::dns
