// How the clients judge what a server sent before closing: complete or cut short, the status,
// and the site named in the body.
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

}  // namespace
}  // namespace nolb::compare
