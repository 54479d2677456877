// Real allocation for Ballast. mmap rather than new[]: the pages are plainly the process's own,
// no allocator can hand back memory it cached, and the compiler cannot elide writes to them.
#include "nolb-stats/ballast.hpp"

#include <sys/mman.h>

#include <cstring>
#include <new>

namespace nolb::stats {

Chunk::Chunk(std::size_t bytes) : size_(bytes) {
    data_ = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data_ == MAP_FAILED) {
        data_ = nullptr;
        throw std::bad_alloc();
    }
    // Untouched pages are only address space; writing every byte makes them resident.
    std::memset(data_, 0xa5, bytes);
}

Chunk::Chunk(Chunk&& other) noexcept : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
}

Chunk::~Chunk() {
    if (data_) ::munmap(data_, size_);
}

Ballast::Outcome Ballast::allocate() {
    if (static_cast<unsigned long long>(used_mb_) + chunk_mb_ > limit_mb_)
        return Outcome::over_limit;
    try {
        chunks_.emplace_back(static_cast<std::size_t>(chunk_mb_) << 20);
    } catch (const std::bad_alloc&) {
        return Outcome::mmap_failed;
    }
    used_mb_ += chunk_mb_;
    return Outcome::allocated;
}

}  // namespace nolb::stats
