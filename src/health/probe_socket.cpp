// Connecting, waiting and finishing for every probe: the system calls of a probe are socket,
// connect, whatever the probe itself sends or reads, and, only when it has to wait, one
// epoll_ctl to register the socket and one to remove it; then the reset and the close.
#include "health/probe_socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace nolb::health {

namespace {

ProbeResult failure(Outcome outcome, std::string detail) {
    ProbeResult r;
    r.outcome = outcome;
    r.detail = std::move(detail);
    return r;
}

}  // namespace

ProbeResult socket_failure(int error) {
    switch (error) {
        case ECONNREFUSED:
            return failure(Outcome::refused, "connection refused");
        case ENETUNREACH:
        case ENETDOWN:
            return failure(Outcome::unreachable, "network unreachable");
        case EHOSTUNREACH:
        case EHOSTDOWN:
            return failure(Outcome::unreachable, "host unreachable");
        case ECONNRESET:
        case EPIPE:
            return failure(Outcome::reset, "connection reset");
        case ETIMEDOUT:
            return failure(Outcome::timeout, "connection timed out");
        default:
            return failure(Outcome::error, std::strerror(error));
    }
}

SocketProbe::SocketProbe(event_base* base, std::shared_ptr<const ProbeSpec> spec, ProbeDone done)
    : base_(base),
      spec_(std::move(spec)),
      done_(std::move(done)),
      io_(util::make_event(base, -1, 0, &SocketProbe::on_io, this)),
      deadline_(util::make_event(base, -1, 0, &SocketProbe::on_deadline, this)),
      edge_((event_base_get_features(base) & EV_FEATURE_ET) != 0) {}

SocketProbe::~SocketProbe() {
    if (armed_) event_del(io_.get());  // before the close, while epoll still knows the socket
    close_socket();
}

void SocketProbe::start() {
    started_ = Steady::now();
    starting_ = true;
    target_length_ = spec_->target.to_sockaddr(target_);
    fd_ = ::socket(target_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        finish(failure(Outcome::error, std::string("socket: ") + std::strerror(errno)));
    } else if (::connect(fd_, reinterpret_cast<const sockaddr*>(&target_), target_length_) != 0 &&
               errno != EINPROGRESS) {
        finish(socket_failure(errno));
    } else {
        issued();
        if (!finished_) arm();
    }
    starting_ = false;
    if (early_) {
        // Reported from the loop, so that whoever started the probe is never called back
        // before start_probe has returned. Activating the unregistered event costs no system
        // call.
        event_assign(io_.get(), base_, -1, 0, &SocketProbe::on_io, this);
        event_active(io_.get(), EV_TIMEOUT, 1);
    }
}

int SocketProbe::connection_state() {
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&target_), target_length_) == 0 ||
        errno == EISCONN) {
        return 1;
    }
    if (errno == EALREADY || errno == EINPROGRESS || errno == EINTR) return 0;
    return -errno;
}

// One registration for the probe's life. Edge-triggered, reads and writes: the connection's
// completion (or failure), then the response, arrive without the interest ever changing.
// Without edge-triggered events, the interest is what the probe waits for: the connection
// until the request is out, then the response.
void SocketProbe::arm() {
    short what = EV_PERSIST;
    if (edge_) {
        what |= EV_ET | EV_READ | EV_WRITE;
    } else {
        what |= reading_ ? EV_READ : EV_WRITE;
    }
    event_assign(io_.get(), base_, fd_, what, &SocketProbe::on_io, this);
    event_add(io_.get(), nullptr);
    armed_ = true;
    // The deadline counts from now, microseconds after the probe started. Every probe of the
    // same timeout shares one of libevent's common-timeout queues: adding and removing it is
    // constant time, whatever the number of probes in flight.
    timeval timeout{};
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(spec_->timeout).count();
    timeout.tv_sec = static_cast<time_t>(us / 1'000'000);
    timeout.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
    const timeval* common = event_base_init_common_timeout(base_, &timeout);
    event_add(deadline_.get(), common != nullptr ? common : &timeout);
}

void SocketProbe::reading_only() {
    if (reading_) return;
    reading_ = true;
    if (edge_ || !armed_) return;
    event_del(io_.get());
    event_assign(io_.get(), base_, fd_, EV_READ | EV_PERSIST, &SocketProbe::on_io, this);
    event_add(io_.get(), nullptr);
}

std::string SocketProbe::timeout_ms() const {
    return std::to_string(spec_->timeout.count()) + " ms";
}

void SocketProbe::on_io(evutil_socket_t, short what, void* arg) {
    auto* self = static_cast<SocketProbe*>(arg);
    if (self->early_) {
        ProbeResult result = std::move(*self->early_);
        self->early_.reset();
        self->report(std::move(result));
        return;
    }
    self->ready(what);
}

void SocketProbe::on_deadline(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<SocketProbe*>(arg);
    // An answer already in the socket decides the probe; finish() flags `finished` before its
    // report, after which the probe may be gone.
    bool finished = false;
    self->finishing_ = &finished;
    self->last_look();
    if (finished) return;
    self->finishing_ = nullptr;
    self->finish(failure(Outcome::timeout, self->timeout_detail()));
}

void SocketProbe::close_socket() {
    if (fd_ < 0) return;
    if (!peer_closed_) {
        // An abortive close: thousands of probes a second would otherwise leave as many
        // TIME_WAIT sockets on this host.
        linger hard{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    }
    ::close(fd_);
    fd_ = -1;
}

void SocketProbe::finish(ProbeResult result) {
    finished_ = true;
    if (armed_) {
        event_del(io_.get());
        armed_ = false;
    }
    event_del(deadline_.get());
    close_socket();
    result.latency =
        std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - started_);
    if (starting_) {
        early_ = std::move(result);
        return;
    }
    if (finishing_ != nullptr) *std::exchange(finishing_, nullptr) = true;
    report(std::move(result));
}

void SocketProbe::report(ProbeResult result) {
    ProbeDone done = std::move(done_);
    done_ = nullptr;
    if (done) done(std::move(result));
}

std::unique_ptr<Probe> start_probe(event_base* base, std::shared_ptr<const ProbeSpec> spec,
                                   ProbeDone done) {
    if (spec->type == config::HealthMode::http) {
        return start_http_probe(base, std::move(spec), std::move(done));
    }
    return start_tcp_probe(base, std::move(spec), std::move(done));
}

std::shared_ptr<const ProbeSpec> make_probe_spec(const util::IpAddress& probed,
                                                 const config::HealthCheck& check) {
    auto spec = std::make_shared<ProbeSpec>();
    spec->type = check.type;
    spec->target = util::Endpoint{probed, check.port};
    spec->timeout = check.timeout;
    if (check.type == config::HealthMode::http) {
        // HTTP/1.1 requires a Host header; a check built without one names the address.
        config::HealthCheck named = check;
        if (named.host.empty()) {
            const std::string literal = probed.to_string();
            named.host.reserve(literal.size() + 2);
            if (!probed.is_v4()) named.host.push_back('[');
            named.host.append(literal);
            if (!probed.is_v4()) named.host.push_back(']');
        }
        spec->request = http_request(named);
        spec->status = check.status;
        spec->body = check.body;
    }
    return spec;
}

}  // namespace nolb::health
