// nolb-testhttp: an HTTP backend whose health the tests and the benchmark control. nolbd's health
// checks probe it; a scenario changes what it answers (200, 503, silence, a closed connection)
// and measures how fast nolbd's answers follow.
//
// It is deliberately not a general HTTP server: one thread, one response per connection
// ("Connection: close"), any method and path. It sits on libevent's core loop rather than on
// evhttp because two of its modes are about *not* following HTTP: `close` drops the connection
// at accept, and `hang` keeps a request unanswered for as long as the client waits; evhttp
// offers neither without reaching into its connection internals.
//
// The mode is changed at run time through one mechanism, the control file (see kHelp).
#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

constexpr const char* kHelp =
    R"(Usage: nolb-testhttp --listen ADDR:PORT [--listen ADDR:PORT ...] [options]

A controllable HTTP backend for nolb's tests and benchmarks. Every request (any method, any
path) gets one response, after which the connection is closed. What the response is depends
on the mode:

  ok     200 with the body "ok" (see --body)
  503    503 Service Unavailable
  hang   the request is read and never answered; the connection stays open until the client
         closes it (or for at most 300 s). Leaving hang answers the held requests in the new mode.
  close  the connection is closed as soon as it is accepted, before any request is read

Options:
  --listen ADDR:PORT    listen there (repeatable): 127.0.0.2:8080, [::1]:8080; 0.0.0.0:PORT
                        serves every 127.x.y.z address; port 0 picks a free port (printed)
  --mode MODE           the starting mode (default ok)
  --control-file PATH   the mode control: polled every 20 ms; when it holds a mode word
                        (ok, 503, hang, close; surrounding white space ignored) that differs
                        from the current mode, the mode changes and "mode WORD" is printed.
                        A missing or empty file changes nothing; an unknown word is reported
                        once and ignored. A file present at startup overrides --mode. Write it
                        atomically (write a temporary file, then mv) so that a poll never reads
                        half a word.
  --body TEXT           the body of 200 responses (default "ok")
  --reuseport           set SO_REUSEPORT, so that several processes can share one port
  --help                this text

On stderr it prints "listen ADDR:PORT" for each listener, then "ready"; on SIGUSR1 it prints
"counters ..." (connections accepted, requests answered per kind: the benchmark counts a
prober's requests from here); on SIGTERM or SIGINT it prints its counters and exits 0. Exit
status 1: a listener could not be opened; 2: bad usage.
)";

enum class Mode { ok, unavailable, hang, close };

std::optional<Mode> mode_from_word(std::string_view word) {
    if (word == "ok") return Mode::ok;
    if (word == "503") return Mode::unavailable;
    if (word == "hang") return Mode::hang;
    if (word == "close") return Mode::close;
    return std::nullopt;
}

const char* mode_word(Mode mode) {
    switch (mode) {
        case Mode::ok:
            return "ok";
        case Mode::unavailable:
            return "503";
        case Mode::hang:
            return "hang";
        case Mode::close:
            return "close";
    }
    return "ok";
}

void say(const std::string& text) {
    std::string line = "nolb-testhttp: " + text + "\n";
    // One write per line, so that a test reading stderr never sees half a line.
    [[maybe_unused]] ssize_t n = write(STDERR_FILENO, line.data(), line.size());
}

struct EventFree {
    void operator()(event* ev) const { event_free(ev); }
};
struct ListenerFree {
    void operator()(evconnlistener* l) const { evconnlistener_free(l); }
};
struct BaseFree {
    void operator()(event_base* b) const { event_base_free(b); }
};
using EventPtr = std::unique_ptr<event, EventFree>;

// "127.0.0.2:8080", "[::1]:8080".
std::optional<sockaddr_storage> parse_endpoint(const std::string& text, socklen_t& length) {
    std::string host, port;
    if (!text.empty() && text[0] == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos) return std::nullopt;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    char* end = nullptr;
    errno = 0;
    unsigned long number = std::strtoul(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || errno != 0 || number > 65535) return std::nullopt;

    sockaddr_storage out{};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(number));
        length = sizeof(sockaddr_in);
        return out;
    }
    if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(number));
        length = sizeof(sockaddr_in6);
        return out;
    }
    return std::nullopt;
}

