// Child processes for the lab, started with posix_spawn: it sets the new process group and the
// file descriptors before exec without running any of our code in the child, which matters in a
// process with threads (gtest, sanitizers). Every wait here is bounded, and polls with short
// sleeps: the lab stops a handful of processes at a time, so a signalfd would buy nothing.
#include "nolb-compare/lab_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace nolb::compare {
namespace {

using namespace std::chrono_literals;

constexpr auto kPollStep = 5ms;

struct SpawnActions {
    posix_spawn_file_actions_t actions;
    SpawnActions() { posix_spawn_file_actions_init(&actions); }
    ~SpawnActions() { posix_spawn_file_actions_destroy(&actions); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
};

struct SpawnAttributes {
    posix_spawnattr_t attributes;
    SpawnAttributes() { posix_spawnattr_init(&attributes); }
    ~SpawnAttributes() { posix_spawnattr_destroy(&attributes); }
    SpawnAttributes(const SpawnAttributes&) = delete;
    SpawnAttributes& operator=(const SpawnAttributes&) = delete;
};

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    void close() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

void write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the child went away; its exit status tells why
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

Child Child::spawn(const std::vector<std::string>& argv, const std::filesystem::path& log,
                   const std::optional<std::string>& input, const std::filesystem::path& output) {
    if (argv.empty()) throw std::runtime_error("spawn: no program");
    Fd log_fd{::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (log_fd.fd < 0)
        throw std::runtime_error("cannot open " + log.string() + ": " + std::strerror(errno));
    Fd out_fd;
    if (!output.empty()) {
        out_fd.fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out_fd.fd < 0)
            throw std::runtime_error("cannot open " + output.string() + ": " +
                                     std::strerror(errno));
    }
    Fd in_read, in_write;
    if (input) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0)
            throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
        in_read.fd = fds[0];
        in_write.fd = fds[1];
    }

    SpawnActions actions;
    if (input) {
        posix_spawn_file_actions_adddup2(&actions.actions, in_read.fd, STDIN_FILENO);
    } else {
        posix_spawn_file_actions_addopen(&actions.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&actions.actions, out_fd.fd >= 0 ? out_fd.fd : log_fd.fd,
                                     STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions.actions, log_fd.fd, STDERR_FILENO);
    // Sockets of the loop and of other children must not leak into a server that outlives them.
    posix_spawn_file_actions_addclosefrom_np(&actions.actions, STDERR_FILENO + 1);

    SpawnAttributes attributes;
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD})
        sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attributes.attributes, &none);
    posix_spawnattr_setsigdefault(&attributes.attributes, &defaults);
    posix_spawnattr_setpgroup(&attributes.attributes, 0);
    posix_spawnattr_setflags(
        &attributes.attributes,
        static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));

    std::vector<char*> args;
    for (const std::string& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions.actions, &attributes.attributes,
                           args.data(), environ);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    Child child;
    child.pid_ = pid;
    child.log_ = log;
    if (input) {
        in_read.close();
        write_all(in_write.fd, *input);
    }
    return child;
}

Child::~Child() {
    if (running()) terminate(2000ms);
}

Child::Child(Child&& other) noexcept
    : pid_(other.pid_), status_(other.status_), log_(std::move(other.log_)) {
    other.pid_ = -1;
    other.status_.reset();
}

Child& Child::operator=(Child&& other) noexcept {
    if (this != &other) {
        if (running()) terminate(2000ms);
        pid_ = other.pid_;
        status_ = other.status_;
        log_ = std::move(other.log_);
        other.pid_ = -1;
        other.status_.reset();
    }
    return *this;
}

bool Child::poll() {
    if (pid_ <= 0) return true;
    if (status_) return true;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        status_ = status;
        return true;
    }
    if (r < 0 && errno == ECHILD) {
        // Reaped elsewhere (nothing in the lab does that); count it as gone.
        status_ = 0;
        return true;
    }
    return false;
}

bool Child::wait_for(std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!poll()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(kPollStep);
    }
    return true;
}

void Child::kill_now() {
    if (!running()) return;
    if (::kill(-pid_, SIGKILL) != 0) ::kill(pid_, SIGKILL);  // it may have left its group
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = status;
}

