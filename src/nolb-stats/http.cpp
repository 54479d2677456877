// evhttp plumbing for nolb-stats: addresses from the connection's socket, query parsing, and the
// single reply path.
#include "nolb-stats/http.hpp"

#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "util/ip.hpp"

namespace nolb::stats::http {
namespace {

std::string format(const sockaddr_storage& ss) {
    util::Endpoint e;
    if (ss.ss_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
        e.address.family = AF_INET;
        std::memcpy(e.address.bytes.data(), &sin->sin_addr, 4);
        e.port = ntohs(sin->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        e.address.family = AF_INET6;
        std::memcpy(e.address.bytes.data(), &sin6->sin6_addr, 16);
        e.port = ntohs(sin6->sin6_port);
    } else {
        return "unknown";
    }
    return e.to_string();
}

evutil_socket_t socket_of(evhttp_request* req) {
    evhttp_connection* conn = evhttp_request_get_connection(req);
    if (!conn) return -1;
    bufferevent* bev = evhttp_connection_get_bufferevent(conn);
    return bev ? bufferevent_getfd(bev) : -1;
}

}  // namespace

Buffer make_buffer() {
    Buffer b(evbuffer_new());
    if (!b) throw std::bad_alloc();
    return b;
}

std::string socket_address(evutil_socket_t fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (fd < 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "unknown";
    return format(ss);
}

std::string local_address(evhttp_request* req) {
    return socket_address(socket_of(req));
}

std::string peer_address(evhttp_request* req) {
    evutil_socket_t fd = socket_of(req);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "unknown";
    return format(ss);
}

bool peer_closed(evhttp_connection* conn) {
    bufferevent* bev = evhttp_connection_get_bufferevent(conn);
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    if (fd < 0) return true;
    char byte;
    ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

std::string_view path(evhttp_request* req) {
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
    const char* p = uri ? evhttp_uri_get_path(uri) : nullptr;
    return p ? std::string_view(p) : std::string_view();
}

std::string query_parameter(evhttp_request* req, const char* name) {
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
    const char* query = uri ? evhttp_uri_get_query(uri) : nullptr;
    if (!query) return {};
    evkeyvalq params{};  // evhttp_parse_query_str initialises the list itself
    std::string value;
    if (evhttp_parse_query_str(query, &params) == 0) {
        if (const char* v = evhttp_find_header(&params, name)) value = v;
    }
    evhttp_clear_headers(&params);
    return value;
}

void add_common_headers(evhttp_request* req, std::string_view site, bool keep_alive) {
    evkeyvalq* headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Cache-Control", "no-store");
    evhttp_add_header(headers, "X-Nolb-Site", std::string(site).c_str());
    if (!keep_alive) evhttp_add_header(headers, "Connection", "close");
}

void reply(evhttp_request* req, int code, std::string_view content_type, std::string_view body) {
    evkeyvalq* headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Content-Type", std::string(content_type).c_str());
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        // evhttp 2.1 would send the body after a HEAD and leave out its length; a HEAD reply
        // is the GET reply's headers alone.
        evhttp_add_header(headers, "Content-Length", std::to_string(body.size()).c_str());
    } else {
        evbuffer_add(evhttp_request_get_output_buffer(req), body.data(), body.size());
    }
    // A null reason lets evhttp use the standard phrase for the code.
    evhttp_send_reply(req, code, nullptr, nullptr);
}

void reply_json(evhttp_request* req, int code, const nlohmann::json& body) {
    reply(req, code, "application/json", body.dump() + "\n");
}

}  // namespace nolb::stats::http
