// The answering rules. Each outcome of RFC 1034 §4.3.2 was rendered at load time; here a query
// selects one, and the response is assembled by copying: header, the question as the client
// sent it, the precompiled tail cut to the client's size limit, the OPT record. A service's
// address RRset is shuffled in place with the worker's PRNG.
#include "answer/respond.hpp"

#include <algorithm>
#include <cstring>

#include "dns/wire.hpp"

namespace nolb::answer {
namespace {

using dns::load16;
using dns::store16;
using dns::store32;

// What respond decided before any answer data: an error rcode, or a tail to emit.
struct Outcome {
    std::uint16_t rcode = dns::rcode::NOERROR;
    std::uint32_t answer = zone::kNoAnswer;
};

std::size_t udp_limit(const zone::Snapshot& s, const dns::Query& q) {
    if (!q.edns.present || !q.edns.valid) return dns::kMinUdpPayload;
    const std::size_t client = std::max<std::uint16_t>(q.edns.udp_payload, dns::kMinUdpPayload);
    return std::min<std::size_t>(client,
                                 std::max<std::uint16_t>(s.edns_payload, dns::kMinUdpPayload));
}

void write_header(const dns::Query& q, std::uint8_t* out) {
    store16(out, q.id);
    store16(out + 2, static_cast<std::uint16_t>(
                         dns::flag::QR |
                         (q.flags & (dns::flag::OPCODE_MASK | dns::flag::RD | dns::flag::CD))));
    std::memset(out + 4, 0, 8);
}

// The OPT record (RFC 6891 §6.1.2): our payload size, the extended rcode's upper bits,
// version 0, DO echoed.
std::size_t write_opt(const zone::Snapshot& s, const dns::Query& q, std::uint16_t rcode,
                      std::uint8_t* out) {
    out[0] = 0;
    store16(out + 1, dns::type::OPT);
    store16(out + 3, s.edns_payload);
    out[5] = static_cast<std::uint8_t>(rcode >> 4);
    out[6] = 0;
    store16(out + 7, q.edns.dnssec_ok ? static_cast<std::uint16_t>(dns::kEdnsDoBit) : 0);
    store16(out + 9, 0);
    return dns::kOptSize;
}

// A response with no data: FORMERR, NOTIMP, REFUSED, BADVERS.
std::size_t answer_error(const zone::Snapshot& s, const dns::Query& q, std::uint16_t rcode,
                         std::span<std::uint8_t> out) {
    std::uint8_t* p = out.data();
    write_header(q, p);
    store16(p + 2, static_cast<std::uint16_t>(load16(p + 2) | (rcode & dns::flag::RCODE_MASK)));
    std::size_t size = dns::kHeaderSize;
    if (q.has_question) {
        std::memcpy(p + size, q.question, q.question_size);
        size += q.question_size;
        store16(p + 4, 1);
    }
    if (q.edns.present && q.edns.valid) {
        size += write_opt(s, q, rcode, p + size);
        store16(p + 10, 1);
    }
    return size;
}

// Swaps two RDATA of a fixed size; a constant size lets the compiler use plain moves.
template <std::size_t Size>
void swap_rdata(std::uint8_t* x, std::uint8_t* y) {
    std::uint8_t tmp[Size];
    std::memcpy(tmp, x, Size);
    std::memcpy(x, y, Size);
    std::memcpy(y, tmp, Size);
}

// Fisher-Yates over the RDATA of equal-sized records: the owner, type, class and TTL of every
// record in the set are the same bytes, so permuting RDATA permutes the records. A and AAAA
// RDATA are 4 and 16 bytes, the only sizes compile() marks for shuffling.
template <std::size_t Size>
void shuffle_rdata(const zone::Answer& a, std::uint8_t* tail, util::Rng& rng) {
    std::uint8_t* base = tail + a.shuffle_at + (a.shuffle_stride - Size);
    for (std::uint32_t i = a.shuffle_count - 1; i > 0; --i) {
        const std::uint32_t j = rng.below_small(i + 1);
        if (j != i)
            swap_rdata<Size>(base + std::size_t{i} * a.shuffle_stride,
                             base + std::size_t{j} * a.shuffle_stride);
    }
}

void shuffle(const zone::Answer& a, std::uint8_t* tail, util::Rng& rng) {
    if (a.shuffle_rdata == 4)
        shuffle_rdata<4>(a, tail, rng);
    else if (a.shuffle_rdata == 16)
        shuffle_rdata<16>(a, tail, rng);
}

std::size_t emit(const zone::Snapshot& s, const dns::Query& q, const zone::Answer& a,
                 std::size_t limit, util::Rng& rng, std::span<std::uint8_t> out) {
    const bool edns = q.edns.present && q.edns.valid;
    std::uint8_t* p = out.data();
    write_header(q, p);
    std::size_t size = dns::kHeaderSize;
    std::memcpy(p + size, q.question, q.question_size);
    size += q.question_size;

    // The largest cut that fits; cuts ascend and the first is empty.
    const std::size_t room = limit - size - (edns ? dns::kOptSize : 0);
    const zone::Cut* cuts = s.cuts.data() + a.cuts_at;
    const zone::Cut* cut = cuts;
    for (std::size_t i = a.cuts; i-- > 0;) {
        if (cuts[i].size <= room) {
            cut = cuts + i;
            break;
        }
    }

    std::uint8_t* tail = p + size;
    std::memcpy(tail, s.bytes.data() + a.bytes_at, cut->size);
    if (q.name_size != a.qname_size) {
        // Re-aim pointers for a question name of another length (wildcards, negative answers).
        for (const zone::Fixup *f = s.fixups.data() + a.fixups_at, *end = f + a.fixups; f < end;
             ++f) {
            if (f->at >= cut->size) continue;
            const std::size_t target = f->kind == zone::Fixup::kQnameSuffix
                                           ? dns::kHeaderSize + q.name_size - f->value
                                           : dns::kHeaderSize + q.question_size + f->value;
            store16(tail + f->at, static_cast<std::uint16_t>(0xc000 | target));
        }
    }
    if (a.shuffle_count > 1 &&
        a.shuffle_at + std::size_t{a.shuffle_count} * a.shuffle_stride <= cut->size)
        shuffle(a, tail, rng);
    size += cut->size;

    std::uint16_t flags = load16(p + 2) | (a.rcode & dns::flag::RCODE_MASK);
    if (a.authoritative) flags |= dns::flag::AA;
    if (cut->truncates) flags |= dns::flag::TC;
    store16(p + 2, flags);
    store16(p + 4, 1);
    store16(p + 6, cut->an);
    store16(p + 8, cut->ns);
    store16(p + 10, static_cast<std::uint16_t>(cut->ar + (edns ? 1 : 0)));
    if (edns) size += write_opt(s, q, a.rcode, p + size);
    return size;
}

// RFC 1034 §4.3.2 against the snapshot: exact match, zone cut, wildcard, or no such name.
Outcome look_up(const zone::Snapshot& s, const dns::Query& q) {
    if (const zone::Node* node = s.find(q.name, q.name_size)) {
        if (node->referral != zone::kNoAnswer && !(node->is_cut && q.qtype == dns::type::DS))
            return {dns::rcode::NOERROR, node->referral};
        return {dns::rcode::NOERROR, s.answer_for(*node, q.qtype)};
    }
    // The closest encloser: the longest existing ancestor (the root is never one of ours).
    for (std::uint8_t i = 1; i < q.label_count; ++i) {
        const std::uint8_t at = q.label_offsets[i];
        const zone::Node* node = s.find(q.name + at, q.name_size - at);
        if (!node) continue;
        if (node->referral != zone::kNoAnswer) return {dns::rcode::NOERROR, node->referral};
        if (node->wildcard != zone::kNoAnswer)
            return {dns::rcode::NOERROR, s.answer_for(s.nodes[node->wildcard], q.qtype)};
        return {dns::rcode::NOERROR, s.zones[node->zone].nxdomain};
    }
    return {dns::rcode::REFUSED, zone::kNoAnswer};
}

Outcome look_up_chaos(const zone::Snapshot& s, const dns::Query& q) {
    for (const zone::ChaosName& c : s.chaos) {
        if (c.name.size() == q.name_size && std::memcmp(c.name.data(), q.name, q.name_size) == 0) {
            const bool txt = q.qtype == dns::type::TXT || q.qtype == dns::type::ANY;
            return {dns::rcode::NOERROR, txt ? c.txt : s.chaos_nodata};
        }
    }
    return {dns::rcode::REFUSED, zone::kNoAnswer};
}

Outcome decide(const zone::Snapshot& s, const dns::Query& q) {
    // The opcode first, whatever the rest holds: QDCOUNT != 1 is a format error of QUERY only.
    // A NOTIFY (RFC 1996 §3.10) would come from a primary of ours, and nolbd has none.
    if (q.opcode == dns::opcode::NOTIFY) return {dns::rcode::REFUSED};
    if (q.opcode != dns::opcode::QUERY) return {dns::rcode::NOTIMP};
    if (q.status == dns::ParseStatus::formerr) return {dns::rcode::FORMERR};
    if (q.edns.present && q.edns.version != 0) return {dns::rcode::BADVERS};
    switch (q.qtype) {
        case dns::type::OPT:  // meta types are not questions (RFC 6895 §3.1)
        case dns::type::TSIG:
        case dns::type::TKEY:
            return {dns::rcode::FORMERR};
        case dns::type::AXFR:  // no zone transfers are offered
        case dns::type::IXFR:
            return {dns::rcode::REFUSED};
        case dns::type::MAILA:
        case dns::type::MAILB:
            return {dns::rcode::NOTIMP};
        default:
            break;
    }
    if (q.qclass == dns::cls::CH) return look_up_chaos(s, q);
    if (q.qclass != dns::cls::IN) return {dns::rcode::REFUSED};
    return look_up(s, q);
}

}  // namespace

void Totals::add(const Totals& o) {
    queries += o.queries;
    dropped += o.dropped;
    truncated += o.truncated;
    for (std::size_t i = 0; i < by_rcode.size(); ++i)
        by_rcode[i] += o.by_rcode[i];
    for (std::size_t i = 0; i < by_qtype.size(); ++i)
        by_qtype[i] += o.by_qtype[i];
}

Totals Counters::read() const {
    Totals t;
    t.queries = queries.get();
    t.dropped = dropped.get();
    t.truncated = truncated.get();
    for (std::size_t i = 0; i < by_rcode.size(); ++i)
        t.by_rcode[i] = by_rcode[i].get();
    for (std::size_t i = 0; i < by_qtype.size(); ++i)
        t.by_qtype[i] = by_qtype[i].get();
    return t;
}

const char* qtype_slot_name(std::size_t slot) {
    static const char* const names[] = {"A", "AAAA", "ANY", "SOA", "NS", "CNAME", "other", "meta"};
    return slot < std::size(names) ? names[slot] : "meta";
}

const char* rcode_name(std::size_t rcode) {
    static const char* const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                        "NXRRSET", "NOTAUTH", "NOTZONE",  "DSOTYPENI"};
    if (rcode < std::size(names)) return names[rcode];
    return rcode == 16 ? "BADVERS" : "other";
}

