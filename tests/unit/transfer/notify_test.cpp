// NOTIFY out against a secondary played by the test: a UDP socket on 127.0.0.1 that reads what
// the Notifier sends while the test turns the Notifier's event loop. The message is read back
// with ldns (opcode NOTIFY, AA, the question, the SOA with the serial), and its TSIG verified as
// a server verifies a request. An unanswered NOTIFY is sent again with a growing wait and given
// up after its retries; an answer stops it, but only one from the target's port with an ID the
// Notifier sent and the question it asked (and, signed, a good TSIG). A burst of serials within
// the gap costs at most two messages, the last with the newest serial. Targets come from the
// configuration: notify, and the name servers' glue but the primary's.
#include "transfer/notify.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "dns/name.hpp"
#include "dns/tsig.hpp"
#include "dns/types.hpp"
#include "dns/wire.hpp"
#include "unit/support.hpp"
#include "util/event.hpp"
#include "zone/compile.hpp"
#include "zone/image.hpp"

namespace nolb::test {
namespace {

using Bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

std::uint64_t now_seconds() {
    return static_cast<std::uint64_t>(std::time(nullptr));
}

// A UDP socket on 127.0.0.1: the secondary, or a stranger answering in its place.
class Udp {
  public:
    Udp() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
        socklen_t length = sizeof address;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
    }
    ~Udp() { ::close(fd_); }
    int fd() const { return fd_; }
    util::Endpoint endpoint() const { return {ip("127.0.0.1"), port_}; }

    // Each message waiting, with where it came from.
    void read(std::vector<Bytes>& messages, std::vector<sockaddr_storage>& senders) {
        for (;;) {
            Bytes buffer(65535);
            sockaddr_storage from{};
            socklen_t length = sizeof from;
            const ssize_t n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0,
                                         reinterpret_cast<sockaddr*>(&from), &length);
            if (n < 0) return;
            buffer.resize(static_cast<std::size_t>(n));
            messages.push_back(std::move(buffer));
            senders.push_back(from);
        }
    }

    void send_to(const sockaddr_storage& to, const Bytes& message) {
        ::sendto(fd_, message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                 sizeof(sockaddr_in));
    }

  private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

// The answer a secondary gives: the request's ID and question, QR and AA set, `rcode`; signed
// over the request's MAC when `key` is given.
Bytes answer_to(const Bytes& request, std::uint16_t rcode = 0,
                const dns::tsig::Key* key = nullptr) {
    dns::Reader reader(request.data(), request.size(), dns::kHeaderSize);
    dns::skip_name(reader);
    reader.skip(4);
    Bytes answer(request.begin(), request.begin() + static_cast<std::ptrdiff_t>(reader.pos()));
    dns::store16(answer.data() + 2,
                 static_cast<std::uint16_t>(dns::flag::QR | dns::flag::AA |
                                            (dns::opcode::NOTIFY << 11) | rcode));
    dns::store16(answer.data() + 6, 0);
    dns::store16(answer.data() + 8, 0);
    dns::store16(answer.data() + 10, 0);
    if (key) {
        dns::tsig::Record record;
        EXPECT_EQ(dns::tsig::find(request, record), dns::tsig::Found::found);
        dns::tsig::Signer signer(*key, record.mac, now_seconds());
        signer.sign(answer);
    }
    return answer;
}

// The zone's SOA record from a compiled demo.test., with `serial` written into it.
std::string soa_with(std::uint32_t serial) {
    static const std::string soa = zone::compile(demo_config())->zones[0].image->soa;
    std::string out = soa;
    dns::store32(reinterpret_cast<std::uint8_t*>(out.data() + out.size() - 20), serial);
    return out;
}

dns::tsig::Key test_key() {
    dns::tsig::Key key;
    std::string error;
    dns::wire_from_text("notify.demo.test.", std::string(1, '\0'), key.name, error);
    key.algorithm = dns::tsig::Algorithm::hmac_sha256;
    for (std::uint8_t i = 0; i < 32; ++i)
        key.secret.push_back(static_cast<std::uint8_t>(i * 5 + 3));
    return key;
}

std::uint32_t serial_of(const Bytes& message) {
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, message.data(), message.size()) != LDNS_STATUS_OK) return 0;
    Pkt pkt(raw);
    if (ldns_pkt_ancount(pkt.get()) != 1) return 0;
    return ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), 0), 2));
}

std::uint16_t id_of(const Bytes& message) {
    return dns::load16(message.data());
}

// A Notifier on its own loop, one zone (demo.test.) notifying the secondary, and what the
// secondary has read.
class NotifyTest : public ::testing::Test {
  protected:
    NotifyTest() : base_(util::make_event_base()), notifier_(base_.get()) {}

