// Fuzz target: a TCP byte stream through server::FrameBuffer, as a connection reads it.
//
// The first byte chooses the buffer's initial size; the next ones how the rest is cut into
// reads. Checks: the stream fed whole and fed in those pieces yields the same messages and
// stops at the same zero-length frame; every message is non-empty and at most 65535 bytes; the
// messages and what is left pending add up to the stream; the buffer never grows past one
// maximal frame or its initial size; parse_frame agrees with a plain reading of the prefixes.
#include <algorithm>
#include <cstring>
#include <vector>

#include "fuzz.hpp"
#include "server/tcp_framing.hpp"

namespace nolb::fuzz {
namespace {

using server::Frame;
using server::FrameBuffer;
using server::FrameStatus;

struct Outcome {
    std::vector<std::vector<std::uint8_t>> messages;
    bool zero_length = false;
    std::size_t fed = 0;  // bytes of the stream the buffer took
    std::size_t pending = 0;
};

// Feeds `stream`, each read taking at most the next of `cuts` (cycled; 0 means all it can).
Outcome drive(std::size_t initial, std::string_view stream, std::string_view cuts) {
    FrameBuffer buffer(initial);
    Outcome out;
    std::size_t turn = 0;
    const std::size_t limit = std::max(initial, server::kTcpMaxFrame);
    while (out.fed < stream.size()) {
        std::span<std::uint8_t> room = buffer.room();
        require(!room.empty(), "there is room once every message is taken");
        std::size_t want = cuts.empty() ? 0 : static_cast<std::uint8_t>(cuts[turn++ % cuts.size()]);
        std::size_t n = std::min(room.size(), stream.size() - out.fed);
        if (want > 0) n = std::min(n, want);
        std::memcpy(room.data(), stream.data() + out.fed, n);
        buffer.commit(n);
        out.fed += n;
        for (;;) {
            const Frame frame = buffer.next();
            if (frame.status == FrameStatus::incomplete) break;
            if (frame.status == FrameStatus::zero_length) {
                out.zero_length = true;
                out.pending = buffer.pending();
                return out;
            }
            require(!frame.message.empty(), "a message is never empty");
            require(frame.message.size() <= server::kTcpMaxMessage, "a message fits its prefix");
            out.messages.emplace_back(frame.message.begin(), frame.message.end());
        }
        buffer.compact();
        require(buffer.capacity() <= limit, "the buffer holds at most one maximal frame");
    }
    out.pending = buffer.pending();
    return out;
}

// The stream read by hand: what the messages must be.
Outcome expected(std::string_view stream) {
    Outcome out;
    std::size_t at = 0;
    while (stream.size() - at >= 2) {
        const std::size_t length = (std::size_t{static_cast<std::uint8_t>(stream[at])} << 8) |
                                   static_cast<std::uint8_t>(stream[at + 1]);
        if (length == 0) {
            out.zero_length = true;
            break;
        }
        if (stream.size() - at - 2 < length) break;
        const auto* begin = reinterpret_cast<const std::uint8_t*>(stream.data() + at + 2);
        out.messages.emplace_back(begin, begin + length);
        at += 2 + length;
    }
    out.pending = stream.size() - at;
    return out;
}

}  // namespace
}  // namespace nolb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nolb::fuzz;
    Bytes bytes(data, size);
    const std::size_t initial = std::size_t{bytes.byte()} * 16;
    const std::size_t cut_count = bytes.byte() % 16;
    const std::string_view cuts = bytes.take(cut_count);
    const std::string_view stream = bytes.rest();

    const Outcome whole = drive(initial, stream, {});
    const Outcome split = drive(initial, stream, cuts);
    const Outcome truth = expected(stream);
    require(whole.messages == truth.messages, "fed whole, the messages are the stream's");
    require(split.messages == truth.messages, "fed in pieces, the messages are the stream's");
    require(whole.zero_length == truth.zero_length && split.zero_length == truth.zero_length,
            "a zero-length frame is seen wherever the reads are cut");
    if (!truth.zero_length) {
        require(whole.pending == truth.pending && split.pending == truth.pending,
                "what is left pending is the unfinished frame");
    }

    std::size_t consumed = 0;
    const Frame first = nolb::server::parse_frame(
        std::span(reinterpret_cast<const std::uint8_t*>(stream.data()), stream.size()), consumed);
    if (!truth.messages.empty()) {
        require(first.status == FrameStatus::message && consumed == 2 + first.message.size() &&
                    std::equal(first.message.begin(), first.message.end(),
                               truth.messages.front().begin(), truth.messages.front().end()),
                "parse_frame reads the first message");
    } else {
        require(first.status != FrameStatus::message && consumed == 0,
                "parse_frame finds no message where there is none");
    }
    return 0;
}
