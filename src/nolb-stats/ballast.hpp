// The memory a site eats on purpose. Each POST /malloc adds one chunk: a real anonymous mapping
// with every page written, so the process's RSS grows the way a leaking server's would, and a
// count of "pseudo-memory" that the limit and the degrade threshold apply to. Keeping the count
// separate from RSS makes the demonstration predictable: the crash comes after a known number of
// clicks whatever the allocator, the kernel or the sanitizers add on top.
#pragma once

#include <cstddef>
#include <vector>

namespace nolb::stats {

// One anonymous private mapping, unmapped when dropped.
class Chunk {
  public:
    explicit Chunk(std::size_t bytes);  // throws std::bad_alloc when mmap fails
    Chunk(Chunk&& other) noexcept;
    Chunk& operator=(Chunk&&) = delete;
    Chunk(const Chunk&) = delete;
    ~Chunk();

  private:
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

class Ballast {
  public:
    Ballast(unsigned limit_mb, unsigned chunk_mb, unsigned degrade_at_percent)
        : limit_mb_(limit_mb), chunk_mb_(chunk_mb), degrade_at_percent_(degrade_at_percent) {}

    enum class Outcome { allocated, over_limit, mmap_failed };
    // Adds one chunk, unless that would take the count past the limit.
    Outcome allocate();

    unsigned used_mb() const { return used_mb_; }
    unsigned limit_mb() const { return limit_mb_; }
    unsigned chunk_mb() const { return chunk_mb_; }
    unsigned degrade_at_percent() const { return degrade_at_percent_; }
    // Reaching the threshold, not passing it: "--degrade-at 80" means degraded at 80 %.
    bool degraded() const {
        return static_cast<unsigned long long>(used_mb_) * 100 >=
               static_cast<unsigned long long>(limit_mb_) * degrade_at_percent_;
    }

  private:
    unsigned limit_mb_;
    unsigned chunk_mb_;
    unsigned degrade_at_percent_;
    unsigned used_mb_ = 0;
    std::vector<Chunk> chunks_;
};

}  // namespace nolb::stats
