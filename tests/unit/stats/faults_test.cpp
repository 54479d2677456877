// Faults a nolb-stats site fakes: the names POST /fail takes, and HeldRequests, which sits on
// the requests of a slow site until their delay has passed and on those of a hung one until it
// recovers, and lets go of those whose clients give up. Real evhttp on 127.0.0.1.
#include "nolb-stats/faults.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "unit/stats/evhttp_harness.hpp"

namespace nolb::stats {
namespace {

using namespace nolb::stats::test;

TEST(FaultMode, NamesRoundTrip) {
    for (FaultMode m : {FaultMode::http500, FaultMode::slow, FaultMode::hang, FaultMode::close})
        EXPECT_EQ(parse_fault_mode(fault_mode_name(m)), m) << fault_mode_name(m);
    EXPECT_STREQ(fault_mode_name(FaultMode::none), "none");
    EXPECT_STREQ(fault_mode_name(FaultMode::http500), "http500");
    EXPECT_STREQ(fault_mode_name(FaultMode::slow), "slow");
    EXPECT_STREQ(fault_mode_name(FaultMode::hang), "hang");
    EXPECT_STREQ(fault_mode_name(FaultMode::close), "close");
}

TEST(FaultMode, OnlyTheFaultsCanBeAskedFor) {
    // "none" is the absence of a fault (POST /recover), not a mode /fail takes.
    for (const char* name : {"none", "", "HTTP500", "500", "slow ", "hung", "crash"})
        EXPECT_EQ(parse_fault_mode(name), std::nullopt) << '"' << name << '"';
}

constexpr std::string_view kGet = "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n";

// A harness whose every request goes to `held`, and whose releases answer 200 and are counted.
struct Holding {
    HttpHarness harness;
    std::vector<evhttp_request*> released;
    std::unique_ptr<HeldRequests> held;
    std::optional<std::chrono::milliseconds> delay;

