// The publisher: it publishes when a service's availability changes and only then (or when
// forced), plans only what transitions and drain changes marked, notes when each address left
// the answers, and times its work.
#include "publish/publisher.hpp"

#include <gtest/gtest.h>

#include "unit/health/states.hpp"
#include "unit/support.hpp"
#include "zone/compile.hpp"

namespace nolb::publish {
namespace {

using health::Observed;

// www.demo.test. (london v4 v6, geneva v4 v6) and api.demo.test. (london, paris; all_down =
// "none"), all checked over HTTP. States in that order: www 0-3, api 4-5.
config::Config two_services() {
    config::Config c = test::demo_config();
    config::Service api;
    api.name = "api.demo.test.";
    api.ttl = 30;
    api.all_down = config::AllDown::none;
    api.nodes.push_back(test::node("london", {test::ip("127.0.0.10")}));
    api.nodes.push_back(test::node("paris", {test::ip("127.0.0.11")}));
    c.services.push_back(api);
    for (config::Service& s : c.services)
        s.health.type = config::HealthMode::http;
    return c;
}

class PublisherTest : public ::testing::Test {
  protected:
    void SetUp() override {
        publisher.adopt(config, zone::load(config));
        ASSERT_TRUE(publisher.publish(states, "startup", true, t0));
    }
    bool published(std::size_t service, std::size_t row) const {
        return publisher.plan().at(service).addresses.at(row).published;
    }
    bool publish() {
        return publisher.publish(states, "test", false, t0 + std::chrono::seconds(1));
    }

    config::Config config = two_services();
    std::vector<health::AddressState> states =
        test::address_states(config, std::vector<Observed>(6, Observed::up));
    health::Clock::time_point t0 = health::Clock::now();
    Publisher publisher;
};

TEST_F(PublisherTest, PublishesOnChangeOnly) {
    EXPECT_EQ(publisher.generation(), 1u);
    ASSERT_NE(publisher.snapshot(), nullptr);
    EXPECT_FALSE(publish()) << "nothing marked, nothing changed";

    states[0].observed = Observed::down;
    publisher.mark("www.demo.test.");
    EXPECT_TRUE(publish());
    EXPECT_EQ(publisher.generation(), 2u);
    EXPECT_EQ(publisher.published().generation(), 2u);
    EXPECT_FALSE(published(0, 0));

    // A service is planned again only when marked.
    states[4].observed = Observed::down;
    EXPECT_FALSE(publish());
    EXPECT_TRUE(published(1, 0));
    publisher.mark("api.demo.test.");
    EXPECT_TRUE(publish());
    EXPECT_FALSE(published(1, 0));

    // Marked but unchanged: nothing to publish.
    publisher.mark("api.demo.test.");
    EXPECT_FALSE(publish());
    EXPECT_EQ(publisher.generation(), 3u);
    // A name no longer configured plans everything.
    states[5].observed = Observed::down;
    publisher.mark("gone.demo.test.");
    EXPECT_TRUE(publish());
    EXPECT_FALSE(published(1, 1));
}

TEST_F(PublisherTest, ForcedPublishAlwaysPublishesAndTimesItsWork) {
    EXPECT_GT(publisher.times().full_ms, 0.0) << "the first rendering is whole";
    EXPECT_TRUE(publisher.publish(states, "first probe round", true));
    EXPECT_EQ(publisher.generation(), 2u);
    EXPECT_EQ(publisher.times().changes, 0u) << "forced publishes are not changes";

    states[2].observed = Observed::down;
    publisher.mark("www.demo.test.");
    EXPECT_TRUE(publish());
    EXPECT_EQ(publisher.times().changes, 1u);
    EXPECT_GT(publisher.times().last_ms, 0.0);
    EXPECT_GE(publisher.times().max_ms, publisher.times().last_ms);

    // A new model is rendered whole, and planned whole without being marked.
    states[5].observed = Observed::down;
    publisher.adopt(config, zone::load(config));
    EXPECT_TRUE(publisher.publish(states, "reload", true));
    EXPECT_FALSE(published(1, 1));
}

TEST_F(PublisherTest, RemembersWhenAddressesLeftTheAnswers) {
    EXPECT_EQ(publisher.left_at(states[0]), std::nullopt) << "published, never left";
    states[0].observed = Observed::down;
    publisher.mark("www.demo.test.");
    ASSERT_TRUE(publish());
    EXPECT_EQ(publisher.left_at(states[0]), t0 + std::chrono::seconds(1));
    EXPECT_EQ(publisher.left_at(states[1]), std::nullopt);

    // Coming back does not move it; leaving again does.
    states[0].observed = Observed::up;
    publisher.mark("www.demo.test.");
    ASSERT_TRUE(publisher.publish(states, "test", false, t0 + std::chrono::seconds(5)));
    EXPECT_EQ(publisher.left_at(states[0]), t0 + std::chrono::seconds(1));
    states[0].observed = Observed::down;
    publisher.mark("www.demo.test.");
    ASSERT_TRUE(publisher.publish(states, "test", false, t0 + std::chrono::seconds(9)));
    EXPECT_EQ(publisher.left_at(states[0]), t0 + std::chrono::seconds(9));
}

TEST_F(PublisherTest, DrainsMarkTheServicesTheyName) {
    // api changes unnoticed: only a mark would plan it again.
    states[5].observed = Observed::down;

    publisher.set_drains(health::drains_from({"www.demo.test./london"}));
    ASSERT_TRUE(publish());
    EXPECT_FALSE(published(0, 0));
    EXPECT_FALSE(published(0, 1));
    EXPECT_TRUE(published(0, 2));
    EXPECT_TRUE(published(1, 1)) << "api was not planned again";

    // A node-wide drain marks every service with that node.
    publisher.set_drains(health::drains_from({"www.demo.test./london", "london"}));
    ASSERT_TRUE(publish());
    EXPECT_FALSE(published(1, 0));
    EXPECT_FALSE(published(1, 1)) << "api was planned again";
    EXPECT_EQ(publisher.plan()[1].addresses[0].why, health::Why::drained);

    // A drain naming no configured service marks nothing.
    publisher.set_drains(
        health::drains_from({"www.demo.test./london", "london", "nope.test./paris"}));
    EXPECT_FALSE(publish());

    // Undrained: back in the answers.
    publisher.set_drains({});
    ASSERT_TRUE(publish());
    EXPECT_TRUE(published(0, 0));
    EXPECT_TRUE(published(1, 0));
}

}  // namespace
}  // namespace nolb::publish

