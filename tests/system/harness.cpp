// The child process, the sockets and the message builders behind nolb_system_tests.
#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#ifndef NOLBD_PATH
#define NOLBD_PATH "nolbd"
#endif
#ifndef NOLB_SOURCE_DIR
#define NOLB_SOURCE_DIR "."
#endif

namespace nolb::system_test {
namespace {

std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int connected_socket(int type, std::uint16_t port) {
    int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in a = loopback(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool wait_readable(int fd, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r > 0) return true;
        if (r < 0 && errno != EINTR) return false;
    }
}

std::optional<Bytes> exchange_on(int fd, const Bytes& message, std::chrono::milliseconds wait) {
    if (::send(fd, message.data(), message.size(), 0) != static_cast<ssize_t>(message.size()))
        return std::nullopt;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    Bytes buf(65535);
    while (wait_readable(fd, deadline)) {
        ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;  // e.g. ECONNREFUSED: nothing listens
        }
        Bytes got(buf.begin(), buf.begin() + n);
        // A late answer to an earlier query may still arrive: keep only ours.
        if (message.size() >= 2 && got.size() >= 2 && got[0] == message[0] && got[1] == message[1])
            return got;
    }
    return std::nullopt;
}

}  // namespace

// ------------------------------------------------------------------------------- Nolbd

Nolbd::~Nolbd() {
    if (pid_ > 0) stop();
}

std::string Nolbd::log() const {
    return dir_.empty() ? std::string() : read_file(dir_ + "/nolbd.log");
}

std::string Nolbd::start() {
    const std::string binary = env_or("NOLBD", NOLBD_PATH);
    const std::string source = env_or("NOLB_SOURCE_DIR", NOLB_SOURCE_DIR);
    const std::string data = source + "/tests/system/data";

    char tmpl[] = "/tmp/nolb-system-tests.XXXXXX";
    if (!::mkdtemp(tmpl)) return std::string("mkdtemp: ") + std::strerror(errno);
    dir_ = tmpl;

    port_ = free_port();
    if (port_ == 0) return "no free port on 127.0.0.1";
    std::string config = read_file(data + "/demo.toml.in");
    if (config.empty()) return "cannot read " + data + "/demo.toml.in";
    replace_all(config, "@LISTEN@", "\"127.0.0.1:" + std::to_string(port_) + "\"");
    replace_all(config, "@DATA@", data);
    replace_all(config, "@CHAOS@", "false");
    replace_all(config, "@CONTROL@", dir_ + "/nolbd.sock");
    const std::string config_path = dir_ + "/nolbd.toml";
    std::ofstream(config_path) << config;

    const std::string log_path = dir_ + "/nolbd.log";
    pid_ = ::fork();
    if (pid_ < 0) return std::string("fork: ") + std::strerror(errno);
    if (pid_ == 0) {
        int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        // As root nolbd needs a user to become; the test's files are private, so it keeps root.
        if (::geteuid() == 0)
            ::execl(binary.c_str(), binary.c_str(), "-c", config_path.c_str(), "--user", "root",
                    static_cast<char*>(nullptr));
        else
            ::execl(binary.c_str(), binary.c_str(), "-c", config_path.c_str(),
                    static_cast<char*>(nullptr));
        std::_Exit(127);
    }

    // Ready: the log says so and a query is answered. Bounded: 20 s (sanitizers are slow).
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    bool ready = false;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return "nolbd exited during startup (status " + std::to_string(status) + "); log:\n" +
                   log();
        }
        if (!ready) ready = log().find("msg=ready") != std::string::npos;
        if (ready && udp_exchange(port_, query("demo.test.", LDNS_RR_TYPE_SOA), 200ms)) return {};
        std::this_thread::sleep_for(50ms);
    }
    return "nolbd not ready within 20 s; log:\n" + log();
}

