// Small pieces shared by everything in nolb-stats that speaks HTTP through evhttp: owners for
// the evhttp objects, the addresses of a connection, and one way to send a whole reply, so every
// reply but an event stream carries the same headers.
#pragma once

#include <event2/buffer.h>
#include <event2/http.h>

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace nolb::stats::http {

struct EvhttpFree {
    void operator()(evhttp* h) const { evhttp_free(h); }
};
struct EvbufferFree {
    void operator()(evbuffer* b) const { evbuffer_free(b); }
};
using Http = std::unique_ptr<evhttp, EvhttpFree>;
using Buffer = std::unique_ptr<evbuffer, EvbufferFree>;

Buffer make_buffer();

// "127.0.0.1:8080" or "[::1]:8080": where a socket is bound.
std::string socket_address(evutil_socket_t fd);
// The same for the local end of the connection carrying `req`: the
// address the client reached, which is what the page shows as "served by".
std::string local_address(evhttp_request* req);
// The client's end, for logs.
std::string peer_address(evhttp_request* req);
// True when the client has closed its end of the connection. evhttp notices that only when it
// reads or writes, and a held request or a silent stream does neither. A client that half-closes
// after sending its request counts as gone; browsers and HTTP libraries do not do that.
bool peer_closed(evhttp_connection* conn);

// The path without the query; "" when the request line had none.
std::string_view path(evhttp_request* req);
// One query parameter, or "" when absent.
std::string query_parameter(evhttp_request* req, const char* name);

// Headers every response carries, streams included: no caching (every figure is live, and a
// cached page would hide which site answered), the site's name, for curl and tests, and, unless
// `keep_alive`, Connection: close. A browser would otherwise keep reusing a pooled connection to
// a site that DNS no longer names, while closing after each reply makes every request resolve
// and connect again, which is what the demonstration shows; a comparison with real servers
// keeps them alive.
void add_common_headers(evhttp_request* req, std::string_view site, bool keep_alive = false);

// A whole reply, after add_common_headers (which says whether the connection closes after it).
void reply(evhttp_request* req, int code, std::string_view content_type, std::string_view body);
void reply_json(evhttp_request* req, int code, const nlohmann::json& body);

}  // namespace nolb::stats::http
