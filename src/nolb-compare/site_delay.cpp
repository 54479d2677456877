// The loop: read every packet the kernel has queued (each becomes an ID and a due time at the
// tail of its site's FIFO), accept every packet whose time has come, then sleep until the next
// one is due, a packet arrives or the owner asks the thread to stop. Verdicts are issued one
// packet at a time, in FIFO order, from this thread only.
#include "nolb-compare/site_delay.hpp"

// glibc's first: the kernel's headers step aside for what it has defined, not the other way.
#include <netinet/in.h>

#include <fcntl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace nolb::compare {

namespace {

using SteadyClock = std::chrono::steady_clock;

// The kernel holds a packet until its verdict, so its queue must hold at least what the thread
// holds, plus what is on its way through the socket.
constexpr std::uint32_t kKernelQueueFactor = 2;
// Enough for a burst of queue messages (each under 200 octets without the payload) while the
// thread is busy; as root the limit of net.core.rmem_max does not apply (SO_RCVBUFFORCE).
constexpr int kSocketBuffer = 8 << 20;
// A packet due within this much is released now: waking for less costs more than it saves.
constexpr auto kEarlyEnough = std::chrono::microseconds(20);
// The default timer slack (50 us) would add to every hold; 1 us is as precise as ppoll gets.
constexpr unsigned long kTimerSlackNs = 1'000;

struct Packet {
    std::uint32_t id = 0;
    SteadyClock::time_point due;
};

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

struct SiteDelay::Impl {
    struct Queue {
        Impl* owner = nullptr;
        HeldQueue spec;
        nfq_q_handle* handle = nullptr;
        std::deque<Packet> held;  // in arrival order, which is due order
    };

    std::size_t hold_limit;
    nfq_handle* netlink = nullptr;
    int fd = -1;
    int wake = -1;  // eventfd: the owner asks the thread to stop
    std::vector<Queue> queues;
    std::size_t held_now = 0;
    std::array<char, 65'536> buffer{};  // one read of the socket: many queue messages
    std::thread thread;

    std::atomic<std::uint64_t> held_total{0};
    std::atomic<std::uint64_t> released_early{0};
    std::atomic<std::size_t> most_held{0};
    mutable std::mutex failure_mutex;
    std::string failure;

    Impl(std::vector<HeldQueue> specs, std::size_t limit) : hold_limit(limit) {
        try {
            open(specs);
        } catch (...) {
            close();
            throw;
        }
        thread = std::thread([this] { run(); });
    }

    ~Impl() {
        const std::uint64_t one = 1;
        if (::write(wake, &one, sizeof one) < 0) {
            // An eventfd write fails only when the counter would overflow: it is set already.
        }
        if (thread.joinable()) thread.join();
        release_all();
        close();
    }

