// The /events streams of nolb-stats: Server-Sent Events framing (a retry hint, then one "data:"
// line of JSON per event, each ended by a blank line, and comment heartbeats in between), each
// viewer's own address in its events, the cap on viewers, and viewers that leave. Real evhttp on
// loopback; HTTP/1.0 clients read the stream as it is written, HTTP/1.1 ones through chunks.
#include "nolb-stats/streams.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "unit/stats/evhttp_harness.hpp"

namespace nolb::stats {
namespace {

using namespace nolb::stats::test;
using Json = nlohmann::json;

constexpr std::string_view kEvents10 = "GET /events HTTP/1.0\r\n\r\n";
constexpr std::string_view kEvents11 = "GET /events HTTP/1.1\r\nHost: t\r\n\r\n";

// Every request opens a stream with the first event {"n": 0}, under the address "addr-<k>".
struct Streaming {
    HttpHarness harness;
    std::unique_ptr<ViewerStreams> streams;
    int opened = 0;

    explicit Streaming(std::size_t capacity) : streams(std::make_unique<ViewerStreams>(capacity)) {
        harness.on([this](evhttp_request* req) {
            streams->open(req, "addr-" + std::to_string(opened++), Json{{"n", 0}});
        });
    }
    ~Streaming() { streams.reset(); }  // before evhttp, which frees the connections

