// Shared by the control tests: a Backend that serves fixed documents (control/documents.hpp)
// and records what it was asked, an event loop on its own thread that tests
// hand work to, and a blocking Unix-socket client whose reads time out instead of hanging.
#pragma once

#include <event2/event.h>
#include <event2/thread.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "control/documents.hpp"
#include "control/encoding.hpp"
#include "control/protocol.hpp"

namespace nolb::control::testing {

using namespace std::chrono_literals;

// The documents the fake daemon serves, built from the structs as the daemon builds them, so
// that every field the daemon sends is here too.
inline Status status_document() {
    const LastProbe ok{"ok", 200, 0.4, "", 1700000520};
    const LastProbe timeout{"timeout", 0, 1000, "no response in 1000 ms", 1700000521};
    ServiceStatus www{"www.demo.test.", 20, "http", "all", false, {}};
    www.nodes.push_back({"london",
                         false,
                         {{"127.0.0.2", "127.0.0.2", "up", true, 1700000403, "2 probes passed", 5,
                           0, 120, 1, 1, ok}}});
    www.nodes.push_back({"geneva",
                         true,
                         {{"127.0.0.3", "127.0.0.3", "down", false, 1700000000,
                           "2 probes failed: timeout", 0, 7, 110, 30, 3, timeout}}});
    ZoneStatus zone{"demo.test.", 1700000600, {}, {}};
    zone.secondaries.push_back(
        {"127.0.0.53", "ixfr", 1700000513, 1700000500, 1700000600, false, 0});
    zone.secondaries.push_back({"127.0.0.54", "axfr", 1700000100, {}, 1700000099, true, 480});
    NotifyStatus answered{"127.0.0.53:53", 1700000600, 1700000600, 1700000512, 1700000512.01,
                          "NOERROR",       0,          4,          4,          0};
    NotifyStatus silent{"127.0.0.54:53", 1700000600, {}, 1700000520, {}, {}, 2, 9, 0, 1};
    zone.notify = {answered, silent};
    return {{www}, {zone}};
}

inline Stats stats_document() {
    Stats stats;
    stats.generation = 7;
    stats.uptime_s = 7380;
    stats.queries = {
        15, 1, 2, {{"A", 10}, {"AAAA", 4}, {"TXT", 1}}, {{"NOERROR", 13}, {"NXDOMAIN", 2}}};
    stats.probes = {230, 31, 0, 3};
    stats.transitions = 4;
    stats.publish = {0.514, 3.9, 12, 24.25};
    stats.tcp = {3, 0, 2, 6, 1, 5};
    stats.udp = {12, 11, 0};
    stats.rrl = {9, 4, 5};
    stats.transfers = {2, 5, 30, 1, 1, 3, 4};
    return stats;
}

inline Explain explain_document(const std::string& name, const std::string& type) {
    Explain explain;
    explain.name = name;
    explain.type = type;
    explain.rcode = "NOERROR";
    explain.aa = true;
    explain.answer = {"www.demo.test.\t20\tIN\tA\t127.0.0.2"};
    explain.ttl = 20;
    explain.ttl_source = "service www.demo.test. ttl";
    explain.service = "www.demo.test.";
    explain.addresses = {{"london", "127.0.0.2", 4, true, "up"},
                         {"geneva", "127.0.0.3", 4, false, "drained"}};
    return explain;
}

inline Check check_document() {
    return {1, {{"www.demo.test.", 1, 2}}, {{"demo.test.", "127.0.0.54", 480}}};
}

inline WatchEvent transition(const std::string& node, const std::string& from,
                             const std::string& to) {
    return {1700000600, "www.demo.test.", node, "127.0.0.2", from, to, "2 probes failed: timeout"};
}

// Everything here runs on the loop thread, like the daemon's Backend.
class FakeBackend : public Backend {
  public:
    Status status(const std::optional<std::string>& service) override {
        last_service = service;
        if (service && *service != "www.demo.test.")
            throw std::invalid_argument("unknown service \"" + *service + "\"");
        return status_document();
    }
    DrainResult drain(const std::string& node, bool drained) override {
        if (node != "london" && node != "geneva")
            throw std::invalid_argument("unknown node \"" + node + "\"");
        last_node = node;
        last_drained = drained;
        DrainResult result{node, drained, {{"www.demo.test.", node}}, true, {}, {}};
        if (drained) {
            result.safe_at = 1700000623;
            result.safe_in_s = 20;
        }
        return result;
    }
    Explain explain(const std::string& name, const std::string& type) override {
        if (type != "A" && type != "AAAA") throw std::invalid_argument("unknown type " + type);
        return explain_document(name, type);
    }
    ReloadResult reload() override {
        ++reloads;
        if (reject_reload) return {false, {"nolb.toml:3:1: service.ttl: must be at most 86400"}};
        return {true, {}};
    }
    Stats stats() override {
        if (fail_stats) throw std::runtime_error("counters unavailable");
        return stats_document();
    }
    Check check() override { return check_document(); }
    int watch(std::function<void(const WatchEvent&)> listener) override {
        int id = next_id++;
        listeners[id] = std::move(listener);
        return id;
    }
    void unwatch(int id) override {
        listeners.erase(id);
        ++unwatches;
    }

