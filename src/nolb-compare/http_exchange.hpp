// The bytes of the one HTTP exchange every client makes: the `GET /stats` request it sends, and
// the judgement of what came back once the server closed the connection (status, whether the
// body is complete by its framing, and the "site" that answered). Pure functions over strings,
// so the rules that decide a request's outcome are tested without a socket.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nolb::compare {

// What a response read to the server's close amounts to.
struct HttpResponse {
    bool headers_complete = false;  // the empty line after the headers arrived
    bool complete = false;          // headers and the whole body, by Content-Length or chunks
    std::uint16_t status = 0;       // 0: no HTTP/1.x status line
    std::string site;               // the body's "site" value (nolb-stats /stats JSON), or ""
};

// `GET /stats HTTP/1.1` for `host`, asking the server to close after the response.
std::string stats_request(std::string_view host);

HttpResponse parse_response(std::string_view bytes);

// The string value of the first "site" key in a JSON text; "" when there is none.
std::string find_site(std::string_view body);

}  // namespace nolb::compare