    transfer::NotifyZone zone(std::optional<dns::tsig::Key> key = std::nullopt) {
        transfer::NotifyZone z;
        z.origin = "demo.test.";
        z.targets = {secondary_.endpoint()};
        z.key = std::move(key);
        z.gap = 50ms;
        z.retries = 5;
        z.retry_interval = 50ms;
        return z;
    }

    // Turns the loop and reads the secondary for `duration`, or until `done` holds.
    void run(std::chrono::milliseconds duration, const std::function<bool()>& done = {}) {
        const auto end = std::chrono::steady_clock::now() + duration;
        while (std::chrono::steady_clock::now() < end) {
            event_base_loop(base_.get(), EVLOOP_NONBLOCK);
            pollfd p{secondary_.fd(), POLLIN, 0};
            ::poll(&p, 1, 2);
            secondary_.read(messages_, senders_);
            if (done && done()) return;
        }
    }

    // Runs until the secondary has `count` messages, for at most `limit`.
    bool wait_for(std::size_t count, std::chrono::milliseconds limit = 3000ms) {
        run(limit, [&] { return messages_.size() >= count; });
        return messages_.size() >= count;
    }

    void reply(std::size_t message, const Bytes& answer) {
        secondary_.send_to(senders_.at(message), answer);
    }

    util::EventBase base_;
    transfer::Notifier notifier_;
    Udp secondary_;
    std::vector<Bytes> messages_;
    std::vector<sockaddr_storage> senders_;
};

TEST_F(NotifyTest, SendsAWellFormedNotifyWithTheSerial) {
    notifier_.configure({zone()});
    notifier_.serial_changed(0, 4242, soa_with(4242));
    ASSERT_TRUE(wait_for(1));

    ldns_pkt* raw = nullptr;
    ASSERT_EQ(ldns_wire2pkt(&raw, messages_[0].data(), messages_[0].size()), LDNS_STATUS_OK);
    Pkt pkt(raw);
    EXPECT_EQ(ldns_pkt_get_opcode(pkt.get()), LDNS_PACKET_NOTIFY);
    EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
    EXPECT_FALSE(ldns_pkt_qr(pkt.get()));
    ASSERT_EQ(ldns_pkt_qdcount(pkt.get()), 1);
    ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0);
    char* owner = ldns_rdf2str(ldns_rr_owner(question));
    EXPECT_STREQ(owner, "demo.test.");
    free(owner);
    EXPECT_EQ(ldns_rr_get_type(question), LDNS_RR_TYPE_SOA);
    EXPECT_EQ(ldns_rr_get_class(question), LDNS_RR_CLASS_IN);
    ASSERT_EQ(ldns_pkt_ancount(pkt.get()), 1);
    EXPECT_EQ(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), 0)), LDNS_RR_TYPE_SOA);
    EXPECT_EQ(serial_of(messages_[0]), 4242u);
    EXPECT_EQ(ldns_pkt_arcount(pkt.get()), 0) << "unsigned without a key";

    const auto status = notifier_.status(0);
    ASSERT_EQ(status.size(), 1u);
    EXPECT_EQ(status[0].target, secondary_.endpoint());
    EXPECT_EQ(status[0].serial, 4242u);
    EXPECT_EQ(status[0].attempts, 1u);
    EXPECT_EQ(status[0].sent, 1u);
    EXPECT_TRUE(status[0].sent_at.has_value());
}

TEST_F(NotifyTest, RetriesWithAGrowingWaitThenGivesUp) {
    transfer::NotifyZone z = zone();
    z.retries = 2;
    z.retry_interval = 40ms;
    notifier_.configure({z});
    const auto start = std::chrono::steady_clock::now();
    notifier_.serial_changed(0, 7, soa_with(7));
    std::vector<std::chrono::steady_clock::time_point> arrived;
    run(1000ms, [&] {
        while (arrived.size() < messages_.size())
            arrived.push_back(std::chrono::steady_clock::now());
        return false;
    });
    ASSERT_EQ(messages_.size(), 3u) << "the first and two retries";
    for (const Bytes& m : messages_)
        EXPECT_EQ(serial_of(m), 7u);
    EXPECT_NE(id_of(messages_[0]), id_of(messages_[1])) << "each attempt is a message of its own";
    // 40 ms, then 80 ms: generous bounds, for a loaded machine.
    EXPECT_GE(arrived[1] - start, 35ms);
    EXPECT_GE(arrived[2] - arrived[1], 70ms);
    const auto status = notifier_.status(0);
    EXPECT_EQ(status[0].sent, 3u);
    EXPECT_EQ(status[0].failed, 1u);
    EXPECT_EQ(status[0].answered, 0u);
    EXPECT_EQ(status[0].attempts, 0u);
}

