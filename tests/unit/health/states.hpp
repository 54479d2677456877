// Address states as health::Monitor keeps them for a configuration (service by service, node by
// node, address by address), built directly for tests of what reads them: the plan and the
// zone compiler.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "health/state.hpp"

namespace nolb::test {

// Each address `observed` as listed, in config order; a down one has a 503 as its last result.
inline std::vector<health::AddressState> address_states(
    const config::Config& c, const std::vector<health::Observed>& observed,
    health::Clock::time_point since = {}) {
    std::vector<health::AddressState> out;
    for (std::size_t si = 0; si < c.services.size(); ++si) {
        for (std::size_t ni = 0; ni < c.services[si].nodes.size(); ++ni) {
            const config::Node& n = c.services[si].nodes[ni];
            for (std::size_t ai = 0; ai < n.addresses.size(); ++ai) {
                health::AddressState s;
                s.service = si;
                s.node = ni;
                s.address = ai;
                s.service_name = c.services[si].name;
                s.node_name = n.name;
                s.published = s.probed = n.addresses[ai];
                s.observed = observed.at(out.size());
                s.since = since;
                s.reason = s.observed == health::Observed::unknown ? "not probed yet" : "";
                if (s.observed == health::Observed::down) {
                    health::ProbeResult r;
                    r.outcome = health::Outcome::status;
                    r.detail = "status 503";
                    s.last = r;
                }
                out.push_back(s);
            }
        }
    }
    return out;
}

}  // namespace nolb::test
