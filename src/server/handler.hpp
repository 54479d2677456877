// What the transports call for each message. server/ knows sockets and threads, not DNS: each
// worker owns one Handler (made by the factory on that worker's thread), calls begin_batch()
// before every batch of packets and answer() for each message in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "util/transport.hpp"

namespace nolb::server {

// The one Transport type, shared with answer/ (util/transport.hpp says why it lives there).
using util::Transport;

class Handler {
  public:
    virtual ~Handler() = default;
    // Called before a batch; a handler refreshes what it caches (e.g. the snapshot) here.
    virtual void begin_batch() = 0;
    // Writes the response to `out` and returns its length; 0 means send nothing.
    virtual std::size_t answer(std::span<const std::uint8_t> message, Transport transport,
                               std::span<std::uint8_t> out) = 0;
};

using HandlerFactory = std::function<std::unique_ptr<Handler>(unsigned worker_index)>;

}  // namespace nolb::server
