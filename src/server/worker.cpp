// A worker's TCP event loop and its UDP loops. Sockets are handed over already bound; the
// worker only serves them.
#include "server/worker.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace nolb::server {

Worker::Worker(WorkerSockets sockets, TcpLimits limits) : base_(util::make_event_base()) {
    for (auto& udp : sockets.udp)
        udp_.push_back(std::make_unique<UdpLoop>(std::move(udp.fd), udp.wildcard));
    tcp_ = std::make_unique<TcpServer>(base_.get(), limits, counters_);
    for (auto& fd : sockets.tcp)
        tcp_->add_listener(std::move(fd));

    stop_fd_ = Fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!stop_fd_)
        throw std::runtime_error(std::string("cannot create an eventfd: ") + std::strerror(errno));
    stop_event_ =
        util::make_event(base_.get(), stop_fd_.get(), EV_READ | EV_PERSIST, &Worker::on_stop, this);
    event_add(stop_event_.get(), nullptr);
}

Worker::~Worker() = default;

void Worker::run(Handler& handler) {
    handler_ = &handler;
    tcp_->set_handler(handler);
    event_base_dispatch(base_.get());
    handler_ = nullptr;
}

void Worker::request_stop() {
    for (auto& udp : udp_)
        udp->request_stop();
    std::uint64_t one = 1;
    ssize_t ignored = ::write(stop_fd_.get(), &one, sizeof one);
    (void)ignored;  // only fails when the counter is saturated: a stop is pending anyway
}

void Worker::on_stop(evutil_socket_t, short, void* argument) {
    auto* worker = static_cast<Worker*>(argument);
    std::uint64_t value = 0;
    ssize_t ignored = ::read(worker->stop_fd_.get(), &value, sizeof value);
    (void)ignored;
    event_base_loopbreak(worker->base_.get());
}

Counters Worker::counters() const {
    Counters total = counters_.read();
    for (const auto& udp : udp_)
        total.add(udp->counters().read());
    return total;
}

}  // namespace nolb::server
