// From health states and drains to what each service publishes, with the reason for each
// address: the one place where `all_down` and drains are applied. The daemon turns a plan into
// a zone::Availability on every change; `nolbctl explain` asks for the reasons' words, which
// are put together only then.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "health/state.hpp"
#include "zone/model.hpp"

namespace nolb::health {

// Why an address is published or not.
enum class Why : std::uint8_t {
    drained,       // its node is drained: never published
    not_checked,   // its service has no health check: published
    health,        // what its probes say: published when up
    failing_open,  // down, but published by all_down = "all"
};

struct AddressPlan {
    bool published = false;
    Why why = Why::health;
};

struct ServicePlan {
    std::vector<AddressPlan> addresses;  // in the service's address order
    bool all_down_v4 = false;            // the all_down policy fired for IPv4
    bool all_down_v6 = false;
    std::size_t first = 0;  // the position of its first address among every service's
};

// `states` as Monitor::states() gives them (for the same config).
std::vector<ServicePlan> plan(const config::Config& config, const std::vector<AddressState>& states,
                              const Drains& drains);
zone::Availability availability(const std::vector<ServicePlan>& plans);

// The same, written over `out`: an earlier plan of the same config has the sizes already, so
// planning again allocates nothing.
void plan(const config::Config& config, const std::vector<AddressState>& states,
          const Drains& drains, std::vector<ServicePlan>& out);

// Plans again only `services` (indices into config.services) in `plans`, a whole plan of the
// same config: what one transition or one drain changes, without going over every address.
void replan(const config::Config& config, const std::vector<AddressState>& states,
            const Drains& drains, const std::vector<std::size_t>& services,
            std::vector<ServicePlan>& plans);

// The state of service `si`, node `ni`, address `ai` (published as `published`) if `states`
// holds it at `cursor`, the address's position in config order; else nullptr. plan() trusts
// no other state.
const AddressState* state_at(const std::vector<AddressState>& states, std::size_t cursor,
                             std::size_t si, std::size_t ni, std::size_t ai,
                             const util::IpAddress& published);

// The words for an address's plan: "up since 12:00:03Z", "down since 12:00:03Z (status 503)",
// "drained", "all down: failing open", ...; `state` as state_at() finds it.
std::string reason(const AddressPlan& plan, const AddressState* state);

}  // namespace nolb::health