namespace nolb::publish {
namespace {

// Each published change goes into the journal of a zone that allows transfers, published with
// the access rules before the snapshot; the journal's newest delta ends at the snapshot's
// serial; a reload of the same zone keeps the journal, and its next publish chains on. A zone
// nobody may transfer keeps no journal.
TEST(Publisher, JournalsFollowThePublishedSerials) {
    config::Config config = two_services();
    config.zones[0].soa.serial.reset();  // "auto": every publish moves it
    config.zones[0].transfer.allow = {*util::Prefix::parse("192.0.2.0/24")};
    std::vector<health::AddressState> states =
        test::address_states(config, std::vector<Observed>(6, Observed::up));
    const health::Clock::time_point t0 = health::Clock::now();
    Publisher publisher;
    publisher.adopt(config, zone::load(config));
    ASSERT_TRUE(publisher.publish(states, "startup", true, t0));

    auto state = publisher.transfers().get();
    ASSERT_NE(state->access, nullptr);
    ASSERT_EQ(state->journals.size(), 1u);
    EXPECT_EQ(state->journals[0].size(), 0u);  // the first snapshot has nothing to differ from
    const std::uint32_t first = publisher.snapshot()->zones[0].serial;

    states[0].observed = Observed::down;
    publisher.mark("www.demo.test.");
    ASSERT_TRUE(publisher.publish(states, "test", false, t0 + std::chrono::seconds(1)));
    state = publisher.transfers().get();
    const std::uint32_t second = publisher.snapshot()->zones[0].serial;
    ASSERT_NE(first, second);
    const auto deltas = state->journals[0].since(first);
    ASSERT_EQ(deltas.size(), 1u);
    EXPECT_EQ(deltas[0]->to, second);
    EXPECT_EQ(deltas[0]->deleted_count, 1u);  // london's IPv4 address
    EXPECT_EQ(deltas[0]->added_count, 0u);

    publisher.adopt(config, zone::load(config));
    ASSERT_TRUE(publisher.publish(states, "reload", true, t0 + std::chrono::seconds(2)));
    state = publisher.transfers().get();
    EXPECT_EQ(state->journals[0].since(first).size(), 2u) << "the reload chained on";

    config.zones[0].transfer.allow.clear();
    publisher.adopt(config, zone::load(config));
    ASSERT_TRUE(publisher.publish(states, "reload", true, t0 + std::chrono::seconds(3)));
    states[0].observed = Observed::up;
    publisher.mark("www.demo.test.");
    ASSERT_TRUE(publisher.publish(states, "test", false, t0 + std::chrono::seconds(4)));
    EXPECT_EQ(publisher.transfers().get()->journals[0].size(), 2u)
        << "kept from before, but nothing added once nobody may transfer";
}

}  // namespace
}  // namespace nolb::publish