std::string endpoint_text(const sockaddr_storage& address) {
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
        inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
    }
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
}

struct Options {
    std::vector<std::string> listen;
    Mode mode = Mode::ok;
    std::string control_file;
    std::string body = "ok";
    bool reuseport = false;
};

class Server;

// One accepted connection, from accept to close. Owned by Server::connections_.
struct Connection {
    Server* server = nullptr;
    int fd = -1;
    EventPtr readable;
    bool hung = false;  // its request is complete and held unanswered
    std::size_t length = 0;
    char buffer[4096];
};

class Server {
  public:
    Server(event_base* base, Options options) : base_(base), options_(std::move(options)) {
        mode_ = options_.mode;
        ok_response_ = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                       std::to_string(options_.body.size()) + "\r\nConnection: close\r\n\r\n" +
                       options_.body;
        unavailable_response_ =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
            "Content-Length: 12\r\nConnection: close\r\n\r\nunavailable\n";
    }

    ~Server() {
        for (auto& [fd, connection] : connections_) {
            connection->readable.reset();
            ::close(fd);
        }
    }

    bool open_listeners() {
        for (const auto& text : options_.listen) {
            socklen_t length = 0;
            auto address = parse_endpoint(text, length);
            if (!address) {
                say("bad --listen address: " + text + " (expected ADDR:PORT or [ADDR]:PORT)");
                return false;
            }
            int fd = socket(address->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            int one = 1;
            if (fd >= 0) {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (options_.reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
                if (address->ss_family == AF_INET6)
                    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
            }
            if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&*address), length) != 0) {
                say("cannot listen on " + text + ": " + std::strerror(errno));
                if (fd >= 0) ::close(fd);
                return false;
            }
            evconnlistener* listener =
                evconnlistener_new(base_, &Server::on_accept, this,
                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 4096, fd);
            if (listener == nullptr) {
                say("cannot listen on " + text + ": " + std::strerror(errno));
                ::close(fd);
                return false;
            }
            evconnlistener_set_error_cb(listener, &Server::on_accept_error);
            listeners_.emplace_back(listener);
            sockaddr_storage bound{};
            socklen_t bound_length = sizeof bound;
            getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
            say("listen " + endpoint_text(bound));
        }
        // After EMFILE the listeners pause for a moment rather than spin on a ready socket.
        resume_ = EventPtr(evtimer_new(base_, &Server::on_resume, this));
        return true;
    }

    void start_control() {
        if (options_.control_file.empty()) return;
        poll_control_file();
        control_timer_ =
            EventPtr(event_new(base_, -1, EV_PERSIST, &Server::on_control_timer, this));
        timeval every{0, 20'000};
        event_add(control_timer_.get(), &every);
    }

    Mode mode() const { return mode_; }

    std::string counters() const {
        return "connections=" + std::to_string(accepted_) + " ok=" + std::to_string(served_ok_) +
               " unavailable=" + std::to_string(served_503_) + " hung=" + std::to_string(hung_) +
               " closed=" + std::to_string(closed_) + " incomplete=" + std::to_string(incomplete_);
    }

  private:
    static void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self) {
        static_cast<Server*>(self)->accept(fd);
    }

    static void on_accept_error(evconnlistener* listener, void* self) {
        auto* server = static_cast<Server*>(self);
        int error = EVUTIL_SOCKET_ERROR();
        if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
            if (!server->paused_) say(std::string("accept paused: ") + std::strerror(error));
            server->paused_ = true;
            for (auto& l : server->listeners_)
                evconnlistener_disable(l.get());
            timeval pause{0, 100'000};
            evtimer_add(server->resume_.get(), &pause);
        } else {
            say(std::string("accept: ") + std::strerror(error));
        }
        (void)listener;
    }

    static void on_resume(evutil_socket_t, short, void* self) {
        auto* server = static_cast<Server*>(self);
        server->paused_ = false;
        for (auto& l : server->listeners_)
            evconnlistener_enable(l.get());
    }

    static void on_readable(evutil_socket_t, short what, void* arg) {
        auto* connection = static_cast<Connection*>(arg);
        connection->server->readable(connection, what);
    }

    static void on_control_timer(evutil_socket_t, short, void* self) {
        static_cast<Server*>(self)->poll_control_file();
    }

    void accept(int fd) {
        ++accepted_;
        if (mode_ == Mode::close) {
            ++closed_;
            ::close(fd);
            return;
        }
        auto connection = std::make_unique<Connection>();
        connection->server = this;
        connection->fd = fd;
        connection->readable = EventPtr(
            event_new(base_, fd, EV_READ | EV_PERSIST, &Server::on_readable, connection.get()));
        timeval header_timeout{10, 0};
        event_add(connection->readable.get(), &header_timeout);
        connections_.emplace(fd, std::move(connection));
    }

    void readable(Connection* connection, short what) {
        if (what & EV_TIMEOUT) {  // headers never completed, or held past the hang limit
            if (!connection->hung) ++incomplete_;
            finish(connection);
            return;
        }
        if (connection->hung) {
            // Held requests: read only to notice the client going away.
            char discard[512];
            ssize_t n = recv(connection->fd, discard, sizeof discard, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) finish(connection);
            return;
        }
        std::size_t room = sizeof connection->buffer - connection->length;
        ssize_t n = recv(connection->fd, connection->buffer + connection->length, room, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0) {
            ++incomplete_;
            finish(connection);
            return;
        }
        std::size_t from = connection->length >= 3 ? connection->length - 3 : 0;
        connection->length += static_cast<std::size_t>(n);
        std::string_view seen(connection->buffer + from, connection->length - from);
        if (seen.find("\r\n\r\n") != std::string_view::npos ||
            seen.find("\n\n") != std::string_view::npos) {
            serve(connection);
        } else if (connection->length == sizeof connection->buffer) {
            ++incomplete_;  // headers larger than any probe sends
            finish(connection);
        }
    }

    // A complete request: answer it in the current mode (hang holds it).
    void serve(Connection* connection) {
        switch (mode_) {
            case Mode::ok:
                ++served_ok_;
                respond(connection, ok_response_);
                return;
            case Mode::unavailable:
                ++served_503_;
                respond(connection, unavailable_response_);
                return;
            case Mode::close:
                ++closed_;
                finish(connection);
                return;
            case Mode::hang:
                ++hung_;
                connection->hung = true;
                held_.push_back(connection->fd);
                if (held_.size() > 2 * connections_.size() + 64) forget_departed();
                timeval hang_limit{300, 0};
                event_add(connection->readable.get(), &hang_limit);
                return;
        }
    }

    void respond(Connection* connection, const std::string& response) {
        // A response this small fits in an empty socket buffer: one send, then close.
        [[maybe_unused]] ssize_t n =
            send(connection->fd, response.data(), response.size(), MSG_NOSIGNAL);
        finish(connection);
    }

    void finish(Connection* connection) {
        int fd = connection->fd;
        connection->readable.reset();
        ::close(fd);
        connections_.erase(fd);  // frees `connection`
    }

    // Drops held fds whose clients have gone (closed, or reused by a connection not held).
    void forget_departed() {
        std::vector<int> still;
        for (int fd : held_) {
            auto it = connections_.find(fd);
            if (it != connections_.end() && it->second->hung) still.push_back(fd);
        }
        held_.swap(still);
    }

    void poll_control_file() {
        int fd = open(options_.control_file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        char text[64];
        ssize_t n = read(fd, text, sizeof text - 1);
        ::close(fd);
        if (n <= 0) return;
        std::string_view word(text, static_cast<std::size_t>(n));
        auto first = word.find_first_not_of(" \t\r\n");
        if (first == std::string_view::npos) return;
        word.remove_prefix(first);
        word = word.substr(0, word.find_first_of(" \t\r\n"));
        auto mode = mode_from_word(word);
        if (!mode) {
            if (word != rejected_word_)
                say("control file: unknown mode '" + std::string(word) +
                    "' ignored (ok, 503, hang, close)");
            rejected_word_ = std::string(word);
            return;
        }
        rejected_word_.clear();
        if (*mode != mode_) set_mode(*mode);
    }

    void set_mode(Mode mode) {
        Mode old = mode_;
        mode_ = mode;
        say(std::string("mode ") + mode_word(mode));
        if (old != Mode::hang || mode == Mode::hang) return;
        // Leaving hang: the held requests get the new mode's answer.
        std::vector<int> held;
        held.swap(held_);
        for (int fd : held) {
            auto it = connections_.find(fd);
            if (it == connections_.end() || !it->second->hung) continue;  // the client left
            it->second->hung = false;
            serve(it->second.get());
        }
    }

    event_base* base_;
    Options options_;
    Mode mode_;
    std::string ok_response_, unavailable_response_;
    std::vector<std::unique_ptr<evconnlistener, ListenerFree>> listeners_;
    std::unordered_map<int, std::unique_ptr<Connection>> connections_;
    std::vector<int> held_;  // fds of hung connections (some may have closed since)
    EventPtr control_timer_, resume_;
    std::string rejected_word_;
    bool paused_ = false;
    std::uint64_t accepted_ = 0, served_ok_ = 0, served_503_ = 0, hung_ = 0;
    std::uint64_t closed_ = 0, incomplete_ = 0;
};

