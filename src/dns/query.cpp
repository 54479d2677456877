// Query parsing (RFC 1035 §4.1, RFC 6891 §6). The question name must be uncompressed: at
// offset 12 a pointer could only point into the header. The other sections are walked (names
// skipped, pointers checked) to find the OPT record and to reject counts that overrun.
#include "dns/query.hpp"

#include <cstring>

#include "dns/name.hpp"
#include "dns/wire.hpp"

namespace nolb::dns {
namespace {

// Lower-cases eight bytes at once: a byte gains 0x20 when it lies in 'A'..'Z'. Label length
// bytes (at most 63) lie below 'A', so a whole wire name can be folded in words.
std::uint64_t lower_word(std::uint64_t w) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    const std::uint64_t seven_bits = w & (0x7f * kOnes);
    const std::uint64_t at_least_a = seven_bits + (0x80 - 'A') * kOnes;   // top bit: >= 'A'
    const std::uint64_t above_z = seven_bits + (0x80 - 'Z' - 1) * kOnes;  // top bit: > 'Z'
    const std::uint64_t upper = at_least_a & ~above_z & ~w & (0x80 * kOnes);
    return w | (upper >> 2);
}

// Copies `size` bytes lower-cased (RFC 4343: ASCII letters only).
void copy_lowered(std::uint8_t* to, const std::uint8_t* from, std::size_t size) {
    if (size < 8) {
        for (std::size_t i = 0; i < size; ++i)
            to[i] = lower(from[i]);
        return;
    }
    std::uint64_t w;
    std::size_t at = 0;
    for (; at + 8 <= size; at += 8) {
        std::memcpy(&w, from + at, 8);
        w = lower_word(w);
        std::memcpy(to + at, &w, 8);
    }
    if (at < size) {  // the last eight bytes again, overlapping: folding is idempotent
        std::memcpy(&w, from + size - 8, 8);
        w = lower_word(w);
        std::memcpy(to + size - 8, &w, 8);
    }
}

// Reads the question name into q.name (lower-cased): the labels are walked first, then the
// whole name is folded and copied at once. False on any malformation.
bool read_question_name(Reader& r, Query& q) {
    const std::uint8_t* name = r.data() + r.pos();
    const std::size_t room = r.remaining();
    std::size_t size = 0;
    std::uint8_t labels = 0;
    for (;;) {
        if (size >= room) return false;
        const std::uint8_t len = name[size];
        if (len == 0) break;
        if (len > kMaxLabelSize) return false;  // pointers and extended label types included
        if (size + 1 + len + 1 > kMaxNameSize) return false;
        q.label_offsets[labels++] = static_cast<std::uint8_t>(size);
        size += 1 + len;
    }
    ++size;  // the root label
    copy_lowered(q.name, name, size);
    r.skip(size);
    q.name_size = static_cast<std::uint8_t>(size);
    q.label_count = labels;
    return true;
}

// Walks one resource record; records the OPT if it is one. False on malformation.
bool read_record(Reader& r, Query& q, bool additional) {
    const std::size_t owner_at = r.pos();
    skip_name(r);
    const bool owner_is_root = r.pos() == owner_at + 1;
    const std::uint16_t type = r.u16();
    const std::uint16_t klass = r.u16();
    const std::uint32_t ttl = r.u32();
    const std::uint16_t rdlength = r.u16();
    const std::size_t rdata_at = r.pos();
    r.skip(rdlength);
    if (r.failed()) return false;
    if (type == type::TSIG) q.has_tsig = true;  // anywhere: tsig::find judges where
    if (type != type::OPT) return true;
    // RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
    if (!additional || !owner_is_root || q.edns.present) return false;
    q.edns.present = true;
    q.edns.udp_payload = klass;
    q.edns.version = static_cast<std::uint8_t>(ttl >> 16);
    q.edns.dnssec_ok = (ttl & kEdnsDoBit) != 0;
    // Options must tile the RDATA exactly.
    Reader options(r.data(), rdata_at + rdlength, rdata_at);
    while (options.remaining() > 0) {
        options.u16();
        const std::uint16_t len = options.u16();
        options.skip(len);
        if (options.failed()) {
            q.edns.valid = false;
            return true;
        }
    }
    return true;
}

}  // namespace

void parse_query(std::span<const std::uint8_t> packet, Query& q) {
    q.status = ParseStatus::drop;
    q.has_question = false;
    q.has_tsig = false;
    q.edns = Edns{};
    if (packet.size() < kHeaderSize) return;

    Reader r(packet.data(), packet.size());
    q.id = r.u16();
    q.flags = r.u16();
    const std::uint16_t qdcount = r.u16();
    const std::uint16_t ancount = r.u16();
    const std::uint16_t nscount = r.u16();
    const std::uint16_t arcount = r.u16();
    q.opcode = static_cast<std::uint8_t>((q.flags & flag::OPCODE_MASK) >> 11);
    if (q.flags & flag::QR) return;  // never answer a response

    q.status = ParseStatus::formerr;
    if (qdcount != 1) return;

    const std::size_t question_at = r.pos();
    if (!read_question_name(r, q)) return;
    q.qtype = r.u16();
    q.qclass = r.u16();
    if (r.failed()) return;
    q.question = packet.data() + question_at;
    q.question_size = static_cast<std::uint16_t>(r.pos() - question_at);
    q.has_question = true;

    const std::uint32_t records = std::uint32_t{ancount} + nscount + arcount;
    for (std::uint32_t i = 0; i < records; ++i)
        if (!read_record(r, q, i >= std::uint32_t{ancount} + nscount)) return;
    if (!q.edns.valid) return;
    q.status = ParseStatus::ok;
}

}  // namespace nolb::dns
