// plan(): drains, health, and the all-down policy per address family, with the reason shown for
// each address; availability() as the zone compiler reads it.
#include "health/plan.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "unit/health/states.hpp"

namespace nolb::health {
namespace {

util::IpAddress ip(const char* text) {
    return *util::IpAddress::parse(text);
}

// 12:00:03 UTC on some day.
const Clock::time_point kNoon =
    Clock::from_time_t(1'700'000'000 - 1'700'000'000 % 86'400 + 12 * 3600 + 3);

// One service; each node is (name, addresses), every address checked over http.
config::Config service(std::vector<std::pair<std::string, std::vector<const char*>>> nodes,
                       config::AllDown all_down = config::AllDown::all,
                       config::HealthMode type = config::HealthMode::http) {
    config::Config c;
    config::Service s;
    s.name = "www.demo.test.";
    s.health.type = type;
    s.all_down = all_down;
    for (auto& [name, addresses] : nodes) {
        config::Node n;
        n.name = name;
        for (const char* a : addresses)
            n.addresses.push_back(ip(a));
        n.health = s.health;
        s.nodes.push_back(n);
    }
    c.services.push_back(s);
    return c;
}

std::vector<AddressState> states(const config::Config& c, const std::vector<Observed>& observed) {
    return test::address_states(c, observed, kNoon);
}

std::vector<bool> published(const ServicePlan& p) {
    std::vector<bool> out;
    for (const AddressPlan& a : p.addresses)
        out.push_back(a.published);
    return out;
}

// The words nolbctl shows for address `i` (in config order) of the first service.
std::string reason_of(const config::Config& c, const std::vector<AddressState>& st,
                      const ServicePlan& p, std::size_t i) {
    std::size_t at = 0;
    for (std::size_t ni = 0; ni < c.services[0].nodes.size(); ++ni) {
        const config::Node& n = c.services[0].nodes[ni];
        for (std::size_t ai = 0; ai < n.addresses.size(); ++ai, ++at)
            if (at == i)
                return reason(p.addresses[i], state_at(st, at, 0, ni, ai, n.addresses[ai]));
    }
    return "no such address";
}

using enum Observed;

TEST(Plan, HealthAndReasons) {
    config::Config c =
        service({{"london", {"192.0.2.1", "2001:db8::1"}}, {"geneva", {"192.0.2.2"}}});
    const auto st = states(c, {up, down, unknown});
    auto plans = plan(c, st, {});
    ASSERT_EQ(plans.size(), 1u);
    const ServicePlan& p = plans[0];
    EXPECT_EQ(published(p), (std::vector<bool>{true, true, false}));
    EXPECT_EQ(reason_of(c, st, p, 0), "up since 12:00:03Z");
    // The only IPv6 address is down: the family fails open.
    EXPECT_EQ(reason_of(c, st, p, 1), "all down: failing open");
    EXPECT_EQ(p.addresses[1].why, Why::failing_open);
    EXPECT_EQ(reason_of(c, st, p, 2), "unknown since 12:00:03Z (not probed yet)");
    EXPECT_FALSE(p.all_down_v4);
    EXPECT_TRUE(p.all_down_v6);
}

TEST(Plan, DownReasonCarriesTheLastProbe) {
    config::Config c = service({{"london", {"192.0.2.1"}}, {"geneva", {"192.0.2.2"}}});
    const auto st = states(c, {up, down});
    auto plans = plan(c, st, {});
    EXPECT_EQ(published(plans[0]), (std::vector<bool>{true, false}));
    EXPECT_EQ(reason_of(c, st, plans[0], 1), "down since 12:00:03Z (status 503)");
}

TEST(Plan, DrainedNodesAreNeverPublished) {
    config::Config c = service({{"london", {"192.0.2.1"}}, {"geneva", {"192.0.2.2"}}});
    Drains drains;
    drains = drains_from({"london"});
    const auto st = states(c, {up, up});
    auto p = plan(c, st, drains)[0];
    EXPECT_EQ(published(p), (std::vector<bool>{false, true}));
    EXPECT_EQ(reason_of(c, st, p, 0), "drained");
    // Service-qualified drains apply to that service only.
    drains = drains_from({"other.demo.test./geneva", "www.demo.test./london"});
    p = plan(c, st, drains)[0];
    EXPECT_EQ(published(p), (std::vector<bool>{false, true}));
    EXPECT_EQ(reason_of(c, st, p, 0), "drained");
    // A node name that only looks like a qualified drain of another service drains nothing.
    drains = drains_from({"www.demo.test./lon", "www.demo.test/london"});
    EXPECT_EQ(published(plan(c, st, drains)[0]), (std::vector<bool>{true, true}));
}

TEST(Plan, AllDownFailsOpenPerFamilyWithoutDrainedNodes) {
    config::Config c = service({{"london", {"192.0.2.1", "2001:db8::1"}},
                                {"geneva", {"192.0.2.2", "2001:db8::2"}},
                                {"paris", {"192.0.2.3"}}});
    Drains drains;
    drains = drains_from({"paris"});
    // Every IPv4 address down (paris drained); IPv6 has one up.
    const auto st = states(c, {down, up, down, down, down});
    auto p = plan(c, st, drains)[0];
    EXPECT_TRUE(p.all_down_v4);
    EXPECT_FALSE(p.all_down_v6);
    EXPECT_EQ(published(p), (std::vector<bool>{true, true, true, false, false}));
    EXPECT_EQ(reason_of(c, st, p, 0), "all down: failing open");
    EXPECT_EQ(reason_of(c, st, p, 2), "all down: failing open");
    EXPECT_EQ(reason_of(c, st, p, 3), "down since 12:00:03Z (status 503)");
    EXPECT_EQ(reason_of(c, st, p, 4), "drained");
}

TEST(Plan, AllDownNonePublishesNothing) {
    config::Config c =
        service({{"london", {"192.0.2.1", "2001:db8::1"}}, {"geneva", {"192.0.2.2"}}},
                config::AllDown::none);
    const auto st = states(c, {down, up, unknown});
    auto p = plan(c, st, {})[0];
    EXPECT_TRUE(p.all_down_v4);
    EXPECT_FALSE(p.all_down_v6);
    EXPECT_EQ(published(p), (std::vector<bool>{false, true, false}));
    EXPECT_EQ(reason_of(c, st, p, 0), "down since 12:00:03Z (status 503)");
}

TEST(Plan, FamilyWithEveryAddressDrainedPublishesNothing) {
    config::Config c = service({{"london", {"192.0.2.1"}}, {"geneva", {"2001:db8::2"}}});
    Drains drains;
    drains = drains_from({"london"});
    auto p = plan(c, states(c, {down, up}), drains)[0];
    EXPECT_FALSE(p.all_down_v4);  // nothing to fail open to
    EXPECT_EQ(published(p), (std::vector<bool>{false, true}));
}

TEST(Plan, UncheckedServicesPublishEverythingButDrains) {
    config::Config c = service({{"london", {"192.0.2.1"}}, {"geneva", {"192.0.2.2"}}},
                               config::AllDown::none, config::HealthMode::none);
    Drains drains;
    drains = drains_from({"geneva"});
    const auto st = states(c, {down, up});
    auto p = plan(c, st, drains)[0];
    EXPECT_EQ(published(p), (std::vector<bool>{true, false}));
    EXPECT_EQ(reason_of(c, st, p, 0), "up (not health-checked)");
    EXPECT_FALSE(p.all_down_v4);
}

TEST(Plan, StatesOfAnotherConfigAreNotTrusted) {
    config::Config c =
        service({{"london", {"192.0.2.1"}}, {"geneva", {"192.0.2.2"}}}, config::AllDown::none);
    auto other = states(c, {up, up});
    other[1].published = ip("192.0.2.99");
    auto p = plan(c, other, {})[0];
    EXPECT_EQ(published(p), (std::vector<bool>{true, false}));
    EXPECT_EQ(reason_of(c, other, p, 1), "unknown (no health state)");
    EXPECT_EQ(published(plan(c, {}, {})[0]), (std::vector<bool>{false, false}));
}

TEST(Plan, AvailabilityFollowsThePlans) {
    config::Config c =
        service({{"london", {"192.0.2.1", "2001:db8::1"}}, {"geneva", {"192.0.2.2"}}});
    config::Config two = c;
    two.services.push_back(c.services[0]);
    two.services[1].name = "api.demo.test.";
    auto s = states(c, {up, up, down});
    auto s2 = states(c, {down, up, up});
    for (AddressState& x : s2)
        x.service = 1;
    s.insert(s.end(), s2.begin(), s2.end());
    zone::Availability a = availability(plan(two, s, {}));
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[0], (std::vector<bool>{true, true, false}));
    EXPECT_EQ(a[1], (std::vector<bool>{false, true, true}));
}

TEST(Plan, ReplanningTheChangedServicesMatchesAWholePlan) {
    config::Config c =
        service({{"london", {"192.0.2.1", "2001:db8::1"}}, {"geneva", {"192.0.2.2"}}});
    config::Config three = c;
    for (const char* name : {"api.demo.test.", "img.demo.test."}) {
        three.services.push_back(c.services[0]);
        three.services.back().name = name;
    }
    auto all_states = [&](std::vector<Observed> observed) {
        std::vector<AddressState> out;
        for (std::size_t si = 0; si < 3; ++si) {
            auto s = states(c, {observed[3 * si], observed[3 * si + 1], observed[3 * si + 2]});
            for (AddressState& x : s) {
                x.service = si;
                x.service_name = three.services[si].name;
            }
            out.insert(out.end(), s.begin(), s.end());
        }
        return out;
    };
    std::vector<ServicePlan> plans =
        plan(three, all_states({up, up, up, up, up, up, up, up, up}), {});
    // api's IPv4 addresses go down and img's geneva is drained: only those two are planned again.
    const auto now = all_states({up, up, up, down, up, down, up, up, up});
    Drains drains;
    drains = drains_from({"img.demo.test./geneva"});
    replan(three, now, drains, {1, 2}, plans);
    const std::vector<ServicePlan> whole = plan(three, now, drains);
    ASSERT_EQ(plans.size(), whole.size());
    for (std::size_t si = 0; si < whole.size(); ++si) {
        EXPECT_EQ(published(plans[si]), published(whole[si])) << si;
        EXPECT_EQ(plans[si].first, whole[si].first) << si;
        EXPECT_EQ(plans[si].all_down_v4, whole[si].all_down_v4) << si;
        for (std::size_t ai = 0; ai < whole[si].addresses.size(); ++ai)
            EXPECT_EQ(plans[si].addresses[ai].why, whole[si].addresses[ai].why) << si << ai;
    }
    EXPECT_EQ(plans[1].first, 3u);
    EXPECT_EQ(plans[1].addresses[0].why, Why::failing_open);
    EXPECT_EQ(published(plans[2]), (std::vector<bool>{true, true, false}));
}

TEST(Names, AreStable) {
    EXPECT_STREQ(observed_name(Observed::unknown), "unknown");
    EXPECT_STREQ(observed_name(Observed::down), "down");
    EXPECT_STREQ(outcome_name(Outcome::ok), "ok");
    EXPECT_STREQ(outcome_name(Outcome::protocol), "protocol");
    EXPECT_STREQ(outcome_name(Outcome::unreachable), "unreachable");
}

}  // namespace
}  // namespace nolb::health
