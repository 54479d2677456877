// The TCP framing as a pure data structure: bytes in, whole messages out, in any split.
#include "server/tcp_framing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace nolb::server {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes framed(std::size_t length, std::uint8_t fill) {
    Bytes out{static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
    out.insert(out.end(), length, fill);
    return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& part : parts)
        out.insert(out.end(), part.begin(), part.end());
    return out;
}

// Feeds `input` in pieces of `piece` bytes, as reads would, and collects what comes out;
// "zero" stands for a zero-length frame, after which nothing more is read.
std::vector<Bytes> drive(FrameBuffer& buffer, const Bytes& input, std::size_t piece) {
    std::vector<Bytes> out;
    std::size_t at = 0;
    while (at < input.size()) {
        auto room = buffer.room();
        if (room.empty()) {
            ADD_FAILURE() << "no room though every message was taken";
            return out;
        }
        std::size_t n = std::min({room.size(), piece, input.size() - at});
        std::memcpy(room.data(), input.data() + at, n);
        buffer.commit(n);
        at += n;
        for (;;) {
            Frame frame = buffer.next();
            if (frame.status == FrameStatus::incomplete) break;
            if (frame.status == FrameStatus::zero_length) {
                out.push_back({'z', 'e', 'r', 'o'});
                return out;
            }
            out.emplace_back(frame.message.begin(), frame.message.end());
        }
        buffer.compact();
    }
    return out;
}

TEST(TcpFraming, ParseFrameAlone) {
    std::size_t consumed = 99;
    Bytes input = framed(3, 'a');
    EXPECT_EQ(parse_frame(std::span(input).first(1), consumed).status, FrameStatus::incomplete);
    EXPECT_EQ(consumed, 0u);
    EXPECT_EQ(parse_frame(std::span(input).first(4), consumed).status, FrameStatus::incomplete);
    Frame frame = parse_frame(input, consumed);
    ASSERT_EQ(frame.status, FrameStatus::message);
    EXPECT_EQ(frame.message.size(), 3u);
    EXPECT_EQ(consumed, 5u);
    Bytes zero{0, 0, 7};
    EXPECT_EQ(parse_frame(zero, consumed).status, FrameStatus::zero_length);
    EXPECT_EQ(consumed, 0u);
}

TEST(TcpFraming, PipelinedMessagesInAnySplit) {
    const Bytes input = concat(
        {framed(1, 'a'), framed(300, 'b'), framed(12, 'c'), framed(2000, 'd'), framed(5, 'e')});
    const std::vector<Bytes> expected{Bytes(1, 'a'), Bytes(300, 'b'), Bytes(12, 'c'),
                                      Bytes(2000, 'd'), Bytes(5, 'e')};
    for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7},
                              std::size_t{1000}, input.size()}) {
        FrameBuffer buffer(64);
        EXPECT_EQ(drive(buffer, input, piece), expected) << "pieces of " << piece;
        EXPECT_EQ(buffer.pending(), 0u);
    }
}

TEST(TcpFraming, ZeroLengthIsAnError) {
    FrameBuffer buffer;
    const Bytes input = concat({framed(4, 'a'), Bytes{0, 0}, framed(4, 'b')});
    const std::vector<Bytes> expected{Bytes(4, 'a'), Bytes{'z', 'e', 'r', 'o'}};
    EXPECT_EQ(drive(buffer, input, input.size()), expected);
}

TEST(TcpFraming, GrowsForTheLargestMessageAndShrinksOnReset) {
    FrameBuffer buffer(512);
    const Bytes input = framed(kTcpMaxMessage, 'x');
    auto out = drive(buffer, input, 4096);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].size(), kTcpMaxMessage);
    EXPECT_EQ(buffer.capacity(), kTcpMaxFrame);
    buffer.reset();
    EXPECT_EQ(buffer.capacity(), 512u);
    EXPECT_EQ(buffer.pending(), 0u);
}

TEST(TcpFraming, PartialMessageStaysPending) {
    FrameBuffer buffer(16);
    const Bytes input = framed(40, 'p');
    auto room = buffer.room();
    std::memcpy(room.data(), input.data(), 10);
    buffer.commit(10);
    EXPECT_EQ(buffer.next().status, FrameStatus::incomplete);
    buffer.compact();
    EXPECT_EQ(buffer.pending(), 10u);
    EXPECT_EQ(buffer.capacity(), 42u);  // room for the whole frame now that its length is known
    EXPECT_EQ(buffer.room().size(), 32u);
}

// Messages not yet taken (held back by the caller) leave no room: reading stops.
TEST(TcpFraming, FullOfMessagesLeavesNoRoom) {
    FrameBuffer buffer(8);
    const Bytes input = concat({framed(2, 'a'), framed(2, 'b')});
    auto room = buffer.room();
    std::memcpy(room.data(), input.data(), input.size());
    buffer.commit(input.size());
    EXPECT_TRUE(buffer.room().empty());
    EXPECT_EQ(buffer.next().status, FrameStatus::message);
    buffer.compact();
    EXPECT_EQ(buffer.room().size(), 4u);
    buffer.commit(100);  // more than the room: only the room counts
    EXPECT_EQ(buffer.pending(), 8u);
}

}  // namespace
}  // namespace nolb::server
