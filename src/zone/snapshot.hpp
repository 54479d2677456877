// The immutable answer store. zone::compile renders every response nolbd can give into wire
// form ahead of time: for each name, the response tail (answer, authority and additional
// sections) for each type it holds, plus the zone's negative answers and referrals. Workers
// read a Snapshot through util::Published and never modify it; a change of data or health
// builds a new one.
//
// A tail is rendered for one question name length. Compression pointers into the question
// (kQnameSuffix) or into the tail itself (kTail) move when a longer or shorter name is asked
// (wildcards, NXDOMAIN); Fixups list them so answer::respond can patch them. For an exact
// match the name length is the one compiled for and nothing is patched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace nolb::zone {

struct Fixup {
    enum Kind : std::uint8_t { kQnameSuffix, kTail };
    std::uint16_t at;  // offset in the tail of the 2-byte pointer
    Kind kind;
    std::uint16_t value;  // suffix length (kQnameSuffix) or tail offset (kTail)
};

// A place where the tail may be cut to fit a UDP limit: after a whole RRset.
struct Cut {
    std::uint16_t size;  // tail bytes kept
    std::uint16_t an, ns, ar;
    bool truncates;  // a client needs TC=1 when given this much (RFC 2181 §9, RFC 9471)
};

struct Answer {
    std::uint32_t bytes_at = 0;  // in Snapshot::bytes
    std::uint16_t size = 0;
    std::uint16_t an = 0, ns = 0, ar = 0;
    std::uint8_t rcode = 0;
    bool authoritative = true;
    std::uint16_t qname_size = 0;  // the question name length the tail was rendered for
    std::uint32_t fixups_at = 0;
    std::uint16_t fixups = 0;
    std::uint32_t cuts_at = 0;  // ascending; the last one is the whole tail
    std::uint16_t cuts = 0;
    // The RRset whose order is drawn per response: `shuffle_count` records of
    // `shuffle_stride` bytes from `shuffle_at`, identical but for their last `shuffle_rdata`.
    std::uint16_t shuffle_at = 0;
    std::uint16_t shuffle_count = 0;
    std::uint8_t shuffle_stride = 0;
    std::uint8_t shuffle_rdata = 0;
};

inline constexpr std::uint32_t kNoAnswer = 0xffffffff;

struct TypedAnswer {
    std::uint16_t type;
    std::uint32_t answer;
};

struct Node {
    std::uint32_t name_at = 0;  // lower-cased wire name in Snapshot::names
    std::uint8_t name_size = 0;
    std::uint32_t zone = 0;
    std::uint32_t typed_at = 0;  // TypedAnswers sorted by type
    std::uint16_t typed = 0;
    std::uint32_t any = kNoAnswer;       // ANY (RFC 8482: one RRset)
    std::uint32_t other = kNoAnswer;     // every type not listed (NODATA, or a CNAME chain)
    std::uint32_t referral = kNoAnswer;  // set at or below a zone cut: the referral to give
    bool is_cut = false;                 // a delegation point (NS below the apex)
    std::uint32_t wildcard = kNoAnswer;  // index of the child node "*" if there is one
};

struct Image;  // zone/image.hpp

struct Zone {
    std::string origin_text;
    std::uint32_t apex = 0;  // node index
    std::uint32_t nxdomain = 0;
    std::uint32_t serial = 0;
    std::shared_ptr<const Image> image;  // what a transfer of the zone carries now
};

struct ChaosName {
    std::string name;   // lower-cased wire
    std::uint32_t txt;  // answer for TXT and ANY
};

class Snapshot {
  public:
    // Answers, nodes and the name table, written by zone::compile only.
    std::vector<std::uint8_t> bytes;
    std::vector<Answer> answers;
    std::vector<Fixup> fixups;
    std::vector<Cut> cuts;
    std::vector<TypedAnswer> typed;
    std::vector<Node> nodes;
    std::vector<std::uint8_t> names;
    std::vector<std::uint32_t> slots;  // open addressing: node index + 1, 0 = empty
    std::vector<Zone> zones;
    std::vector<ChaosName> chaos;  // empty unless [server] chaos = true
    std::uint32_t chaos_nodata = kNoAnswer;
    std::uint16_t edns_payload = 1232;
    std::uint64_t generation = 0;

    // The node with exactly this lower-cased wire name, or nullptr.
    const Node* find(const std::uint8_t* name, std::size_t size) const;

    std::span<const std::uint8_t> tail(const Answer& a) const {
        return {bytes.data() + a.bytes_at, a.size};
    }
    const std::uint8_t* node_name(const Node& n) const { return names.data() + n.name_at; }
    std::uint32_t answer_for(const Node& n, std::uint16_t qtype) const;
};

}  // namespace nolb::zone
