// Probes: one TCP connection attempt, or one HTTP exchange, against one address, run on the
// event loop the caller gives (the daemon's main loop). A probe is a small state machine that
// owns everything in flight for it (its socket, its readiness event and deadline, its read state)
// and reports exactly once, unless its owner destroys it first, which cancels it. Nothing a backend
// does can make a probe outlive its timeout or hold more than a bounded amount of memory.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "health/state.hpp"
#include "util/ip.hpp"

namespace nolb::health {

// The most an HTTP probe reads from one response; more is a `protocol` failure. Health pages
// are small, and a cap is what keeps an endless body from costing anything.
inline constexpr std::size_t kMaxResponseBytes = 64 * 1024;
// The longest status line, header line or chunk-size line an HTTP probe accepts.
inline constexpr std::size_t kMaxLineBytes = 8 * 1024;

// What probing one address takes, prepared once when the address is configured (the request
// is rendered here, not per probe) and shared with the probes in flight.
struct ProbeSpec {
    config::HealthMode type = config::HealthMode::tcp;
    util::Endpoint target;
    std::chrono::milliseconds timeout{1000};
    std::string request;                      // http: the bytes sent
    std::vector<config::StatusRange> status;  // http: accepted codes
    std::string body;                         // http: substring the body must hold ("" = any)
};

std::shared_ptr<const ProbeSpec> make_probe_spec(const util::IpAddress& probed,
                                                 const config::HealthCheck& check);

// "GET <path> HTTP/1.1" with Host, User-Agent, Connection: close and Accept.
std::string http_request(const config::HealthCheck& check);

// An in-flight probe. Destroying it cancels it: the socket is closed (with a reset, so that
// neither side keeps TIME_WAIT state) and the callback is not called.
class Probe {
  public:
    virtual ~Probe() = default;
};

// Called once with the result, always from the event loop, never from inside start_probe.
// It may destroy the probe that calls it.
using ProbeDone = std::function<void(ProbeResult)>;

std::unique_ptr<Probe> start_probe(event_base* base, std::shared_ptr<const ProbeSpec> spec,
                                   ProbeDone done);

// Judges an HTTP/1.x response as its bytes arrive, keeping only what the judgement needs: the
// line being read (at most kMaxLineBytes) and the body's last bytes for a match that straddles
// two reads. Socket-free, so tests can feed it any split of any response.
//
// The status is checked as soon as the status line is complete. Success needs the whole
// response (Content-Length satisfied, the last chunk, or the peer's close when neither is
// given), or, with a body check, the expected substring.
class HttpReader {
  public:
    HttpReader(const std::vector<config::StatusRange>& status, std::string_view body);

    // Takes the next bytes; true once the response is judged (see result()).
    bool feed(std::string_view bytes);
    // The peer closed the connection: judges what was read so far.
    void end();

    bool judged() const { return state_ == State::judged; }
    const ProbeResult& result() const { return result_; }
    std::size_t bytes_read() const { return total_; }

  private:
    enum class State {
        status_line,
        headers,
        body_sized,     // Content-Length bytes to go
        body_to_close,  // neither length nor chunks: the body ends when the peer closes
        chunk_size,
        chunk_data,
        chunk_end,  // the CRLF after a chunk's data
        judged,
    };

    bool take_line(std::string_view& bytes, std::string_view& line);
    void on_status_line(std::string_view line);
    void on_header(std::string_view line);
    void on_headers_end();
    void on_chunk_size(std::string_view line);
    void on_body(std::string_view piece);
    void complete();
    void fail(Outcome outcome, std::string detail);

    const std::vector<config::StatusRange>& status_;
    std::string_view expected_body_;
    State state_ = State::status_line;
    std::size_t total_ = 0;
    std::string line_;    // a line split across reads, gathered
    std::string window_;  // the body's last expected_body_.size() - 1 bytes
    std::uint64_t remaining_ = 0;
    bool has_length_ = false;
    bool chunked_ = false;
    bool interim_ = false;  // a 1xx response, to be skipped
    int code_ = 0;
    ProbeResult result_;
};

}  // namespace nolb::health