void on_stop_signal(evutil_socket_t, short, void* base) {
    event_base_loopbreak(static_cast<event_base*>(base));
}

void on_counters_signal(evutil_socket_t, short, void* server) {
    say("counters " + static_cast<const Server*>(server)->counters());
}

int usage_error(const std::string& message) {
    say(message + " (see --help)");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= argc) return false;
            out = argv[++i];
            return true;
        };
        std::string text;
        if (arg == "--help" || arg == "-h") {
            std::fputs(kHelp, stdout);
            return 0;
        } else if (arg == "--listen") {
            if (!value(text)) return usage_error("--listen needs ADDR:PORT");
            options.listen.push_back(text);
        } else if (arg == "--mode") {
            if (!value(text)) return usage_error("--mode needs a mode");
            auto mode = mode_from_word(text);
            if (!mode) return usage_error("unknown mode '" + text + "' (ok, 503, hang, close)");
            options.mode = *mode;
        } else if (arg == "--control-file") {
            if (!value(options.control_file)) return usage_error("--control-file needs a path");
        } else if (arg == "--body") {
            if (!value(options.body)) return usage_error("--body needs a text");
        } else if (arg == "--reuseport") {
            options.reuseport = true;
        } else {
            return usage_error("unknown argument '" + arg + "'");
        }
    }
    if (options.listen.empty()) return usage_error("at least one --listen is needed");

    // Hung connections and benchmark bursts can hold many sockets at once.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    std::unique_ptr<event_base, BaseFree> base(event_base_new());
    if (!base) {
        say("cannot create an event loop");
        return 1;
    }
    int status = 0;
    {
        Server server(base.get(), options);
        if (!server.open_listeners()) return 1;
        server.start_control();
        EventPtr term(evsignal_new(base.get(), SIGTERM, on_stop_signal, base.get()));
        EventPtr intr(evsignal_new(base.get(), SIGINT, on_stop_signal, base.get()));
        EventPtr usr1(evsignal_new(base.get(), SIGUSR1, on_counters_signal, &server));
        event_add(term.get(), nullptr);
        event_add(intr.get(), nullptr);
        event_add(usr1.get(), nullptr);
        say(std::string("mode ") + mode_word(server.mode()));
        say("ready");
        if (event_base_dispatch(base.get()) < 0) status = 1;
        say("stopped " + server.counters());
    }
    return status;
}
