// A counter with a single writer that any thread may read: the writer's increment is a relaxed
// load and store (no read-modify-write, so it costs what a plain increment does), readers load
// relaxed. Per-worker counters are made of these and summed only when someone asks.
#pragma once

#include <atomic>
#include <cstdint>

namespace nolb::util {

class Count {
  public:
    void add(std::uint64_t n = 1) {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

}  // namespace nolb::util
