// Fuzz target: an HTTP response, as a backend could send it to a health probe, through
// health::HttpReader in two ways: in one piece, and split at points the input chooses, as reads
// from a socket split it. The probe never feeds more than kMaxResponseBytes in all; neither
// does this target.
//
// Input: one byte of settings (bits 0-3: the length of the expected body, read next; bits 4-5:
// which accepted status list; bit 6: whether the peer closes at the end), the expected body, one
// byte that chooses the split, then the response.
//
// Checks: the verdict (outcome and status) does not depend on the split; a reader that has
// read kMaxResponseBytes has judged; one that is told of the close has judged; an ok verdict
// has an accepted status and a `status` failure an unaccepted one; and, counted through the
// global allocator, the reader never holds more memory than its line and body-window caps allow.
#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "fuzz.hpp"
#include "health/probe.hpp"

namespace {

// Heap bytes live on this thread, counted by the replaced operators below.
thread_local std::int64_t g_live_bytes = 0;

void* allocate(std::size_t size, std::size_t alignment) {
    void* p = alignment <= alignof(std::max_align_t)
                  ? std::malloc(size ? size : 1)
                  : std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
    if (!p) throw std::bad_alloc();
    g_live_bytes += static_cast<std::int64_t>(malloc_usable_size(p));
    return p;
}

void release(void* p) noexcept {
    if (!p) return;
    g_live_bytes -= static_cast<std::int64_t>(malloc_usable_size(p));
    std::free(p);
}

}  // namespace

void* operator new(std::size_t n) {
    return allocate(n, 0);
}
void* operator new[](std::size_t n) {
    return allocate(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a) {
    return allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return allocate(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n, 0);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n, 0);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept {
    release(p);
}
void operator delete[](void* p) noexcept {
    release(p);
}
void operator delete(void* p, std::size_t) noexcept {
    release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    release(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    release(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    release(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    release(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    release(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    release(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    release(p);
}

namespace nolb::fuzz {
namespace {

using health::HttpReader;
using health::kMaxLineBytes;
using health::kMaxResponseBytes;

const std::vector<config::StatusRange>& status_list(int which) {
    static const std::vector<config::StatusRange> lists[] = {
        {{200, 299}},
        {{200, 200}},
        {{200, 299}, {404, 404}},
        {{100, 599}},
    };
    return lists[which];
}

struct Verdict {
    health::Outcome outcome;
    int http_status;
};

// What a reader may hold: its current line (a string grown by doubling up to the line cap), the
// body window, and the verdict's short detail text.
std::int64_t memory_cap(std::size_t expected_body) {
    return static_cast<std::int64_t>(2 * kMaxLineBytes + 2 * expected_body + 1024);
}

// Feeds `response` in pieces of the sizes `next_size` draws, as the probe does: never past
// kMaxResponseBytes, never after the verdict; then the peer's close, when `closes`.
template <typename NextSize>
Verdict read(const std::vector<config::StatusRange>& status, std::string_view body,
             std::string_view response, bool closes, NextSize next_size) {
    const std::int64_t before = g_live_bytes;
    HttpReader reader(status, body);
    std::size_t fed = 0;
    while (!reader.judged() && fed < response.size() && reader.bytes_read() < kMaxResponseBytes) {
        std::size_t n = std::min(next_size(), response.size() - fed);
        n = std::min(n, kMaxResponseBytes - reader.bytes_read());
        const bool judged = reader.feed(response.substr(fed, n));
        fed += n;
        require(judged == reader.judged(), "feed returns whether the response is judged");
        require(reader.bytes_read() == fed, "bytes_read counts what was fed");
        require(g_live_bytes - before <= memory_cap(body.size()),
                "the reader holds no more than its caps",
                std::to_string(g_live_bytes - before) + " bytes");
    }
    if (reader.bytes_read() >= kMaxResponseBytes)
        require(reader.judged(), "a response is judged within kMaxResponseBytes");
    if (closes) {
        reader.end();
        require(reader.judged(), "the peer's close brings a verdict");
    }
    if (!reader.judged()) return {health::Outcome::error, -1};  // still waiting for bytes
    const health::ProbeResult& r = reader.result();
    const bool accepted = std::any_of(status.begin(), status.end(), [&](const auto& range) {
        return r.http_status >= range.low && r.http_status <= range.high;
    });
    if (r.outcome == health::Outcome::ok) require(accepted, "an ok verdict has an accepted status");
    if (r.outcome == health::Outcome::status)
        require(!accepted, "a status failure has an unaccepted status");
    require(!r.detail.empty(), "a verdict says why");
    return {r.outcome, r.http_status};
}

}  // namespace
}  // namespace nolb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nolb;
    using namespace nolb::fuzz;
    Bytes in(data, size);
    const std::uint8_t settings = in.byte();
    const std::string body(in.take(settings & 0x0f));
    const auto& status = status_list((settings >> 4) & 3);
    const bool closes = (settings & 0x40) != 0;
    const std::uint8_t split = in.byte();
    const std::string_view response = in.rest();

    const Verdict whole = read(status, body, response, closes, [] { return kMaxResponseBytes; });
    // Small seeds split into pieces of 1..16 bytes, large ones into pieces of up to 4 KiB.
    std::uint32_t state = split * 2654435761u + 1;
    const std::uint32_t largest = split < 128 ? split % 16 + 1 : (split - 127u) * 32;
    const Verdict pieces = read(status, body, response, closes, [&] {
        state = state * 1103515245u + 12345u;
        return std::size_t{(state >> 16) % largest + 1};
    });
    require(whole.outcome == pieces.outcome && whole.http_status == pieces.http_status,
            "the verdict does not depend on how the response is split",
            health::outcome_name(whole.outcome) + std::string(" vs ") +
                health::outcome_name(pieces.outcome));
    return 0;
}
