// Read-side lookups on the Snapshot: exact name lookup in the open-addressing table and the
// per-node answer for a query type. Both run per packet: no allocation, bounded work.
#include "zone/snapshot.hpp"

#include <cstring>

#include "dns/name.hpp"
#include "dns/types.hpp"

namespace nolb::zone {

const Node* Snapshot::find(const std::uint8_t* name, std::size_t size) const {
    if (slots.empty()) return nullptr;
    const std::size_t mask = slots.size() - 1;
    for (std::size_t i = dns::name_hash(name, size) & mask;; i = (i + 1) & mask) {
        const std::uint32_t slot = slots[i];
        if (slot == 0) return nullptr;
        const Node& node = nodes[slot - 1];
        if (node.name_size == size && std::memcmp(names.data() + node.name_at, name, size) == 0)
            return &node;
    }
}

std::uint32_t Snapshot::answer_for(const Node& n, std::uint16_t qtype) const {
    if (qtype == dns::type::ANY && n.any != kNoAnswer) return n.any;
    for (std::uint32_t i = n.typed_at, end = n.typed_at + n.typed; i < end; ++i)
        if (typed[i].type == qtype) return typed[i].answer;
    return n.other;
}

}  // namespace nolb::zone
