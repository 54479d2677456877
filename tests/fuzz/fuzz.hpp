// What every fuzz target shares: the libFuzzer entry point's signature, a check that stops the
// run with a message when an invariant fails (libFuzzer then saves the input as a crash), and
// where the targets' data files live. A target is a plain function of bytes, so the same source
// is a libFuzzer binary (NOLB_FUZZ) and, linked with replay.cpp, a program that runs a corpus.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace nolb::fuzz {

// Stops the process, naming the invariant that failed. abort() is what libFuzzer and ctest both
// recognise as a crash, and it leaves the input that caused it to be minimised.
[[noreturn]] inline void fail(std::string_view invariant, std::string_view detail = {}) {
    std::fprintf(stderr, "fuzz: invariant failed: %.*s%s%.*s\n", static_cast<int>(invariant.size()),
                 invariant.data(), detail.empty() ? "" : ": ", static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
}

inline void require(bool holds, std::string_view invariant, std::string_view detail = {}) {
    if (!holds) fail(invariant, detail);
}

// tests/fuzz/data: the configurations and zone files the targets load at start.
inline std::string data_path(std::string_view file) {
    return std::string(NOLB_FUZZ_DATA_DIR) + "/" + std::string(file);
}

// Reads the input a byte at a time, for targets whose first bytes choose how the rest is used.
// Past the end it yields zeros, so every input means something.
class Bytes {
  public:
    Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    std::uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
    std::string_view take(std::size_t n) {
        n = n < size_ - at_ ? n : size_ - at_;
        std::string_view out(reinterpret_cast<const char*>(data_ + at_), n);
        at_ += n;
        return out;
    }
    std::string_view rest() { return take(size_ - at_); }

  private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t at_ = 0;
};

}  // namespace nolb::fuzz
