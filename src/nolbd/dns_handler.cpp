// Joins the transports to answer::respond, and hands the rare signed or transfer messages to
// transfer::Responder.
#include "nolbd/dns_handler.hpp"

#include <ctime>

namespace nolb::nolbd {
namespace {

// A zone transfer's messages, for the TCP path to ask for one at a time.
class TransferStream final : public server::Stream {
  public:
    explicit TransferStream(std::unique_ptr<transfer::MessageStream> messages)
        : messages_(std::move(messages)) {}
    std::size_t next(std::span<std::uint8_t> out) override { return messages_->next(out); }

  private:
    std::unique_ptr<transfer::MessageStream> messages_;
};

}  // namespace

DnsHandler::DnsHandler(const util::Published<zone::Snapshot>& published,
                       const util::Published<transfer::State>& transfers,
                       transfer::Secondaries* secondaries)
    : reader_(published),
      snapshot_(&reader_.value()),
      transfers_(transfers),
      responder_(secondaries) {}

std::size_t DnsHandler::answer(std::span<const std::uint8_t> message, server::Transport transport,
                               const sockaddr_storage& peer, std::span<std::uint8_t> out) {
    return reply(message, transport, peer, out, nullptr);
}

std::size_t DnsHandler::answer_tcp(std::span<const std::uint8_t> message,
                                   const sockaddr_storage& peer, std::span<std::uint8_t> out,
                                   std::unique_ptr<server::Stream>& more) {
    return reply(message, server::Transport::tcp, peer, out, &more);
}

std::size_t DnsHandler::reply(std::span<const std::uint8_t> message, server::Transport transport,
                              const sockaddr_storage& peer, std::span<std::uint8_t> out,
                              std::unique_ptr<server::Stream>* more) {
    dns::Query q;
    dns::parse_query(message, q);
    if (transfer::is_special(q)) [[unlikely]]
        return special(message, q, transport, peer, out, more);
    const std::size_t size = answer::respond(*snapshot_, q, transport, rng_, out);
    answer::count(counters_, q, out.first(size));
    return size;
}

std::size_t DnsHandler::special(std::span<const std::uint8_t> message, const dns::Query& q,
                                server::Transport transport, const sockaddr_storage& peer,
                                std::span<std::uint8_t> out,
                                std::unique_ptr<server::Stream>* more) {
    transfer::Served served = responder_.serve(
        *snapshot_, transfers_.refresh(), message, q, transport, util::address_of(peer),
        static_cast<std::uint64_t>(std::time(nullptr)), rng_, out);
    answer::count(counters_, q, out.first(served.size));
    if (more != nullptr && served.more)
        *more = std::make_unique<TransferStream>(std::move(served.more));
    return served.size;
}

}  // namespace nolb::nolbd
