// nolb-stats's evhttp plumbing: the addresses of a connection, the path and query parameters of
// a request, noticing a client that has gone, and the one reply path with its common headers
// (HEAD answered with the GET's headers and no body). Real evhttp on loopback.
#include "nolb-stats/http.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "unit/stats/evhttp_harness.hpp"

namespace nolb::stats {
namespace {

using namespace nolb::stats::test;

// Sends `request` and returns the whole response, read until the server closes.
std::string round_trip(HttpHarness& harness, std::string_view request) {
    RawClient client(harness.port());
    EXPECT_TRUE(client.ok());
    client.send(request);
    EXPECT_TRUE(harness.run_until([&] { return client.poll(); }));
    return client.received();
}

TEST(Http, PathLeavesTheQueryOut) {
    HttpHarness harness;
    ASSERT_TRUE(harness.ok());
    std::vector<std::string> paths;
    harness.on([&](evhttp_request* req) {
        paths.emplace_back(http::path(req));
        http::add_common_headers(req, "t");
        http::reply(req, 200, "text/plain", "");
    });
    round_trip(harness, "GET /stats?x=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    round_trip(harness, "GET /a%20b HTTP/1.1\r\nHost: t\r\n\r\n");
    round_trip(harness, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    round_trip(harness, "GET http://t/events?y HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(paths, (std::vector<std::string>{"/stats", "/a%20b", "/", "/events"}));
}

TEST(Http, QueryParameters) {
    HttpHarness harness;
    ASSERT_TRUE(harness.ok());
    std::map<std::string, std::string> seen;
    harness.on([&](evhttp_request* req) {
        for (const char* name : {"mode", "delay", "absent"})
            seen[name] = http::query_parameter(req, name);
        http::add_common_headers(req, "t");
        http::reply(req, 200, "text/plain", "");
    });
    round_trip(harness, "POST /fail?mode=slow&delay=250 HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(seen["mode"], "slow");
    EXPECT_EQ(seen["delay"], "250");
    EXPECT_EQ(seen["absent"], "");

    // Percent-encoding is decoded.
    round_trip(harness, "POST /fail?mode=http%35%30%30 HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(seen["mode"], "http500");
    // No query, an empty one, a parameter without a value, and a malformed query: all "".
    for (const char* target : {"/fail", "/fail?", "/fail?mode", "/fail?=x&&"}) {
        seen.clear();
        round_trip(harness, "POST " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n\r\n");
        EXPECT_EQ(seen["mode"], "") << target;
    }
}

TEST(Http, SocketAddressOfEachFamily) {
    HttpHarness v4;
    ASSERT_TRUE(v4.ok());
    EXPECT_EQ(http::socket_address(v4.listen_fd()), "127.0.0.1:" + std::to_string(v4.port()));
    HttpHarness v6("::1");
    if (v6.ok()) {
        EXPECT_EQ(http::socket_address(v6.listen_fd()), "[::1]:" + std::to_string(v6.port()));
    }
    EXPECT_EQ(http::socket_address(-1), "unknown");
    // A socket of another family is not misread as an IP one.
    int unix_fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(unix_fd, 0);
    EXPECT_EQ(http::socket_address(unix_fd), "unknown");
    ::close(unix_fd);
}

TEST(Http, LocalAndPeerAddressesOfARequest) {
    HttpHarness harness;
    ASSERT_TRUE(harness.ok());
    std::string local, peer;
    harness.on([&](evhttp_request* req) {
        local = http::local_address(req);
        peer = http::peer_address(req);
        http::add_common_headers(req, "t");
        http::reply(req, 200, "text/plain", "");
    });
    RawClient client(harness.port());
    client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(harness.run_until([&] { return client.poll(); }));
    EXPECT_EQ(local, "127.0.0.1:" + std::to_string(harness.port()));
    EXPECT_EQ(peer, "127.0.0.1:" + std::to_string(client.local_port()));
}

TEST(Http, PeerClosedOnlyOnceTheClientHasGone) {
    HttpHarness harness;
    ASSERT_TRUE(harness.ok());
    evhttp_request* pending = nullptr;
    harness.on([&](evhttp_request* req) { pending = req; });  // left unanswered
    RawClient client(harness.port());
    client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(harness.run_until([&] { return pending != nullptr; }));
    evhttp_connection* conn = evhttp_request_get_connection(pending);
    ASSERT_NE(conn, nullptr);
    // Should evhttp notice the close itself, it frees the connection: then this test must not.
    bool freed_by_evhttp = false;
    evhttp_connection_set_closecb(
        conn, [](evhttp_connection*, void* arg) { *static_cast<bool*>(arg) = true; },
        &freed_by_evhttp);
    harness.run_for(50ms);
    EXPECT_FALSE(http::peer_closed(conn));

    client.close();
    EXPECT_TRUE(harness.run_until([&] { return freed_by_evhttp || http::peer_closed(conn); }, 2s));
    if (!freed_by_evhttp) {
        evhttp_connection_set_closecb(conn, nullptr, nullptr);
        evhttp_connection_free(conn);  // as the server does with a pruned one
    }
}

TEST(Http, ReplyCarriesTheCommonHeadersAndTheBody) {
    HttpHarness harness;
    ASSERT_TRUE(harness.ok());
    harness.on([&](evhttp_request* req) {
        http::add_common_headers(req, "london");
        http::reply(req, 503, "text/plain; charset=utf-8", "degraded\n");
    });
    const std::string response = round_trip(harness, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(response.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << response;
    const std::string headers = headers_of(response);
    EXPECT_NE(headers.find("Cache-Control: no-store\r\n"), std::string::npos) << headers;
    EXPECT_NE(headers.find("X-Nolb-Site: london\r\n"), std::string::npos) << headers;
    EXPECT_NE(headers.find("Connection: close\r\n"), std::string::npos) << headers;
    EXPECT_NE(headers.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
    EXPECT_NE(headers.find("Content-Length: 9\r\n"), std::string::npos) << headers;
    EXPECT_EQ(body_of(response), "degraded\n");
}

TEST(Http, KeepAliveLeavesTheConnectionOpen) {
    HttpHarness harness;
    ASSERT_TRUE(harness.ok());
    harness.on([&](evhttp_request* req) {
        http::add_common_headers(req, "geneva", true);
        http::reply(req, 200, "text/plain", "one");
    });
    RawClient client(harness.port());
    client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(harness.run_until([&] {
        client.poll();
        return body_of(client.received()) == "one";
    }));
    EXPECT_EQ(headers_of(client.received()).find("Connection: close"), std::string::npos);
    // A second request on the same connection is answered.
    client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(harness.run_until([&] {
        client.poll();
        return client.received().find("one", client.received().find("one") + 3) !=
               std::string::npos;
    }));
    EXPECT_FALSE(client.eof());
}

TEST(Http, HeadGetsTheHeadersOfGetWithoutTheBody) {
    HttpHarness harness;
    ASSERT_TRUE(harness.ok());
    harness.on([&](evhttp_request* req) {
        http::add_common_headers(req, "t");
        http::reply(req, 200, "text/html", "<p>twelve</p>");
    });
    const std::string get = round_trip(harness, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    const std::string head = round_trip(harness, "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(body_of(get), "<p>twelve</p>");
    EXPECT_NE(headers_of(get).find("Content-Length: 13\r\n"), std::string::npos) << get;
    EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
    EXPECT_NE(headers_of(head).find("Content-Length: 13\r\n"), std::string::npos) << head;
    EXPECT_NE(headers_of(head).find("Content-Type: text/html\r\n"), std::string::npos) << head;
    EXPECT_EQ(body_of(head), "") << head;
}

TEST(Http, ReplyJsonEndsWithANewline) {
    HttpHarness harness;
    ASSERT_TRUE(harness.ok());
    harness.on([&](evhttp_request* req) {
        http::add_common_headers(req, "t");
        http::reply_json(req, 200, nlohmann::json{{"site", "a\"b"}, {"used", 16}});
    });
    const std::string response = round_trip(harness, "GET /stats HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_NE(headers_of(response).find("Content-Type: application/json\r\n"), std::string::npos);
    const std::string body = body_of(response);
    ASSERT_FALSE(body.empty());
    EXPECT_EQ(body.back(), '\n');
    EXPECT_EQ(nlohmann::json::parse(body), (nlohmann::json{{"site", "a\"b"}, {"used", 16}}));
}

TEST(Http, MakeBufferGivesAnEmptyBuffer) {
    http::Buffer b = http::make_buffer();
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
}

}  // namespace
}  // namespace nolb::stats
