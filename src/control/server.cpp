// The control socket on the main loop. Each connection is a bufferevent reading request lines
// and writing reply lines; it never blocks the loop: input is capped at one request line,
// output past a high-water mark pauses reading until the client takes it, and a client that
// stops reading for long is dropped. Watchers get events pushed by the backend, and a watcher
// that falls too far behind is dropped rather than buffered without bound.
#include "control/server.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "control/commands.hpp"
#include "control/encoding.hpp"
#include "control/lines.hpp"
#include "server/socket.hpp"
#include "util/log.hpp"

namespace nolb::control {
namespace {

constexpr int kBacklog = 16;
constexpr std::size_t kOutputHighWater = 256 * 1024;  // replies queued before reading pauses
constexpr std::size_t kWatchBacklog = 1024 * 1024;    // events queued before a watcher is dropped
constexpr timeval kIdleTimeout = {60, 0};   // a connection with no request (watchers exempt)
constexpr timeval kWriteTimeout = {10, 0};  // output pending without the client reading
constexpr timeval kAcceptPause = {0, 100'000};

struct BufferEventFree {
    void operator()(bufferevent* bev) const { bufferevent_free(bev); }
};

std::string errno_text(int error) {
    return std::strerror(error);
}

std::string octal(unsigned mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", mode & 07777);
    return text;
}

// Runs before the connection has a bufferevent: a few bytes into an empty socket buffer, so
// this cannot block, and a client that already left is no concern.
void send_line_now(int fd, const std::string& line) {
    [[maybe_unused]] ssize_t sent = send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

sockaddr_un unix_address(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path)
        throw std::runtime_error("control socket path is too long (at most " +
                                 std::to_string(sizeof address.sun_path - 1) + " bytes): " + path);
    std::memcpy(address.sun_path, path.data(), path.size());
    return address;
}

// Returns the socket's own folder when this call created it, "" otherwise.
std::string make_folders(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return {};
    std::string created;
    for (std::size_t i = 1; i <= slash; ++i) {
        if (i != slash && path[i] != '/') continue;
        std::string folder = path.substr(0, i);
        created.clear();
        if (mkdir(folder.c_str(), 0755) == 0)
            created = folder;
        else if (errno != EEXIST)
            throw std::runtime_error("cannot create " + folder +
                                     " for the control socket: " + errno_text(errno));
    }
    return created;
}

// Whether a process is accepting on the socket file: a refused connection means the file is
// left over from one that is gone. A full backlog still means someone is there.
bool someone_listens(const std::string& path, const sockaddr_un& address) {
    server::Fd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!probe) throw std::runtime_error("cannot create a Unix socket: " + errno_text(errno));
    if (connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0)
        return true;
    int error = errno;
    if (error == EAGAIN || error == EINPROGRESS) return true;
    if (error == ECONNREFUSED) return false;
    throw std::runtime_error("cannot tell whether " + path + " is in use: " + errno_text(error));
}

std::optional<Peer> peer_of(int fd) {
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return std::nullopt;
    Peer peer{credentials.pid, credentials.uid, credentials.gid, {}};
    // Group members are usually members by a supplementary group, not their primary one.
    peer.groups.resize(64);
    length = static_cast<socklen_t>(peer.groups.size() * sizeof(gid_t));
    int result = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer.groups.data(), &length);
    if (result != 0 && errno == ERANGE) {
        peer.groups.resize(length / sizeof(gid_t));
        result = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer.groups.data(), &length);
    }
    peer.groups.resize(result == 0 ? length / sizeof(gid_t) : 0);
    return peer;
}

}  // namespace

struct Server::Connection {
    Server* owner = nullptr;
    std::unique_ptr<bufferevent, BufferEventFree> bev;
    util::Event close_event;  // for closing from inside a backend callback
    Peer peer;
    std::optional<int> watch_id;
    bool peer_done = false;  // the client shut its side: answer what was read, then close
    bool closing = false;    // the last line is queued; close once it is sent

    evbuffer* input() const { return bufferevent_get_input(bev.get()); }
    evbuffer* output() const { return bufferevent_get_output(bev.get()); }
    void write(const std::string& line) const {
        bufferevent_write(bev.get(), line.data(), line.size());
    }
};

void Server::ListenerFree::operator()(evconnlistener* listener) const {
    evconnlistener_free(listener);
}

Server::Server(event_base* base, const config::Control& config, Backend& backend)
    : base_(base), config_(config), backend_(backend) {}

Server::~Server() {
    listener_.reset();
    for (auto& [pointer, connection] : connections_)
        if (connection->watch_id) backend_.unwatch(*connection->watch_id);
    connections_.clear();
    // Only the file we bound: a newer daemon may have replaced it since.
    struct stat st {};
    if (bound_ && lstat(config_.socket.c_str(), &st) == 0 && st.st_dev == socket_dev_ &&
        st.st_ino == socket_ino_)
        unlink(config_.socket.c_str());
}

