// What nolbd has seen of each secondary: per zone and client address, its last transfer request,
// the serial it said it held (IXFR) and the serial it was sent. `nolbctl status` shows it, and
// `check` compares it with the zone's serial to find a secondary that fell behind. Workers write
// here only when they serve a transfer (a few a minute), so a mutex costs nothing that matters;
// the answering path never comes here.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace nolb::transfer {

struct SecondaryRecord {
    std::string zone;     // origin, as configured ("demo.test.")
    std::string address;  // the client's address
    std::string last;     // what the last request got: axfr, ixfr, up_to_date, refused
    double last_at = 0;   // when, in seconds since the epoch
    bool held_known = false;
    std::uint32_t held = 0;  // the serial its last IXFR said it held
    bool sent_known = false;
    std::uint32_t sent = 0;  // the serial its last transfer (or SOA-alone answer) carried
    std::uint64_t requests = 0;
};

class Secondaries {
  public:
    // Records a request for `zone` from `address`; `held` and `sent` when known.
    void note(const std::string& zone, const std::string& address, const char* last, double at,
              const std::uint32_t* held, const std::uint32_t* sent);

    // Every secondary seen, by zone then address.
    std::vector<SecondaryRecord> list() const;

    // Beyond this many secondaries, the one heard from longest ago is forgotten: a scan from
    // many addresses must not grow the daemon.
    static constexpr std::size_t kMaxRecords = 1024;

  private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::string>, SecondaryRecord> records_;
};

}  // namespace nolb::transfer
