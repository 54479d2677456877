// The real cost of this process, as the kernel counts it: resident memory from /proc/self/statm
// and CPU time from /proc/self/stat, turned into a percentage over the interval between two
// samples. The server samples on its tick; events and /stats report the latest sample. The
// parsers are inline and pure so unit tests can feed them text without a process to watch.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace nolb::stats {

// utime + stime, in clock ticks. The command name (field 2) is in parentheses and may hold
// spaces or parentheses itself, so fields are counted from the last ')'.
inline std::optional<std::uint64_t> parse_stat_cpu_ticks(std::string_view stat) {
    auto close = stat.rfind(')');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = stat.substr(close + 1);
    // After ')': field 3 (state) is the first; utime and stime are fields 14 and 15.
    std::uint64_t total = 0;
    int field = 2;
    std::size_t pos = 0;
    while (field < 15) {
        while (pos < rest.size() && rest[pos] == ' ')
            ++pos;
        if (pos >= rest.size()) return std::nullopt;
        std::size_t end = rest.find(' ', pos);
        if (end == std::string_view::npos) end = rest.size();
        ++field;
        if (field == 14 || field == 15) {
            std::uint64_t value = 0;
            auto [ptr, ec] = std::from_chars(rest.data() + pos, rest.data() + end, value);
            if (ec != std::errc() || ptr != rest.data() + end) return std::nullopt;
            total += value;
        }
        pos = end;
    }
    return total;
}

// The second field of statm: resident pages.
inline std::optional<std::uint64_t> parse_statm_resident_pages(std::string_view statm) {
    auto space = statm.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    std::string_view rest = statm.substr(space + 1);
    std::uint64_t pages = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pages);
    if (ec != std::errc() || ptr == rest.data()) return std::nullopt;
    return pages;
}

struct ProcessSample {
    double rss_mb = 0;
    double cpu_percent = 0;  // of one CPU, over the interval since the previous sample
};

class ProcessSampler {
  public:
    ProcessSampler();
    // Reads /proc again; a read that fails keeps the previous figures.
    const ProcessSample& sample();
    // Only the resident size, leaving the CPU interval running: for a reply right after an
    // allocation, which should show the new RSS.
    const ProcessSample& sample_rss();
    const ProcessSample& latest() const { return latest_; }

  private:
    ProcessSample latest_;
    std::uint64_t last_ticks_ = 0;
    std::chrono::steady_clock::time_point last_time_;
    double ticks_per_second_;
    double page_size_;
};

}  // namespace nolb::stats
