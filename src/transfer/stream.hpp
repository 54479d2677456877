// The messages of a zone transfer: AXFR (RFC 5936 §2.2: the SOA, every record, the SOA again)
// and IXFR (RFC 1995 §4: the newest SOA, then per change the older SOA, the records deleted,
// the newer SOA, the records added, and the newest SOA again), or the one SOA that tells a
// secondary it is up to date. A response is a list of runs of whole records; a MessageStream
// packs them into as many messages as it takes, each holding whole records up to
// kMessageRecords octets (a larger record goes alone), the question echoed in the first only.
// With a TSIG key each message is signed, the first over the request's MAC and each later one
// over the MAC before it (RFC 8945 §5.3.1).
//
// A stream holds what its runs point into (the zone's image, the journal's deltas), so a transfer
// that began before a health change goes on with the zone as it was when it began.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "dns/tsig.hpp"
#include "transfer/journal.hpp"
#include "zone/image.hpp"
#include "zone/snapshot.hpp"

namespace nolb::transfer {

inline constexpr std::size_t kMessageRecords = 16 * 1024;

// How the messages of a response are signed: the key, the request's MAC, the time to sign.
struct Signing {
    const dns::tsig::Key* key = nullptr;  // must outlive the stream
    std::vector<std::uint8_t> request_mac;
    std::uint64_t now = 0;
};

// The request a response answers: its header's ID and flags (RD is echoed) and its question
// section as sent (name, type, class).
struct Request {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    std::span<const std::uint8_t> question;
    std::optional<Signing> signing;
};

class MessageStream {
  public:
    // `runs` point into what `keep` holds.
    MessageStream(const Request& request, std::vector<std::string_view> runs,
                  std::vector<std::shared_ptr<const void>> keep);

    // Writes the next message to `out` (65,535 octets are always enough) and returns its size;
    // 0 once the last has been written.
    std::size_t next(std::span<std::uint8_t> out);

  private:
    // Appends records to `message` from where the last message stopped, up to the limit;
    // returns how many.
    std::uint16_t fill(std::vector<std::uint8_t>& message);

    std::vector<std::string_view> runs_;
    std::vector<std::shared_ptr<const void>> keep_;
    std::uint16_t id_;
    std::uint16_t flags_;
    std::vector<std::uint8_t> question_;
    std::vector<std::uint8_t> request_mac_;
    std::optional<dns::tsig::Signer> signer_;
    std::size_t run_ = 0;     // the run the next record comes from
    std::size_t offset_ = 0;  // and where in it
    bool first_ = true;
};

// AXFR of zone `zone` of `snapshot`.
MessageStream axfr(const Request& request, const zone::Snapshot& snapshot, std::uint32_t zone);

// IXFR of zone `zone` from the `deltas` (Journal::since) that lead to its current image; with
// none, the current SOA alone.
MessageStream ixfr(const Request& request, const zone::Snapshot& snapshot, std::uint32_t zone,
                   std::vector<std::shared_ptr<const Delta>> deltas);

}  // namespace nolb::transfer
