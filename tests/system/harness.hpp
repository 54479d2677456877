// The harness of nolb_system_tests: it runs the real nolbd binary as a child process on a free
// loopback port, with the rich test zone (tests/system/data), and talks to it the way clients
// do: ldns builds and parses the well-formed messages, raw sockets carry them and the
// malformed ones the tests build byte by byte. Nothing here links nolb's own code, so every
// check is made by an independent implementation of the protocol.
#pragma once

#include <stdbool.h>  // before ldns: ldns/common.h otherwise redefines bool in C++

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <sys/types.h>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nolb::system_test {

using Bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

struct PktFree {
    void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;

// A running nolbd. start() writes the config, spawns the binary and waits until it logs
// msg=ready and answers; stop() sends SIGTERM and reports how it ended.
class Nolbd {
  public:
    Nolbd() = default;
    Nolbd(const Nolbd&) = delete;
    Nolbd& operator=(const Nolbd&) = delete;
    ~Nolbd();

    // Starts nolbd with tests/system/data/demo.toml.in; returns an error text, empty on success.
    std::string start();
    // SIGTERM, then waits up to 15 s (SIGKILL after). Returns a description of anything wrong:
    // a non-zero exit, death by a signal, a sanitizer report in the log. Empty when clean.
    std::string stop();

    std::uint16_t port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string log() const;

  private:
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
    std::string dir_;
};

// A port free for both UDP and TCP on 127.0.0.1 (0 when none was found).
std::uint16_t free_port();

// Message building. query() uses ldns; the raw builders write exactly what they are told.
struct QueryOptions {
    std::uint16_t id = 0x4242;
    bool rd = true;
    std::optional<std::uint16_t> edns_payload;  // set: add an OPT RR
    std::uint8_t edns_version = 0;

    QueryOptions& with_id(std::uint16_t v) {
        id = v;
        return *this;
    }
    QueryOptions& without_rd() {
        rd = false;
        return *this;
    }
    QueryOptions& with_edns(std::optional<std::uint16_t> payload, std::uint8_t version = 0) {
        edns_payload = payload;
        edns_version = version;
        return *this;
    }
};
Bytes query(const std::string& name, ldns_rr_type type, const QueryOptions& options = {},
            ldns_rr_class klass = LDNS_RR_CLASS_IN);

class RawMessage {
  public:
    // Header fields, all written as given.
    RawMessage& header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an,
                       std::uint16_t ns, std::uint16_t ar);
    RawMessage& name(const std::string& dotted);  // "www.demo.test." as labels, no compression
    RawMessage& u8(std::uint8_t v);
    RawMessage& u16(std::uint16_t v);
    RawMessage& u32(std::uint32_t v);
    RawMessage& bytes(const Bytes& b);
    // An OPT pseudo-RR: root owner, type 41, the payload in the class field.
    RawMessage& opt(std::uint16_t payload, std::uint8_t version = 0);
    const Bytes& wire() const { return wire_; }

  private:
    Bytes wire_;
};

// Transports. Each call uses a fresh socket connected to 127.0.0.1:port.
// udp_exchange: sends one datagram and returns the first response with the same ID (the first
// two bytes), or nullopt when none arrives within `wait`.
std::optional<Bytes> udp_exchange(std::uint16_t port, const Bytes& message,
                                  std::chrono::milliseconds wait = 2000ms);

// A UDP socket kept open for many exchanges (the shuffle tests send thousands).
class UdpClient {
  public:
    explicit UdpClient(std::uint16_t port);
    ~UdpClient();
    UdpClient(const UdpClient&) = delete;
    UdpClient& operator=(const UdpClient&) = delete;
    std::optional<Bytes> exchange(const Bytes& message, std::chrono::milliseconds wait = 2000ms);

  private:
    int fd_ = -1;
};

// A TCP connection: write raw bytes, read one length-prefixed message.
class TcpClient {
  public:
    explicit TcpClient(std::uint16_t port);
    ~TcpClient();
    TcpClient(const TcpClient&) = delete;
    TcpClient& operator=(const TcpClient&) = delete;
    bool connected() const { return fd_ >= 0; }
    bool send_all(const Bytes& data);
    std::optional<Bytes> read_message(std::chrono::milliseconds wait = 2000ms);

  private:
    bool read_exact(std::uint8_t* out, std::size_t n, std::chrono::milliseconds wait);
    int fd_ = -1;
};

// Prefixes a message with its 2-byte length (RFC 1035 4.2.2).
Bytes tcp_frame(const Bytes& message);

PktPtr parse(const Bytes& wire);  // null when ldns rejects it

// Raw header views, valid for any response of at least 12 bytes.
std::uint16_t id_of(const Bytes& m);
std::uint8_t rcode_of(const Bytes& m);  // the header's 4 bits
std::uint8_t opcode_of(const Bytes& m);
bool qr_of(const Bytes& m);
std::uint16_t count_of(const Bytes& m, int section);  // 0 QD, 1 AN, 2 NS, 3 AR

// "owner TYPE" (owner lower-cased): which RRset a record belongs to.
std::string rrset_key(const ldns_rr* rr);
// The RRsets of a section, in order of first appearance.
std::vector<std::string> rrsets(const ldns_rr_list* list);
// Every record of a section rendered as text, sorted.
std::vector<std::string> records(const ldns_rr_list* list);

// Tests derive from this: one nolbd per test suite (and so per process under ctest), started
// before the first test and stopped, with its exit status checked, after the last.
class NolbdTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        server_ = std::make_unique<Nolbd>();
        start_error_ = server_->start();
    }
    static void TearDownTestSuite() {
        const std::string problems = server_->stop();
        if (!problems.empty()) ADD_FAILURE() << problems;
        server_.reset();
    }
    void SetUp() override { ASSERT_EQ(start_error_, "") << "nolbd did not start"; }
    static std::uint16_t port() { return server_->port(); }

    // The response to a well-formed query over UDP (parsed), failing the test when none comes.
    static PktPtr ask(const std::string& name, ldns_rr_type type,
                      const QueryOptions& options = {}) {
        auto wire = udp_exchange(port(), query(name, type, options));
        if (!wire) {
            ADD_FAILURE() << "no UDP response to " << name;
            return nullptr;
        }
        PktPtr pkt = parse(*wire);
        if (!pkt) ADD_FAILURE() << "ldns cannot parse the response to " << name;
        return pkt;
    }
    // Whether nolbd still answers an ordinary query (after something nasty was sent).
    static bool still_answers() {
        auto wire = udp_exchange(
            port(), query("www.demo.test.", LDNS_RR_TYPE_A, QueryOptions().with_id(0x7777)));
        return wire && wire->size() >= 12 && rcode_of(*wire) == LDNS_RCODE_NOERROR &&
               count_of(*wire, 1) == 2;
    }

  private:
    static inline std::unique_ptr<Nolbd> server_;
    static inline std::string start_error_;
};

// The probability that a chi-square variable with `dof` degrees of freedom is at least `x`.
double chi_square_p(double x, int dof);

}  // namespace nolb::system_test
