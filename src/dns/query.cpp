// Query parsing (RFC 1035 §4.1, RFC 6891 §6). The question name must be uncompressed: at
// offset 12 a pointer could only point into the header. The other sections are walked (names
// skipped, pointers checked) to find the OPT record and to reject counts that overrun.
#include "dns/query.hpp"

#include "dns/name.hpp"
#include "dns/wire.hpp"

namespace nolb::dns {
namespace {

// Reads the question name into q.name (lower-cased). False on any malformation.
bool read_question_name(Reader& r, Query& q) {
    std::size_t size = 0;
    std::uint8_t labels = 0;
    for (;;) {
        const std::uint8_t len = r.u8();
        if (r.failed()) return false;
        if (len == 0) break;
        if (len > kMaxLabelSize) return false;  // pointers and extended label types included
        if (size + 1 + len + 1 > kMaxNameSize) return false;
        q.label_offsets[labels++] = static_cast<std::uint8_t>(size);
        q.name[size++] = len;
        const std::size_t at = r.pos();
        r.skip(len);
        if (r.failed()) return false;
        const std::uint8_t* src = r.data() + at;
        for (std::size_t i = 0; i < len; ++i)
            q.name[size++] = lower(src[i]);
    }
    q.name[size++] = 0;
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