    void open(const std::vector<HeldQueue>& specs) {
        wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wake < 0) throw std::runtime_error(errno_text("eventfd"));
        netlink = nfq_open();
        if (!netlink) throw std::runtime_error(errno_text("cannot open nfnetlink_queue"));
        fd = nfq_fd(netlink);
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kSocketBuffer, sizeof kSocketBuffer);
        // Should the socket overflow after all, the kernel fails open (below); reading on is
        // better than an error that says only that something was missed.
        const int on = 1;
        ::setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof on);

        queues.resize(specs.size());  // never resized again: the callbacks hold pointers
        for (std::size_t i = 0; i < specs.size(); ++i) {
            Queue& q = queues[i];
            q.owner = this;
            q.spec = specs[i];
            const std::string name = "NFQUEUE " + std::to_string(q.spec.number);
            q.handle = nfq_create_queue(netlink, q.spec.number, &Impl::on_packet, &q);
            if (!q.handle)
                throw std::runtime_error(errno_text(("cannot bind " + name).c_str()) +
                                         " (is another program reading it?)");
            // Only the ID: the queue says how long the packet waits, its bytes do not matter.
            if (nfq_set_mode(q.handle, NFQNL_COPY_META, 0) < 0)
                throw std::runtime_error(
                    errno_text(("cannot set the copy mode of " + name).c_str()));
            const auto kernel_limit = static_cast<std::uint32_t>(hold_limit) * kKernelQueueFactor;
            if (nfq_set_queue_maxlen(q.handle, kernel_limit) < 0)
                throw std::runtime_error(errno_text(("cannot set the length of " + name).c_str()));
            // Fail open: a packet that finds the kernel's queue or the socket full is accepted
            // at once instead of dropped. GSO: loopback's large segments are queued whole (they
            // are not looked at), not cut up first.
            const std::uint32_t flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;
            if (nfq_set_queue_flags(q.handle, flags, flags) < 0)
                throw std::runtime_error(errno_text(("cannot set the flags of " + name).c_str()));
        }
    }

    void close() {
        for (Queue& q : queues) {
            if (q.handle) nfq_destroy_queue(q.handle);
            q.handle = nullptr;
        }
        if (netlink) nfq_close(netlink);
        netlink = nullptr;
        fd = -1;
        if (wake >= 0) ::close(wake);
        wake = -1;
    }

    static int on_packet(nfq_q_handle*, nfgenmsg*, nfq_data* data, void* arg) {
        auto* q = static_cast<Queue*>(arg);
        const nfqnl_msg_packet_hdr* header = nfq_get_msg_packet_hdr(data);
        if (!header) return 0;
        q->owner->hold(*q, ntohl(header->packet_id));
        return 0;
    }

    void hold(Queue& q, std::uint32_t id) {
        if (held_now >= hold_limit) release_oldest();
        q.held.push_back({id, SteadyClock::now() +
                                  std::chrono::duration_cast<SteadyClock::duration>(q.spec.hold)});
        ++held_now;
        if (held_now > most_held.load(std::memory_order_relaxed))
            most_held.store(held_now, std::memory_order_relaxed);
    }

    void accept(Queue& q) {
        const Packet packet = q.held.front();
        q.held.pop_front();
        --held_now;
        nfq_set_verdict(q.handle, packet.id, NF_ACCEPT, 0, nullptr);
    }

    // The hold is full: the packet due first, whichever its site, goes now.
    void release_oldest() {
        Queue* first = nullptr;
        for (Queue& q : queues)
            if (!q.held.empty() && (!first || q.held.front().due < first->held.front().due))
                first = &q;
        if (!first) return;
        accept(*first);
        released_early.fetch_add(1, std::memory_order_relaxed);
    }

    // Accepts what is due; returns when the next packet is (nullopt: none is held).
    std::optional<SteadyClock::time_point> release_due() {
        const auto now = SteadyClock::now() + kEarlyEnough;
        std::optional<SteadyClock::time_point> next;
        for (Queue& q : queues) {
            while (!q.held.empty() && q.held.front().due <= now) {
                accept(q);
                held_total.fetch_add(1, std::memory_order_relaxed);
            }
            if (!q.held.empty() && (!next || q.held.front().due < *next)) next = q.held.front().due;
        }
        return next;
    }

    void release_all() {
        for (Queue& q : queues) {
            while (!q.held.empty() && q.handle)
                accept(q);
            q.held.clear();
        }
        held_now = 0;
    }

    // Reads until the socket is empty; false on an error that ends the delay.
    bool read_queued() {
        for (;;) {
            const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
                if (errno == EINTR || errno == ENOBUFS) continue;
                give_up(errno_text("reading the queue"));
                return false;
            }
            nfq_handle_packet(netlink, buffer.data(), static_cast<int>(n));
        }
    }

    // Lets every held packet go and unbinds the queues, so that --queue-bypass passes what comes
    // next: a lab without its distance, and a note saying why, rather than a wedged one.
    void give_up(const std::string& why) {
        {
            std::lock_guard lock(failure_mutex);
            failure = why;
        }
        release_all();
        for (Queue& q : queues) {
            if (q.handle) nfq_destroy_queue(q.handle);
            q.handle = nullptr;
        }
    }

    void run() {
        ::prctl(PR_SET_TIMERSLACK, kTimerSlackNs);
        std::optional<SteadyClock::time_point> next;
        for (;;) {
            pollfd fds[2] = {{fd, POLLIN, 0}, {wake, POLLIN, 0}};
            timespec timeout{};
            timespec* wait = nullptr;  // none held: sleep until a packet or the stop
            if (next) {
                const auto left =
                    std::max(SteadyClock::duration::zero(), *next - SteadyClock::now());
                const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
                timeout.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
                timeout.tv_nsec = static_cast<long>(ns % 1'000'000'000);
                wait = &timeout;
            }
            if (::ppoll(fds, 2, wait, nullptr) < 0 && errno != EINTR) {
                give_up(errno_text("ppoll"));
                return;
            }
            if (fds[1].revents) return;
            if (fds[0].revents && !read_queued()) return;
            next = release_due();
        }
    }
};

SiteDelay::SiteDelay(std::vector<HeldQueue> queues, std::size_t hold_limit)
    : impl_(std::make_unique<Impl>(std::move(queues), hold_limit == 0 ? 1 : hold_limit)) {}

SiteDelay::~SiteDelay() = default;

SiteDelayCounts SiteDelay::counts() const {
    SiteDelayCounts c;
    c.held = impl_->held_total.load(std::memory_order_relaxed);
    c.released_early = impl_->released_early.load(std::memory_order_relaxed);
    c.most_held = impl_->most_held.load(std::memory_order_relaxed);
    std::lock_guard lock(impl_->failure_mutex);
    c.failure = impl_->failure;
    return c;
}

}  // namespace nolb::compare
