#include "transfer/axfr.hpp"

#include <cstring>

#include "dns/types.hpp"
#include "dns/wire.hpp"

namespace nolb::transfer {

AxfrStream::AxfrStream(std::shared_ptr<const zone::Snapshot> snapshot, std::uint32_t zone,
                       std::uint16_t id, std::uint16_t flags,
                       std::span<const std::uint8_t> question, std::optional<Signing> signing)
    : snapshot_(std::move(snapshot)),
      image_(snapshot_->zones.at(zone).image),
      id_(id),
      flags_(flags),
      question_(question.begin(), question.end()) {
    if (signing) {
        request_mac_ = std::move(signing->request_mac);
        signer_.emplace(*signing->key, request_mac_, signing->now);
    }
}

std::uint16_t AxfrStream::fill(std::vector<std::uint8_t>& message) {
    std::uint16_t count = 0;
    const std::size_t limit = message.size() + kMessageRecords;
    auto add = [&](std::string_view record) {
        if (count > 0 && message.size() + record.size() > limit) return false;
        message.insert(message.end(), record.begin(), record.end());
        ++count;
        return true;
    };
    const auto blocks = static_cast<std::ptrdiff_t>(image_->blocks.size());
    while (!done_) {
        if (block_ < 0 || block_ == blocks) {
            if (!add(image_->soa)) break;
            done_ = block_ == blocks;
            ++block_;
            continue;
        }
        const std::string& block = *image_->blocks[static_cast<std::size_t>(block_)];
        if (offset_ == block.size()) {
            ++block_;
            offset_ = 0;
            continue;
        }
        const std::size_t size = zone::record_size(block, offset_);
        if (!add(std::string_view(block).substr(offset_, size))) break;
        offset_ += size;
    }
    return count;
}

std::size_t AxfrStream::next(std::span<std::uint8_t> out) {
    if (done_) return 0;
    std::vector<std::uint8_t> message;
    message.reserve(dns::kHeaderSize + question_.size() + kMessageRecords + 1024);
    message.resize(dns::kHeaderSize);
    dns::store16(message.data(), id_);
    dns::store16(message.data() + 2, static_cast<std::uint16_t>(dns::flag::QR | dns::flag::AA |
                                                                (flags_ & dns::flag::RD)));
    if (first_) {
        dns::store16(message.data() + 4, 1);
        message.insert(message.end(), question_.begin(), question_.end());
    }
    first_ = false;
    dns::store16(message.data() + 6, fill(message));
    if (signer_) signer_->sign(message);
    if (message.size() > out.size()) return 0;  // cannot happen: records are at most 65,535
    std::memcpy(out.data(), message.data(), message.size());
    return message.size();
}

}  // namespace nolb::transfer
