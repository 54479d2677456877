// The messages the plain answering path hands over: signed ones (TSIG, RFC 8945) and zone
// transfers (AXFR, RFC 5936; IXFR, RFC 1995). A worker sees a few of these a minute at most, so
// this code allocates and logs; what it must never do is reach into the answering path's
// budget: the path only looks at two fields of the parsed query to pick this one.
//
// In order: a malformed TSIG gets FORMERR; a signature that does not verify gets NOTAUTH with
// an unsigned TSIG carrying BADKEY, BADSIG or BADTRUNC, a time outside the fudge NOTAUTH with a
// BADTIME TSIG signed by the key and the server's time in it (RFC 8945 §5.2). Then a transfer:
// NOTAUTH for a name that is not one of our zones' apex, REFUSED for a client the zone does not
// allow or a request not signed with one of the zone's keys, and otherwise the zone's messages
// (transfer/stream.hpp), signed when the request was. IXFR over UDP gets the SOA alone, which
// sends the secondary to TCP (RFC 1995 §2), as BIND does; AXFR over UDP is refused. Any other
// signed query is answered as usual and its response signed, within the UDP size limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "answer/respond.hpp"
#include "dns/query.hpp"
#include "transfer/secondaries.hpp"
#include "transfer/state.hpp"
#include "transfer/stream.hpp"
#include "util/counter.hpp"
#include "util/ip.hpp"
#include "util/rng.hpp"
#include "zone/snapshot.hpp"

namespace nolb::transfer {

// Whether the answering path hands `query` here: it is signed or asks for a zone transfer.
inline bool is_special(const dns::Query& q) {
    return q.status != dns::ParseStatus::drop &&
           (q.has_tsig ||
            (q.has_question && (q.qtype == dns::type::AXFR || q.qtype == dns::type::IXFR)));
}

// What the workers served here, as read: a sum over workers or one worker's view.
struct Totals {
    std::uint64_t axfr = 0, ixfr = 0, up_to_date = 0, refused = 0, not_zone = 0, tsig_errors = 0,
                  signed_other = 0;
    void add(const Totals& other);
};

// A worker's tallies of what it served here, read by stats and metrics.
struct Tally {
    util::Count axfr;          // whole zones sent (AXFR, and IXFR the journal could not serve)
    util::Count ixfr;          // IXFR answered from the journal
    util::Count up_to_date;    // IXFR answered with the SOA alone (up to date, or over UDP)
    util::Count refused;       // transfers refused: address or key not allowed
    util::Count not_zone;      // transfers of a name that is no zone's apex (NOTAUTH)
    util::Count tsig_errors;   // signatures rejected (FORMERR, BADKEY, BADSIG, BADTRUNC, BADTIME)
    util::Count signed_other;  // other signed messages answered and signed
    Totals read() const;
};

struct Served {
    std::size_t size = 0;                 // the first (or only) message written to `out`
    std::unique_ptr<MessageStream> more;  // over TCP, the messages that follow it
};

// One per worker: its tallies and when it last logged each client's refusal. Each transfer
// request is also noted in `secondaries` (shared by the workers) when one is given.
class Responder {
  public:
    explicit Responder(Secondaries* secondaries = nullptr) : secondaries_(secondaries) {}

    // `client` is the message's source (nullopt: not an IP socket). `now`: seconds since the
    // epoch. `out` must hold 65,535 octets over TCP, 512 at least over UDP.
    Served serve(const zone::Snapshot& snapshot, const State& state,
                 std::span<const std::uint8_t> message, const dns::Query& query,
                 util::Transport transport, const std::optional<util::IpAddress>& client,
                 std::uint64_t now, util::Rng& rng, std::span<std::uint8_t> out);

    const Tally& tally() const { return tally_; }

  private:
    // Logs at most once per client and minute; `what` says what was refused and why.
    void log_refusal(const std::optional<util::IpAddress>& client, std::uint64_t now,
                     const char* what, const std::string& detail);

    // Notes a transfer request of zone `zone` in secondaries_.
    void note(const zone::Snapshot& snapshot, std::uint32_t zone,
              const std::optional<util::IpAddress>& client, std::uint64_t now, const char* last,
              const std::uint32_t* held, const std::uint32_t* sent);

    Secondaries* secondaries_;
    Tally tally_;
    std::unordered_map<std::string, std::uint64_t> logged_;  // client -> when last logged
};

// The serial of the SOA in an IXFR request's authority section: the version the secondary
// holds (RFC 1995 §3). nullopt when there is none or the message is malformed.
std::optional<std::uint32_t> ixfr_serial(std::span<const std::uint8_t> message);

}  // namespace nolb::transfer
