// From health states and drains to what each service publishes, with the reason for each
// address: the one place where `all_down` and drains are applied. The daemon turns a plan into
// a zone::Availability; `nolbctl explain` prints the reasons.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "health/state.hpp"
#include "zone/model.hpp"

namespace nolb::health {

struct AddressPlan {
    bool published = false;
    std::string reason;  // "up since 12:00:03", "down since ... (status 503)", "drained", ...
};

struct ServicePlan {
    std::vector<AddressPlan> addresses;  // in the service's address order
    bool all_down_v4 = false;            // the all_down policy fired for IPv4
    bool all_down_v6 = false;
};

// `states` as Monitor::states() gives them (for the same config).
std::vector<ServicePlan> plan(const config::Config& config, const std::vector<AddressState>& states,
                              const Drains& drains);
zone::Availability availability(const std::vector<ServicePlan>& plans);

}  // namespace nolb::health