TEST_F(NotifyTest, RetriesStopOnceAnswered) {
    notifier_.configure({zone()});
    notifier_.serial_changed(0, 8, soa_with(8));
    ASSERT_TRUE(wait_for(2)) << "unanswered, it is sent again";
    // The answer to the first attempt still counts.
    reply(0, answer_to(messages_[0]));
    run(500ms);
    EXPECT_LE(messages_.size(), 3u);
    const std::size_t seen = messages_.size();
    run(400ms);
    EXPECT_EQ(messages_.size(), seen) << "no retry once answered";
    const auto status = notifier_.status(0);
    EXPECT_EQ(status[0].answered, 1u);
    EXPECT_EQ(status[0].rcode, 0u);
    EXPECT_EQ(status[0].serial_answered, 8u);
    EXPECT_EQ(status[0].attempts, 0u);
    EXPECT_EQ(status[0].failed, 0u);
    EXPECT_TRUE(status[0].answered_at.has_value());
}

TEST_F(NotifyTest, AnyRcodeIsAnAnswerAndIsRecorded) {
    notifier_.configure({zone()});
    notifier_.serial_changed(0, 9, soa_with(9));
    ASSERT_TRUE(wait_for(1));
    reply(0, answer_to(messages_[0], dns::rcode::REFUSED));
    run(400ms);
    EXPECT_EQ(messages_.size(), 1u);
    const auto status = notifier_.status(0);
    EXPECT_EQ(status[0].answered, 1u);
    EXPECT_EQ(status[0].rcode, dns::rcode::REFUSED);
}

TEST_F(NotifyTest, ABurstOfSerialsCostsOneMessagePerGap) {
    transfer::NotifyZone z = zone();
    z.gap = 300ms;
    notifier_.configure({z});
    std::size_t answered = 0;
    auto answer_each = [&] {  // the secondary answers at once
        for (; answered < messages_.size(); ++answered)
            reply(answered, answer_to(messages_[answered]));
        return false;
    };
    for (std::uint32_t serial = 1; serial <= 10; ++serial) {
        notifier_.serial_changed(0, serial, soa_with(serial));
        run(5ms, answer_each);
    }
    run(1000ms, answer_each);
    ASSERT_GE(messages_.size(), 1u);
    EXPECT_LE(messages_.size(), 2u);
    EXPECT_EQ(serial_of(messages_.front()), 1u);
    EXPECT_EQ(serial_of(messages_.back()), 10u) << "the last carries the newest serial";
    EXPECT_EQ(notifier_.status(0)[0].serial, 10u);
}

TEST_F(NotifyTest, IgnoresAnswersFromAnotherPortOrWithAnotherIdOrQuestion) {
    notifier_.configure({zone()});
    notifier_.serial_changed(0, 11, soa_with(11));
    ASSERT_TRUE(wait_for(1));
    Udp stranger;
    stranger.send_to(senders_[0], answer_to(messages_[0]));  // the right ID, the wrong port
    Bytes wrong_id = answer_to(messages_[0]);
    dns::store16(wrong_id.data(), static_cast<std::uint16_t>(id_of(messages_[0]) + 1));
    reply(0, wrong_id);
    Bytes wrong_question = answer_to(messages_[0]);
    wrong_question[wrong_question.size() - 3] = dns::type::NS;  // the question's type
    reply(0, wrong_question);
    ASSERT_TRUE(wait_for(2)) << "none of them was an answer: the NOTIFY is sent again";
    EXPECT_EQ(notifier_.status(0)[0].answered, 0u);
    reply(1, answer_to(messages_[1]));
    run(300ms);
    const auto status = notifier_.status(0);
    EXPECT_EQ(status[0].answered, 1u);
    EXPECT_EQ(status[0].attempts, 0u);
}

TEST_F(NotifyTest, SignsWithTheKeyAndWantsASignedAnswer) {
    const dns::tsig::Key key = test_key();
    notifier_.configure({zone(key)});
    notifier_.serial_changed(0, 12, soa_with(12));
    ASSERT_TRUE(wait_for(1));

    dns::tsig::Record record;
    ASSERT_EQ(dns::tsig::find(messages_[0], record), dns::tsig::Found::found);
    const dns::tsig::Verdict verdict =
        dns::tsig::verify_request(messages_[0], record, {&key, 1}, now_seconds());
    EXPECT_EQ(verdict.error, dns::tsig::Error::none);
    EXPECT_EQ(verdict.key, &key);
    EXPECT_EQ(serial_of(messages_[0]), 12u);

    reply(0, answer_to(messages_[0]));  // unsigned: no answer
    dns::tsig::Key other = key;
    other.secret[0] ^= 1;
    reply(0, answer_to(messages_[0], 0, &other));  // signed with another secret: no answer
    ASSERT_TRUE(wait_for(2)) << "sent again";
    EXPECT_EQ(notifier_.status(0)[0].answered, 0u);
    reply(1, answer_to(messages_[1], 0, &key));
    run(300ms);
    EXPECT_EQ(notifier_.status(0)[0].answered, 1u);
    EXPECT_EQ(notifier_.status(0)[0].attempts, 0u);
}