    // Waits until `client` has received `text` after what it had.
    bool await(RawClient& client, std::string_view text) {
        return harness.run_until([&] {
            client.poll();
            return client.received().find(text) != std::string::npos;
        });
    }
};

// The "data:" lines of a stream, parsed: lines that start with "data: ".
std::vector<Json> events_of(const std::string& stream) {
    std::vector<Json> out;
    std::size_t at = 0;
    while (at < stream.size()) {
        std::size_t end = stream.find('\n', at);
        if (end == std::string::npos) break;
        std::string_view line(stream.data() + at, end - at);
        if (line.substr(0, 6) == "data: ") out.push_back(Json::parse(line.substr(6)));
        at = end + 1;
    }
    return out;
}

TEST(ViewerStreams, OpeningSendsTheHeadersTheRetryHintAndTheFirstEvent) {
    Streaming s(8);
    ASSERT_TRUE(s.harness.ok());
    RawClient client(s.harness.port());
    client.send(kEvents10);
    ASSERT_TRUE(s.await(client, "}\n\n"));
    const std::string& response = client.received();
    EXPECT_EQ(response.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << response;
    const std::string headers = headers_of(response);
    EXPECT_NE(headers.find("Content-Type: text/event-stream\r\n"), std::string::npos) << headers;
    EXPECT_NE(headers.find("X-Accel-Buffering: no\r\n"), std::string::npos) << headers;
    EXPECT_NE(headers.find("Connection: close\r\n"), std::string::npos) << headers;
    EXPECT_EQ(headers.find("Content-Length"), std::string::npos) << headers;
    EXPECT_EQ(body_of(response), "retry: 500\n\ndata: {\"address\":\"addr-0\",\"n\":0}\n\n");
    EXPECT_EQ(s.streams->count(), 1u);
}

TEST(ViewerStreams, EachViewerGetsEventsWithItsOwnAddress) {
    Streaming s(8);
    ASSERT_TRUE(s.harness.ok());
    RawClient a(s.harness.port()), b(s.harness.port());
    a.send(kEvents10);
    ASSERT_TRUE(s.await(a, "}\n\n"));
    b.send(kEvents10);
    ASSERT_TRUE(s.await(b, "}\n\n"));
    ASSERT_EQ(s.streams->count(), 2u);

    s.streams->publish(Json{{"n", 1}, {"site", "london"}}, std::chrono::seconds(0));
    ASSERT_TRUE(s.await(a, "\"n\":1"));
    ASSERT_TRUE(s.await(b, "\"n\":1"));
    ASSERT_TRUE(s.await(a, "}\n\n"));
    auto ea = events_of(body_of(a.received()));
    auto eb = events_of(body_of(b.received()));
    ASSERT_EQ(ea.size(), 2u);
    ASSERT_EQ(eb.size(), 2u);
    EXPECT_EQ(ea[1], (Json{{"n", 1}, {"site", "london"}, {"address", "addr-0"}}));
    EXPECT_EQ(eb[1], (Json{{"n", 1}, {"site", "london"}, {"address", "addr-1"}}));
}

TEST(ViewerStreams, ViewersWithARecentEventGetAHeartbeatInstead) {
    Streaming s(8);
    ASSERT_TRUE(s.harness.ok());
    RawClient client(s.harness.port());
    client.send(kEvents10);
    ASSERT_TRUE(s.await(client, "}\n\n"));

    // The first event was just sent: within the gap, only a comment goes out.
    s.streams->publish(Json{{"n", 1}}, std::chrono::hours(1));
    ASSERT_TRUE(s.await(client, ": heartbeat\n\n"));
    EXPECT_EQ(events_of(client.received()).size(), 1u);
    // Past the gap, the event.
    s.streams->publish(Json{{"n", 2}}, std::chrono::seconds(0));
    ASSERT_TRUE(s.await(client, "\"n\":2"));
    EXPECT_EQ(body_of(client.received()),
              "retry: 500\n\ndata: {\"address\":\"addr-0\",\"n\":0}\n\n: heartbeat\n\n"
              "data: {\"address\":\"addr-0\",\"n\":2}\n\n");
}

TEST(ViewerStreams, ValuesCannotBreakTheFraming) {
    Streaming s(8);
    ASSERT_TRUE(s.harness.ok());
    RawClient client(s.harness.port());
    client.send(kEvents10);
    ASSERT_TRUE(s.await(client, "}\n\n"));
    s.streams->publish(Json{{"site", "a\n\ndata: {\"forged\":1}\r\n"}}, std::chrono::seconds(0));
    ASSERT_TRUE(s.await(client, "forged"));
    ASSERT_TRUE(s.await(client, "}\n\n"));
    const std::string body = body_of(client.received());
    // Two events, two blank lines after the hint: the newlines went in escaped.
    auto events = events_of(body);
    ASSERT_EQ(events.size(), 2u) << body;
    EXPECT_EQ(events[1]["site"], "a\n\ndata: {\"forged\":1}\r\n");
    std::size_t blank = 0;
    for (std::size_t at = body.find("\n\n"); at != std::string::npos;
         at = body.find("\n\n", at + 2))
        ++blank;
    EXPECT_EQ(blank, 3u) << body;
}

TEST(ViewerStreams, Http11StreamsAreChunked) {
    Streaming s(8);
    ASSERT_TRUE(s.harness.ok());
    RawClient client(s.harness.port());
    client.send(kEvents11);
    ASSERT_TRUE(s.await(client, "}\n\n"));
    EXPECT_NE(headers_of(client.received()).find("Transfer-Encoding: chunked\r\n"),
              std::string::npos)
        << client.received();
    // "retry: 500\n\n" is twelve octets: one chunk, its size in hex.
    EXPECT_NE(body_of(client.received()).find("c\r\nretry: 500\n\n\r\n"), std::string::npos)
        << client.received();
    s.streams->end_all();
    ASSERT_TRUE(s.await(client, "\r\n0\r\n\r\n"));  // the last chunk
}

TEST(ViewerStreams, FullAtCapacity) {
    Streaming s(2);
    ASSERT_TRUE(s.harness.ok());
    EXPECT_FALSE(s.streams->full());
    RawClient a(s.harness.port()), b(s.harness.port());
    a.send(kEvents10);
    ASSERT_TRUE(s.await(a, "}\n\n"));
    EXPECT_FALSE(s.streams->full());
    b.send(kEvents10);
    ASSERT_TRUE(s.await(b, "}\n\n"));
    EXPECT_TRUE(s.streams->full());
}

TEST(ViewerStreams, EndAllClosesEveryStream) {
    Streaming s(8);
    ASSERT_TRUE(s.harness.ok());
    RawClient a(s.harness.port()), b(s.harness.port());
    a.send(kEvents10);
    b.send(kEvents10);
    ASSERT_TRUE(s.await(a, "}\n\n"));
    ASSERT_TRUE(s.await(b, "}\n\n"));
    s.streams->end_all();
    EXPECT_EQ(s.streams->count(), 0u);
    EXPECT_TRUE(s.harness.run_until([&] { return a.poll() && b.poll(); }));
    // Nothing is written to an ended stream.
    s.streams->publish(Json{{"n", 9}}, std::chrono::seconds(0));
    EXPECT_EQ(a.received().find("\"n\":9"), std::string::npos);
}

TEST(ViewerStreams, ViewersThatLeaveAreForgotten) {
    Streaming s(8);
    ASSERT_TRUE(s.harness.ok());
    RawClient leaving(s.harness.port()), staying(s.harness.port());
    leaving.send(kEvents10);
    staying.send(kEvents10);
    ASSERT_TRUE(s.await(leaving, "}\n\n"));
    ASSERT_TRUE(s.await(staying, "}\n\n"));
    leaving.close();
    // A silent site finds them on its tick; a writing one when the write fails. Either way.
    ASSERT_TRUE(s.harness.run_until([&] {
        s.streams->prune_closed();
        return s.streams->count() == 1;
    }));
    s.streams->publish(Json{{"n", 1}}, std::chrono::seconds(0));
    ASSERT_TRUE(s.await(staying, "\"n\":1"));
    EXPECT_EQ(events_of(staying.received()).back()["address"], "addr-1");
}

TEST(ViewerStreams, AFailedWriteForgetsTheViewer) {
    Streaming s(8);
    ASSERT_TRUE(s.harness.ok());
    RawClient leaving(s.harness.port());
    leaving.send(kEvents10);
    ASSERT_TRUE(s.await(leaving, "}\n\n"));
    leaving.close();
    // No prune: only publishing, until evhttp's write fails and its close callback runs.
    ASSERT_TRUE(s.harness.run_until([&] {
        s.streams->publish(Json{{"n", 1}}, std::chrono::seconds(0));
        return s.streams->count() == 0;
    }));
}

TEST(ViewerStreams, DestroyedWithOpenStreamsEndsEachReply) {
    Streaming s(8);
    ASSERT_TRUE(s.harness.ok());
    RawClient client(s.harness.port());
    client.send(kEvents10);
    ASSERT_TRUE(s.await(client, "}\n\n"));
    s.streams.reset();
    // HTTP/1.0: the reply ends with the connection (Connection: close).
    EXPECT_TRUE(s.harness.run_until([&] {
        client.poll();
        return client.eof();
    })) << "the reply was ended";
    client.close();
    s.harness.run_for(100ms);  // a close callback into the destroyed object would be a bug
}

}  // namespace
}  // namespace nolb::stats
