// The one function that turns a query into a response. It knows no sockets: UDP, TCP, unit
// tests, fuzzers and benchmarks all call it with bytes in and bytes out. It never allocates,
// never locks and never throws; everything it copies was rendered by zone::compile.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "dns/query.hpp"
#include "util/counter.hpp"
#include "util/rng.hpp"
#include "util/transport.hpp"
#include "zone/snapshot.hpp"

namespace nolb::answer {

// The one Transport type, shared with server/ (util/transport.hpp says why it lives there).
using util::Transport;

// What the answering path counts, as read: a sum over workers or one worker's view.
struct Totals {
    std::uint64_t queries = 0;                 // packets handed to answer_packet
    std::uint64_t dropped = 0;                 // no response sent (QR set, too short to answer)
    std::uint64_t truncated = 0;               // UDP responses sent with TC
    std::array<std::uint64_t, 24> by_rcode{};  // index: extended rcode (BADVERS = 16)
    std::array<std::uint64_t, 8> by_qtype{};   // see qtype_slot()
    void add(const Totals& other);
};

// Per-worker tallies, written only by their worker, readable from any thread.
struct Counters {
    util::Count queries, dropped, truncated;
    std::array<util::Count, 24> by_rcode;
    std::array<util::Count, 8> by_qtype;
    Totals read() const;
};

// Names for Totals' slots, for stats and metrics: "A", "AAAA", ...; "NOERROR", "BADVERS", ...
const char* qtype_slot_name(std::size_t slot);
const char* rcode_name(std::size_t rcode);

// Index into Totals::by_qtype: A, AAAA, ANY, SOA, NS, CNAME, other-known, meta/unknown.
std::size_t qtype_slot(std::uint16_t qtype);

// Answers a parsed query. Returns the response length written to `out` (0: send nothing).
// `out` must hold at least 512 bytes; for TCP give it 65535. `reserve` octets are kept free
// below the size limit for a record appended afterwards (a TSIG signature).
std::size_t respond(const zone::Snapshot& snapshot, const dns::Query& query, Transport transport,
                    util::Rng& rng, std::span<std::uint8_t> out, std::size_t reserve = 0);

// A response with no data and this rcode (its low four bits; an OPT carries the rest): the
// header, the question if there was one, the OPT if the query had one.
std::size_t respond_error(const zone::Snapshot& snapshot, const dns::Query& query,
                          std::uint16_t rcode, std::span<std::uint8_t> out);

// Counts a query and the response written for it (size 0: dropped).
void count(Counters& counters, const dns::Query& query, std::span<const std::uint8_t> response);

// Whether a response respond() wrote carries an OPT record: it is then the last kOptSize
// octets (respond() writes it last, without options).
bool has_trailing_opt(std::span<const std::uint8_t> response);

// Parses and answers one packet, and counts it: what the fuzzers and benchmarks call (nolbd
// parses first, to hand signed messages and transfers to transfer/). Returns the response
// length, 0 when the packet must be dropped.
std::size_t answer_packet(const zone::Snapshot& snapshot, std::span<const std::uint8_t> packet,
                          Transport transport, util::Rng& rng, std::span<std::uint8_t> out,
                          Counters& counters);

}  // namespace nolb::answer