    explicit Holding(std::size_t capacity) {
        held = std::make_unique<HeldRequests>(harness.base(), capacity, [this](evhttp_request* r) {
            released.push_back(r);
            evhttp_send_reply(r, HTTP_OK, "OK", nullptr);
        });
        harness.on([this](evhttp_request* r) { held->hold(r, delay); });
    }
    ~Holding() { held.reset(); }  // before evhttp, which frees what is still held
};

TEST(HeldRequests, SlowRequestIsAnsweredOnceItsDelayHasPassed) {
    Holding h(8);
    ASSERT_TRUE(h.harness.ok());
    h.delay = std::chrono::milliseconds(300);
    RawClient client(h.harness.port());
    ASSERT_TRUE(client.ok());
    const auto start = Clock::now();
    client.send(kGet);
    ASSERT_TRUE(h.harness.run_until([&] { return h.held->count() == 1; }));
    EXPECT_TRUE(h.released.empty());

    ASSERT_TRUE(h.harness.run_until([&] { return !h.released.empty(); }));
    const auto waited = Clock::now() - start;
    EXPECT_GE(waited, 250ms);
    EXPECT_EQ(h.held->count(), 0u);
    ASSERT_TRUE(h.harness.run_until([&] {
        client.poll();
        return client.received().find("\r\n\r\n") != std::string::npos;
    }));
    EXPECT_EQ(client.received().rfind("HTTP/1.1 200", 0), 0u) << client.received();
    EXPECT_EQ(h.released.size(), 1u);
}

TEST(HeldRequests, HungRequestWaitsForReleaseAll) {
    Holding h(8);
    ASSERT_TRUE(h.harness.ok());
    RawClient a(h.harness.port()), b(h.harness.port());
    a.send(kGet);
    b.send(kGet);
    ASSERT_TRUE(h.harness.run_until([&] { return h.held->count() == 2; }));
    h.harness.run_for(300ms);
    a.poll();
    b.poll();
    EXPECT_EQ(a.received(), "");
    EXPECT_EQ(b.received(), "");
    EXPECT_TRUE(h.released.empty());

    h.held->release_all();
    EXPECT_EQ(h.held->count(), 0u);
    EXPECT_EQ(h.released.size(), 2u);
    ASSERT_TRUE(h.harness.run_until([&] {
        a.poll();
        b.poll();
        return a.received().find("\r\n\r\n") != std::string::npos &&
               b.received().find("\r\n\r\n") != std::string::npos;
    }));
    EXPECT_EQ(a.received().rfind("HTTP/1.1 200", 0), 0u);
    EXPECT_EQ(b.received().rfind("HTTP/1.1 200", 0), 0u);
}

TEST(HeldRequests, ReleasedEarlyIsNotReleasedAgainWhenItsDelayEnds) {
    Holding h(8);
    ASSERT_TRUE(h.harness.ok());
    h.delay = std::chrono::milliseconds(100);
    RawClient client(h.harness.port());
    client.send(kGet);
    ASSERT_TRUE(h.harness.run_until([&] { return h.held->count() == 1; }));
    h.held->release_all();
    EXPECT_EQ(h.released.size(), 1u);
    h.harness.run_for(300ms);  // past the delay: its timer went with the entry
    EXPECT_EQ(h.released.size(), 1u);
}

TEST(HeldRequests, FullAtCapacity) {
    Holding h(2);
    ASSERT_TRUE(h.harness.ok());
    EXPECT_FALSE(h.held->full());
    RawClient a(h.harness.port()), b(h.harness.port());
    a.send(kGet);
    ASSERT_TRUE(h.harness.run_until([&] { return h.held->count() == 1; }));
    EXPECT_FALSE(h.held->full());
    b.send(kGet);
    ASSERT_TRUE(h.harness.run_until([&] { return h.held->count() == 2; }));
    EXPECT_TRUE(h.held->full());
    h.held->release_all();
    EXPECT_FALSE(h.held->full());
}

TEST(HeldRequests, ClientsThatGiveUpTakeTheirEntryWithThem) {
    for (bool slow : {false, true}) {
        SCOPED_TRACE(slow ? "slow" : "hung");
        Holding h(8);
        ASSERT_TRUE(h.harness.ok());
        if (slow) h.delay = std::chrono::milliseconds(400);
        RawClient leaving(h.harness.port()), staying(h.harness.port());
        leaving.send(kGet);
        staying.send(kGet);
        ASSERT_TRUE(h.harness.run_until([&] { return h.held->count() == 2; }));
        leaving.close();
        // evhttp does not watch a connection whose request is unanswered: the tick's prune
        // finds the closed one.
        ASSERT_TRUE(h.harness.run_until([&] {
            h.held->prune_closed();
            return h.held->count() == 1;
        }));
        EXPECT_TRUE(h.released.empty());
        if (slow) {
            // The one left is still answered when its time comes; the pruned one never is.
            ASSERT_TRUE(h.harness.run_until([&] { return !h.released.empty(); }));
            h.harness.run_for(100ms);
            EXPECT_EQ(h.released.size(), 1u);
        } else {
            h.held->release_all();
            EXPECT_EQ(h.released.size(), 1u);
        }
        ASSERT_TRUE(h.harness.run_until([&] {
            staying.poll();
            return staying.received().find("\r\n\r\n") != std::string::npos;
        }));
    }
}

TEST(HeldRequests, PruneKeepsClientsThatAreStillThere) {
    Holding h(8);
    ASSERT_TRUE(h.harness.ok());
    RawClient client(h.harness.port());
    client.send(kGet);
    ASSERT_TRUE(h.harness.run_until([&] { return h.held->count() == 1; }));
    for (int i = 0; i < 5; ++i) {
        h.held->prune_closed();
        h.harness.run_for(10ms);
    }
    EXPECT_EQ(h.held->count(), 1u);
}

TEST(HeldRequests, DestroyedWhileHoldingLeavesEvhttpToFreeTheRest) {
    // The close callbacks must not reach a HeldRequests that is gone (a sanitizer build sees it).
    auto harness = std::make_unique<HttpHarness>();
    ASSERT_TRUE(harness->ok());
    auto held = std::make_unique<HeldRequests>(
        harness->base(), 8, [](evhttp_request*) { ADD_FAILURE() << "released after destruction"; });
    harness->on([&](evhttp_request* r) { held->hold(r, std::chrono::milliseconds(50)); });
    RawClient client(harness->port());
    client.send(kGet);
    ASSERT_TRUE(harness->run_until([&] { return held->count() == 1; }));
    held.reset();
    harness->on(nullptr);
    client.close();
    harness->run_for(150ms);
    harness.reset();
}

}  // namespace
}  // namespace nolb::stats
