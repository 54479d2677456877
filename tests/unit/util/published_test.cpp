// Published<T> hands snapshots from one writer to readers on other threads. These tests run
// real threads against it: every reader sees whole values, in publication order, and ends on the
// last one; a value lives exactly as long as someone reads it. Under ThreadSanitizer
// (-DNOLB_TSAN=ON) they also check that the swap and the refresh are free of data races.
#include "util/published.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace nolb::util {
namespace {

// A value whose two halves must always agree: a torn or half-built read would show.
struct Pair {
    std::uint64_t a;
    std::uint64_t b;
};

// Counts live instances, to see when the last reader lets go of one.
struct Tracked {
    explicit Tracked(std::atomic<int>& live) : live_(live) { ++live_; }
    ~Tracked() { --live_; }
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;
    std::atomic<int>& live_;
};

TEST(Published, ReadersOnOtherThreadsSeeEveryValueWholeInOrderAndEndOnTheLast) {
    constexpr std::uint64_t kValues = 2'000;
    constexpr int kReaders = 3;
    Published<Pair> published(std::make_shared<const Pair>(Pair{0, 0}));
    std::atomic<bool> writer_done{false};
    std::vector<std::uint64_t> torn(kReaders), backwards(kReaders), last(kReaders);
    std::vector<std::thread> readers;
    for (int r = 0; r < kReaders; ++r) {
        readers.emplace_back([&, r] {
            Published<Pair>::Reader reader(published);
            std::uint64_t seen = 0;
            // Bounded: the writer finishes in well under a second; 50 M refreshes is minutes.
            for (int i = 0; i < 50'000'000; ++i) {
                const bool done = writer_done.load(std::memory_order_acquire);
                const Pair& value = reader.refresh();
                if (value.a != value.b) ++torn[r];
                if (value.a < seen) ++backwards[r];
                seen = value.a;
                if (done && seen == kValues) break;
                if (i % 64 == 0) std::this_thread::yield();
            }
            last[r] = seen;
        });
    }
    for (std::uint64_t v = 1; v <= kValues; ++v)
        published.publish(std::make_shared<const Pair>(Pair{v, v}));
    writer_done.store(true, std::memory_order_release);
    for (auto& thread : readers)
        thread.join();
    for (int r = 0; r < kReaders; ++r) {
        EXPECT_EQ(torn[r], 0u) << "reader " << r;
        EXPECT_EQ(backwards[r], 0u) << "reader " << r;
        EXPECT_EQ(last[r], kValues) << "reader " << r;
    }
    EXPECT_EQ(published.generation(), kValues);
}

TEST(Published, ReaderKeepsItsValueUntilItRefreshes) {
    Published<int> published(std::make_shared<const int>(1));
    Published<int>::Reader reader(published);
    published.publish(std::make_shared<const int>(2));
    EXPECT_EQ(reader.value(), 1);
    EXPECT_EQ(*published.get(), 2);
    EXPECT_EQ(reader.refresh(), 2);
    EXPECT_EQ(reader.value(), 2);
}

TEST(Published, OldValueLivesUntilTheLastReaderLetsGoOnItsOwnThread) {
    std::atomic<int> live{0};
    Published<Tracked> published(std::make_shared<const Tracked>(live));
    std::atomic<int> step{0};
    std::thread holder([&] {
        Published<Tracked>::Reader reader(published);
        step.store(1);
        for (int i = 0; i < 10'000 && step.load() != 2; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        reader.refresh();  // lets go of the first value, on this thread
        step.store(3);
        for (int i = 0; i < 10'000 && step.load() != 4; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    for (int i = 0; i < 10'000 && step.load() != 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    published.publish(std::make_shared<const Tracked>(live));
    EXPECT_EQ(live.load(), 2) << "the reader still holds the first value";
    step.store(2);
    for (int i = 0; i < 10'000 && step.load() != 3; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(live.load(), 1) << "the first value died with its last reader's refresh";
    step.store(4);
    holder.join();
}

}  // namespace
}  // namespace nolb::util
