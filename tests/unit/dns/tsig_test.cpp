// TSIG against ldns, an independent implementation: requests ldns signs verify here, with each
// algorithm; responses signed here (one message, and every message of a multi-message response)
// verify in ldns; and each failure gets its RFC 8945 error: an unknown key or algorithm BADKEY,
// a wrong secret or a tampered message BADSIG, a clock out of the fudge BADTIME, a truncated MAC
// BADTRUNC. find() takes only a well-formed TSIG that is the message's last record.
#include "dns/tsig.hpp"

#include <gtest/gtest.h>
#include <ldns/ldns.h>
#include <openssl/evp.h>

#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

#include "dns/name.hpp"
#include "dns/wire.hpp"
#include "unit/support.hpp"

namespace nolb::dns::tsig {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::Pkt;

std::string base64(const Bytes& data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                                  static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

Key make_key(Algorithm algorithm, const char* name = "transfer.demo.test.") {
    Key key;
    std::string error;
    EXPECT_TRUE(wire_from_text(name, std::string(1, '\0'), key.name, error)) << error;
    key.name = lowered(key.name);
    key.algorithm = algorithm;
    for (std::uint8_t i = 0; i < 32; ++i)
        key.secret.push_back(static_cast<std::uint8_t>(i * 7 + 1));
    return key;
}

Bytes wire_of(ldns_pkt* pkt) {
    std::uint8_t* wire = nullptr;
    std::size_t size = 0;
    EXPECT_EQ(ldns_pkt2wire(&wire, pkt, &size), LDNS_STATUS_OK);
    Bytes out(wire, wire + size);
    free(wire);
    return out;
}

// A query for the zone's SOA, signed by ldns with `key` (ldns signs at its own clock).
Bytes ldns_signed_query(const Key& key, const char* key_name = "transfer.demo.test.") {
    ldns_pkt* raw = nullptr;
    ldns_pkt_query_new_frm_str(&raw, "demo.test.", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
    Pkt pkt(raw);
    ldns_pkt_set_id(pkt.get(), 0x4242);
    const std::string algorithm = std::string(algorithm_name(key.algorithm)) + ".";
    EXPECT_EQ(ldns_pkt_tsig_sign(pkt.get(), key_name, base64(key.secret).c_str(), 300,
                                 algorithm.c_str(), nullptr),
              LDNS_STATUS_OK);
    return wire_of(pkt.get());
}

std::uint64_t now() {
    return static_cast<std::uint64_t>(std::time(nullptr));
}

// The MAC in ldns's form: an rdf of a 16-bit length and the octets.
ldns_rdf* ldns_mac(const Bytes& mac) {
    Bytes data{static_cast<std::uint8_t>(mac.size() >> 8), static_cast<std::uint8_t>(mac.size())};
    data.insert(data.end(), mac.begin(), mac.end());
    return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, data.size(), data.data());
}

// Does ldns accept `message`, signed after a message whose MAC was `previous`?
bool ldns_accepts(const Bytes& message, const Key& key, const Bytes& previous, bool timers_only) {
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, message.data(), message.size()) != LDNS_STATUS_OK) return false;
    Pkt pkt(raw);
    ldns_rdf* mac = previous.empty() ? nullptr : ldns_mac(previous);
    const bool ok =
        ldns_pkt_tsig_verify_next(pkt.get(), message.data(), message.size(), "transfer.demo.test.",
                                  base64(key.secret).c_str(), mac, timers_only ? 1 : 0);
    if (mac) ldns_rdf_deep_free(mac);
    return ok;
}

// A response to `query`: the header with QR and AA, the question copied.
Bytes response_to(const Bytes& query, const Record& record) {
    Bytes out(query.begin(), query.begin() + static_cast<std::ptrdiff_t>(record.offset));
    out[2] |= 0x84;
    store16(out.data() + 10, 0);  // ARCOUNT: the TSIG goes
    return out;
}

class TsigAlgorithms : public ::testing::TestWithParam<Algorithm> {};

TEST_P(TsigAlgorithms, ARequestLdnsSignedVerifies) {
    const Key key = make_key(GetParam());
    const Bytes query = ldns_signed_query(key);
    Record record;
    ASSERT_EQ(find(query, record), Found::found);
    EXPECT_EQ(record.key_name, key.name);
    EXPECT_EQ(record.algorithm, algorithm_wire(key.algorithm));
    EXPECT_EQ(record.mac.size(), mac_size(key.algorithm));
    EXPECT_EQ(record.original_id, 0x4242);
    EXPECT_EQ(record.fudge, 300);
    const Key keys[] = {make_key(GetParam(), "other.demo.test."), key};
    const Verdict v = verify_request(query, record, keys, now());
    EXPECT_EQ(v.error, Error::none);
    EXPECT_EQ(v.key, &keys[1]);
}