TEST_F(NotifyTest, NotifiesEachNewSerialOfAPublishedSnapshot) {
    config::Config config = demo_config();
    config.zones[0].transfer.allow = {*util::Prefix::parse("127.0.0.1")};
    config.zones[0].transfer.notify = {secondary_.endpoint()};
    config.zones[0].transfer.notify_gap = 0ms;
    notifier_.configure(config);
    auto snapshot = zone::compile(config);
    notifier_.published(*snapshot);
    ASSERT_TRUE(wait_for(1));
    EXPECT_EQ(serial_of(messages_[0]), snapshot->zones[0].serial);
    reply(0, answer_to(messages_[0]));
    run(100ms);
    notifier_.published(*snapshot);  // the same serial: nothing to say
    run(200ms);
    EXPECT_EQ(messages_.size(), 1u);
}

// A reload keeps what a target (by zone origin and endpoint) has been told, so an unchanged
// serial is not sent again; a target added is told the serial at once.
TEST_F(NotifyTest, AReloadKeepsEachTargetsState) {
    notifier_.configure({zone()});
    notifier_.serial_changed(0, 13, soa_with(13));
    ASSERT_TRUE(wait_for(1));
    reply(0, answer_to(messages_[0]));
    run(100ms);
    ASSERT_EQ(notifier_.status(0)[0].answered, 1u);

    Udp added;
    transfer::NotifyZone other = zone();
    other.origin = "other.test.";
    transfer::NotifyZone again = zone();
    again.targets.push_back(added.endpoint());
    notifier_.configure({other, again});  // demo.test. is now the second zone
    run(200ms);
    EXPECT_EQ(messages_.size(), 1u) << "the secondary has had serial 13";
    const auto status = notifier_.status(1);
    ASSERT_EQ(status.size(), 2u);
    EXPECT_EQ(status[0].sent, 1u);
    EXPECT_EQ(status[0].answered, 1u);
    EXPECT_EQ(status[1].serial, 13u) << "the target added is told at once";
    EXPECT_TRUE(notifier_.status(0)[0].sent == 0) << "other.test. has no serial yet";
    EXPECT_TRUE(notifier_.status(2).empty());
}

TEST(NotifyZones, TargetsComeFromNotifyAndTheNameServersGlue) {
    config::Config c = demo_config();
    config::Zone& z = c.zones[0];
    z.ns.push_back({"ns2.demo.test.", {ip("192.0.2.2"), ip("2001:db8::2")}, {}});
    z.ns.push_back({"ns3.demo.test.", {ip("192.0.2.3")}, {}});
    z.ns.push_back({"ns.elsewhere.example.", {}, {}});
    c.server.listen = {*util::Endpoint::parse("192.0.2.3:53", 53)};  // ns3 is this server
    EXPECT_TRUE(transfer::notify_zones(c)[0].targets.empty()) << "nobody may transfer";

    z.transfer.allow = {*util::Prefix::parse("192.0.2.0/24")};
    z.transfer.notify = {*util::Endpoint::parse("198.51.100.7:5300", 53),
                         *util::Endpoint::parse("192.0.2.2", 53)};
    config::Key key;
    key.name = "notify.demo.test.";
    key.algorithm = "hmac-sha512";
    key.secret = {1, 2, 3};
    c.keys.push_back(key);
    z.transfer.notify_key = "notify.demo.test.";
    z.transfer.notify_gap = 250ms;
    z.transfer.notify_retries = 3;
    z.transfer.notify_retry_interval = 2s;
    const auto zones = transfer::notify_zones(c);
    ASSERT_EQ(zones.size(), 1u);
    std::vector<std::string> targets;
    for (const util::Endpoint& e : zones[0].targets)
        targets.push_back(e.to_string());
    // ns1 is the mname (the primary, this server); 192.0.2.2 once; ns3 is a listen address.
    EXPECT_EQ(targets,
              (std::vector<std::string>{"198.51.100.7:5300", "192.0.2.2:53", "[2001:db8::2]:53"}));
    ASSERT_TRUE(zones[0].key.has_value());
    EXPECT_EQ(zones[0].key->algorithm, dns::tsig::Algorithm::hmac_sha512);
    EXPECT_EQ(zones[0].gap, 250ms);
    EXPECT_EQ(zones[0].retries, 3u);
    EXPECT_EQ(zones[0].retry_interval, 2s);

    z.transfer.notify_ns = false;
    z.transfer.notify_key.clear();
    EXPECT_EQ(transfer::notify_zones(c)[0].targets.size(), 2u);
    EXPECT_FALSE(transfer::notify_zones(c)[0].key.has_value());
}

}  // namespace
}  // namespace nolb::test
