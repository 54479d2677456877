// Builds the requests and judges the responses of the clients' HTTP exchanges. A body without
// Content-Length or chunks is complete only at the server's close, while a declared length or a
// chunked body not fully received by then means the connection ended early. Only what nolb-stats
// and HAProxy send is understood; anything else is judged conservatively (not complete).
#include "nolb-compare/http_exchange.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace nolb::compare {
namespace {

constexpr std::string_view kCrlf = "\r\n";

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// "HTTP/1.1 200 OK" -> 200; nullopt when the line is not an HTTP/1.x status line.
std::optional<std::uint16_t> status_of(std::string_view line) {
    if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !std::isdigit(line[5]) ||
        line[6] != '.' || !std::isdigit(line[7]) || line[8] != ' ')
        return std::nullopt;
    std::uint16_t status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(line[i]))) return std::nullopt;
        status = static_cast<std::uint16_t>(status * 10 + (line[i] - '0'));
    }
    if (line.size() > 12 && line[12] != ' ') return std::nullopt;
    if (status < 100) return std::nullopt;
    return status;
}

std::optional<std::size_t> decimal(std::string_view text) {
    if (text.empty() || text.size() > 18) return std::nullopt;
    std::size_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::size_t>(c - '0');
    }
    return value;
}

// Decodes a chunked body into `out`; true when the last (empty) chunk was reached.
bool dechunk(std::string_view body, std::string& out) {
    for (int chunks = 0; chunks < 100000; ++chunks) {
        const std::size_t eol = body.find(kCrlf);
        if (eol == std::string_view::npos) return false;
        std::string_view size_text = body.substr(0, eol);
        size_text = trim(size_text.substr(0, size_text.find(';')));
        if (size_text.empty() || size_text.size() > 15) return false;
        std::size_t size = 0;
        for (char c : size_text) {
            const int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                              : (std::tolower(static_cast<unsigned char>(c)) >= 'a' &&
                                 std::tolower(static_cast<unsigned char>(c)) <= 'f')
                                  ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                                  : -1;
            if (digit < 0) return false;
            size = size * 16 + static_cast<std::size_t>(digit);
        }
        body.remove_prefix(eol + kCrlf.size());
        if (size == 0) return true;  // trailers may follow; the close ends them anyway
        if (body.size() < size + kCrlf.size()) return false;
        out.append(body.substr(0, size));
        body.remove_prefix(size + kCrlf.size());
    }
    return false;
}

}  // namespace

std::string stats_request(std::string_view host, bool keep_alive) {
    std::string request = "GET /stats HTTP/1.1\r\nHost: ";
    request.append(host);
    request.append("\r\nUser-Agent: nolb-compare\r\nAccept: application/json\r\n");
    if (!keep_alive) request.append("Connection: close\r\n");
    request.append("\r\n");
    return request;
}

std::string events_request(std::string_view host) {
    std::string request = "GET /events HTTP/1.1\r\nHost: ";
    request.append(host);
    request.append(
        "\r\nUser-Agent: nolb-compare\r\nAccept: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n\r\n");
    return request;
}

HttpResponse parse_response(std::string_view bytes, bool closed) {
    HttpResponse response;
    const std::size_t head_end = bytes.find("\r\n\r\n");
    const std::size_t line_end = bytes.find(kCrlf);
    if (line_end != std::string_view::npos) {
        if (auto status = status_of(bytes.substr(0, line_end))) response.status = *status;
    }
    if (head_end == std::string_view::npos) return response;
    response.headers_complete = true;

    std::optional<std::size_t> content_length;
    bool chunked = false;
    bool framing_ok = true;
    std::string_view headers = bytes.substr(0, head_end + kCrlf.size());
    headers.remove_prefix(std::min(headers.size(), line_end + kCrlf.size()));
    while (!headers.empty()) {
        const std::size_t eol = headers.find(kCrlf);
        const std::string_view line = headers.substr(0, eol);
        headers.remove_prefix(eol == std::string_view::npos ? headers.size() : eol + 2);
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "Content-Length")) {
            content_length = decimal(value);
            if (!content_length) framing_ok = false;
        } else if (iequals(name, "Transfer-Encoding")) {
            chunked = iequals(value, "chunked");
            if (!chunked) framing_ok = false;
        } else if (iequals(name, "Connection")) {
            response.close = iequals(value, "close");
        }
    }
    // HTTP/1.0 closes unless told otherwise; nothing here speaks it, but judge it right.
    if (bytes.substr(0, 8) == "HTTP/1.0") response.close = true;

    const std::string_view body = bytes.substr(head_end + 4);
    if (response.status == 0 || !framing_ok) return response;
    if (chunked) {
        std::string decoded;
        response.complete = dechunk(body, decoded);
        response.site = find_site(decoded);
    } else if (content_length) {
        response.complete = body.size() >= *content_length;
        response.site = find_site(body.substr(0, *content_length));
    } else {
        response.complete = closed;  // delimited by the server's close
        response.close = true;
        response.site = find_site(body);
    }
    return response;
}

// ---- EventStreamReader