std::size_t qtype_slot(std::uint16_t qtype) {
    switch (qtype) {
        case dns::type::A:
            return 0;
        case dns::type::AAAA:
            return 1;
        case dns::type::ANY:
            return 2;
        case dns::type::SOA:
            return 3;
        case dns::type::NS:
            return 4;
        case dns::type::CNAME:
            return 5;
        default:
            return qtype != 0 && qtype < 128 ? 6 : 7;
    }
}

std::size_t respond(const zone::Snapshot& s, const dns::Query& q, Transport transport,
                    util::Rng& rng, std::span<std::uint8_t> out, std::size_t reserve) {
    if (q.status == dns::ParseStatus::drop || out.size() < dns::kMinUdpPayload) return 0;
    const Outcome o = decide(s, q);
    if (o.answer == zone::kNoAnswer) return answer_error(s, q, o.rcode, out);
    const std::size_t limit = transport == Transport::tcp ? std::min<std::size_t>(out.size(), 65535)
                                                          : std::min(out.size(), udp_limit(s, q));
    return emit(s, q, s.answers[o.answer], limit - std::min(reserve, limit / 2), rng, out);
}

std::size_t respond_error(const zone::Snapshot& s, const dns::Query& q, std::uint16_t rcode,
                          std::span<std::uint8_t> out) {
    if (q.status == dns::ParseStatus::drop || out.size() < dns::kMinUdpPayload) return 0;
    return answer_error(s, q, rcode, out);
}

