// The messages of an AXFR response (RFC 5936 §2.2): the zone's SOA, every record of the zone as
// the snapshot publishes it, and the SOA again, in as many messages as it takes. Each message
// holds whole records, up to kMessageRecords octets of them (a record larger than that goes
// alone), the question echoed in the first only. With a TSIG key each message is signed, the
// first over the request's MAC and each later one over the MAC before it (RFC 8945 §5.3.1).
//
// The stream holds the snapshot it reads, so a transfer that began before a health change goes
// on with the zone as it was when it began: one serial, start to end.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "dns/tsig.hpp"
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

class AxfrStream {
  public:
    // `zone` indexes snapshot->zones; `question` is the request's question section as sent (name,
    // type, class), `id` and `flags` its header's (RD is echoed).
    AxfrStream(std::shared_ptr<const zone::Snapshot> snapshot, std::uint32_t zone, std::uint16_t id,
               std::uint16_t flags, std::span<const std::uint8_t> question,
               std::optional<Signing> signing);

    // Writes the next message to `out` (65,535 octets are always enough) and returns its size;
    // 0 once the last has been written.
    std::size_t next(std::span<std::uint8_t> out);

  private:
    // Appends records to `message` from where the last message stopped, up to the limit;
    // returns how many.
    std::uint16_t fill(std::vector<std::uint8_t>& message);

    std::shared_ptr<const zone::Snapshot> snapshot_;
    std::shared_ptr<const zone::Image> image_;
    std::uint16_t id_;
    std::uint16_t flags_;
    std::vector<std::uint8_t> question_;
    std::optional<dns::tsig::Signer> signer_;
    std::vector<std::uint8_t> request_mac_;
    // Where the next record comes from: the opening SOA (block -1), a block and an offset in it,
    // the closing SOA (block == blocks.size()), or nothing (done_).
    std::ptrdiff_t block_ = -1;
    std::size_t offset_ = 0;
    bool done_ = false;
    bool first_ = true;
};

}  // namespace nolb::transfer
