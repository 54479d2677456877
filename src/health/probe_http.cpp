// The HTTP probe: connect, send one GET, judge the response as it arrives. The reading side is
// HttpReader, which holds a line at a time and never the body; the probe reads at most
// kMaxResponseBytes in all, so a backend can make a probe fail but never make it cost more.
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "health/probe_socket.hpp"
#include "util/version.hpp"

namespace nolb::health {

namespace {

// A short, printable rendering of bytes a backend sent, for details and logs.
std::string excerpt(std::string_view text) {
    constexpr std::size_t kMax = 40;
    std::string out = "\"";
    for (char c : text.substr(0, kMax))
        out += (c >= 0x20 && c < 0x7f && c != '"') ? c : '?';
    if (text.size() > kMax) out += "...";
    return out + '"';
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string http_request(const config::HealthCheck& check) {
    std::string request = "GET ";
    request += check.path;
    request += " HTTP/1.1\r\nHost: ";
    request += check.host;
    request += "\r\nUser-Agent: nolbd/";
    request += kVersion;
    request += "\r\nConnection: close\r\nAccept: */*\r\n\r\n";
    return request;
}

// ---- HttpReader

HttpReader::HttpReader(const std::vector<config::StatusRange>& status, std::string_view body)
    : status_(status), expected_body_(body) {}

bool HttpReader::feed(std::string_view bytes) {
    if (state_ == State::judged) return true;
    total_ += bytes.size();
    while (!bytes.empty() && state_ != State::judged) {
        switch (state_) {
            case State::status_line:
            case State::headers:
            case State::chunk_size:
            case State::chunk_end: {
                std::string_view line;
                if (!take_line(bytes, line)) break;
                if (state_ == State::status_line) {
                    on_status_line(line);
                } else if (state_ == State::headers) {
                    on_header(line);
                } else if (state_ == State::chunk_size) {
                    on_chunk_size(line);
                } else if (!line.empty()) {
                    fail(Outcome::protocol, "no line end after a chunk");
                } else {
                    state_ = State::chunk_size;
                }
                line_.clear();
                break;
            }
            case State::body_sized:
            case State::chunk_data: {
                auto n =
                    static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
                on_body(bytes.substr(0, n));
                bytes.remove_prefix(n);
                remaining_ -= n;
                if (state_ == State::judged || remaining_ != 0) break;
                if (state_ == State::body_sized) {
                    complete();
                } else {
                    state_ = State::chunk_end;
                }
                break;
            }
            case State::body_to_close:
                on_body(bytes);
                bytes = {};
                break;
            case State::judged:
                break;
        }
    }
    if (state_ != State::judged && total_ >= kMaxResponseBytes) {
        fail(Outcome::protocol,
             "response larger than " + std::to_string(kMaxResponseBytes) + " bytes");
    }
    return state_ == State::judged;
}

void HttpReader::end() {
    switch (state_) {
        case State::judged:
            return;
        case State::body_to_close:
            complete();
            return;
        case State::status_line:
            fail(Outcome::reset, total_ == 0 ? "connection closed without a response"
                                             : "connection closed in the status line");
            return;
        case State::headers:
            fail(Outcome::reset, "connection closed in the headers");
            return;
        default:
            fail(Outcome::reset, "connection closed before the end of the body");
            return;
    }
}

// Takes bytes up to the next LF; true when `line` is complete (its CR removed). A line that
// arrives whole is used where it lies; only one split across reads is gathered in line_.
bool HttpReader::take_line(std::string_view& bytes, std::string_view& line) {
    std::size_t end = bytes.find('\n');
    std::size_t size = end == std::string_view::npos ? bytes.size() : end;
    if (line_.size() + size > kMaxLineBytes) {
        fail(Outcome::protocol, "line longer than " + std::to_string(kMaxLineBytes) + " bytes");
        return false;
    }
    const std::string_view piece = bytes.substr(0, size);
    bytes.remove_prefix(end == std::string_view::npos ? size : size + 1);
    const bool complete = end != std::string_view::npos;
    if (complete && line_.empty()) {
        line = piece;
    } else {
        line_.append(piece);
        line = line_;
    }
    if (complete && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Garbage is told from a slow status line by its first bytes, not by waiting for a LF.
    if (state_ == State::status_line) {
        constexpr std::string_view kPrefix = "HTTP/";
        std::size_t n = std::min(line.size(), kPrefix.size());
        if (line.substr(0, n) != kPrefix.substr(0, n)) {
            fail(Outcome::protocol, "not an HTTP response: " + excerpt(line));
            return false;
        }
    }
    return complete;
}

// "HTTP/1.1 200 OK": the version, a space, three digits, then a space or nothing.
void HttpReader::on_status_line(std::string_view line) {
    bool ok = line.size() >= 12 && line.substr(0, 7) == "HTTP/1." && is_digit(line[7]) &&
              line[8] == ' ' && is_digit(line[9]) && is_digit(line[10]) && is_digit(line[11]) &&
              (line.size() == 12 || line[12] == ' ');
    int code = ok ? (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0') : 0;
    if (!ok || code < 100) {
        fail(Outcome::protocol, "bad status line " + excerpt(line));
        return;
    }
    state_ = State::headers;
    // An interim response (100 Continue, 103 Early Hints) precedes the real one.
    if (code < 200 && code != 101) {
        interim_ = true;
        return;
    }
    code_ = code;
    result_.http_status = code;
    bool accepted = std::any_of(status_.begin(), status_.end(), [code](const auto& range) {
        return code >= range.low && code <= range.high;
    });
    if (!accepted) fail(Outcome::status, "status " + std::to_string(code));
}

void HttpReader::on_header(std::string_view line) {
    if (line.empty()) {
        on_headers_end();
        return;
    }
    if (interim_) return;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;  // an obsolete folded line, or junk: not ours
    std::string_view name = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (equals_ignoring_case(name, "content-length")) {
        bool digits = !value.empty() && value.size() <= 18 &&
                      std::all_of(value.begin(), value.end(), is_digit);
        if (!digits) {
            fail(Outcome::protocol, "bad Content-Length " + excerpt(value));
            return;
        }
        remaining_ = 0;
        for (char c : value)
            remaining_ = remaining_ * 10 + static_cast<std::uint64_t>(c - '0');
        has_length_ = true;
    } else if (equals_ignoring_case(name, "transfer-encoding")) {
        std::string lower(value);
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (lower.find("chunked") != std::string::npos) chunked_ = true;
    }
}

void HttpReader::on_headers_end() {
    if (interim_) {
        interim_ = false;
        state_ = State::status_line;
        return;
    }
    if (code_ == 204 || code_ == 304) {
        complete();
    } else if (chunked_) {  // chunked wins over a Content-Length (RFC 9112 §6.3)
        state_ = State::chunk_size;
    } else if (has_length_) {
        if (remaining_ == 0) {
            complete();
        } else {
            state_ = State::body_sized;
        }
    } else {
        state_ = State::body_to_close;
    }
}

void HttpReader::on_chunk_size(std::string_view line) {
    std::uint64_t size = 0;
    std::size_t digits = 0;
    for (char c : line) {
        int value = hex_value(c);
        if (value < 0) break;
        size = size * 16 + static_cast<std::uint64_t>(value);
        ++digits;
    }
    bool ended =
        digits == line.size() || line[digits] == ';' || line[digits] == ' ' || line[digits] == '\t';
    if (digits == 0 || digits > 15 || !ended) {
        fail(Outcome::protocol, "bad chunk size " + excerpt(line));
        return;
    }
    if (size == 0) {  // the last chunk; trailers do not matter
        complete();
        return;
    }
    remaining_ = size;
    state_ = State::chunk_data;
}

void HttpReader::on_body(std::string_view piece) {
    if (expected_body_.empty() || piece.empty()) return;
    bool found;
    std::string_view searched = piece;
    std::string joined;
    if (!window_.empty()) {
        joined = window_;
        joined.append(piece);
        searched = joined;
    }
    found = searched.find(expected_body_) != std::string_view::npos;
    if (found) {
        window_.clear();
        result_.outcome = Outcome::ok;
        result_.detail = "status " + std::to_string(code_);
        state_ = State::judged;
        return;
    }
    std::size_t keep = std::min(searched.size(), expected_body_.size() - 1);
    window_.assign(searched.substr(searched.size() - keep));
}

void HttpReader::complete() {
    if (!expected_body_.empty()) {
        fail(Outcome::body, "body mismatch");
        return;
    }
    result_.outcome = Outcome::ok;
    result_.detail = "status " + std::to_string(code_);
    state_ = State::judged;
}

void HttpReader::fail(Outcome outcome, std::string detail) {
    result_.outcome = outcome;
    result_.detail = std::move(detail);
    state_ = State::judged;
    line_ = {};
    window_ = {};
}

// ---- The probe

namespace {

class HttpProbe final : public SocketProbe {
  public:
    HttpProbe(event_base* base, std::shared_ptr<const ProbeSpec> spec, ProbeDone done)
        : SocketProbe(base, std::move(spec), std::move(done)),
          reader_(this->spec().status, this->spec().body) {}

    std::size_t bytes_read() const override { return reader_.bytes_read(); }

  private:
    // The request goes out at once: on loopback the connection is already made, and elsewhere
    // the send fails with EAGAIN and the probe waits for the socket to be writable.
    void issued() override { send_request(); }

    void ready(short what) override {
        if (sent_ < spec().request.size()) {
            if (!send_request() || sent_ < spec().request.size()) return;
        }
        // Edge-triggered events also report the socket becoming writable again (the request
        // acknowledged): only a readable one is read.
        if (what & EV_READ) read_response();
    }

    // A request still on its way cannot have been answered in time; a response may have been.
    void last_look() override {
        if (sent_ == spec().request.size()) read_response();
    }

    std::string timeout_detail() const override {
        if (sent_ == 0) return "timeout: no connection after " + timeout_ms();
        if (sent_ < spec().request.size()) return "timeout: request not sent after " + timeout_ms();
        if (reader_.bytes_read() == 0) return "timeout: no response after " + timeout_ms();
        return "timeout: response incomplete after " + timeout_ms();
    }

    // Sends what is left of the request. False when the probe has finished (and may be gone).
    // A send on a connection still being made fails with EAGAIN, one on a failed connection
    // with the connection's error: no getsockopt(SO_ERROR) is needed.
    bool send_request() {
        const std::string& request = spec().request;
        while (sent_ < request.size()) {
            ssize_t n = ::send(fd(), request.data() + sent_, request.size() - sent_, MSG_NOSIGNAL);
            if (n >= 0) {
                sent_ += static_cast<std::size_t>(n);
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return true;
            } else if (errno != EINTR) {
                finish(socket_failure(errno));
                return false;
            }
        }
        reading_only();
        return true;
    }

    // Reads what has arrived. Edge-triggered events report an arrival once, so the socket is
    // read until it says EAGAIN (a short read does not say it: the peer's FIN or reset may wait
    // behind the data); the kMaxResponseBytes cap bounds what one wake-up can cost. A response
    // judged by its first read (Content-Length, chunked) costs one recv.
    void read_response() {
        char buffer[16 * 1024];
        for (;;) {
            const std::size_t room =
                std::min(sizeof buffer, kMaxResponseBytes - reader_.bytes_read());
            ssize_t n = ::recv(fd(), buffer, room, 0);
            if (n > 0) {
                if (reader_.feed({buffer, static_cast<std::size_t>(n)})) {
                    finish(reader_.result());
                    return;
                }
            } else if (n == 0) {
                peer_closed();
                reader_.end();
                finish(reader_.result());
                return;
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            } else if (errno != EINTR) {
                finish(socket_failure(errno));
                return;
            }
        }
    }

    HttpReader reader_;
    std::size_t sent_ = 0;
};

}  // namespace

std::unique_ptr<Probe> start_http_probe(event_base* base, std::shared_ptr<const ProbeSpec> spec,
                                        ProbeDone done) {
    auto probe = std::make_unique<HttpProbe>(base, std::move(spec), std::move(done));
    probe->start();
    return probe;
}

}  // namespace nolb::health