void Server::open() {
    const std::string& path = config_.socket;
    if (listener_) throw std::logic_error("the control socket is already open");
    if (path.empty()) throw std::runtime_error("no control socket path configured");
    sockaddr_un address = unix_address(path);
    created_folder_ = make_folders(path);

    struct stat st {};
    if (lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            throw std::runtime_error(path + " exists and is not a socket; not replacing it");
        if (someone_listens(path, address))
            throw std::runtime_error("another nolbd is serving " + path);
        if (unlink(path.c_str()) != 0 && errno != ENOENT)
            throw std::runtime_error("cannot remove the stale control socket " + path + ": " +
                                     errno_text(errno));
        log::info("removed a stale control socket", {{"path", path}});
    }

    server::Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) throw std::runtime_error("cannot create a Unix socket: " + errno_text(errno));
    if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
        throw std::runtime_error("cannot create the control socket " + path + ": " +
                                 errno_text(errno));
    // Before listen(), so no client can connect while the mode is still the umask's.
    if (chmod(path.c_str(), static_cast<mode_t>(config_.mode)) != 0 ||
        lstat(path.c_str(), &st) != 0) {
        int error = errno;
        unlink(path.c_str());
        throw std::runtime_error("cannot set mode " + octal(config_.mode) + " on " + path + ": " +
                                 errno_text(error));
    }
    bound_ = true;
    socket_dev_ = st.st_dev;
    socket_ino_ = st.st_ino;
    socket_gid_ = st.st_gid;
    if (listen(fd.get(), kBacklog) != 0)
        throw std::runtime_error("cannot listen on " + path + ": " + errno_text(errno));

    resume_timer_ = util::make_event(base_, -1, 0, on_resume_accepting, this);
    listener_.reset(evconnlistener_new(base_, on_accept, this,
                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd.get()));
    if (!listener_) throw std::runtime_error("cannot watch the control socket " + path);
    fd.release();
    evconnlistener_set_error_cb(listener_.get(), on_accept_error);
    log::info("control socket open", {{"path", path}, {"mode", octal(config_.mode)}});
}

void Server::set_owner(uid_t uid, gid_t gid) {
    const std::string& path = config_.socket;
    if (!bound_) throw std::logic_error("the control socket is not open");
    if (lchown(path.c_str(), uid, gid) != 0)
        throw std::runtime_error("cannot give the control socket " + path + " to uid " +
                                 std::to_string(uid) + ": " + errno_text(errno));
    socket_gid_ = gid;
    if (!created_folder_.empty() && lchown(created_folder_.c_str(), uid, gid) != 0)
        throw std::runtime_error("cannot give the control socket's folder " + created_folder_ +
                                 " to uid " + std::to_string(uid) + ": " + errno_text(errno));
}

bool Server::default_peer_check(const Peer& peer) const {
    if (peer.uid == 0 || peer.uid == geteuid()) return true;
    if (config_.mode & S_IWOTH) return true;
    if (!(config_.mode & S_IWGRP)) return false;
    if (peer.gid == socket_gid_) return true;
    for (gid_t group : peer.groups)
        if (group == socket_gid_) return true;
    return false;
}

void Server::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self) {
    static_cast<Server*>(self)->accept(fd);
}

void Server::on_accept_error(evconnlistener* listener, void* self) {
    // Out of descriptors, most likely: pause instead of spinning on a socket that stays ready.
    int error = EVUTIL_SOCKET_ERROR();
    log::warning("control socket accept failed", {{"error", errno_text(error)}});
    evconnlistener_disable(listener);
    event_add(static_cast<Server*>(self)->resume_timer_.get(), &kAcceptPause);
}

void Server::on_resume_accepting(evutil_socket_t, short, void* self) {
    evconnlistener_enable(static_cast<Server*>(self)->listener_.get());
}

void Server::accept(int raw_fd) {
    server::Fd fd(raw_fd);
    std::optional<Peer> peer = peer_of(fd.get());
    bool allowed = peer && (peer_check_ ? peer_check_(*peer) : default_peer_check(*peer));
    if (!allowed) {
        send_line_now(fd.get(), error_line("permission denied"));
        log::warning("control client refused", {{"uid", peer ? std::to_string(peer->uid) : "?"},
                                                {"pid", peer ? std::to_string(peer->pid) : "?"}});
        return;
    }
    if (connections_.size() >= kMaxClients) {
        send_line_now(fd.get(), error_line("too many control clients (at most " +
                                           std::to_string(kMaxClients) + ")"));
        log::warning("control client refused",
                     {{"uid", peer->uid}, {"pid", peer->pid}, {"reason", "too many clients"}});
        return;
    }

    auto c = std::make_unique<Connection>();
    c->owner = this;
    c->peer = std::move(*peer);
    c->bev.reset(bufferevent_socket_new(base_, fd.get(), BEV_OPT_CLOSE_ON_FREE));
    if (!c->bev) {
        log::error("cannot set up a control connection");
        return;
    }
    fd.release();
    c->close_event = util::make_event(base_, -1, 0, on_deferred_close, c.get());
    bufferevent_setcb(c->bev.get(), on_read, on_write, on_event, c.get());
    // Reading stops once a whole request line (and its CR LF) could be in the buffer.
    bufferevent_setwatermark(c->bev.get(), EV_READ, 0, kMaxLine + 2);
    bufferevent_set_timeouts(c->bev.get(), &kIdleTimeout, &kWriteTimeout);
    bufferevent_enable(c->bev.get(), EV_READ);
    log::debug("control client connected", {{"uid", c->peer.uid}, {"pid", c->peer.pid}});
    Connection* key = c.get();
    connections_.emplace(key, std::move(c));
}