std::vector<EventStreamReader::Event> EventStreamReader::feed(std::string_view bytes) {
    std::vector<Event> out;
    if (state_ == State::failed) return out;
    if (state_ == State::headers) {
        head_.append(bytes);
        const std::size_t end = head_.find("\r\n\r\n");
        if (end == std::string::npos) {
            if (head_.size() > 16 * 1024) state_ = State::failed;
            return out;
        }
        const HttpResponse response =
            parse_response(std::string_view(head_).substr(0, end + 4), false);
        status_ = response.status;
        // EventSource accepts only a 200 with an event-stream type; anything else ends it.
        std::string_view head(head_.data(), end + 2);
        bool event_stream = false;
        for (std::size_t at = 0; at < head.size();) {
            std::size_t eol = head.find(kCrlf, at);
            if (eol == std::string_view::npos) eol = head.size();
            std::string_view line = head.substr(at, eol - at);
            at = eol + 2;
            const std::size_t colon = line.find(':');
            if (colon == std::string_view::npos) continue;
            const std::string_view name = trim(line.substr(0, colon));
            const std::string_view value = trim(line.substr(colon + 1));
            if (iequals(name, "Content-Type"))
                event_stream = iequals(value.substr(0, value.find(';')), "text/event-stream");
            else if (iequals(name, "Transfer-Encoding"))
                chunked_ = iequals(value, "chunked");
        }
        if (status_ != 200 || !event_stream) {
            state_ = State::failed;
            return out;
        }
        state_ = State::events;
        std::string rest = head_.substr(end + 4);
        head_.clear();
        body(rest, out);
        return out;
    }
    body(bytes, out);
    return out;
}

void EventStreamReader::body(std::string_view bytes, std::vector<Event>& out) {
    if (chunked_) {
        raw_.append(bytes);
        std::string_view raw(raw_);
        while (!raw.empty() && state_ == State::events) {
            if (chunk_crlf_) {
                if (raw.size() < 2) break;
                if (raw.substr(0, 2) != kCrlf) {
                    state_ = State::failed;
                    break;
                }
                raw.remove_prefix(2);
                chunk_crlf_ = false;
            } else if (chunk_left_ > 0) {
                const std::size_t take = std::min(chunk_left_, raw.size());
                text_.append(raw.substr(0, take));
                raw.remove_prefix(take);
                chunk_left_ -= take;
                chunk_crlf_ = chunk_left_ == 0;
            } else {
                const std::size_t eol = raw.find(kCrlf);
                if (eol == std::string_view::npos) {
                    if (raw.size() > 64) state_ = State::failed;
                    break;
                }
                std::string_view size_text = trim(raw.substr(0, eol));
                size_text = size_text.substr(0, size_text.find(';'));
                std::size_t size = 0;
                bool ok = !size_text.empty() && size_text.size() <= 8;
                for (char c : size_text) {
                    const int lower = std::tolower(static_cast<unsigned char>(c));
                    const int digit = std::isdigit(lower)              ? lower - '0'
                                      : (lower >= 'a' && lower <= 'f') ? lower - 'a' + 10
                                                                       : -1;
                    if (digit < 0) ok = false;
                    size = size * 16 + static_cast<std::size_t>(std::max(digit, 0));
                }
                if (!ok || size == 0) {
                    state_ = State::failed;  // malformed, or the stream's end
                    break;
                }
                raw.remove_prefix(eol + 2);
                chunk_left_ = size;
            }
        }
        raw_.erase(0, raw_.size() - raw.size());
    } else {
        text_.append(bytes);
    }
    // Lines end with CRLF, LF or CR; a CR at the very end may yet be followed by its LF.
    std::size_t at = 0;
    for (;;) {
        const std::size_t eol = text_.find_first_of("\r\n", at);
        if (eol == std::string::npos) break;
        if (text_[eol] == '\r' && eol + 1 == text_.size()) break;
        line(std::string_view(text_).substr(at, eol - at), out);
        at = eol + 1;
        if (text_[eol] == '\r' && at < text_.size() && text_[at] == '\n') ++at;
    }
    text_.erase(0, at);
    if (text_.size() > 64 * 1024) state_ = State::failed;
}

void EventStreamReader::line(std::string_view text, std::vector<Event>& out) {
    if (text.empty()) {
        if (has_data_) out.push_back(Event{std::move(data_)});
        data_.clear();
        has_data_ = false;
        return;
    }
    if (text.front() == ':') return;  // a comment
    const std::size_t colon = text.find(':');
    std::string_view field = text.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
        value = text.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        if (has_data_) data_ += '\n';
        data_.append(value);
        has_data_ = true;
    } else if (field == "retry") {
        if (auto ms = decimal(value)) retry_ms_ = *ms;
    }
}

std::string find_site(std::string_view body) {
    constexpr std::string_view kKey = "\"site\"";
    for (std::size_t at = body.find(kKey); at != std::string_view::npos;
         at = body.find(kKey, at + 1)) {
        std::size_t i = at + kKey.size();
        auto skip_space = [&] {
            while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i])))
                ++i;
        };
        skip_space();
        if (i >= body.size() || body[i] != ':') continue;  // "site" as a value, not a key
        ++i;
        skip_space();
        if (i >= body.size() || body[i] != '"') return "";
        const std::size_t end = body.find('"', i + 1);
        if (end == std::string_view::npos) return "";
        return std::string(body.substr(i + 1, end - i - 1));
    }
    return "";
}

}  // namespace nolb::compare
