// The part every probe shares: a non-blocking connection to the target, one readiness event for
// the socket and one deadline timer fixed when the probe starts (so a backend that drips bytes
// cannot extend it), and the one exit that closes the socket and reports. The TCP and HTTP
// probes only say what to do once the connection is issued and when the socket is ready.
//
// The cost of a probe is mostly system calls, so the shape is set by them. A probe first tries
// to get on without the event loop: on loopback, and on any link fast enough, the handshake is
// done by the time connect() returns, the HTTP request goes out at once and the TCP probe's
// answer is known at once. Only then is the socket registered, once, for edge-triggered reads
// and writes (one epoll_ctl to add it, one to remove it, whatever the probe waits for in
// between); the deadline sits in libevent's queue for its duration, which costs no system call.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "health/probe.hpp"
#include "util/event.hpp"

namespace nolb::health {

using Steady = std::chrono::steady_clock;

class SocketProbe : public Probe {
  public:
    SocketProbe(event_base* base, std::shared_ptr<const ProbeSpec> spec, ProbeDone done);
    ~SocketProbe() override;
    SocketProbe(const SocketProbe&) = delete;
    SocketProbe& operator=(const SocketProbe&) = delete;

    // Opens the socket, starts connecting and calls issued(); a result found before the loop
    // runs is reported from the loop.
    void start();
    // The bytes of the response read so far: never more than kMaxResponseBytes, whatever the
    // backend sends, and none for a probe that reads nothing.
    virtual std::size_t bytes_read() const { return 0; }

  protected:
    // Asks connect() again whether the connection it started is made: 1 when it is, 0 while it
    // is on its way, or minus the error that ended it.
    int connection_state();
    // connect() has been issued and has not failed yet: the connection may be made or still
    // on its way. Returning without finish() waits for the socket (see ready()).
    virtual void issued() = 0;
    // The socket may be ready: `what` holds EV_READ and/or EV_WRITE as the kernel reported
    // them (a failed connection reports both). With edge-triggered events a readable socket is
    // reported once per arrival: the reader drains it (bounded by kMaxResponseBytes).
    virtual void ready(short what) = 0;
    // The deadline has passed, but a loop that fell behind may not yet have read what arrived
    // in time (libevent's epoll reports a bounded number of sockets per pass, while every
    // expired deadline fires in it): finishing here judges what the socket already holds.
    // Returning without finish() makes the probe a timeout.
    virtual void last_look() {}
    // The detail of a timeout.
    virtual std::string timeout_detail() const = 0;
    // A probe that has sent all it sends only reads from now on. Without edge-triggered events
    // (a libevent backend other than epoll) this drops the write interest, which would
    // otherwise report a writable socket on every pass of the loop.
    void reading_only();
    // Closes the socket and reports (or, inside start(), leaves the report to the loop). The
    // callback may destroy this probe: callers return at once and touch no member afterwards.
    void finish(ProbeResult result);

    int fd() const { return fd_; }
    const ProbeSpec& spec() const { return *spec_; }
    std::string timeout_ms() const;  // "1000 ms"
    // The peer closed first: close quietly, there is no TIME_WAIT to avoid.
    void peer_closed() { peer_closed_ = true; }

  private:
    static void on_io(evutil_socket_t fd, short what, void* arg);
    static void on_deadline(evutil_socket_t fd, short what, void* arg);
    void arm();
    void close_socket();
    void report(ProbeResult result);

    event_base* base_;
    std::shared_ptr<const ProbeSpec> spec_;
    ProbeDone done_;
    util::Event io_;
    util::Event deadline_;
    int fd_ = -1;
    bool edge_ = true;  // the loop has edge-triggered events (epoll)
    bool armed_ = false;
    bool reading_ = false;   // all is sent: only the response is awaited
    bool starting_ = false;  // inside start(): results wait for the loop
    bool finished_ = false;
    bool peer_closed_ = false;
    Steady::time_point started_;
    sockaddr_storage target_{};
    socklen_t target_length_ = 0;
    std::optional<ProbeResult> early_;  // a result found inside start(), reported from the loop
    bool* finishing_ = nullptr;  // set by finish() before it reports, which may destroy the probe
};

// The result for a socket error (connect, send, recv).
ProbeResult socket_failure(int error);

std::unique_ptr<Probe> start_tcp_probe(event_base* base, std::shared_ptr<const ProbeSpec> spec,
                                       ProbeDone done);
std::unique_ptr<Probe> start_http_probe(event_base* base, std::shared_ptr<const ProbeSpec> spec,
                                        ProbeDone done);

}  // namespace nolb::health
