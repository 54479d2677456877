// Shuffle: a service's addresses come in a fresh, uniformly random order on every response.
// pool.demo.test. has four one-address nodes (24 possible orders); thousands of queries are
// tallied by order and by position and held against chi-square tests with a generous bound
// (p > 1e-6), so that a correct server fails about once in a million runs.
#include <array>
#include <map>
#include <set>
#include <sstream>

#include "harness.hpp"

namespace nolb::system_test {
namespace {

// The answer's A/AAAA addresses in order, as text.
std::vector<std::string> addresses_in_order(const ldns_pkt* pkt) {
    std::vector<std::string> out;
    const ldns_rr_list* answer = ldns_pkt_answer(pkt);
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
        char* text = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(answer, i), 0));
        out.emplace_back(text ? text : "");
        std::free(text);
    }
    return out;
}

// Index 0..23 of a permutation of 0..3 (its Lehmer code), -1 when it is not one.
int permutation_index(const std::array<int, 4>& p) {
    static constexpr int factorial[] = {6, 2, 1, 1};
    std::set<int> seen(p.begin(), p.end());
    if (seen.size() != 4 || *seen.begin() != 0 || *seen.rbegin() != 3) return -1;
    int index = 0;
    for (int i = 0; i < 4; ++i) {
        int smaller_after = 0;
        for (int j = i + 1; j < 4; ++j)
            smaller_after += p[j] < p[i] ? 1 : 0;
        index += smaller_after * factorial[i];
    }
    return index;
}

template <std::size_t N>
double chi_square(const std::array<int, N>& observed, double expected) {
    double sum = 0;
    for (int o : observed)
        sum += (o - expected) * (o - expected) / expected;
    return sum;
}

template <std::size_t N>
std::string show(const std::array<int, N>& counts) {
    std::ostringstream out;
    for (int c : counts)
        out << c << ' ';
    return out.str();
}

constexpr double kMinP = 1e-6;

}  // namespace

TEST(ChiSquare, MatchesKnownQuantiles) {
    // 95th percentiles from statistical tables.
    EXPECT_NEAR(chi_square_p(3.841, 1), 0.05, 1e-3);
    EXPECT_NEAR(chi_square_p(7.815, 3), 0.05, 1e-3);
    EXPECT_NEAR(chi_square_p(35.172, 23), 0.05, 1e-3);
    EXPECT_NEAR(chi_square_p(22.337, 23), 0.5, 1e-3);  // the median
    EXPECT_LT(chi_square_p(80.0, 23), 1e-6);
}

TEST_F(NolbdTest, ShuffleIsUniformOverOrdersAndPositions) {
    const std::map<std::string, int> address_index = {
        {"127.0.1.1", 0}, {"127.0.1.2", 1}, {"127.0.1.3", 2}, {"127.0.1.4", 3}};
    constexpr int kResponses = 4800;  // 200 per order
    std::array<int, 24> by_order{};
    std::array<std::array<int, 4>, 4> by_position{};  // [position][address]
    int same_as_previous = 0;
    int previous = -1;

    UdpClient client(port());
    for (int i = 0; i < kResponses; ++i) {
        auto wire = client.exchange(query("pool.demo.test.", LDNS_RR_TYPE_A,
                                          QueryOptions().with_id(static_cast<std::uint16_t>(i))));
        ASSERT_TRUE(wire) << "no response to query " << i;
        PktPtr pkt = parse(*wire);
        ASSERT_TRUE(pkt) << "unparsable response to query " << i;
        const auto addresses = addresses_in_order(pkt.get());
        ASSERT_EQ(addresses.size(), 4u) << "response " << i;
        std::array<int, 4> perm{};
        for (std::size_t pos = 0; pos < 4; ++pos) {
            auto it = address_index.find(addresses[pos]);
            ASSERT_NE(it, address_index.end()) << "unexpected address " << addresses[pos];
            perm[pos] = it->second;
            ++by_position[pos][static_cast<std::size_t>(it->second)];
        }
        const int order = permutation_index(perm);
        ASSERT_GE(order, 0) << "response " << i << " repeats an address";
        ++by_order[static_cast<std::size_t>(order)];
        if (order == previous) ++same_as_previous;
        previous = order;
        if (i == 0) {
            const ldns_rr_list* answer = ldns_pkt_answer(pkt.get());
            for (std::size_t r = 0; r < 4; ++r)
                EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(answer, r)), 5u) << "the service TTL";
        }
    }

    const double p_order = chi_square_p(chi_square(by_order, kResponses / 24.0), 23);
    EXPECT_GT(p_order, kMinP) << "counts per order: " << show(by_order);
    for (std::size_t pos = 0; pos < 4; ++pos) {
        const double p = chi_square_p(chi_square(by_position[pos], kResponses / 4.0), 3);
        EXPECT_GT(p, kMinP) << "position " << pos
                            << " counts per address: " << show(by_position[pos]);
    }
    // Each response draws afresh: the same order twice in a row about 1 time in 24 (200 of
    // 4799 expected, standard deviation 14), neither never nor always.
    EXPECT_GT(same_as_previous, 100);
    EXPECT_LT(same_as_previous, 320);
}

TEST_F(NolbdTest, ShuffleOfTwoAddressesIsFair) {
    constexpr int kResponses = 2000;
    int first_is_2 = 0;
    UdpClient client(port());
    for (int i = 0; i < kResponses; ++i) {
        auto wire = client.exchange(query("www.demo.test.", LDNS_RR_TYPE_AAAA,
                                          QueryOptions().with_id(static_cast<std::uint16_t>(i))));
        ASSERT_TRUE(wire) << "no response to query " << i;
        PktPtr pkt = parse(*wire);
        ASSERT_TRUE(pkt);
        const auto addresses = addresses_in_order(pkt.get());
        ASSERT_EQ(addresses.size(), 2u);
        ASSERT_NE(addresses[0], addresses[1]);
        if (addresses[0] == "2001:db8::2") ++first_is_2;
    }
    const std::array<int, 2> firsts = {first_is_2, kResponses - first_is_2};
    EXPECT_GT(chi_square_p(chi_square(firsts, kResponses / 2.0), 1), kMinP) << show(firsts);
}

TEST_F(NolbdTest, ShuffleOverOneTcpConnection) {
    TcpClient tcp(port());
    ASSERT_TRUE(tcp.connected());
    std::set<std::string> orders;
    std::set<std::string> firsts;
    for (int i = 0; i < 240; ++i) {
        ASSERT_TRUE(
            tcp.send_all(tcp_frame(query("pool.demo.test.", LDNS_RR_TYPE_A,
                                         QueryOptions().with_id(static_cast<std::uint16_t>(i))))));
        auto wire = tcp.read_message();
        ASSERT_TRUE(wire) << "no TCP response to query " << i;
        PktPtr pkt = parse(*wire);
        ASSERT_TRUE(pkt);
        const auto addresses = addresses_in_order(pkt.get());
        ASSERT_EQ(addresses.size(), 4u);
        std::string order;
        for (const auto& a : addresses)
            order += a + " ";
        orders.insert(order);
        firsts.insert(addresses[0]);
    }
    EXPECT_EQ(firsts.size(), 4u) << "every address comes first at least once in 240 responses";
    EXPECT_GE(orders.size(), 18u) << "240 uniform draws miss more than 6 of 24 orders about never";
}

}  // namespace nolb::system_test
