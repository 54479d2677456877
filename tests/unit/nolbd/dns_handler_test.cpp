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
std::vector<std::string> www_addresses(DnsHandler& handler) {
    const std::vector<std::uint8_t> query = test::make_query("www.demo.test.", LDNS_RR_TYPE_A);
    std::vector<std::uint8_t> out(65535);
    const std::size_t size = handler.answer(query, server::Transport::udp, out);
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
    DnsHandler handler(published);
    handler.begin_batch();
    EXPECT_EQ(www_addresses(handler), (std::vector<std::string>{"127.0.0.2", "127.0.0.3"}));
}

TEST(DnsHandler, MovesToANewSnapshotAtTheNextBatch) {
    util::Published<zone::Snapshot> published(zone::compile(test::demo_config()));
    DnsHandler handler(published);
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
    DnsHandler handler(published);
    handler.begin_batch();
    www_addresses(handler);
    std::vector<std::uint8_t> out(65535);
    handler.answer(test::make_query("nowhere.demo.test.", LDNS_RR_TYPE_A), server::Transport::udp,
                   out);
    const std::uint8_t junk[] = {1, 2, 3};
    EXPECT_EQ(handler.answer(junk, server::Transport::udp, out), 0u);  // too short: dropped

    answer::Totals totals;
    totals.add(handler.counters().read());
    EXPECT_EQ(totals.queries, 3u);
    EXPECT_EQ(totals.dropped, 1u);
    EXPECT_EQ(totals.by_rcode[LDNS_RCODE_NOERROR], 1u);
    EXPECT_EQ(totals.by_rcode[LDNS_RCODE_NXDOMAIN], 1u);
}

}  // namespace
}  // namespace nolb::nolbd