void Child::signal_term() {
    if (!running()) return;
    // Once: a second SIGTERM could land after the server restored the default action on its
    // way out, and turn a clean stop into death by signal.
    if (::kill(-pid_, SIGTERM) != 0) ::kill(pid_, SIGTERM);
}

void Child::terminate(std::chrono::milliseconds grace) {
    signal_term();
    if (!wait_for(grace)) kill_now();
}

void stop_all(const std::vector<Child*>& children, std::chrono::milliseconds grace) {
    for (Child* c : children)
        c->signal_term();
    const auto deadline = std::chrono::steady_clock::now() + grace;
    for (;;) {
        bool all = true;
        for (Child* c : children)
            all = c->poll() && all;
        if (all || std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(kPollStep);
    }
    for (Child* c : children)
        c->kill_now();
}

std::string describe_status(int wait_status) {
    if (WIFEXITED(wait_status)) return "exit status " + std::to_string(WEXITSTATUS(wait_status));
    if (WIFSIGNALED(wait_status))
        return "killed by signal " + std::to_string(WTERMSIG(wait_status));
    return "wait status " + std::to_string(wait_status);
}

std::string log_tail(const std::filesystem::path& log, std::size_t lines) {
    constexpr std::streamoff kMaxBytes = 4096;
    std::ifstream in(log, std::ios::binary);
    if (!in) return "(no log at " + log.string() + ")";
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    const std::streamoff from = size > kMaxBytes ? size - kMaxBytes : 0;
    in.seekg(from);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> all;
    std::istringstream split(text);
    for (std::string line; std::getline(split, line);)
        all.push_back(line);
    // A read that started mid-file starts mid-line too.
    if (from > 0 && !all.empty()) all.erase(all.begin());
    std::string tail;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
        tail += (tail.empty() ? "" : "\n") + all[i];
    return tail.empty() ? "(" + log.string() + " is empty)" : tail;
}

std::optional<double> process_cpu_seconds(pid_t pid) {
    if (pid <= 0) return std::nullopt;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!in || !std::getline(in, line)) return std::nullopt;
    // The command name is in parentheses and may hold spaces; the fields follow the last ')'.
    std::size_t close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(line.substr(close + 1));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    // After ')': state is field 3; utime and stime are fields 14 and 15.
    for (int index = 3; index <= 15 && fields >> field; ++index) {
        if (index == 14) utime = std::stoull(field);
        if (index == 15) stime = std::stoull(field);
    }
    if (!fields) return std::nullopt;
    const long ticks = ::sysconf(_SC_CLK_TCK);
    if (ticks <= 0) return std::nullopt;
    return static_cast<double>(utime + stime) / static_cast<double>(ticks);
}

std::optional<std::uint64_t> status_kb(std::string_view status, std::string_view field) {
    for (;;) {
        const std::size_t end = status.find('\n');
        std::string_view line = status.substr(0, end);
        if (line.size() > field.size() && line.substr(0, field.size()) == field &&
            line[field.size()] == ':') {
            line.remove_prefix(field.size() + 1);
            while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
                line.remove_prefix(1);
            std::uint64_t kb = 0;
            std::size_t digits = 0;
            for (; digits < line.size() && line[digits] >= '0' && line[digits] <= '9'; ++digits)
                kb = kb * 10 + static_cast<std::uint64_t>(line[digits] - '0');
            // The kernel writes every Vm* field in kB; anything else is not what was asked.
            if (digits == 0 || line.substr(digits) != " kB") return std::nullopt;
            return kb;
        }
        if (end == std::string_view::npos) return std::nullopt;
        status.remove_prefix(end + 1);
    }
}

std::optional<ProcessMemory> process_memory(pid_t pid) {
    if (pid <= 0) return std::nullopt;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    if (!in) return std::nullopt;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto rss = status_kb(text, "VmRSS");
    auto hwm = status_kb(text, "VmHWM");
    // A zombie has neither: it holds no memory any more.
    if (!rss || !hwm) return std::nullopt;
    return ProcessMemory{*rss, *hwm};
}

}  // namespace nolb::compare
