// What each service publishes, address by address, and the words nolbctl shows for it.
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
//
// The daemon plans again on every health change, for every address; so planning allocates
// little and formats nothing: the reasons' words are put together when someone asks.
#include "health/plan.hpp"

#include <ctime>
#include <map>
#include <set>

#include "health/each_address.hpp"

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

// Drains indexed once per plan, so that judging a node builds no string: node names drained
// in every service, and per service the node names drained in it alone. Equivalent to
// Drains::drained.
struct DrainIndex {
    std::set<std::string> everywhere;
    std::map<std::string, std::set<std::string>> by_service;

    explicit DrainIndex(const Drains& drains) {
        for (const DrainKey& key : drains.keys) {
            if (key.service)
                by_service[*key.service].insert(key.node);
            else
                everywhere.insert(key.node);
        }
    }
    // The node names drained in `service` alone, or nullptr.
    const std::set<std::string>* in(const std::string& service) const {
        if (by_service.empty()) return nullptr;
        auto it = by_service.find(service);
        return it == by_service.end() ? nullptr : &it->second;
    }
    bool drained(const std::set<std::string>* here, const std::string& node) const {
        return (!everywhere.empty() && everywhere.count(node)) || (here && here->count(node));
    }
};

}  // namespace

const AddressState* state_at(const std::vector<AddressState>& states, std::size_t cursor,
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

std::string reason(const AddressPlan& plan, const AddressState* state) {
    switch (plan.why) {
        case Why::drained:
            return "drained";
        case Why::not_checked:
            return "up (not health-checked)";
        case Why::failing_open:
            return "all down: failing open";
        case Why::health:
            break;
    }
    return health_reason(state);
}

namespace {

// Service `si`, whose first address is states[first] when `states` comes from the same config.
void plan_service(const config::Service& service, std::size_t si, std::size_t first,
                  const std::vector<AddressState>& states, const DrainIndex& drained,
                  ServicePlan& out) {
    const bool checked = service.health.type != config::HealthMode::none;
    const std::set<std::string>* drained_here = drained.in(service.name);
    out.addresses.clear();
    out.first = first;
    Family v4, v6;
    for_each_address(service, si, first, states, nullptr, [&](const AddressVisit& a) {
        const bool node_drained = drained.drained(drained_here, a.node.name);
        AddressPlan p;
        if (node_drained) {
            p.why = Why::drained;
        } else if (!checked) {
            p.published = true;
            p.why = Why::not_checked;
        } else {
            p.published = a.state && a.state->up();
        }
        Family& family = a.address.is_v4() ? v4 : v6;
        if (!node_drained) {
            family.candidates = true;
            family.any_up = family.any_up || p.published;
        }
        out.addresses.push_back(p);
    });
    out.all_down_v4 = v4.candidates && !v4.any_up;
    out.all_down_v6 = v6.candidates && !v6.any_up;
    if (service.all_down != config::AllDown::all || !(out.all_down_v4 || out.all_down_v6)) return;
    for_each_address(service, si, first, states, nullptr, [&](const AddressVisit& a) {
        AddressPlan& p = out.addresses[a.row];
        const bool fires = a.address.is_v4() ? out.all_down_v4 : out.all_down_v6;
        if (!fires || p.why == Why::drained) return;
        p.published = true;
        p.why = Why::failing_open;
    });
}

}  // namespace

void plan(const config::Config& config, const std::vector<AddressState>& states,
          const Drains& drains, std::vector<ServicePlan>& plans) {
    const DrainIndex drained(drains);
    plans.resize(config.services.size());
    std::size_t first = 0;
    for (std::size_t si = 0; si < config.services.size(); ++si) {
        plan_service(config.services[si], si, first, states, drained, plans[si]);
        first += plans[si].addresses.size();
    }
}

void replan(const config::Config& config, const std::vector<AddressState>& states,
            const Drains& drains, const std::vector<std::size_t>& services,
            std::vector<ServicePlan>& plans) {
    const DrainIndex drained(drains);
    for (std::size_t si : services)
        plan_service(config.services[si], si, plans[si].first, states, drained, plans[si]);
}

std::vector<ServicePlan> plan(const config::Config& config, const std::vector<AddressState>& states,
                              const Drains& drains) {
    std::vector<ServicePlan> plans;
    plan(config, states, drains, plans);
    return plans;
}

void availability(const std::vector<ServicePlan>& plans, zone::Availability& available) {
    available.resize(plans.size());
    for (std::size_t si = 0; si < plans.size(); ++si) {
        std::vector<bool>& row = available[si];
        row.resize(plans[si].addresses.size());
        for (std::size_t ai = 0; ai < row.size(); ++ai)
            row[ai] = plans[si].addresses[ai].published;
    }
}

zone::Availability availability(const std::vector<ServicePlan>& plans) {
    zone::Availability available;
    availability(plans, available);
    return available;
}

}  // namespace nolb::health
