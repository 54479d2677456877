#include "transfer/journal.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace nolb::transfer {

namespace {

// The records of the blocks one image holds and the other does not, each counted.
using Counted = std::unordered_map<std::string_view, int>;

void count_unshared(const zone::Image& image, const zone::Image& other, Counted& out, int sign) {
    for (const zone::Block& block : image.blocks) {
        if (std::find(other.blocks.begin(), other.blocks.end(), block) != other.blocks.end())
            continue;
        zone::for_each_record(*block, [&](std::string_view record) { out[record] += sign; });
    }
}

}  // namespace

Delta diff(const zone::Image& before, const zone::Image& after) {
    Delta d;
    d.from = before.serial;
    d.to = after.serial;
    d.from_soa = before.soa;
    d.to_soa = after.soa;
    // Blocks are compared by position first: a zone's blocks keep their order (static, then
    // each service), so the usual change is a few positions whose pointers differ.
    Counted balance;
    if (before.blocks.size() == after.blocks.size()) {
        for (std::size_t i = 0; i < before.blocks.size(); ++i) {
            if (before.blocks[i] == after.blocks[i]) continue;
            zone::for_each_record(*before.blocks[i],
                                  [&](std::string_view record) { --balance[record]; });
            zone::for_each_record(*after.blocks[i],
                                  [&](std::string_view record) { ++balance[record]; });
        }
    } else {
        count_unshared(before, after, balance, -1);
        count_unshared(after, before, balance, +1);
    }
    for (const auto& [record, count] : balance) {
        for (int i = count; i < 0; ++i) {
            d.deleted += record;
            ++d.deleted_count;
        }
        for (int i = 0; i < count; ++i) {
            d.added += record;
            ++d.added_count;
        }
    }
    return d;
}

void Journal::record(const zone::Image& before, const zone::Image& after) {
    if (before.serial == after.serial) return;
    if (!deltas_.empty() && deltas_.back()->to != before.serial) {
        deltas_.clear();
        bytes_ = 0;
    }
    auto delta = std::make_shared<const Delta>(diff(before, after));
    bytes_ += delta->bytes();
    deltas_.push_back(std::move(delta));
    trim();
}

void Journal::trim() {
    while (!deltas_.empty() && (deltas_.size() > max_deltas_ || bytes_ > max_bytes_)) {
        bytes_ -= deltas_.front()->bytes();
        deltas_.pop_front();
    }
}

void Journal::adopt(const Journal& older) {
    deltas_ = older.deltas_;
    bytes_ = older.bytes_;
    trim();
}

std::vector<std::shared_ptr<const Delta>> Journal::since(std::uint32_t serial) const {
    auto first = std::find_if(deltas_.begin(), deltas_.end(),
                              [serial](const auto& d) { return d->from == serial; });
    return {first, deltas_.end()};
}

}  // namespace nolb::transfer
