// DNS over TCP framing (RFC 1035 4.2.2, RFC 7766 8): each message follows a two-byte length in
// network order. FrameBuffer is the input side of one connection as a pure data structure, so
// the connection code and a fuzzer drive the same bytes through the same logic: read into
// room(), commit() what arrived, take whole messages with next() until it says incomplete, then
// compact() before reading again. It allocates only when a message longer than the buffer has
// begun to arrive, and never holds more than one maximal frame beyond its initial size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace nolb::server {

inline constexpr std::size_t kTcpMaxMessage = 65535;
inline constexpr std::size_t kTcpMaxFrame = 2 + kTcpMaxMessage;

enum class FrameStatus {
    message,      // a whole message (never empty)
    incomplete,   // more bytes are needed
    zero_length,  // a zero length prefix: no DNS message is empty, so the stream is broken
};

struct Frame {
    FrameStatus status = FrameStatus::incomplete;
    std::span<const std::uint8_t>
        message;  // the message without its prefix, when status is message
};

// The first frame of `input`, without state: what next() applies at its position. `consumed` is
// set to the bytes the frame takes (prefix included) when it is a message, else 0.
Frame parse_frame(std::span<const std::uint8_t> input, std::size_t& consumed);

class FrameBuffer {
  public:
    explicit FrameBuffer(std::size_t initial = 1024);

    // Where the next read may go; empty when the buffer is full of messages not yet taken.
    std::span<std::uint8_t> room() { return std::span(data_).subspan(length_); }
    // `count` bytes were written at the start of room().
    void commit(std::size_t count);
    // The next frame after those already taken. A message stays valid until compact() or reset().
    Frame next();
    // Forgets the messages taken and makes room for the whole of a long message that has only
    // begun to arrive.
    void compact();
    // Drops everything; a buffer grown for a long message shrinks back to its initial size.
    void reset();

    // Bytes committed and not yet taken as messages.
    std::size_t pending() const { return length_ - position_; }
    std::size_t capacity() const { return data_.size(); }

  private:
    std::size_t initial_;
    std::vector<std::uint8_t> data_;  // its size is the room to read into
    std::size_t length_ = 0;          // bytes committed
    std::size_t position_ = 0;        // bytes taken by next()
};

}  // namespace nolb::server
