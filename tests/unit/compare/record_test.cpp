// The outcome names that records, tables and charts print.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "nolb-compare/record.hpp"

namespace nolb::compare {
namespace {

TEST(CompareRecord, OutcomeNames) {
    EXPECT_STREQ(outcome_name(Outcome::ok), "ok");
    EXPECT_STREQ(outcome_name(Outcome::http_error), "http-error");
    EXPECT_STREQ(outcome_name(Outcome::refused), "refused");
    EXPECT_STREQ(outcome_name(Outcome::connect_timeout), "connect-timeout");
    EXPECT_STREQ(outcome_name(Outcome::reset), "reset");
    EXPECT_STREQ(outcome_name(Outcome::request_timeout), "request-timeout");
    EXPECT_STREQ(outcome_name(Outcome::dns_error), "dns-error");
    EXPECT_STREQ(outcome_name(Outcome::local_error), "local-error");
    std::set<std::string> distinct;
    for (int i = 0; i < kOutcomeCount; ++i)
        distinct.insert(outcome_name(static_cast<Outcome>(i)));
    EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kOutcomeCount));
    EXPECT_EQ(distinct.count("unknown"), 0u);
}

}  // namespace
}  // namespace nolb::compare
