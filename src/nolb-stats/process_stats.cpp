// Reading /proc for ProcessSampler. The files are tiny; reading them twice a second is cheaper
// than any bookkeeping that could replace it.
#include "nolb-stats/process_stats.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>

namespace nolb::stats {
namespace {

std::string read_small_file(const char* path) {
    std::string out;
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[1024];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

}  // namespace

ProcessSampler::ProcessSampler()
    : last_time_(std::chrono::steady_clock::now()),
      ticks_per_second_(static_cast<double>(::sysconf(_SC_CLK_TCK))),
      page_size_(static_cast<double>(::sysconf(_SC_PAGESIZE))) {
    if (auto ticks = parse_stat_cpu_ticks(read_small_file("/proc/self/stat"))) last_ticks_ = *ticks;
    sample_rss();
}

const ProcessSample& ProcessSampler::sample_rss() {
    if (auto pages = parse_statm_resident_pages(read_small_file("/proc/self/statm")))
        latest_.rss_mb = static_cast<double>(*pages) * page_size_ / (1024.0 * 1024.0);
    return latest_;
}

const ProcessSample& ProcessSampler::sample() {
    auto now = std::chrono::steady_clock::now();
    sample_rss();
    if (auto ticks = parse_stat_cpu_ticks(read_small_file("/proc/self/stat"))) {
        double seconds = std::chrono::duration<double>(now - last_time_).count();
        if (seconds > 0 && *ticks >= last_ticks_) {
            double cpu_seconds = static_cast<double>(*ticks - last_ticks_) / ticks_per_second_;
            latest_.cpu_percent = 100.0 * cpu_seconds / seconds;
        }
        last_ticks_ = *ticks;
        last_time_ = now;
    }
    return latest_;
}

}  // namespace nolb::stats