std::string Nolbd::stop() {
    std::string problems;
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        int status = 0;
        bool reaped = false;
        for (int i = 0; i < 150 && !reaped; ++i) {
            if (::waitpid(pid_, &status, WNOHANG) == pid_)
                reaped = true;
            else
                std::this_thread::sleep_for(100ms);
        }
        if (!reaped) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            problems += "nolbd did not stop within 15 s of SIGTERM; ";
        } else if (WIFSIGNALED(status)) {
            problems += "nolbd died of signal " + std::to_string(WTERMSIG(status)) + "; ";
        } else if (WEXITSTATUS(status) != 0) {
            problems += "nolbd exited with status " + std::to_string(WEXITSTATUS(status)) + "; ";
        }
        pid_ = -1;
    }
    const std::string text = log();
    for (const char* marker :
         {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
        if (text.find(marker) != std::string::npos) {
            problems += std::string("sanitizer report (") + marker + "); ";
            break;
        }
    }
    if (!problems.empty()) problems += "log:\n" + text;
    if (!dir_.empty() && std::getenv("NOLB_KEEP_TMP") == nullptr) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        dir_.clear();
    }
    return problems;
}

std::uint16_t free_port() {
    std::mt19937 rng(std::random_device{}());
    // Below the usual ephemeral range, so that no client socket takes it meanwhile.
    std::uniform_int_distribution<int> pick(10000, 32000);
    for (int attempt = 0; attempt < 100; ++attempt) {
        const auto port = static_cast<std::uint16_t>(pick(rng));
        bool free = true;
        for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
            int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
            sockaddr_in a = loopback(port);
            if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) free = false;
            if (fd >= 0) ::close(fd);
        }
        if (free) return port;
    }
    return 0;
}

// ------------------------------------------------------------------------------- messages

Bytes query(const std::string& name, ldns_rr_type type, const QueryOptions& options,
            ldns_rr_class klass) {
    ldns_rdf* owner = ldns_dname_new_frm_str(name.c_str());
    PktPtr pkt(ldns_pkt_query_new(owner, type, klass, options.rd ? LDNS_RD : 0));
    ldns_pkt_set_id(pkt.get(), options.id);
    if (options.edns_payload) {
        ldns_pkt_set_edns_udp_size(pkt.get(), *options.edns_payload);
        ldns_pkt_set_edns_version(pkt.get(), options.edns_version);
    }
    std::uint8_t* wire = nullptr;
    std::size_t size = 0;
    if (ldns_pkt2wire(&wire, pkt.get(), &size) != LDNS_STATUS_OK) return {};
    Bytes out(wire, wire + size);
    std::free(wire);
    return out;
}

RawMessage& RawMessage::header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd,
                               std::uint16_t an, std::uint16_t ns, std::uint16_t ar) {
    return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
}

RawMessage& RawMessage::name(const std::string& dotted) {
    std::size_t start = 0;
    while (start < dotted.size()) {
        std::size_t dot = dotted.find('.', start);
        if (dot == std::string::npos) dot = dotted.size();
        const std::string label = dotted.substr(start, dot - start);
        u8(static_cast<std::uint8_t>(label.size()));
        wire_.insert(wire_.end(), label.begin(), label.end());
        start = dot + 1;
    }
    return u8(0);
}

RawMessage& RawMessage::u8(std::uint8_t v) {
    wire_.push_back(v);
    return *this;
}
RawMessage& RawMessage::u16(std::uint16_t v) {
    return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v & 0xff));
}
RawMessage& RawMessage::u32(std::uint32_t v) {
    return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v & 0xffff));
}
RawMessage& RawMessage::bytes(const Bytes& b) {
    wire_.insert(wire_.end(), b.begin(), b.end());
    return *this;
}
RawMessage& RawMessage::opt(std::uint16_t payload, std::uint8_t version) {
    // owner ".", TYPE OPT, CLASS = payload, TTL = ext-rcode | version | DO+Z, RDLENGTH 0
    return u8(0).u16(41).u16(payload).u32(static_cast<std::uint32_t>(version) << 16).u16(0);
}

// ------------------------------------------------------------------------------- transports

std::optional<Bytes> udp_exchange(std::uint16_t port, const Bytes& message,
                                  std::chrono::milliseconds wait) {
    UdpClient client(port);
    return client.exchange(message, wait);
}

UdpClient::UdpClient(std::uint16_t port) : fd_(connected_socket(SOCK_DGRAM, port)) {}
UdpClient::~UdpClient() {
    if (fd_ >= 0) ::close(fd_);
}
std::optional<Bytes> UdpClient::exchange(const Bytes& message, std::chrono::milliseconds wait) {
    if (fd_ < 0) return std::nullopt;
    return exchange_on(fd_, message, wait);
}

TcpClient::TcpClient(std::uint16_t port) : fd_(connected_socket(SOCK_STREAM, port)) {}
TcpClient::~TcpClient() {
    if (fd_ >= 0) ::close(fd_);
}

