// NOTIFY out (RFC 1996): tells a zone's secondaries that its serial moved, so that they ask for
// the new data at once instead of at the SOA refresh. The daemon hands the Notifier each
// snapshot it publishes; for every zone whose serial moved, each of the zone's targets gets a
// UDP message: opcode NOTIFY, AA, the question (apex, SOA, IN) and the zone's SOA record in the
// answer section (§3.7: it carries the serial, a hint a secondary may act on), signed with TSIG
// when the zone has a key.
//
// A target has one NOTIFY in flight at a time. A serial that moves while one is unanswered, or
// within the gap since the last message to the target, is not queued: the target's next message
// carries whatever serial is newest when it goes, so a burst of changes costs one message per
// gap. An unanswered message is sent again after the retry interval, the wait doubling each
// time, until the retries are spent; the NOTIFY then counts as failed. Each attempt is a message
// of its own (a fresh ID and signature, the newest serial), and an answer to any attempt of the
// NOTIFY in flight ends it: it must come from the target's address and port, with that
// attempt's ID and the question, and with a good TSIG when the NOTIFY was signed (a bad one is
// no answer). Any RCODE is an answer; it is recorded, and one other than NOERROR is logged at
// most once a minute per target.
//
// Everything here runs on the daemon's main loop. The Notifier owns its sockets (one per address
// family, opened when first needed) and a timer per target. It allocates freely: NOTIFY is rare
// and far from the answering path.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "dns/tsig.hpp"
#include "util/ip.hpp"
#include "zone/snapshot.hpp"

namespace nolb::transfer {

// How one zone's NOTIFY go out: [zone.transfer]'s notify keys, resolved.
struct NotifyZone {
    std::string origin;                   // absolute, lower case ("demo.test.")
    std::vector<util::Endpoint> targets;  // each once
    std::optional<dns::tsig::Key> key;    // signs the messages when set
    std::chrono::milliseconds gap{1000};  // the least time between two messages to a target
    unsigned retries = 5;                 // messages sent again before a NOTIFY fails
    std::chrono::milliseconds retry_interval{1000};  // the first wait for an answer; doubles
};

// Each zone of `config`, in its order: the endpoints of notify and, with notify_ns, the glue
// addresses (port 53) of the zone's name servers, except the SOA mname's (as BIND leaves out
// the primary) and nolbd's own listen endpoints. A zone nobody may transfer has no targets.
std::vector<NotifyZone> notify_zones(const config::Config& config);

// One target of one zone, for `nolbctl status`.
struct TargetStatus {
    util::Endpoint target;
    std::optional<std::uint32_t> serial;           // carried by the last message sent
    std::optional<std::uint32_t> serial_answered;  // carried by the last message answered
    std::optional<std::chrono::system_clock::time_point> sent_at, answered_at;
    std::optional<std::uint16_t> rcode;  // of the last answer
    unsigned attempts = 0;               // messages of the NOTIFY in flight; 0: none in flight
    std::uint64_t sent = 0;              // messages, retries included
    std::uint64_t answered = 0;          // NOTIFYs answered, whatever their RCODE
    std::uint64_t failed = 0;            // NOTIFYs given up after their last retry
};

class Notifier {
  public:
    // `listen`: the server's endpoints. A family's socket is bound to the first listen address of
    // that family unless it is the wildcard, so that secondaries see NOTIFY come from the address
    // they know as the primary's; otherwise the kernel picks the source address.
    explicit Notifier(event_base* base, std::vector<util::Endpoint> listen = {});
    ~Notifier();
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    // The zones and their targets, at load and at each reload. A target a zone (by origin) had
    // already keeps its status and its NOTIFY in flight, unless its key changed; targets gone
    // are forgotten.
    void configure(std::vector<NotifyZone> zones);
    void configure(const config::Config& config) { configure(notify_zones(config)); }

    // Zone `zone`'s serial is now `serial`, and `soa` its SOA record in wire form (as
    // zone::Image holds it: owner uncompressed): tell its targets.
    void serial_changed(std::size_t zone, std::uint32_t serial, std::string_view soa);
    // serial_changed() for each zone of `snapshot` whose serial is not the last one seen (every
    // zone, the first time). A snapshot's zones are in the configuration's order.
    void published(const zone::Snapshot& snapshot);

    std::size_t zones() const;
    // Zone `zone`'s targets, in the order of NotifyZone::targets; none for an unknown zone.
    std::vector<TargetStatus> status(std::size_t zone) const;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace nolb::transfer
