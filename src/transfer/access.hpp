// Who may take each zone by transfer, from the configuration: the TSIG keys with their secrets,
// and per zone the client prefixes allowed and the keys a transfer must be signed with. Built
// on the main thread at load and at each reload; workers read it.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "config/config.hpp"
#include "dns/tsig.hpp"
#include "util/ip.hpp"

namespace nolb::transfer {

struct ZoneAccess {
    std::vector<util::Prefix> allow;          // empty: nobody
    std::vector<const dns::tsig::Key*> keys;  // not empty: a transfer must be signed by one
};

// Why a transfer is refused, or that it may go ahead.
enum class Decision : std::uint8_t {
    allowed,
    not_allowed,  // the client's address is in no allowed prefix
    unsigned_,    // the zone asks for a key and the request was not signed with one of them
};

// A configured key as the signing code takes it: name in wire form, algorithm parsed.
dns::tsig::Key tsig_key(const config::Key& key);

class Access {
  public:
    // Config::keys and Config::zones, in order (a snapshot's zones are in the same order).
    explicit Access(const config::Config& config);
    Access(const Access&) = delete;
    Access& operator=(const Access&) = delete;

    std::span<const dns::tsig::Key> keys() const { return keys_; }
    // Zone `zone`'s rules; nobody for a zone the configuration does not have.
    const ZoneAccess& zone(std::size_t zone) const;

    Decision decide(std::size_t zone, const util::IpAddress& client,
                    const dns::tsig::Key* signed_with) const;

  private:
    std::vector<dns::tsig::Key> keys_;
    std::vector<ZoneAccess> zones_;
    ZoneAccess nobody_;
};

}  // namespace nolb::transfer
