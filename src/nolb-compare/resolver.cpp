// The getaddrinfo threads of the profiles that resolve through glibc. A few threads per fleet
// share a queue: glibc's resolver blocks, and every client is a program of its own whose
// lookups do not wait behind another's (one thread would queue them, which a slow resolver
// makes visible), while the event loop must never wait on them. Answers come back to the loop
// through an eventfd, in the order glibc sorted them. After stop, the calls in progress finish
// (bounded by resolv.conf's timeout) and their answers are dropped, so nothing reaches a fleet
// that is going away.
#include "nolb-compare/resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace nolb::compare {
namespace {

constexpr unsigned kThreads = 8;  // lookups at once

}  // namespace

void SocketAddress::set_port(std::uint16_t port) {
    if (storage.ss_family == AF_INET)
        reinterpret_cast<sockaddr_in&>(storage).sin_port = htons(port);
    else if (storage.ss_family == AF_INET6)
        reinterpret_cast<sockaddr_in6&>(storage).sin6_port = htons(port);
}

std::string SocketAddress::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    if (storage.ss_family == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(storage).sin_addr, text,
                    sizeof text);
    else if (storage.ss_family == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(storage).sin6_addr, text,
                    sizeof text);
    return text;
}

struct SystemResolver::Shared {
    struct Job {
        std::uint64_t ticket = 0;
        std::string name;
    };
    struct Answer {
        std::uint64_t ticket = 0;
        std::optional<std::vector<SocketAddress>> addresses;
    };

    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Job> jobs;         // guarded by mutex
    std::vector<Answer> answers;  // guarded by mutex
    bool stopping = false;        // guarded by mutex
    int eventfd = -1;
    std::vector<std::thread> threads;

    void run() {
        for (;;) {
            Job job;
            {
                std::unique_lock lock(mutex);
                wake.wait(lock, [&] { return stopping || !jobs.empty(); });
                if (stopping) return;
                job = std::move(jobs.front());
                jobs.pop_front();
            }
            Answer answer{job.ticket, lookup(job.name)};
            {
                std::lock_guard lock(mutex);
                if (stopping) return;
                answers.push_back(std::move(answer));
            }
            const std::uint64_t one = 1;
            // The counter only wakes the loop; a failed write means it is already non-zero.
            [[maybe_unused]] ssize_t written = ::write(eventfd, &one, sizeof one);
        }
    }

    // Flags 0: AI_ADDRCONFIG would drop every address when only loopback is configured.
    static std::optional<std::vector<SocketAddress>> lookup(const std::string& name) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* list = nullptr;
        if (::getaddrinfo(name.c_str(), nullptr, &hints, &list) != 0) return std::nullopt;
        std::vector<SocketAddress> addresses;
        for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
            if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
                ai->ai_addrlen > sizeof(sockaddr_storage))
                continue;
            SocketAddress address;
            std::memcpy(&address.storage, ai->ai_addr, ai->ai_addrlen);
            address.length = ai->ai_addrlen;
            addresses.push_back(address);
        }
        ::freeaddrinfo(list);
        if (addresses.empty()) return std::nullopt;
        return addresses;
    }
};

SystemResolver::SystemResolver(event_base* base, Done done)
    : shared_(std::make_unique<Shared>()), done_(std::move(done)) {
    shared_->eventfd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (shared_->eventfd < 0)
        throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    try {
        ready_ = util::make_event(base, shared_->eventfd, EV_READ | EV_PERSIST,
                                  &SystemResolver::on_ready, this);
        for (unsigned i = 0; i < kThreads; ++i)
            shared_->threads.emplace_back([shared = shared_.get()] { shared->run(); });
    } catch (...) {
        {
            std::lock_guard lock(shared_->mutex);
            shared_->stopping = true;
        }
        shared_->wake.notify_all();
        for (std::thread& t : shared_->threads)
            t.join();
        ready_.reset();
        ::close(shared_->eventfd);
        throw;
    }
}

SystemResolver::~SystemResolver() {
    {
        std::lock_guard lock(shared_->mutex);
        shared_->stopping = true;
        shared_->jobs.clear();
    }
    shared_->wake.notify_all();
    for (std::thread& t : shared_->threads)
        t.join();
    ready_.reset();
    ::close(shared_->eventfd);
}

void SystemResolver::submit(std::uint64_t ticket, std::string name) {
    {
        std::lock_guard lock(shared_->mutex);
        shared_->jobs.push_back({ticket, std::move(name)});
    }
    shared_->wake.notify_one();
    // Watched only while answers are due, so an idle resolver does not keep the loop running.
    if (outstanding_++ == 0) event_add(ready_.get(), nullptr);
}

void SystemResolver::on_ready(evutil_socket_t, short, void* arg) {
    static_cast<SystemResolver*>(arg)->deliver();
}

void SystemResolver::deliver() {
    std::uint64_t count = 0;
    [[maybe_unused]] ssize_t got = ::read(shared_->eventfd, &count, sizeof count);
    std::vector<Shared::Answer> answers;
    {
        std::lock_guard lock(shared_->mutex);
        answers.swap(shared_->answers);
    }
    outstanding_ -= std::min<std::uint64_t>(outstanding_, answers.size());
    if (outstanding_ == 0) event_del(ready_.get());
    for (auto& answer : answers)
        done_(answer.ticket, std::move(answer.addresses));
}

}  // namespace nolb::compare