bool TcpClient::send_all(const Bytes& data) {
    std::size_t sent = 0;
    while (fd_ >= 0 && sent < data.size()) {
        ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return fd_ >= 0;
}

bool TcpClient::read_exact(std::uint8_t* out, std::size_t n, std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::size_t got = 0;
    while (got < n) {
        if (!wait_readable(fd_, deadline)) return false;
        ssize_t r = ::recv(fd_, out + got, n - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;  // closed or failed
        got += static_cast<std::size_t>(r);
    }
    return true;
}

std::optional<Bytes> TcpClient::read_message(std::chrono::milliseconds wait) {
    if (fd_ < 0) return std::nullopt;
    std::uint8_t prefix[2];
    if (!read_exact(prefix, 2, wait)) return std::nullopt;
    Bytes message(static_cast<std::size_t>(prefix[0] << 8 | prefix[1]));
    if (!read_exact(message.data(), message.size(), wait)) return std::nullopt;
    return message;
}

Bytes tcp_frame(const Bytes& message) {
    Bytes out;
    out.push_back(static_cast<std::uint8_t>(message.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(message.size() & 0xff));
    out.insert(out.end(), message.begin(), message.end());
    return out;
}

// ------------------------------------------------------------------------------- reading

PktPtr parse(const Bytes& wire) {
    ldns_pkt* pkt = nullptr;
    if (ldns_wire2pkt(&pkt, wire.data(), wire.size()) != LDNS_STATUS_OK) return nullptr;
    return PktPtr(pkt);
}

std::uint16_t id_of(const Bytes& m) {
    return static_cast<std::uint16_t>(m.at(0) << 8 | m.at(1));
}
std::uint8_t rcode_of(const Bytes& m) {
    return m.at(3) & 0x0f;
}
std::uint8_t opcode_of(const Bytes& m) {
    return (m.at(2) >> 3) & 0x0f;
}
bool qr_of(const Bytes& m) {
    return (m.at(2) & 0x80) != 0;
}
std::uint16_t count_of(const Bytes& m, int section) {
    const auto at = static_cast<std::size_t>(4 + 2 * section);
    return static_cast<std::uint16_t>(m.at(at) << 8 | m.at(at + 1));
}

namespace {
std::string rdf_text(const ldns_rdf* rdf) {
    char* s = ldns_rdf2str(rdf);
    std::string out = s ? s : "";
    std::free(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}
}  // namespace

std::string rrset_key(const ldns_rr* rr) {
    char* type = ldns_rr_type2str(ldns_rr_get_type(rr));
    std::string key = rdf_text(ldns_rr_owner(rr)) + " " + (type ? type : "?");
    std::free(type);
    return key;
}

std::vector<std::string> rrsets(const ldns_rr_list* list) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
        std::string key = rrset_key(ldns_rr_list_rr(list, i));
        if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(key);
    }
    return out;
}

std::vector<std::string> records(const ldns_rr_list* list) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
        char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
        out.emplace_back(s ? s : "");
        std::free(s);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Q(dof/2, x/2), the regularized upper incomplete gamma function: a power series below
// x = a + 1, a continued fraction (modified Lentz) above, both to double precision.
double chi_square_p(double x, int dof) {
    const double a = dof / 2.0;
    const double z = x / 2.0;
    if (z <= 0) return 1.0;
    const double log_prefix = -z + a * std::log(z) - std::lgamma(a);
    if (z < a + 1) {
        double term = 1.0 / a;
        double sum = term;
        for (int n = 1; n < 10000; ++n) {
            term *= z / (a + n);
            sum += term;
            if (term < sum * 1e-16) break;
        }
        return std::max(0.0, 1.0 - sum * std::exp(log_prefix));
    }
    constexpr double tiny = 1e-300;
    double b = z + 1 - a;
    double c = 1 / tiny;
    double d = 1 / b;
    double h = d;
    for (int i = 1; i < 10000; ++i) {
        const double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (std::fabs(d) < tiny) d = tiny;
        c = b + an / c;
        if (std::fabs(c) < tiny) c = tiny;
        d = 1 / d;
        const double step = d * c;
        h *= step;
        if (std::fabs(step - 1) < 1e-16) break;
    }
    return std::exp(log_prefix) * h;
}

}  // namespace nolb::system_test
