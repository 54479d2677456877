// The differences between a zone's published serials, for IXFR (RFC 1995): each Delta deletes
// the records of the older image that the newer lacks and adds those the older lacked. A Delta
// is made from two Images by comparing their blocks: a block both hold (the same pointer) is
// skipped unread, so a health change costs the records of the services it changed. The journal
// keeps the newest deltas within a count and a byte cap; a secondary whose serial it no longer
// reaches gets the whole zone instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "zone/image.hpp"

namespace nolb::transfer {

struct Delta {
    std::uint32_t from = 0, to = 0;  // serials
    std::string from_soa, to_soa;    // the SOA records with those serials
    std::string deleted, added;      // whole records, back to back
    std::size_t deleted_count = 0, added_count = 0;

    std::size_t bytes() const {
        return from_soa.size() + to_soa.size() + deleted.size() + added.size();
    }
};

// What changed from `before` to `after`, two images of one zone.
Delta diff(const zone::Image& before, const zone::Image& after);

class Journal {
  public:
    Journal(std::size_t max_deltas, std::size_t max_bytes)
        : max_deltas_(max_deltas), max_bytes_(max_bytes) {}

    // Adds the change from `before` to `after` (nothing when their serials are equal), then drops
    // the oldest deltas past either cap. A delta that does not follow the newest (a reload that
    // changed the zone's data) clears the journal first: only a chain can be served.
    void record(const zone::Image& before, const zone::Image& after);

    // Takes the deltas of `older` (the same zone's journal before a reload), within this
    // journal's caps.
    void adopt(const Journal& older);

    // The deltas from `serial` to the newest, in order; empty when the journal does not reach
    // back to `serial` (or holds nothing newer).
    std::vector<std::shared_ptr<const Delta>> since(std::uint32_t serial) const;

    std::size_t size() const { return deltas_.size(); }
    std::size_t bytes() const { return bytes_; }

  private:
    void trim();  // drops the oldest deltas past either cap

    std::size_t max_deltas_, max_bytes_;
    std::deque<std::shared_ptr<const Delta>> deltas_;
    std::size_t bytes_ = 0;
};

}  // namespace nolb::transfer
