// libevent takes its timeouts as timevals; the comparison counts in std::chrono durations.
#pragma once

#include <sys/time.h>

#include <algorithm>
#include <chrono>

namespace nolb::compare {

// A duration as libevent takes it, to the microsecond; a negative one is zero.
template <class Rep, class Period>
timeval to_timeval(std::chrono::duration<Rep, Period> d) {
    const long long us =
        std::max<long long>(0, std::chrono::duration_cast<std::chrono::microseconds>(d).count());
    return timeval{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
}

}  // namespace nolb::compare
