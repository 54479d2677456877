// Tail rendering: owner names, types, TTLs and RDATA with RFC 1035 §4.1.4 compression where
// RFC 3597 §4 allows it, the cut points for truncation, and the shuffle region.
#include "zone/render.hpp"

#include "dns/types.hpp"

namespace nolb::zone {
namespace {

// A pointer must stay below 0x4000 for any question name up to 255 octets.
constexpr std::size_t kMaxPointerTarget = 0x3fff - dns::kHeaderSize - dns::kMaxNameSize - 4;

// RFC 3597 §4: only the types of RFC 1035 may have their RDATA names compressed.
bool compressible(std::uint16_t type) {
    using namespace dns::type;
    switch (type) {
        case NS:
        case MD:
        case MF:
        case CNAME:
        case SOA:
        case MB:
        case MG:
        case MR:
        case PTR:
        case MINFO:
        case MX:
            return true;
        default:
            return false;
    }
}

std::uint16_t pointer_value(Fixup::Kind kind, std::uint16_t value, std::uint16_t qname_size) {
    const std::size_t target = kind == Fixup::kQnameSuffix
                                   ? dns::kHeaderSize + qname_size - value
                                   : dns::kHeaderSize + qname_size + 4u + value;
    return static_cast<std::uint16_t>(0xc000 | target);
}

}  // namespace

TailBuilder::TailBuilder(const dns::WireName& match)
    : qname_size_(static_cast<std::uint16_t>(match.size())) {
    // Every suffix of `match` is a suffix of the question: point into the question for it.
    // For a non-exact match the question is longer, so `match` itself is a proper suffix.
    dns::WireName lower = dns::lowered(match);
    for (std::size_t i = 0; i < lower.size() && lower[i] != '\0';
         i += static_cast<std::uint8_t>(lower[i]) + 1u) {
        table_.push_back(
            {lower.substr(i), Fixup::kQnameSuffix, static_cast<std::uint16_t>(lower.size() - i)});
    }
    cuts_.push_back({0, 0, 0, 0, false});
}

void TailBuilder::u16(std::uint16_t v) {
    out_ += static_cast<char>(v >> 8);
    out_ += static_cast<char>(v & 0xff);
}

void TailBuilder::u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v & 0xffff));
}

void TailBuilder::write_pointer(Fixup::Kind kind, std::uint16_t value) {
    fixups_.push_back({static_cast<std::uint16_t>(out_.size()), kind, value});
    u16(pointer_value(kind, value, qname_size_));
}

void TailBuilder::write_name(const dns::WireName& name, bool compress) {
    const dns::WireName lower = dns::lowered(name);
    std::size_t i = 0;
    while (i < name.size() && name[i] != '\0') {
        const dns::WireName suffix = lower.substr(i);
        if (compress) {
            for (const Entry& e : table_) {
                if (e.name == suffix) {
                    write_pointer(e.kind, e.value);
                    return;
                }
            }
        }
        if (out_.size() <= kMaxPointerTarget)
            table_.push_back({suffix, Fixup::kTail, static_cast<std::uint16_t>(out_.size())});
        const std::size_t len = static_cast<std::uint8_t>(name[i]) + 1u;
        out_.append(name, i, len);
        i += len;
    }
    out_ += '\0';
}

void TailBuilder::add(Section section, const dns::WireName& owner, const RRset& rrset) {
    const std::size_t first = out_.size();
    const std::size_t tables = table_.size(), fixups = fixups_.size();
    const std::uint16_t an = an_, ns = ns_, ar = ar_;
    std::size_t stride = 0;
    bool uniform = true;
    for (const RData& rdata : rrset.rdatas) {
        const std::size_t start = out_.size();
        if (owner.empty()) {
            u16(0xc000 | dns::kHeaderSize);  // the question name itself
        } else {
            write_name(owner, true);
        }
        u16(rrset.type);
        u16(rrset.klass);
        u32(rrset.ttl);
        const std::size_t rdlength_at = out_.size();
        u16(0);
        for (const Piece& piece : rdata.pieces) {
            if (piece.is_name)
                write_name(piece.bytes, compressible(rrset.type));
            else
                out_ += piece.bytes;
        }
        const std::size_t rdlength = out_.size() - rdlength_at - 2;
        out_[rdlength_at] = static_cast<char>(rdlength >> 8);
        out_[rdlength_at + 1] = static_cast<char>(rdlength & 0xff);
        const std::size_t size = out_.size() - start;
        if (stride == 0) stride = size;
        uniform = uniform && size == stride;
        switch (section) {
            case Section::answer:
                ++an_;
                break;
            case Section::authority:
                ++ns_;
                break;
            case Section::additional:
                ++ar_;
                break;
        }
    }
    if (out_.size() > dns::kMaxRecordsSize) {
        // Loading refuses any RRset this large, so only a CNAME chain or additional data can
        // get here: leave the RRset out (the client follows the chain itself).
        out_.resize(first);
        table_.resize(tables);
        fixups_.resize(fixups);
        an_ = an;
        ns_ = ns;
        ar_ = ar;
        return;
    }
    if (rrset.shuffled && section == Section::answer && uniform && rrset.rdatas.size() > 1 &&
        answer_.shuffle_count == 0) {
        answer_.shuffle_at = static_cast<std::uint16_t>(first);
        answer_.shuffle_count = static_cast<std::uint16_t>(rrset.rdatas.size());
        answer_.shuffle_stride = static_cast<std::uint8_t>(stride);
        answer_.shuffle_rdata = static_cast<std::uint8_t>(rrset.type == dns::type::A ? 4 : 16);
    }
    cuts_.push_back({static_cast<std::uint16_t>(out_.size()), an_, ns_, ar_, false});
}

std::uint32_t TailBuilder::finish(Snapshot& snapshot, std::uint32_t replace) {
    for (Cut& cut : cuts_)
        cut.truncates = cut.an < an_ || cut.ns < ns_ || cut.ar < required_ar_;
    Answer& a = answer_;
    a.bytes_at = static_cast<std::uint32_t>(snapshot.bytes.size());
    a.size = static_cast<std::uint16_t>(out_.size());
    a.an = an_;
    a.ns = ns_;
    a.ar = ar_;
    a.rcode = rcode_;
    a.authoritative = aa_;
    a.qname_size = qname_size_;
    a.fixups_at = static_cast<std::uint32_t>(snapshot.fixups.size());
    a.fixups = static_cast<std::uint16_t>(fixups_.size());
    a.cuts_at = static_cast<std::uint32_t>(snapshot.cuts.size());
    a.cuts = static_cast<std::uint16_t>(cuts_.size());
    snapshot.bytes.insert(snapshot.bytes.end(), out_.begin(), out_.end());
    snapshot.fixups.insert(snapshot.fixups.end(), fixups_.begin(), fixups_.end());
    snapshot.cuts.insert(snapshot.cuts.end(), cuts_.begin(), cuts_.end());
    if (replace != kNoAnswer) {
        snapshot.answers[replace] = a;
        return replace;
    }
    snapshot.answers.push_back(a);
    return static_cast<std::uint32_t>(snapshot.answers.size() - 1);
}

}  // namespace nolb::zone
