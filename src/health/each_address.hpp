// The one walk over configured addresses: service by service, node by node, address by
// address, in the order health::Monitor keeps its states and plan() its rows. Each visit
// carries what is known of the address: its configuration, its health state and, once a plan
// exists, its plan. plan() builds rows with it; the publisher and the control verbs (status,
// check, explain, drain) read through it, so that none of them counts positions by hand.
#pragma once

#include <cstddef>
#include <vector>

#include "config/config.hpp"
#include "health/plan.hpp"
#include "health/state.hpp"

namespace nolb::health {

struct AddressVisit {
    const config::Service& service;
    std::size_t service_index;
    const config::Node& node;
    std::size_t node_index;
    const util::IpAddress& address;
    std::size_t address_index;  // within its node
    std::size_t row;            // within its service: the index of its plan and availability
    std::size_t position;       // among every service's addresses: where its state is
    const AddressState* state;  // nullptr when the states hold none for it (state_at)
    const AddressPlan* plan;    // nullptr when there is no plan (yet) for it
};

// Service `si` alone, whose first address is at `first` among every service's; `plan` may be
// nullptr (while it is being built).
template <typename Visit>
void for_each_address(const config::Service& service, std::size_t si, std::size_t first,
                      const std::vector<AddressState>& states, const ServicePlan* plan,
                      Visit&& visit) {
    std::size_t row = 0;
    for (std::size_t ni = 0; ni < service.nodes.size(); ++ni) {
        const config::Node& node = service.nodes[ni];
        for (std::size_t ai = 0; ai < node.addresses.size(); ++ai, ++row) {
            const util::IpAddress& address = node.addresses[ai];
            const AddressPlan* p =
                plan && row < plan->addresses.size() ? &plan->addresses[row] : nullptr;
            visit(AddressVisit{service, si, node, ni, address, ai, row, first + row,
                               state_at(states, first + row, si, ni, ai, address), p});
        }
    }
}

// Every service of `config`; `plans` as plan() made them for it, or empty.
template <typename Visit>
void for_each_address(const config::Config& config, const std::vector<AddressState>& states,
                      const std::vector<ServicePlan>& plans, Visit&& visit) {
    std::size_t first = 0;
    for (std::size_t si = 0; si < config.services.size(); ++si) {
        const config::Service& service = config.services[si];
        for_each_address(service, si, first, states, si < plans.size() ? &plans[si] : nullptr,
                         visit);
        for (const config::Node& node : service.nodes)
            first += node.addresses.size();
    }
}

}  // namespace nolb::health
