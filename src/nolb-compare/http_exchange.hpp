// The bytes of the HTTP exchanges the clients make: the `GET /stats` request and the judgement
// of what came back (status, whether the body is complete by its framing, whether the server
// keeps the connection, and the "site" that answered), and the `GET /events` stream a page
// holds, read incrementally into its events. Pure functions and a small parser over strings, so
// the rules that decide a request's outcome are tested without a socket.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nolb::compare {

// What the bytes of a response received so far amount to.
struct HttpResponse {
    bool headers_complete = false;  // the empty line after the headers arrived
    // Headers and the whole body, by Content-Length or chunks; without either, only `closed`
    // (the server's close) completes it.
    bool complete = false;
    bool close = false;        // the server closes after it (Connection: close)
    std::uint16_t status = 0;  // 0: no HTTP/1.x status line
    std::string site;          // the body's "site" value (nolb-stats /stats JSON), or ""
};

// `GET /stats HTTP/1.1` for `host`; without keep_alive it asks the server to close after the
// response.
std::string stats_request(std::string_view host, bool keep_alive = false);
// `GET /events HTTP/1.1` for `host`, as EventSource sends it.
std::string events_request(std::string_view host);

// `closed`: the server has closed the connection after these bytes.
HttpResponse parse_response(std::string_view bytes, bool closed = true);

// Reads an event stream (text/event-stream, RFC-less WHATWG format) as it arrives: the response
// headers, then the body, chunked or not, into events. Only what EventSource acts on is kept:
// each event's data, and the `retry` field.
class EventStreamReader {
  public:
    enum class State : std::uint8_t { headers, events, failed };
    struct Event {
        std::string data;
    };

    // Appends bytes; returns the events completed by them.
    std::vector<Event> feed(std::string_view bytes);

    State state() const { return state_; }
    std::uint16_t status() const { return status_; }  // once the headers are read
    // The last `retry:` value in milliseconds, if the stream sent one.
    std::optional<std::uint64_t> retry_ms() const { return retry_ms_; }

  private:
    void body(std::string_view bytes, std::vector<Event>& out);
    void line(std::string_view text, std::vector<Event>& out);

    State state_ = State::headers;
    std::uint16_t status_ = 0;
    bool chunked_ = false;
    std::string head_;            // the headers until their empty line
    std::string raw_;             // chunked: bytes not yet decoded
    std::size_t chunk_left_ = 0;  // chunked: data bytes left in the current chunk
    bool chunk_crlf_ = false;     // chunked: the CRLF after a chunk's data is due
    std::string text_;            // decoded body not yet split into lines
    std::string data_;            // the current event's data
    bool has_data_ = false;
    std::optional<std::uint64_t> retry_ms_;
};

// The string value of the first "site" key in a JSON text; "" when there is none.
std::string find_site(std::string_view body);

}  // namespace nolb::compare
