// The network side of nolbd: binds every listen endpoint for every worker, runs the workers'
// threads (one per UDP socket, one for TCP) and stops them. Built from its Settings (which
// nolbd makes from the [server] and [rrl] sections of its config) and a HandlerFactory that
// makes each thread's Handler on that thread; it knows sockets and threads, and nothing of DNS
// or of the config. Reloading content is the handler's business (it reads a published
// snapshot), so a running Server never changes.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/counters.hpp"
#include "server/handler.hpp"
#include "server/settings.hpp"
#include "util/ip.hpp"

namespace nolb::server {

class Worker;
class ClientLimiter;

class Server {
  public:
    // `settings.rrl` sets up each UDP thread's rate limiter (off by default).
    Server(Settings settings, HandlerFactory factory);
    ~Server();  // stops and joins the workers
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds UDP and TCP on every endpoint for every worker. Throws ListenError ("cannot listen
    // on 127.0.0.1:53/udp: Address already in use") or another std::exception; nothing is
    // served before start().
    void open();
    // Starts every worker's threads, each making its own Handler (the factory gets the worker's
    // index), and serving; rethrows what a factory threw, after stopping the others. Once
    // only, after open().
    void start();
    // Stops and joins every worker. Call from one thread that is not a worker; idempotent.
    void stop();

    // The endpoints as bound, in config order: port 0 in the config becomes the real port.
    const std::vector<util::Endpoint>& endpoints() const { return endpoints_; }
    unsigned workers() const { return static_cast<unsigned>(workers_.size()); }
    // Sum over the workers; any thread, any time after open().
    Counters counters() const;

  private:
    // A thread's body: make the handler, report, serve until stopped.
    void serve(unsigned index, const std::string& name, const std::function<void(Handler&)>& run,
               std::promise<void>& ready);

    Settings settings_;
    HandlerFactory factory_;
    std::vector<util::Endpoint> endpoints_;
    std::unique_ptr<ClientLimiter> clients_;  // before the workers: they release into it
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<std::thread> threads_;
};

}  // namespace nolb::server
