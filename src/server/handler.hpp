// What the transports call for each message. server/ knows sockets and threads, not DNS: each
// worker owns one Handler (made by the factory on that worker's thread), calls begin_batch()
// before every batch of packets and answer() for each message in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include <sys/socket.h>

#include "util/transport.hpp"

namespace nolb::server {

// The one Transport type, shared with answer/ (util/transport.hpp says why it lives there).
using util::Transport;

// The rest of a response that takes several messages over TCP (a zone transfer). The TCP path
// asks for one message at a time as the connection's output drains, so a transfer holds at most
// the output's high-water mark and keeps the worker from its other connections for no longer
// than one message takes to write.
class Stream {
  public:
    virtual ~Stream() = default;
    // Writes the next message to `out` and returns its length; 0 when the response is complete.
    virtual std::size_t next(std::span<std::uint8_t> out) = 0;
};

class Handler {
  public:
    virtual ~Handler() = default;
    // Called before a batch; a handler refreshes what it caches (e.g. the snapshot) here.
    virtual void begin_batch() = 0;
    // Writes the response to `out` and returns its length; 0 means send nothing. `peer` is
    // the client's address, for what is allowed to some clients only (zone transfers).
    virtual std::size_t answer(std::span<const std::uint8_t> message, Transport transport,
                               const sockaddr_storage& peer, std::span<std::uint8_t> out) = 0;
    // Over TCP: the same, and a response may go on after this first message, in the messages
    // of `more` (set it to go on). Messages that follow on the connection wait for the end.
    virtual std::size_t answer_tcp(std::span<const std::uint8_t> message,
                                   const sockaddr_storage& peer, std::span<std::uint8_t> out,
                                   std::unique_ptr<Stream>& more) {
        (void)more;
        return answer(message, Transport::tcp, peer, out);
    }
};

using HandlerFactory = std::function<std::unique_ptr<Handler>(unsigned worker_index)>;

}  // namespace nolb::server
