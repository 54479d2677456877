// Joins the transports to answer::answer_packet.
#include "nolbd/dns_handler.hpp"

namespace nolb::nolbd {

DnsHandler::DnsHandler(const util::Published<zone::Snapshot>& published)
    : reader_(published), snapshot_(&reader_.value()) {}

std::size_t DnsHandler::answer(std::span<const std::uint8_t> message, server::Transport transport,
                               std::span<std::uint8_t> out) {
    const auto over =
        transport == server::Transport::tcp ? answer::Transport::tcp : answer::Transport::udp;
    return answer::answer_packet(*snapshot_, message, over, rng_, out, counters_);
}

}  // namespace nolb::nolbd
