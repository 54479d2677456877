// The DNS side of a worker: what server::Handler calls for each message. Each worker owns one,
// with its own view of the published snapshot, its own PRNG and its own counters, so answering
// shares nothing between threads. A reload needs nothing from here: begin_batch() picks up a
// newly published snapshot at the next batch.
#pragma once

#include "answer/respond.hpp"
#include "server/handler.hpp"
#include "util/published.hpp"
#include "util/rng.hpp"
#include "zone/snapshot.hpp"

namespace nolb::nolbd {

class DnsHandler final : public server::Handler {
  public:
    explicit DnsHandler(const util::Published<zone::Snapshot>& published);

    void begin_batch() override { snapshot_ = &reader_.refresh(); }
    std::size_t answer(std::span<const std::uint8_t> message, server::Transport transport,
                       std::span<std::uint8_t> out) override;

    // Written by this worker only.
    const answer::Counters& counters() const { return counters_; }

  private:
    util::Published<zone::Snapshot>::Reader reader_;
    const zone::Snapshot* snapshot_;
    util::Rng rng_;
    answer::Counters counters_;
};

}  // namespace nolb::nolbd
