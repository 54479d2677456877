// The names of observed states and probe outcomes: logs, nolbctl, metrics and the control
// protocol print them, so each is fixed, distinct, and a value outside the enum still gets a
// name instead of crashing a log line.
#include "health/state.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace nolb::health {
namespace {

TEST(HealthState, ObservedNamesAreStable) {
    EXPECT_STREQ(observed_name(Observed::unknown), "unknown");
    EXPECT_STREQ(observed_name(Observed::up), "up");
    EXPECT_STREQ(observed_name(Observed::down), "down");
}

TEST(HealthState, OutcomeNamesAreStableAndDistinct) {
    const std::pair<Outcome, const char*> expected[] = {
        {Outcome::ok, "ok"},
        {Outcome::timeout, "timeout"},
        {Outcome::refused, "refused"},
        {Outcome::reset, "reset"},
        {Outcome::unreachable, "unreachable"},
        {Outcome::status, "status"},
        {Outcome::body, "body"},
        {Outcome::protocol, "protocol"},
        {Outcome::error, "error"},
    };
    std::set<std::string> names;
    for (const auto& [outcome, name] : expected) {
        EXPECT_STREQ(outcome_name(outcome), name);
        names.insert(outcome_name(outcome));
    }
    EXPECT_EQ(names.size(), std::size(expected));
}

TEST(HealthState, ValuesOutsideTheEnumStillHaveANameOfTheirKind) {
    EXPECT_STREQ(observed_name(static_cast<Observed>(200)), "unknown");
    EXPECT_STREQ(outcome_name(static_cast<Outcome>(200)), "error");
}

TEST(HealthState, AnAddressIsUpOnlyWhenObservedUp) {
    AddressState state;
    EXPECT_FALSE(state.up());  // unknown until the first verdict
    state.observed = Observed::down;
    EXPECT_FALSE(state.up());
    state.observed = Observed::up;
    EXPECT_TRUE(state.up());
}

}  // namespace
}  // namespace nolb::health
