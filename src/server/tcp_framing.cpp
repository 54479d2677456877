// The length-prefixed framing of DNS over TCP, free of sockets and events.
#include "server/tcp_framing.hpp"

#include <algorithm>
#include <cstring>

namespace nolb::server {
namespace {

std::size_t frame_length(const std::uint8_t* prefix) {
    return (std::size_t{prefix[0]} << 8) | prefix[1];
}

}  // namespace

Frame parse_frame(std::span<const std::uint8_t> input, std::size_t& consumed) {
    consumed = 0;
    if (input.size() < 2) return {};
    const std::size_t length = frame_length(input.data());
    if (length == 0) return {FrameStatus::zero_length, {}};
    if (input.size() - 2 < length) return {};
    consumed = 2 + length;
    return {FrameStatus::message, input.subspan(2, length)};
}

FrameBuffer::FrameBuffer(std::size_t initial)
    : initial_(std::clamp<std::size_t>(initial, 2, kTcpMaxFrame)), data_(initial_) {}

void FrameBuffer::commit(std::size_t count) {
    length_ += std::min(count, data_.size() - length_);
}

Frame FrameBuffer::next() {
    std::size_t consumed = 0;
    Frame frame = parse_frame(std::span(data_).subspan(position_, length_ - position_), consumed);
    position_ += consumed;
    return frame;
}

void FrameBuffer::compact() {
    if (position_ > 0) {
        std::memmove(data_.data(), data_.data() + position_, length_ - position_);
        length_ -= position_;
        position_ = 0;
    }
    if (length_ >= 2) {
        const std::size_t needed = 2 + frame_length(data_.data());
        if (data_.size() < needed) data_.resize(needed);
    }
}

void FrameBuffer::reset() {
    length_ = 0;
    position_ = 0;
    if (data_.size() > initial_) {
        data_.resize(initial_);
        data_.shrink_to_fit();
    }
}

}  // namespace nolb::server
