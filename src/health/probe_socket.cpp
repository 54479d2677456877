// Connecting, waiting and finishing for every probe. A probe uses one event for its whole life:
// it is re-assigned for the next thing awaited (connect, write, read) and always carries the
// time left to the one deadline, fixed when the probe starts.
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

timeval to_timeval(Steady::duration d) {
    if (d < Steady::duration::zero()) d = Steady::duration::zero();
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(us / 1'000'000);
    tv.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
    return tv;
}

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
      event_(util::make_event(base, -1, 0, &SocketProbe::on_event, this)) {}

SocketProbe::~SocketProbe() {
    close_socket();
}

void SocketProbe::start() {
    started_ = Steady::now();
    deadline_ = started_ + spec_->timeout;
    sockaddr_storage address{};
    socklen_t length = spec_->target.to_sockaddr(address);
    fd_ = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        early_ = failure(Outcome::error, std::string("socket: ") + std::strerror(errno));
    } else if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), length) != 0 &&
               errno != EINPROGRESS) {
        early_ = socket_failure(errno);
    }
    if (early_) {
        // Reported from the loop, so that whoever started the probe is never called back
        // before start_probe has returned.
        timeval now{};
        event_assign(event_.get(), base_, -1, 0, &SocketProbe::on_event, this);
        event_add(event_.get(), &now);
        return;
    }
    wait(EV_WRITE);  // writable: the connection is made or has failed
}

void SocketProbe::wait(short what) {
    event_del(event_.get());
    event_assign(event_.get(), base_, fd_, what, &SocketProbe::on_event, this);
    timeval left = to_timeval(deadline_ - Steady::now());
    event_add(event_.get(), &left);
}

std::string SocketProbe::timeout_ms() const {
    return std::to_string(spec_->timeout.count()) + " ms";
}

void SocketProbe::on_event(evutil_socket_t, short what, void* arg) {
    auto* self = static_cast<SocketProbe*>(arg);
    if (self->early_) {
        ProbeResult result = std::move(*self->early_);
        self->finish(std::move(result));
        return;
    }
    if (what & EV_TIMEOUT) {
        self->finish(failure(Outcome::timeout, self->connecting_ ? "timeout: no connection after " +
                                                                       self->timeout_ms()
                                                                 : self->timeout_detail()));
        return;
    }
    if (self->connecting_) {
        int error = 0;
        socklen_t size = sizeof error;
        if (::getsockopt(self->fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
        if (error != 0) {
            self->finish(socket_failure(error));
            return;
        }
        self->connecting_ = false;
        self->connected();
        return;
    }
    self->ready(what);
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
    event_del(event_.get());
    close_socket();
    result.latency =
        std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - started_);
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
