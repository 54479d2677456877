// The DNS side of a worker: what server::Handler calls for each message. Each worker owns one,
// with its own view of the published snapshot, its own PRNG and its own counters, so answering
// shares nothing between threads. A reload needs nothing from here: begin_batch() picks up a
// newly published snapshot at the next batch.
//
// A message is parsed once; the rare one that is signed or asks for a zone transfer goes to
// transfer::Responder, which reads the published transfer state only then.
#pragma once

#include "answer/respond.hpp"
#include "server/handler.hpp"
#include "transfer/serve.hpp"
#include "transfer/state.hpp"
#include "util/published.hpp"
#include "util/rng.hpp"
#include "zone/snapshot.hpp"

namespace nolb::nolbd {

class DnsHandler final : public server::Handler {
  public:
    // `secondaries`, shared by the workers, records each transfer request (null: not kept).
    DnsHandler(const util::Published<zone::Snapshot>& published,
               const util::Published<transfer::State>& transfers,
               transfer::Secondaries* secondaries = nullptr);

    void begin_batch() override { snapshot_ = &reader_.refresh(); }
    std::size_t answer(std::span<const std::uint8_t> message, server::Transport transport,
                       const sockaddr_storage& peer, std::span<std::uint8_t> out) override;
    std::size_t answer_tcp(std::span<const std::uint8_t> message, const sockaddr_storage& peer,
                           std::span<std::uint8_t> out,
                           std::unique_ptr<server::Stream>& more) override;

    // Written by this worker only.
    const answer::Counters& counters() const { return counters_; }
    const transfer::Tally& transfer_tally() const { return responder_.tally(); }

  private:
    // Parses `message` and answers it; `more` is null over UDP.
    std::size_t reply(std::span<const std::uint8_t> message, server::Transport transport,
                      const sockaddr_storage& peer, std::span<std::uint8_t> out,
                      std::unique_ptr<server::Stream>* more);
    std::size_t special(std::span<const std::uint8_t> message, const dns::Query& query,
                        server::Transport transport, const sockaddr_storage& peer,
                        std::span<std::uint8_t> out, std::unique_ptr<server::Stream>* more);

    util::Published<zone::Snapshot>::Reader reader_;
    const zone::Snapshot* snapshot_;
    util::Published<transfer::State>::Reader transfers_;
    util::Rng rng_;
    answer::Counters counters_;
    transfer::Responder responder_;
};

}  // namespace nolb::nolbd
