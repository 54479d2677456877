// A worker's event loop. Sockets are handed over already bound; the worker only watches them.
#include "server/worker.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace nolb::server {

Worker::Worker(WorkerSockets sockets, TcpLimits limits)
    : base_(util::make_event_base()), batch_(std::make_unique<UdpBatch>()) {
    for (auto& udp : sockets.udp) {
        auto socket = std::make_unique<UdpSocket>();
        socket->owner = this;
        socket->fd = std::move(udp.fd);
        socket->wildcard = udp.wildcard;
        socket->readable = util::make_event(base_.get(), socket->fd.get(), EV_READ | EV_PERSIST,
                                            &Worker::on_udp, socket.get());
        event_add(socket->readable.get(), nullptr);
        udp_.push_back(std::move(socket));
    }
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
    std::uint64_t one = 1;
    ssize_t ignored = ::write(stop_fd_.get(), &one, sizeof one);
    (void)ignored;  // only fails when the counter is saturated: a stop is pending anyway
}

void Worker::on_udp(evutil_socket_t, short, void* argument) {
    auto* socket = static_cast<UdpSocket*>(argument);
    Worker& worker = *socket->owner;
    worker.batch_->serve(socket->fd.get(), socket->wildcard, *worker.handler_, worker.counters_);
}

void Worker::on_stop(evutil_socket_t, short, void* argument) {
    auto* worker = static_cast<Worker*>(argument);
    std::uint64_t value = 0;
    ssize_t ignored = ::read(worker->stop_fd_.get(), &value, sizeof value);
    (void)ignored;
    event_base_loopbreak(worker->base_.get());
}

}  // namespace nolb::server
