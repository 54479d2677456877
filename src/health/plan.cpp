// What each service publishes, address by address, with the words nolbctl shows for it.
//
// The rules, in order:
//  1. An address of a drained node is not published ("drained"), whatever its health.
//  2. An address of a service of type "none" is up ("up (not health-checked)").
//  3. Otherwise it is published when observed up ("up since 12:00:03Z") and not when down or
//     unknown ("down since 12:00:03Z (status 503)").
//  4. Then, per address family, the all-down policy: when a family has at least one address
//     that is not drained and none of those is up, the policy fires (all_down_v4/v6 is set).
//     all_down = "all" publishes every non-drained address of the family ("all down: failing
//     open"); all_down = "none" publishes none. Drained addresses stay out either way, and a
//     family whose addresses are all drained (or that has none) publishes nothing.
// Families are judged apart because a client asking for AAAA cannot use an A record.
#include "health/plan.hpp"

#include <ctime>

namespace nolb::health {

namespace {

std::string clock_text(Clock::time_point at) {
    std::time_t seconds = Clock::to_time_t(at);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char text[16];
    std::strftime(text, sizeof text, "%H:%M:%SZ", &utc);
    return text;
}

// The state of service `si`, node `ni`, address `ai`, if `states` holds it at `cursor` (it does
// when both come from the same config; anything else is treated as unknown, never as up).
const AddressState* find_state(const std::vector<AddressState>& states, std::size_t cursor,
                               std::size_t si, std::size_t ni, std::size_t ai,
                               const util::IpAddress& published) {
    if (cursor >= states.size()) return nullptr;
    const AddressState& state = states[cursor];
    if (state.service != si || state.node != ni || state.address != ai ||
        !(state.published == published)) {
        return nullptr;
    }
    return &state;
}

std::string health_reason(const AddressState* state) {
    if (!state) return "unknown (no health state)";
    const std::string since = clock_text(state->since);
    switch (state->observed) {
        case Observed::up:
            return "up since " + since;
        case Observed::down:
            return "down since " + since + " (" +
                   (state->last ? state->last->detail : state->reason) + ")";
        case Observed::unknown:
            break;
    }
    return "unknown since " + since + " (" + state->reason + ")";
}

struct Family {
    bool candidates = false;  // a non-drained address
    bool any_up = false;
};

}  // namespace

std::vector<ServicePlan> plan(const config::Config& config, const std::vector<AddressState>& states,
                              const Drains& drains) {
    std::vector<ServicePlan> plans;
    plans.reserve(config.services.size());
    std::size_t cursor = 0;
    for (std::size_t si = 0; si < config.services.size(); ++si) {
        const config::Service& service = config.services[si];
        const bool checked = service.health.type != config::HealthMode::none;
        ServicePlan out;
        std::vector<bool> is_v4, drained;
        Family v4, v6;
        for (std::size_t ni = 0; ni < service.nodes.size(); ++ni) {
            const config::Node& node = service.nodes[ni];
            const bool node_drained = drains.drained(service.name, node.name);
            for (std::size_t ai = 0; ai < node.addresses.size(); ++ai, ++cursor) {
                const util::IpAddress& address = node.addresses[ai];
                const AddressState* state = find_state(states, cursor, si, ni, ai, address);
                AddressPlan p;
                if (node_drained) {
                    p.reason = "drained";
                } else if (!checked) {
                    p.published = true;
                    p.reason = "up (not health-checked)";
                } else {
                    p.published = state && state->up();
                    p.reason = health_reason(state);
                }
                Family& family = address.is_v4() ? v4 : v6;
                if (!node_drained) {
                    family.candidates = true;
                    family.any_up = family.any_up || p.published;
                }
                is_v4.push_back(address.is_v4());
                drained.push_back(node_drained);
                out.addresses.push_back(std::move(p));
            }
        }
        out.all_down_v4 = v4.candidates && !v4.any_up;
        out.all_down_v6 = v6.candidates && !v6.any_up;
        if (service.all_down == config::AllDown::all) {
            for (std::size_t i = 0; i < out.addresses.size(); ++i) {
                bool fires = is_v4[i] ? out.all_down_v4 : out.all_down_v6;
                if (!fires || drained[i]) continue;
                out.addresses[i].published = true;
                out.addresses[i].reason = "all down: failing open";
            }
        }
        plans.push_back(std::move(out));
    }
    return plans;
}

zone::Availability availability(const std::vector<ServicePlan>& plans) {
    zone::Availability available;
    available.reserve(plans.size());
    for (const ServicePlan& p : plans) {
        std::vector<bool> row;
        row.reserve(p.addresses.size());
        for (const AddressPlan& address : p.addresses)
            row.push_back(address.published);
        available.push_back(std::move(row));
    }
    return available;
}

}  // namespace nolb::health
