// How the clients judge what a server sent: complete or cut short (with or without the server's
// close), the status, whether the connection may be kept, and the site named in the body; and
// how an event stream is read into events.
#include "nolb-compare/http_exchange.hpp"

#include <gtest/gtest.h>

#include <string>

namespace nolb::compare {
namespace {

TEST(CompareHttpExchange, RequestAsksForStatsAndTheClose) {
    const std::string request = stats_request("www.compare.test");
    EXPECT_EQ(request.rfind("GET /stats HTTP/1.1\r\n", 0), 0u);
    EXPECT_NE(request.find("\r\nHost: www.compare.test\r\n"), std::string::npos);
    EXPECT_NE(request.find("\r\nConnection: close\r\n"), std::string::npos);
    EXPECT_EQ(request.substr(request.size() - 4), "\r\n\r\n");
}

TEST(CompareHttpExchange, ContentLengthDecidesCompleteness) {
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "content-length: 30\r\nConnection: close\r\n\r\n";
    const std::string body = R"({"site":"node2","uptime_s":12})";
    ASSERT_EQ(body.size(), 30u);
    HttpResponse full = parse_response(head + body);
    EXPECT_TRUE(full.headers_complete);
    EXPECT_TRUE(full.complete);
    EXPECT_EQ(full.status, 200);
    EXPECT_EQ(full.site, "node2");

    HttpResponse cut = parse_response(head + body.substr(0, 20));
    EXPECT_TRUE(cut.headers_complete);
    EXPECT_FALSE(cut.complete);
    EXPECT_EQ(cut.status, 200);

    HttpResponse no_body_yet = parse_response("HTTP/1.1 200 OK\r\nContent-Len");
    EXPECT_FALSE(no_body_yet.headers_complete);
    EXPECT_FALSE(no_body_yet.complete);
    EXPECT_EQ(no_body_yet.status, 200);
}

TEST(CompareHttpExchange, ErrorStatusesAndBodiesWithoutLength) {
    HttpResponse error = parse_response(
        "HTTP/1.0 500 Internal Server Error\r\n\r\n{\"error\": \"x\", \"site\" : \"node3\"}");
    EXPECT_TRUE(error.complete) << "delimited by the close";
    EXPECT_EQ(error.status, 500);
    EXPECT_EQ(error.site, "node3");

    HttpResponse bare = parse_response("HTTP/1.1 204\r\n\r\n");
    EXPECT_TRUE(bare.complete);
    EXPECT_EQ(bare.status, 204);
    EXPECT_EQ(bare.site, "");
}

TEST(CompareHttpExchange, ChunkedBodies) {
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::string chunks = "8\r\n{\"site\":\r\n8;ext=1\r\n\"node4\"}\r\n0\r\n\r\n";
    HttpResponse done = parse_response(head + chunks);
    EXPECT_TRUE(done.complete);
    EXPECT_EQ(done.site, "node4") << "found across chunks";
    HttpResponse cut = parse_response(head + "8\r\n{\"site\":\r\n8\r\n\"no");
    EXPECT_FALSE(cut.complete);
}

TEST(CompareHttpExchange, NotHttp) {
    HttpResponse junk = parse_response("SSH-2.0-OpenSSH\r\n\r\n");
    EXPECT_TRUE(junk.headers_complete);
    EXPECT_FALSE(junk.complete);
    EXPECT_EQ(junk.status, 0);
    EXPECT_EQ(parse_response("HTTP/1.1 2x0 OK\r\n\r\n").status, 0);
    EXPECT_FALSE(parse_response("HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n").complete);
}

TEST(CompareHttpExchange, FindSite) {
    EXPECT_EQ(find_site(R"({"site":"a"})"), "a");
    EXPECT_EQ(find_site("{\"note\": \"site\", \"site\":\n \"b-1.x\"}"), "b-1.x");
    EXPECT_EQ(find_site(R"({"sites":"a"})"), "");
    EXPECT_EQ(find_site(R"({"site": 3})"), "");
    EXPECT_EQ(find_site(R"({"site":"unterminated)"), "");
}

TEST(CompareHttpExchange, KeepAliveRequestLeavesTheConnectionOpen) {
    const std::string kept = stats_request("www.compare.test", true);
    EXPECT_EQ(kept.rfind("GET /stats HTTP/1.1\r\n", 0), 0u);
    EXPECT_EQ(kept.find("Connection:"), std::string::npos);
    EXPECT_EQ(kept.substr(kept.size() - 4), "\r\n\r\n");
    const std::string events = events_request("www.compare.test");
    EXPECT_EQ(events.rfind("GET /events HTTP/1.1\r\n", 0), 0u);
    EXPECT_NE(events.find("\r\nAccept: text/event-stream\r\n"), std::string::npos);
}

TEST(CompareHttpExchange, AnOpenConnectionIsCompleteByItsFramingOnly) {
    const std::string framed = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{\"site\":\"n1\"}";
    HttpResponse open = parse_response(framed, false);
    EXPECT_TRUE(open.complete);
    EXPECT_FALSE(open.close) << "HTTP/1.1 keeps the connection unless told";
    EXPECT_EQ(open.site, "n1");
    EXPECT_FALSE(parse_response(framed.substr(0, framed.size() - 1), false).complete);

    // No length: only the server's close ends the body, and the connection is not kept.
    const std::string unframed = "HTTP/1.1 200 OK\r\n\r\n{\"site\":\"n1\"}";
    EXPECT_FALSE(parse_response(unframed, false).complete);
    EXPECT_TRUE(parse_response(unframed, true).complete);
    EXPECT_TRUE(parse_response(unframed, true).close);

    EXPECT_TRUE(
        parse_response("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n", false)
            .close);
    EXPECT_TRUE(parse_response("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false).close);
}

TEST(CompareEventStream, ChunkedEventsArriveWhateverTheirCuts) {
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    auto chunk = [](const std::string& data) {
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", data.size());
        return size + data + "\r\n";
    };
    const std::string body = chunk("retry: 500\n") + chunk("data: {\"site\":\"node1\"}\n\n") +
                             chunk(": a comment\r\ndata: one\r\ndata: two\r\n\r\n") +
                             chunk("data: {\"site\":\"node2\"}\r\r\n");
    const std::string all = head + body;
    // Every way of cutting the bytes in two gives the same events.
    for (std::size_t cut = 0; cut <= all.size(); ++cut) {
        EventStreamReader reader;
        std::vector<EventStreamReader::Event> events = reader.feed(all.substr(0, cut));
        for (auto& e : reader.feed(all.substr(cut)))
            events.push_back(e);
        SCOPED_TRACE("cut at " + std::to_string(cut));
        ASSERT_EQ(reader.state(), EventStreamReader::State::events);
        EXPECT_EQ(reader.status(), 200);
        ASSERT_EQ(events.size(), 3u);
        EXPECT_EQ(find_site(events[0].data), "node1");
        EXPECT_EQ(events[1].data, "one\ntwo");
        EXPECT_EQ(find_site(events[2].data), "node2");
        ASSERT_TRUE(reader.retry_ms());
        EXPECT_EQ(*reader.retry_ms(), 500u);
    }
}

TEST(CompareEventStream, ErrorsAndOtherTypesEndTheStream) {
    EventStreamReader error;
    EXPECT_TRUE(
        error.feed("HTTP/1.1 500 Internal\r\nContent-Type: application/json\r\n\r\n{}").empty());
    EXPECT_EQ(error.state(), EventStreamReader::State::failed);
    EXPECT_EQ(error.status(), 500);

    EventStreamReader json;
    json.feed("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n");
    EXPECT_EQ(json.state(), EventStreamReader::State::failed) << "EventSource needs its type";

    EventStreamReader plain;
    auto events = plain.feed(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\r\ndata: x\n\n");
    EXPECT_EQ(plain.state(), EventStreamReader::State::events) << "an unchunked body too";
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].data, "x");

    EventStreamReader garbled;
    garbled.feed(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n");
    EXPECT_EQ(garbled.state(), EventStreamReader::State::failed);
    EXPECT_EQ(garbled.status(), 200) << "broken, not refused: EventSource tries again";
}

}  // namespace
}  // namespace nolb::compare
