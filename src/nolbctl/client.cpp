// The blocking client, built on poll() with deadlines. Replies can be large (the status of many
// services), so lines are read in chunks and capped only at a generous size; a refusal from
// the daemon may arrive before the request is even sent, so a failed send still reads a reply.
#include "nolbctl/client.hpp"

#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

namespace nolb::nolbctl {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxReply = 64 * 1024 * 1024;
constexpr auto kConnectRetry = std::chrono::milliseconds(50);  // while the backlog is full

volatile std::sig_atomic_t g_interrupted = 0;

void on_signal(int) {
    g_interrupted = 1;
}

std::string not_running(const std::string& path) {
    return "nolbd is not running (no socket at " + path + ")";
}

// Milliseconds left until `deadline`, for poll(); -1 (forever) without one.
int poll_timeout(std::optional<Clock::time_point> deadline) {
    if (!deadline) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

std::string group_name(gid_t gid) {
    std::vector<char> buffer(16 * 1024);
    group entry{};
    group* found = nullptr;
    if (getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &found) == 0 && found)
        return found->gr_name;
    return std::to_string(gid);
}

std::string seconds_text(std::chrono::milliseconds duration) {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", static_cast<double>(duration.count()) / 1000.0);
    return text;
}

}  // namespace

bool interrupted() {
    return g_interrupted != 0;
}

void catch_interrupts() {
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: poll() must return with EINTR
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

std::string permission_message(const std::string& path) {
    // The socket's group grants access; when its folder is closed to us, the folder's does.
    struct stat st {};
    std::string group;
    if (stat(path.c_str(), &st) == 0) {
        group = group_name(st.st_gid);
    } else {
        auto slash = path.rfind('/');
        std::string folder =
            slash == std::string::npos ? "." : path.substr(0, std::max<std::size_t>(slash, 1));
        if (stat(folder.c_str(), &st) == 0) group = group_name(st.st_gid);
    }
    return "permission denied on " + path + " (run as root" +
           (group.empty() ? std::string(")") : " or a member of group " + group + ")");
}

Client::Client(std::string path, Duration timeout) : path_(std::move(path)), timeout_(timeout) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.size() >= sizeof address.sun_path)
        throw Unreachable("socket path is too long: " + path_);
    std::memcpy(address.sun_path, path_.data(), path_.size());
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw Unreachable(std::string("cannot create a socket: ") + std::strerror(errno));

    auto deadline = Clock::now() + timeout_;
    while (true) {
        if (connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) return;
        int error = errno;
        if (error == EINTR && !interrupted()) continue;
        // A full backlog refuses a non-blocking connect with EAGAIN: the daemon is busy.
        if (error == EAGAIN && Clock::now() + kConnectRetry < deadline) {
            std::this_thread::sleep_for(kConnectRetry);
            continue;
        }
        ::close(fd_);
        fd_ = -1;
        if (error == ENOENT || error == ECONNREFUSED || error == ENOTDIR)
            throw Unreachable(not_running(path_));
        if (error == EACCES || error == EPERM) throw Unreachable(permission_message(path_));
        if (error == EAGAIN) throw Unreachable("nolbd is not accepting connections on " + path_);
        throw Unreachable("cannot connect to " + path_ + ": " + std::strerror(error));
    }
}

Client::~Client() {
    if (fd_ >= 0) ::close(fd_);
}

void Client::send_all(const std::string& data, Clock::time_point deadline) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        ssize_t n = send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR && !interrupted()) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd_, POLLOUT, 0};
            int ready = poll(&p, 1, poll_timeout(deadline));
            if (ready == 0) throw Unreachable("nolbd did not take the request in time");
            continue;
        }
        // The daemon closed first: it has most likely said why, so the caller reads on.
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) return;
        throw Unreachable(std::string("cannot send to nolbd: ") + std::strerror(errno));
    }
}

std::optional<std::string> Client::read_line(std::optional<Duration> timeout) {
    std::optional<Clock::time_point> deadline;
    if (timeout) deadline = Clock::now() + *timeout;
    std::size_t scanned = 0;
    while (true) {
        auto newline = buffer_.find('\n', scanned);
        if (newline != std::string::npos) {
            std::string line = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);
            return line;
        }
        scanned = buffer_.size();
        if (buffer_.size() > kMaxReply) throw Unreachable("the reply from nolbd is too large");
        if (interrupted()) return std::nullopt;

        pollfd p{fd_, POLLIN, 0};
        int ready = poll(&p, 1, poll_timeout(deadline));
        if (ready < 0) {
            if (errno == EINTR) continue;
            throw Unreachable(std::string("cannot wait for nolbd: ") + std::strerror(errno));
        }
        if (ready == 0) throw Unreachable("no reply from nolbd within " + seconds_text(*timeout));
        char chunk[64 * 1024];
        ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (n < 0 && errno != ECONNRESET)
            throw Unreachable(std::string("cannot read from nolbd: ") + std::strerror(errno));
        if (buffer_.empty()) return std::nullopt;
        std::string line = std::move(buffer_);  // the last line, without its newline
        buffer_.clear();
        return line;
    }
}

control::Reply Client::request(control::Verb verb, const control::Json& args,
                               std::optional<Duration> timeout) {
    Duration limit = timeout.value_or(timeout_);
    send_all(control::request_line(verb, args), Clock::now() + limit);
    std::optional<std::string> line = read_line(limit);
    if (!line) {
        if (interrupted()) throw Unreachable("interrupted");
        throw Unreachable("nolbd closed the connection without replying");
    }
    return control::parse_reply(*line);
}

}  // namespace nolb::nolbctl
