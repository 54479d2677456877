// The control documents on the socket: each encodes to the JSON protocol.hpp describes and
// decodes back equal; decoding refuses a document with a field missing or mistyped.
#include "control/encoding.hpp"

#include <gtest/gtest.h>

#include "unit/control/control_fixture.hpp"

namespace nolb::control {
namespace {

using namespace testing;

template <typename T>
void expect_round_trip(const T& document) {
    const Json encoded = document;
    EXPECT_EQ(encoded.get<T>(), document) << encoded.dump();
    // Through the text of a line too, as the socket carries it.
    EXPECT_EQ(Json::parse(json_line(encoded)).get<T>(), document) << encoded.dump();
}

TEST(ControlEncoding, EveryDocumentRoundTrips) {
    expect_round_trip(status_document());
    Status unprobed = status_document();
    unprobed.services[0].nodes[0].addresses[0].last.reset();
    expect_round_trip(unprobed);
    expect_round_trip(Status{});
    expect_round_trip(stats_document());
    expect_round_trip(Stats{});
    expect_round_trip(explain_document("www.demo.test.", "AAAA"));
    Explain nxdomain;
    nxdomain.name = "nope.demo.test.";
    nxdomain.rcode = "NXDOMAIN";
    expect_round_trip(nxdomain);
    FakeBackend backend;
    expect_round_trip(backend.drain("london", true));
    expect_round_trip(backend.drain("london", false));
    expect_round_trip(ReloadResult{false, {"a.toml:1:1: x: bad"}});
    expect_round_trip(ReloadResult{true, {}});
    expect_round_trip(check_document());
    expect_round_trip(transition("london", "up", "down"));
}

// The wire format, as nolbctl --json and scripts see it.
TEST(ControlEncoding, TheJsonOnTheSocket) {
    EXPECT_EQ(Json(check_document()).dump(),
              R"({"lagging":[{"address":"127.0.0.54","behind_s":480.0,"zone":"demo.test."}],)"
              R"("services":[{"name":"www.demo.test.","total":2,"up":1}],"status":1})");
    FakeBackend backend;
    EXPECT_EQ(Json(backend.drain("london", true)).dump(),
              R"({"drained":true,"matched":[{"node":"london","service":"www.demo.test."}],)"
              R"("node":"london","persisted":true,"safe_at":1700000623.0,"safe_in_s":20.0})");
    EXPECT_EQ(Json(backend.drain("london", false)).dump(),
              R"({"drained":false,"matched":[{"node":"london","service":"www.demo.test."}],)"
              R"("node":"london","persisted":true,"safe_at":null,"safe_in_s":null})");
    EXPECT_EQ(Json(ReloadResult{true, {}}).dump(), R"({"problems":[],"reloaded":true})");
    EXPECT_EQ(Json(transition("london", "up", "down")).dump(),
              R"({"address":"127.0.0.2","at":1700000600.0,"event":"transition","from":"up",)"
              R"("node":"london","reason":"2 probes failed: timeout","service":"www.demo.test.",)"
              R"("to":"down"})");
    const Json status = status_document();
    const Json& london = status["services"][0]["nodes"][0]["addresses"][0];
    EXPECT_EQ(
        london["last"].dump(),
        R"({"at":1700000520.0,"detail":"","http_status":200,"latency_ms":0.4,"outcome":"ok"})");
    EXPECT_EQ(london["successes"].dump(), "5");
    Explain nxdomain;
    EXPECT_EQ(Json(nxdomain)["ttl"], nullptr);
    EXPECT_EQ(Json(nxdomain)["service"], nullptr);
    EXPECT_EQ(Json(nxdomain)["answer"], Json::array());
    EXPECT_EQ(Json(Stats{})["queries"]["by_type"], Json::object());
}

TEST(ControlEncoding, DecodingRefusesWhatIsNotTheDocument) {
    Json stats = stats_document();
    stats["tcp"].erase("evicted");
    EXPECT_THROW(stats.get<Stats>(), Json::exception);
    Json check = check_document();
    check["status"] = "1";
    EXPECT_THROW(check.get<Check>(), Json::exception);
    EXPECT_THROW(Json("nonsense").get<Status>(), Json::exception);
    EXPECT_THROW(Json({{"event", "reload"}}).get<WatchEvent>(), std::invalid_argument);
    // A probe that read no status line may come as null.
    Json status = status_document();
    status["services"][0]["nodes"][1]["addresses"][0]["last"]["http_status"] = nullptr;
    EXPECT_EQ(status.get<Status>(), status_document());
}

}  // namespace
}  // namespace nolb::control
