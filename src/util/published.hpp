// Published<T>: one writer hands immutable values to many readers without making them wait.
// The writer swaps in a new shared_ptr and bumps a generation counter; each reader keeps its own
// Reader with a cached pointer and only takes the (rarely contended) lock when the generation
// has moved, so the per-packet cost is one atomic load. Old values die when the last reader
// lets go of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace nolb::util {

template <typename T>
class Published {
  public:
    explicit Published(std::shared_ptr<const T> initial) : current_(std::move(initial)) {}

    void publish(std::shared_ptr<const T> next) {
        {
            std::lock_guard lock(mutex_);
            current_ = std::move(next);
        }
        generation_.fetch_add(1, std::memory_order_release);
    }

    std::shared_ptr<const T> get() const {
        std::lock_guard lock(mutex_);
        return current_;
    }

    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

    // A reader's own view: refresh() once per batch, then use the reference freely.
    class Reader {
      public:
        explicit Reader(const Published& source)
            : source_(source), generation_(source.generation()), value_(source.get()) {}

        const T& refresh() {
            std::uint64_t now = source_.generation();
            if (now != generation_) {
                value_ = source_.get();
                generation_ = now;
            }
            return *value_;
        }
        const T& value() const { return *value_; }

      private:
        const Published& source_;
        std::uint64_t generation_;
        std::shared_ptr<const T> value_;
    };

  private:
    mutable std::mutex mutex_;
    std::shared_ptr<const T> current_;
    std::atomic<std::uint64_t> generation_{0};
};

}  // namespace nolb::util
