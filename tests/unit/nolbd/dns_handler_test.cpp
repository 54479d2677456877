// A worker's DNS handler: it answers real queries from the snapshot published when it was made,
// keeps answering from that one within a batch, moves to a newly published one at the next
// batch, and counts what it answered in its own counters.
#include "nolbd/dns_handler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "unit/support.hpp"
#include "util/published.hpp"

namespace nolb::nolbd {
namespace {

// The sorted A addresses of the handler's answer to www.demo.test. A over UDP.
sockaddr_storage peer() {
    sockaddr_storage s{};
    s.ss_family = AF_INET;
    return s;
}

util::Published<transfer::State> no_transfers() {
    return util::Published<transfer::State>(std::make_shared<const transfer::State>());
}

std::vector<std::string> www_addresses(DnsHandler& handler) {
    const std::vector<std::uint8_t> query = test::make_query("www.demo.test.", LDNS_RR_TYPE_A);
    std::vector<std::uint8_t> out(65535);
    const std::size_t size = handler.answer(query, server::Transport::udp, peer(), out);
    ldns_pkt* raw = nullptr;
    if (size == 0 || ldns_wire2pkt(&raw, out.data(), size) != LDNS_STATUS_OK) return {};
    test::Pkt pkt(raw);
    EXPECT_EQ(ldns_pkt_id(pkt.get()), 0x1234);
    EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
    std::vector<std::string> addresses;
    for (const std::string& rr : test::rr_strings(ldns_pkt_answer(pkt.get())))
        addresses.push_back(rr.substr(rr.rfind('\t') + 1));
    std::sort(addresses.begin(), addresses.end());
    return addresses;
}

TEST(DnsHandler, AnswersFromThePublishedSnapshot) {
    util::Published<zone::Snapshot> published(zone::compile(test::demo_config()));
    auto transfers = no_transfers();
    DnsHandler handler(published, transfers);
    handler.begin_batch();
    EXPECT_EQ(www_addresses(handler), (std::vector<std::string>{"127.0.0.2", "127.0.0.3"}));
}

TEST(DnsHandler, MovesToANewSnapshotAtTheNextBatch) {
    util::Published<zone::Snapshot> published(zone::compile(test::demo_config()));
    auto transfers = no_transfers();
    DnsHandler handler(published, transfers);
    handler.begin_batch();

    config::Config smaller = test::demo_config();
    smaller.services[0].nodes.pop_back();  // geneva leaves
    published.publish(zone::compile(smaller));
    // Within the batch the handler keeps the snapshot it started it with.
    EXPECT_EQ(www_addresses(handler), (std::vector<std::string>{"127.0.0.2", "127.0.0.3"}));
    handler.begin_batch();
    EXPECT_EQ(www_addresses(handler), (std::vector<std::string>{"127.0.0.2"}));
}

TEST(DnsHandler, CountsWhatItAnswers) {
    util::Published<zone::Snapshot> published(zone::compile(test::demo_config()));
    auto transfers = no_transfers();
    DnsHandler handler(published, transfers);
    handler.begin_batch();
    www_addresses(handler);
    std::vector<std::uint8_t> out(65535);
    handler.answer(test::make_query("nowhere.demo.test.", LDNS_RR_TYPE_A), server::Transport::udp,
                   peer(), out);
    const std::uint8_t junk[] = {1, 2, 3};
    EXPECT_EQ(handler.answer(junk, server::Transport::udp, peer(), out), 0u);  // too short: dropped

    answer::Totals totals;
    totals.add(handler.counters().read());
    EXPECT_EQ(totals.queries, 3u);
    EXPECT_EQ(totals.dropped, 1u);
    EXPECT_EQ(totals.by_rcode[LDNS_RCODE_NOERROR], 1u);
    EXPECT_EQ(totals.by_rcode[LDNS_RCODE_NXDOMAIN], 1u);
}

// AXFR over TCP goes to the transfer path: from an allowed client, a first message and a stream
// for the rest; from another, REFUSED and no stream.
TEST(DnsHandler, HandsTransfersToTheTransferPath) {
    config::Config c = test::demo_config();
    c.zones[0].transfer.allow = {*util::Prefix::parse("127.0.0.0/8")};
    util::Published<zone::Snapshot> published(zone::compile(c));
    auto state = std::make_shared<transfer::State>();
    state->access = std::make_shared<const transfer::Access>(c);
    util::Published<transfer::State> transfers(state);
    DnsHandler handler(published, transfers);
    handler.begin_batch();

    auto from = [](const char* address) {
        sockaddr_storage s{};
        util::Endpoint{*util::IpAddress::parse(address), 53}.to_sockaddr(s);
        return s;
    };
    const std::vector<std::uint8_t> axfr = test::make_query("demo.test.", LDNS_RR_TYPE_AXFR);
    std::vector<std::uint8_t> out(65535);
    std::unique_ptr<server::Stream> more;
    ASSERT_GT(handler.answer_tcp(axfr, from("127.0.0.1"), out, more), 12u);
    EXPECT_EQ(out[3] & 0x0f, LDNS_RCODE_NOERROR);
    ASSERT_NE(more, nullptr);
    std::size_t messages = 1;
    while (more->next(out) > 0 && messages < 100)
        ++messages;
    EXPECT_LT(messages, 100u);
    EXPECT_EQ(handler.transfer_tally().axfr.get(), 1u);

    more.reset();
    ASSERT_GT(handler.answer_tcp(axfr, from("192.0.2.1"), out, more), 12u);
    EXPECT_EQ(out[3] & 0x0f, LDNS_RCODE_REFUSED);
    EXPECT_EQ(more, nullptr);
}

}  // namespace
}  // namespace nolb::nolbd
