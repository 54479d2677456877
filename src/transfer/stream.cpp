#include "transfer/stream.hpp"

#include <cstring>

#include "dns/types.hpp"
#include "dns/wire.hpp"

namespace nolb::transfer {

MessageStream::MessageStream(const Request& request, std::vector<std::string_view> runs,
                             std::vector<std::shared_ptr<const void>> keep)
    : runs_(std::move(runs)),
      keep_(std::move(keep)),
      id_(request.id),
      flags_(request.flags),
      question_(request.question.begin(), request.question.end()) {
    if (request.signing) {
        request_mac_ = request.signing->request_mac;
        signer_.emplace(*request.signing->key, request_mac_, request.signing->now);
    }
}

std::uint16_t MessageStream::fill(std::vector<std::uint8_t>& message) {
    std::uint16_t count = 0;
    const std::size_t limit = message.size() + kMessageRecords;
    while (run_ < runs_.size()) {
        const std::string_view run = runs_[run_];
        if (offset_ == run.size()) {
            ++run_;
            offset_ = 0;
            continue;
        }
        const std::size_t size = zone::record_size(run, offset_);
        if (count > 0 && message.size() + size > limit) break;
        message.insert(message.end(), run.begin() + static_cast<std::ptrdiff_t>(offset_),
                       run.begin() + static_cast<std::ptrdiff_t>(offset_ + size));
        offset_ += size;
        ++count;
    }
    return count;
}

std::size_t MessageStream::next(std::span<std::uint8_t> out) {
    if (!first_ && run_ == runs_.size()) return 0;
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

MessageStream axfr(const Request& request, const zone::Snapshot& snapshot, std::uint32_t zone) {
    std::shared_ptr<const zone::Image> image = snapshot.zones.at(zone).image;
    std::vector<std::string_view> runs{image->soa};
    for (const zone::Block& block : image->blocks)
        runs.emplace_back(*block);
    runs.emplace_back(image->soa);
    return MessageStream(request, std::move(runs), {std::move(image)});
}

MessageStream ixfr(const Request& request, const zone::Snapshot& snapshot, std::uint32_t zone,
                   std::vector<std::shared_ptr<const Delta>> deltas) {
    std::shared_ptr<const zone::Image> image = snapshot.zones.at(zone).image;
    std::vector<std::string_view> runs{image->soa};
    std::vector<std::shared_ptr<const void>> keep{image};
    for (const std::shared_ptr<const Delta>& d : deltas) {
        runs.insert(runs.end(), {d->from_soa, d->deleted, d->to_soa, d->added});
        keep.push_back(d);
    }
    if (!deltas.empty()) runs.emplace_back(image->soa);
    return MessageStream(request, std::move(runs), std::move(keep));
}

}  // namespace nolb::transfer