TEST_P(TsigAlgorithms, ResponsesSignedHereVerifyInLdns) {
    const Key key = make_key(GetParam());
    const Bytes query = ldns_signed_query(key);
    Record record;
    ASSERT_EQ(find(query, record), Found::found);

    Signer signer(key, record.mac, now());
    Bytes previous = record.mac;
    for (int i = 0; i < 3; ++i) {
        SCOPED_TRACE("message " + std::to_string(i + 1));
        Bytes message = response_to(query, record);
        signer.sign(message);
        EXPECT_TRUE(ldns_accepts(message, key, previous, i > 0));
        Bytes tampered = message;
        tampered[13] ^= 0x01;  // the question's name
        EXPECT_FALSE(ldns_accepts(tampered, key, previous, i > 0));
        EXPECT_FALSE(ldns_accepts(message, key, previous, i == 0)) << "the other digest form";
        Record signed_record;
        ASSERT_EQ(find(message, signed_record), Found::found);
        EXPECT_EQ(verify_response(message, signed_record, key, previous, i == 0, now()),
                  Error::none);
        EXPECT_EQ(signed_record.mac, signer.last_mac());
        previous = signer.last_mac();
    }
}

INSTANTIATE_TEST_SUITE_P(Each, TsigAlgorithms,
                         ::testing::Values(Algorithm::hmac_sha1, Algorithm::hmac_sha256,
                                           Algorithm::hmac_sha512),
                         [](const auto& param_info) {
                             std::string name = algorithm_name(param_info.param);
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

TEST(Tsig, ARequestSignedHereVerifiesInLdns) {
    const Key key = make_key(Algorithm::hmac_sha256);
    Bytes query = test::make_query("demo.test.", LDNS_RR_TYPE_SOA);
    Signer(key, {}, now()).sign(query);
    EXPECT_TRUE(ldns_accepts(query, key, {}, false));
    Record record;
    ASSERT_EQ(find(query, record), Found::found);
    const Key keys[] = {key};
    EXPECT_EQ(verify_request(query, record, keys, now()).error, Error::none);
}

TEST(Tsig, EachFailureHasItsError) {
    const Key key = make_key(Algorithm::hmac_sha256);
    const Bytes query = ldns_signed_query(key);
    Record record;
    ASSERT_EQ(find(query, record), Found::found);

    const Key stranger[] = {make_key(Algorithm::hmac_sha256, "other.demo.test.")};
    EXPECT_EQ(verify_request(query, record, stranger, now()).error, Error::badkey);
    const Key other_algorithm[] = {make_key(Algorithm::hmac_sha512)};
    EXPECT_EQ(verify_request(query, record, other_algorithm, now()).error, Error::badkey);

    Key wrong_secret = key;
    wrong_secret.secret[0] ^= 1;
    const Key wrong[] = {wrong_secret};
    EXPECT_EQ(verify_request(query, record, wrong, now()).error, Error::badsig);

    const Key keys[] = {key};
    Bytes tampered = query;
    tampered[13] ^= 0x20;  // a letter of the question's name
    Record tampered_record;
    ASSERT_EQ(find(tampered, tampered_record), Found::found);
    EXPECT_EQ(verify_request(tampered, tampered_record, keys, now()).error, Error::badsig);

    EXPECT_EQ(verify_request(query, record, keys, now() + 301 + 5).error, Error::badtime);
    EXPECT_EQ(verify_request(query, record, keys, now() - 400).error, Error::badtime);

    Record truncated = record;
    truncated.mac.resize(16);  // half of SHA-256's 32: long enough to check, short of ours
    EXPECT_EQ(verify_request(query, truncated, keys, now()).error, Error::badtrunc);
    truncated.mac.resize(9);  // below 10 octets: never accepted
    EXPECT_EQ(verify_request(query, truncated, keys, now()).error, Error::badsig);
}

TEST(Tsig, AnUnsignedErrorRecordCarriesTheRequestsNamesAndNoMac) {
    const Key key = make_key(Algorithm::hmac_sha256);
    const Bytes query = ldns_signed_query(key, "unknown.demo.test.");
    Record record;
    ASSERT_EQ(find(query, record), Found::found);
    Bytes response = response_to(query, record);
    append_unsigned(response, record, Error::badkey);

    Record answered;
    ASSERT_EQ(find(response, answered), Found::found);
    EXPECT_EQ(answered.key_name, record.key_name);
    EXPECT_EQ(answered.algorithm, record.algorithm);
    EXPECT_EQ(answered.time_signed, record.time_signed);
    EXPECT_TRUE(answered.mac.empty());
    EXPECT_EQ(answered.error, Error::badkey);
    EXPECT_EQ(load16(response.data() + 10), 1);  // ARCOUNT
    ldns_pkt* raw = nullptr;
    ASSERT_EQ(ldns_wire2pkt(&raw, response.data(), response.size()), LDNS_STATUS_OK);
    Pkt parsed(raw);
    EXPECT_NE(ldns_pkt_tsig(parsed.get()), nullptr);
}

TEST(Tsig, BadTimeCarriesTheServersTimeAndIsSigned) {
    const Key key = make_key(Algorithm::hmac_sha256);
    const Bytes query = ldns_signed_query(key);
    Record record;
    ASSERT_EQ(find(query, record), Found::found);
    const std::uint64_t server_time = record.time_signed + 1000;
    Bytes other;
    for (int shift = 40; shift >= 0; shift -= 8)
        other.push_back(static_cast<std::uint8_t>(server_time >> shift));
    Bytes response = response_to(query, record);
    Signer(key, record.mac, record.time_signed).sign(response, Error::badtime, other);

    Record answered;
    ASSERT_EQ(find(response, answered), Found::found);
    EXPECT_EQ(answered.error, Error::badtime);
    EXPECT_EQ(answered.time_signed, record.time_signed);
    EXPECT_EQ(answered.other, other);
    EXPECT_EQ(verify_response(response, answered, key, record.mac, true, record.time_signed),
              Error::badtime);
}

TEST(Tsig, FindTakesOnlyAWellFormedLastRecord) {
    Record record;
    const Bytes plain = test::make_query("demo.test.", LDNS_RR_TYPE_SOA);
    EXPECT_EQ(find(plain, record), Found::none);
    EXPECT_EQ(find(Bytes(5, 0), record), Found::none);

    const Key key = make_key(Algorithm::hmac_sha256);
    const Bytes query = ldns_signed_query(key);
    ASSERT_EQ(find(query, record), Found::found);

    Bytes trailing = query;
    trailing.push_back(0);
    EXPECT_EQ(find(trailing, record), Found::malformed);
    for (std::size_t cut = query.size() - 1; cut > query.size() - 30; --cut) {
        const Bytes shorter(query.begin(), query.begin() + static_cast<std::ptrdiff_t>(cut));
        EXPECT_EQ(find(shorter, record), Found::malformed) << "cut at " << cut;
    }

    // The TSIG followed by another record (ARCOUNT 2, an OPT after it).
    Bytes not_last = query;
    store16(not_last.data() + 10, 2);
    const Bytes opt = {0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0};
    not_last.insert(not_last.end(), opt.begin(), opt.end());
    EXPECT_EQ(find(not_last, record), Found::malformed);

    // The TSIG in the answer section instead (ANCOUNT 1, ARCOUNT 0).
    Bytes in_answer = query;
    store16(in_answer.data() + 6, 1);
    store16(in_answer.data() + 10, 0);
    EXPECT_EQ(find(in_answer, record), Found::malformed);
}

TEST(Tsig, AlgorithmsByName) {
    EXPECT_EQ(parse_algorithm("hmac-sha256"), Algorithm::hmac_sha256);
    EXPECT_EQ(parse_algorithm("HMAC-SHA512."), Algorithm::hmac_sha512);
    EXPECT_EQ(parse_algorithm("hmac-sha1"), Algorithm::hmac_sha1);
    EXPECT_FALSE(parse_algorithm("hmac-md5"));
    EXPECT_FALSE(parse_algorithm("hmac-sha256x"));
    EXPECT_EQ(algorithm_wire(Algorithm::hmac_sha1), std::string("\x09hmac-sha1\x00", 11));
    EXPECT_EQ(mac_size(Algorithm::hmac_sha512), 64u);
}

}  // namespace
}  // namespace nolb::dns::tsig
