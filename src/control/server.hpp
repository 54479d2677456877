// The control socket: a Unix stream socket on the daemon's main event loop where nolbctl (or
// anyone with `socat`) sends one JSON request per line and reads one reply per line; `watch`
// turns the connection into a stream of health events. The socket's file mode is the main
// access control; the peer's kernel-reported credentials are checked again on accept.
#pragma once

#include <event2/event.h>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "control/protocol.hpp"
#include "util/event.hpp"

struct bufferevent;
struct evconnlistener;

namespace nolb::control {

// Who is at the other end of a control connection, as the kernel saw them at connect time.
struct Peer {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary groups (empty when the kernel cannot tell)
};

class Server {
  public:
    using PeerCheck = std::function<bool(const Peer&)>;
    static constexpr std::size_t kMaxClients = 64;

    // Nothing is opened until open(); `base` and `backend` must outlive the server.
    Server(event_base* base, const config::Control& config, Backend& backend);
    ~Server();  // closes every connection (unwatching watchers) and removes the socket file
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Creates the socket's folder if missing (0755), replaces a stale socket file, refuses a
    // live one, binds, applies the configured mode and listens. Throws std::runtime_error.
    void open();

    // Gives the socket file (and its folder, when open() created it) to the user a daemon
    // started as root is about to become, so that the mode's group bits mean that user's
    // group and the socket can still be removed at stop. Throws std::runtime_error.
    void set_owner(uid_t uid, gid_t gid);

    // Who may talk to the daemon. The default mirrors the socket file: root, the daemon's own
    // user, members of the file's group when the mode lets the group write, anyone when it
    // lets others write.
    void set_peer_check(PeerCheck check) { peer_check_ = std::move(check); }
    bool default_peer_check(const Peer& peer) const;

    const std::string& path() const { return config_.socket; }
    std::size_t clients() const { return connections_.size(); }

  private:
    struct Connection;
    struct ListenerFree {
        void operator()(evconnlistener* listener) const;
    };

    static void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self);
    static void on_accept_error(evconnlistener*, void* self);
    static void on_resume_accepting(evutil_socket_t, short, void* self);
    static void on_read(bufferevent*, void* connection);
    static void on_write(bufferevent*, void* connection);
    static void on_event(bufferevent*, short what, void* connection);
    static void on_deferred_close(evutil_socket_t, short, void* connection);

    void accept(int fd);
    void progress(Connection& c);
    void handle(Connection& c, std::string_view line);
    void send_event(Connection& c, const WatchEvent& event);
    void fail(Connection& c, std::string_view message);
    void close(Connection& c);

    event_base* base_;
    config::Control config_;
    Backend& backend_;
    PeerCheck peer_check_;
    std::unique_ptr<evconnlistener, ListenerFree> listener_;
    util::Event resume_timer_;
    bool bound_ = false;  // the socket file at path() is ours to remove
    dev_t socket_dev_ = 0;
    ino_t socket_ino_ = 0;
    gid_t socket_gid_ = 0;
    std::string created_folder_;  // the socket's folder, when open() made it
    std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
};

}  // namespace nolb::control