void Server::on_read(bufferevent*, void* connection) {
    auto* c = static_cast<Connection*>(connection);
    c->owner->progress(*c);
}

void Server::on_write(bufferevent*, void* connection) {
    auto* c = static_cast<Connection*>(connection);
    c->owner->progress(*c);
}

void Server::on_event(bufferevent*, short what, void* connection) {
    auto* c = static_cast<Connection*>(connection);
    Server& self = *c->owner;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !c->watch_id) {
        c->peer_done = true;
        self.progress(*c);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        log::info("control client timed out",
                  {{"uid", c->peer.uid},
                   {"pid", c->peer.pid},
                   {"while", (what & BEV_EVENT_WRITING) ? "writing" : "idle"}});
    self.close(*c);
}

void Server::on_deferred_close(evutil_socket_t, short, void* connection) {
    auto* c = static_cast<Connection*>(connection);
    c->owner->close(*c);
}

// Answers every complete request line while the output has room, then closes the connection
// if it is finished. The connection may be gone when this returns.
void Server::progress(Connection& c) {
    evbuffer* input = c.input();
    while (!c.closing) {
        if (c.watch_id) {  // a watcher sends nothing more that matters; only its close does
            evbuffer_drain(input, evbuffer_get_length(input));
            return;
        }
        if (evbuffer_get_length(c.output()) >= kOutputHighWater) return;  // on_write resumes
        // The read watermark keeps the input within this, and it is enough to decide.
        const std::size_t available = evbuffer_get_length(input);
        const std::size_t window = std::min(available, kMaxLine + 2);
        const auto* bytes =
            reinterpret_cast<const char*>(evbuffer_pullup(input, static_cast<ev_ssize_t>(window)));
        // The last request of a client that shut down its side may lack its newline.
        const NextLine next = next_line(std::string_view(bytes != nullptr ? bytes : "", window),
                                        c.peer_done && window == available, kMaxLine);
        if (next.status == LineStatus::too_long) {
            fail(c, "request line longer than " + std::to_string(kMaxLine) + " bytes");
            break;
        }
        if (next.status == LineStatus::incomplete) break;
        const std::string line(next.line);
        evbuffer_drain(input, next.consumed);
        handle(c, line);
    }
    bool finished = c.closing || (c.peer_done && evbuffer_get_length(input) == 0);
    if (finished && evbuffer_get_length(c.output()) == 0) close(c);
}

void Server::handle(Connection& c, std::string_view line) {
    if (line.empty()) return;
    ParsedRequest parsed = parse_request(line);
    if (!parsed.request) {
        c.write(error_line(parsed.error));
        return;
    }
    const Request& request = *parsed.request;
    bool changes_state = request.verb == Verb::drain || request.verb == Verb::undrain ||
                         request.verb == Verb::reload;
    if (changes_state || log::enabled(log::Level::debug))
        log::write(changes_state ? log::Level::info : log::Level::debug, "control request",
                   {{"verb", verb_name(request.verb)},
                    {"args", request.args.dump(-1, ' ', false, Json::error_handler_t::replace)},
                    {"uid", c.peer.uid},
                    {"pid", c.peer.pid}});
    if (request.verb != Verb::watch) {
        c.write(execute(backend_, request));
        return;
    }
    c.write(ok_line({{"watching", true}}));
    bufferevent_set_timeouts(c.bev.get(), nullptr, &kWriteTimeout);
    Connection* watcher = &c;
    try {
        c.watch_id = backend_.watch(
            [this, watcher](const WatchEvent& event) { send_event(*watcher, event); });
    } catch (const std::exception& e) {
        log::warning("control watch failed", {{"error", e.what()}});
        fail(c, e.what());
    }
}

// Called by the backend, from inside its own notification loop: never unwatch from here.
void Server::send_event(Connection& c, const WatchEvent& event) {
    if (c.closing) return;
    if (evbuffer_get_length(c.output()) > kWatchBacklog) {
        log::warning("control watcher too slow; closing it",
                     {{"uid", c.peer.uid}, {"pid", c.peer.pid}});
        c.closing = true;
        bufferevent_disable(c.bev.get(), EV_READ | EV_WRITE);
        event_active(c.close_event.get(), EV_TIMEOUT, 1);
        return;
    }
    c.write(json_line(Json(event)));
}

void Server::fail(Connection& c, std::string_view message) {
    c.write(error_line(message));
    c.closing = true;
    bufferevent_disable(c.bev.get(), EV_READ);
}

void Server::close(Connection& c) {
    if (c.watch_id) backend_.unwatch(*c.watch_id);
    log::debug("control client closed", {{"uid", c.peer.uid}, {"pid", c.peer.pid}});
    connections_.erase(&c);
}

}  // namespace nolb::control
