// Bounds-checked reading and writing of DNS wire data. Untrusted bytes are read with a Reader
// whose error is sticky: every read past the end yields zero and sets failed(), and callers
// check once when they are done instead of after every field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace nolb::dns {

inline std::uint16_t load16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           p[3];
}
inline void store16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
inline void store32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

class Reader {
  public:
    Reader(const std::uint8_t* data, std::size_t size, std::size_t pos = 0)
        : data_(data), size_(size), pos_(pos), failed_(pos > size) {}

    std::uint8_t u8() { return available(1) ? data_[pos_++] : 0; }
    std::uint16_t u16() {
        if (!available(2)) return 0;
        std::uint16_t v = load16(data_ + pos_);
        pos_ += 2;
        return v;
    }
    std::uint32_t u32() {
        if (!available(4)) return 0;
        std::uint32_t v = load32(data_ + pos_);
        pos_ += 4;
        return v;
    }
    void skip(std::size_t n) {
        if (available(n)) pos_ += n;
    }
    // Marks the reader failed from outside, for structural errors found by the caller.
    void fail() { failed_ = true; }

    bool failed() const { return failed_; }
    std::size_t pos() const { return pos_; }
    std::size_t remaining() const { return failed_ ? 0 : size_ - pos_; }
    const std::uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }

  private:
    bool available(std::size_t n) {
        if (failed_ || n > size_ - pos_) {
            failed_ = true;
            return false;
        }
        return true;
    }

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_;
    bool failed_;
};

}  // namespace nolb::dns