    // Like the daemon: every listener in turn (a listener may not unwatch from inside).
    void emit(const WatchEvent& event) {
        for (auto& [id, listener] : listeners)
            listener(event);
    }

    std::optional<std::string> last_service;
    std::string last_node;
    bool last_drained = false;
    int reloads = 0;
    bool reject_reload = false;
    bool fail_stats = false;
    std::map<int, std::function<void(const WatchEvent&)>> listeners;
    int next_id = 1;
    int unwatches = 0;
};

// An event loop on its own thread. The loop keeps running with nothing to do, and run() hands
// it a function and waits (bounded) for its result.
class LoopThread {
  public:
    LoopThread() {
        static const int threads_ready = evthread_use_pthreads();
        if (threads_ready != 0) throw std::runtime_error("libevent threads unavailable");
        base_ = event_base_new();
        if (!base_) throw std::runtime_error("cannot create an event loop");
        thread_ = std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
    }
    ~LoopThread() {
        event_base_loopbreak(base_);
        thread_.join();
        event_base_free(base_);
    }
    LoopThread(const LoopThread&) = delete;
    LoopThread& operator=(const LoopThread&) = delete;

    event_base* base() const { return base_; }

    template <typename F>
    auto run(F function) -> decltype(function()) {
        using Result = decltype(function());
        auto task = std::make_shared<std::packaged_task<Result()>>(std::move(function));
        auto future = task->get_future();
        auto* holder = new std::shared_ptr<std::packaged_task<Result()>>(task);
        timeval now{0, 0};
        if (event_base_once(
                base_, -1, EV_TIMEOUT,
                [](evutil_socket_t, short, void* argument) {
                    std::unique_ptr<std::shared_ptr<std::packaged_task<Result()>>> owned(
                        static_cast<std::shared_ptr<std::packaged_task<Result()>>*>(argument));
                    (**owned)();
                },
                holder, &now) != 0) {
            delete holder;
            throw std::runtime_error("cannot post to the loop");
        }
        if (future.wait_for(10s) != std::future_status::ready)
            throw std::runtime_error("the loop did not run the task within 10 s");
        return future.get();
    }

  private:
    event_base* base_ = nullptr;
    std::thread thread_;
};

// A folder under the system temp dir, removed with everything in it.
class TempDir {
  public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "nolb-control-XXXXXX");
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

inline sockaddr_un unix_address(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), std::min(path.size(), sizeof address.sun_path - 1));
    return address;
}

// A blocking client; every read gives up after `timeout`.
class LineClient {
  public:
    explicit LineClient(const std::string& path, std::chrono::milliseconds timeout = 5s)
        : timeout_(timeout) {
        fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address = unix_address(path);
        if (fd_ < 0 ||
            connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
            throw std::runtime_error("cannot connect to " + path + ": " + std::strerror(errno));
    }
    ~LineClient() { close(); }
    LineClient(const LineClient&) = delete;
    LineClient& operator=(const LineClient&) = delete;

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    void shutdown_writing() { ::shutdown(fd_, SHUT_WR); }

    bool send(const std::string& data) {
        std::size_t sent = 0;
        while (sent < data.size()) {
            ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += static_cast<std::size_t>(n);
        }
        return true;
    }

    // The next line, or nullopt at end of stream or after the timeout.
    std::optional<std::string> read_line() {
        auto deadline = std::chrono::steady_clock::now() + timeout_;
        while (true) {
            auto newline = buffer_.find('\n');
            if (newline != std::string::npos) {
                std::string line = buffer_.substr(0, newline);
                buffer_.erase(0, newline + 1);
                return line;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
            char chunk[65536];
            ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) return std::nullopt;
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    // True when the server closed the connection (and sent nothing more) within the timeout.
    bool closed_by_server() {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(timeout_.count())) <= 0) return false;
        char byte;
        return recv(fd_, &byte, 1, 0) <= 0 && buffer_.empty();
    }

    Reply ask(Verb verb, const Json& args = Json::object()) {
        if (!send(request_line(verb, args))) return {false, nullptr, "send failed"};
        std::optional<std::string> line = read_line();
        if (!line) return {false, nullptr, "no reply"};
        return parse_reply(*line);
    }

  private:
    int fd_ = -1;
    std::chrono::milliseconds timeout_;
    std::string buffer_;
};

// Polls `condition` on the loop every 10 ms until it holds or `limit` passes.
template <typename F>
bool eventually(LoopThread& loop, F condition, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (loop.run(condition)) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

}  // namespace nolb::control::testing