bool has_trailing_opt(std::span<const std::uint8_t> response) {
    const std::size_t size = response.size();
    return size >= dns::kHeaderSize + dns::kOptSize && load16(response.data() + 10) != 0 &&
           response[size - dns::kOptSize] == 0 &&
           load16(response.data() + size - 10) == dns::type::OPT;
}

std::size_t answer_packet(const zone::Snapshot& snapshot, std::span<const std::uint8_t> packet,
                          Transport transport, util::Rng& rng, std::span<std::uint8_t> out,
                          Counters& counters) {
    dns::Query q;
    dns::parse_query(packet, q);
    const std::size_t size = respond(snapshot, q, transport, rng, out);
    count(counters, q, out.first(size));
    return size;
}

void count(Counters& counters, const dns::Query& q, std::span<const std::uint8_t> response) {
    counters.queries.add();
    const std::size_t size = response.size();
    if (size == 0) {
        counters.dropped.add();
        return;
    }
    if (q.has_question) counters.by_qtype[qtype_slot(q.qtype)].add();
    std::uint16_t rcode = response[3] & dns::flag::RCODE_MASK;
    if (has_trailing_opt(response))
        rcode = static_cast<std::uint16_t>(rcode | (response[size - 6] << 4));
    counters.by_rcode[std::min<std::size_t>(rcode, counters.by_rcode.size() - 1)].add();
    if (response[2] & (dns::flag::TC >> 8)) counters.truncated.add();
}

}  // namespace nolb::answer
