// Opening, starting and stopping the workers. Worker threads block the process signals, so
// SIGINT, SIGTERM and SIGHUP reach only the daemon's main loop.
#include "server/server.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <future>
#include <stdexcept>
#include <string>

#include "server/socket.hpp"
#include "server/worker.hpp"
#include "util/log.hpp"

namespace nolb::server {
namespace {

// Port 0 asks the kernel for a free port; if the TCP side of that port happens to be taken,
// a new one is tried.
constexpr int kEphemeralAttempts = 8;

// Opens one endpoint for every worker: UDP first (which settles port 0), then TCP on the same
// port. Appends to each worker's sockets; returns the endpoint as bound.
util::Endpoint open_endpoint(const util::Endpoint& wanted, std::vector<WorkerSockets>& sockets) {
    const bool wildcard = is_wildcard(wanted.address);
    for (int attempt = 1;; ++attempt) {
        util::Endpoint endpoint = wanted;
        std::vector<Fd> udp;
        std::vector<Fd> tcp;
        try {
            udp.push_back(open_udp(endpoint));
            if (endpoint.port == 0) endpoint.port = local_endpoint(udp.front().get()).port;
            while (udp.size() < sockets.size())
                udp.push_back(open_udp(endpoint));
            while (tcp.size() < sockets.size())
                tcp.push_back(open_tcp(endpoint, SOMAXCONN));
        } catch (const ListenError& e) {
            if (wanted.port != 0 || e.error_code() != EADDRINUSE || attempt == kEphemeralAttempts)
                throw;
            continue;
        }
        for (std::size_t i = 0; i < sockets.size(); ++i) {
            sockets[i].udp.push_back({std::move(udp[i]), wildcard});
            sockets[i].tcp.push_back(std::move(tcp[i]));
        }
        return endpoint;
    }
}

// tcp_max_connections is a total: each worker gets an equal share, the remainder going to the
// first ones. A worker never borrows from another, so no state is shared between them.
// Threads inherit the signal mask of their creator: while this lives, new threads are made
// deaf to the signals the daemon's main loop handles.
class SignalsBlocked {
  public:
    SignalsBlocked() {
        sigset_t blocked;
        sigemptyset(&blocked);
        for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD})
            sigaddset(&blocked, signal);
        pthread_sigmask(SIG_BLOCK, &blocked, &previous_);
    }
    ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
    SignalsBlocked(const SignalsBlocked&) = delete;
    SignalsBlocked& operator=(const SignalsBlocked&) = delete;

  private:
    sigset_t previous_;
};

unsigned connection_share(unsigned total, unsigned workers, unsigned index) {
    return total / workers + (index < total % workers ? 1 : 0);
}

}  // namespace

Server::Server(Settings settings, HandlerFactory factory)
    : settings_(std::move(settings)), factory_(std::move(factory)) {}

Server::~Server() {
    stop();
}

void Server::open() {
    if (!workers_.empty()) throw std::logic_error("server already open");
    const unsigned count = std::max(1u, settings_.workers);
    if (settings_.listen.empty()) throw std::runtime_error("no listen address configured");
    if (settings_.tcp_max_connections < count)
        log::warning("fewer TCP connections than workers: some workers refuse every connection",
                     {{"tcp_max_connections", settings_.tcp_max_connections}, {"workers", count}});

    // Before taking anything: a port in use elsewhere must fail even though our own sockets
    // would be allowed to share it.
    for (const auto& endpoint : settings_.listen) {
        if (endpoint.port == 0) continue;
        check_port_free(endpoint, Protocol::udp);
        check_port_free(endpoint, Protocol::tcp);
    }

    std::vector<WorkerSockets> sockets(count);
    std::vector<util::Endpoint> bound;
    for (const auto& endpoint : settings_.listen)
        bound.push_back(open_endpoint(endpoint, sockets));

    // The per-client cap spans the workers, since SO_REUSEPORT spreads one client's
    // connections over all of them.
    clients_ = std::make_unique<ClientLimiter>(settings_.tcp_max_per_client);
    std::vector<std::unique_ptr<Worker>> workers;
    for (unsigned i = 0; i < count; ++i) {
        TcpLimits limits{connection_share(settings_.tcp_max_connections, count, i),
                         settings_.tcp_idle_timeout, settings_.tcp_io_timeout, clients_.get()};
        workers.push_back(std::make_unique<Worker>(std::move(sockets[i]), limits));
    }
    endpoints_ = std::move(bound);
    workers_ = std::move(workers);
}

void Server::start() {
    if (workers_.empty()) throw std::logic_error("server not open");
    if (!threads_.empty()) throw std::logic_error("server already started");
    // Per worker: the TCP loop, then one thread per UDP socket.
    struct Body {
        unsigned worker;
        std::string name;
        std::function<void(Handler&)> run;
    };
    std::vector<Body> bodies;
    for (unsigned i = 0; i < workers_.size(); ++i) {
        Worker& worker = *workers_[i];
        bodies.push_back({i, "nolb-tcp-" + std::to_string(i),
                          [&worker](Handler& handler) { worker.run(handler); }});
        for (std::size_t u = 0; u < worker.udp().size(); ++u) {
            UdpLoop& loop = *worker.udp()[u];
            bodies.push_back(
                {i, "nolb-udp-" + std::to_string(i) + "." + std::to_string(u),
                 [&loop, this](Handler& handler) { loop.run(handler, settings_.rrl); }});
        }
    }
    std::vector<std::promise<void>> ready(bodies.size());
    std::vector<std::future<void>> started;
    for (auto& promise : ready)
        started.push_back(promise.get_future());
    {
        SignalsBlocked blocked;
        try {
            for (std::size_t b = 0; b < bodies.size(); ++b)
                threads_.emplace_back([this, body = std::move(bodies[b]), promise = &ready[b]] {
                    serve(body.worker, body.name, body.run, *promise);
                });
        } catch (...) {
            stop();
            throw;
        }
    }
    for (auto& future : started) {
        try {
            future.get();
        } catch (...) {
            stop();
            throw;
        }
    }
}

void Server::serve(unsigned index, const std::string& name,
                   const std::function<void(Handler&)>& run, std::promise<void>& ready) {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    std::unique_ptr<Handler> handler;
    try {
        handler = factory_(index);
        if (!handler) throw std::runtime_error("no handler for worker " + std::to_string(index));
    } catch (...) {
        ready.set_exception(std::current_exception());
        return;
    }
    ready.set_value();
    run(*handler);
}

void Server::stop() {
    for (auto& worker : workers_)
        worker->request_stop();
    for (auto& thread : threads_)
        if (thread.joinable()) thread.join();
}

Counters Server::counters() const {
    Counters total;
    for (const auto& worker : workers_)
        total.add(worker->counters());
    return total;
}

}  // namespace nolb::server
