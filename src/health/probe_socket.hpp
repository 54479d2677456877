// The part every probe shares: a non-blocking connection to the target, one libevent event
// re-armed with whatever time is left before the probe's deadline (so a backend that drips bytes
// cannot extend it), and the one exit that closes the socket and reports. The TCP and HTTP
// probes only say what to do once connected and when the socket is ready.
#pragma once

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

    // Opens the socket and starts connecting; failures are reported from the loop.
    void start();

  protected:
    virtual void connected() = 0;
    virtual void ready(short what) = 0;  // the socket is ready as asked in wait()
    // The detail of a timeout once connected (the base reports a connect timeout itself).
    virtual std::string timeout_detail() const = 0;

    // Arms the event for `what` (EV_READ or EV_WRITE) until the deadline.
    void wait(short what);
    // Closes the socket and reports. The callback may destroy this probe: callers return at
    // once and touch no member afterwards.
    void finish(ProbeResult result);

    int fd() const { return fd_; }
    const ProbeSpec& spec() const { return *spec_; }
    std::string timeout_ms() const;  // "1000 ms"
    // The peer closed first: close quietly, there is no TIME_WAIT to avoid.
    void peer_closed() { peer_closed_ = true; }

  private:
    static void on_event(evutil_socket_t fd, short what, void* arg);
    void close_socket();

    event_base* base_;
    std::shared_ptr<const ProbeSpec> spec_;
    ProbeDone done_;
    util::Event event_;
    int fd_ = -1;
    bool connecting_ = true;
    bool peer_closed_ = false;
    Steady::time_point started_;
    Steady::time_point deadline_;
    std::optional<ProbeResult> early_;  // a failure found before the loop ran, reported from it
};

// The result for a socket error (connect, send, recv).
ProbeResult socket_failure(int error);

std::unique_ptr<Probe> start_tcp_probe(event_base* base, std::shared_ptr<const ProbeSpec> spec,
                                       ProbeDone done);
std::unique_ptr<Probe> start_http_probe(event_base* base, std::shared_ptr<const ProbeSpec> spec,
                                        ProbeDone done);

}  // namespace nolb::health
