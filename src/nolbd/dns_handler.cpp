// Joins the transports to answer::answer_packet.
#include "nolbd/dns_handler.hpp"

namespace nolb::nolbd {

DnsHandler::DnsHandler(const util::Published<zone::Snapshot>& published)
    : reader_(published), snapshot_(&reader_.value()) {}

std::size_t DnsHandler::answer(std::span<const std::uint8_t> message, server::Transport transport,
                               std::span<std::uint8_t> out) {
    // server::Transport and answer::Transport are one type (util/transport.hpp).
    return answer::answer_packet(*snapshot_, message, transport, rng_, out, counters_);
}

}  // namespace nolb::nolbd
