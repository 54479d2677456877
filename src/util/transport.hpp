// The transport a message arrived over. Two layers that must not depend on each other need it:
// server/ knows which socket a message came from, and answer/ applies the rules that differ by
// transport (UDP's size limit and its TC bit). Declared here, below both, so that neither
// includes the other: in server/ it would make the socket layer depend on a DNS header, and in
// answer/ it would make the pure answering function depend on the socket layer's interface.
// Each of them names it in its own namespace (server::Transport, answer::Transport).
#pragma once

#include <cstdint>

namespace nolb::util {

enum class Transport : std::uint8_t { udp, tcp };

}  // namespace nolb::util
