// TSIG's wire format and MACs (RFC 8945 §4, §5). The HMACs are OpenSSL's (EVP_MAC, libcrypto,
// which ldns already brings); MACs are compared in constant time.
#include "dns/tsig.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "dns/name.hpp"
#include "dns/types.hpp"
#include "dns/wire.hpp"

namespace nolb::dns::tsig {

namespace {

using Bytes = std::vector<std::uint8_t>;
using View = std::span<const std::uint8_t>;

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kArcountAt = 10;

struct AlgorithmInfo {
    Algorithm algorithm;
    const char* name;    // as written in configurations, without the final dot
    const char* digest;  // OpenSSL's name of the hash
    std::size_t size;
};

constexpr AlgorithmInfo kAlgorithms[] = {
    {Algorithm::hmac_sha1, "hmac-sha1", "SHA1", 20},
    {Algorithm::hmac_sha256, "hmac-sha256", "SHA256", 32},
    {Algorithm::hmac_sha512, "hmac-sha512", "SHA512", 64},
};

const AlgorithmInfo& info(Algorithm a) {
    return kAlgorithms[static_cast<std::size_t>(a)];
}

View bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void put16(Bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}

void put48(Bytes& out, std::uint64_t v) {
    for (int shift = 40; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void put(Bytes& out, View bytes) {
    out.insert(out.end(), bytes.begin(), bytes.end());
}

// The HMAC of the concatenated parts.
Bytes hmac(Algorithm algorithm, View secret, std::initializer_list<View> parts) {
    std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr),
                                                          EVP_MAC_free);
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(
        mac ? EVP_MAC_CTX_new(mac.get()) : nullptr, EVP_MAC_CTX_free);
    char* digest = const_cast<char*>(info(algorithm).digest);
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (!ctx || EVP_MAC_init(ctx.get(), secret.data(), secret.size(), params) != 1)
        throw std::runtime_error(std::string("cannot compute ") + info(algorithm).name);
    for (View part : parts)
        if (!part.empty()) EVP_MAC_update(ctx.get(), part.data(), part.size());
    Bytes out(EVP_MAX_MD_SIZE);
    std::size_t size = 0;
    if (EVP_MAC_final(ctx.get(), out.data(), &size, out.size()) != 1)
        throw std::runtime_error(std::string("cannot compute ") + info(algorithm).name);
    out.resize(size);
    return out;
}

// The TSIG variables (RFC 8945 §4.3.3), all of them or the timers only.
Bytes variables(const std::string& key_name, const std::string& algorithm, std::uint64_t time,
                std::uint16_t fudge, Error error, View other, bool timers_only) {
    Bytes out;
    if (!timers_only) {
        put(out, bytes_of(key_name));
        put16(out, cls::ANY);
        put16(out, 0);  // TTL, 32 bits
        put16(out, 0);
        put(out, bytes_of(algorithm));
    }
    put48(out, time);
    put16(out, fudge);
    if (!timers_only) {
        put16(out, static_cast<std::uint16_t>(error));
        put16(out, static_cast<std::uint16_t>(other.size()));
        put(out, other);
    }
    return out;
}

// The message as it was before its TSIG record was added: cut there, one record fewer, and the
// ID it was signed with.
Bytes unsigned_message(View message, const Record& record) {
    Bytes out(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(record.offset));
    store16(out.data(), record.original_id);
    store16(out.data() + kArcountAt,
            static_cast<std::uint16_t>(load16(out.data() + kArcountAt) - 1));
    return out;
}

Bytes prefixed_mac(View mac) {
    Bytes out;
    if (mac.empty()) return out;
    put16(out, static_cast<std::uint16_t>(mac.size()));
    put(out, mac);
    return out;
}

// Compares a received MAC with the one computed; a shorter received MAC is compared with the
// computed one's leading octets (truncation, RFC 8945 §5.2.2.1).
bool same_mac(View received, View computed) {
    return !received.empty() && received.size() <= computed.size() &&
           CRYPTO_memcmp(received.data(), computed.data(), received.size()) == 0;
}

void append_record(Bytes& message, const std::string& key_name, const std::string& algorithm,
                   std::uint64_t time, std::uint16_t fudge, View mac, Error error, View other) {
    Bytes rdata;
    put(rdata, bytes_of(algorithm));
    put48(rdata, time);
    put16(rdata, fudge);
    put16(rdata, static_cast<std::uint16_t>(mac.size()));
    put(rdata, mac);
    put16(rdata, load16(message.data()));  // original ID: the message's own
    put16(rdata, static_cast<std::uint16_t>(error));
    put16(rdata, static_cast<std::uint16_t>(other.size()));
    put(rdata, other);

    put(message, bytes_of(key_name));
    put16(message, type::TSIG);
    put16(message, cls::ANY);
    put16(message, 0);  // TTL
    put16(message, 0);
    put16(message, static_cast<std::uint16_t>(rdata.size()));
    put(message, rdata);
    store16(message.data() + kArcountAt,
            static_cast<std::uint16_t>(load16(message.data() + kArcountAt) + 1));
}

// Reads the TSIG RDATA (after the record's fixed fields) into `out`; false when malformed.
bool read_rdata(Reader& r, std::size_t end, Record& out) {
    if (!read_name(r, out.algorithm)) return false;
    const std::uint64_t high = r.u16();
    out.time_signed = (high << 32) | r.u32();
    out.fudge = r.u16();
    const std::uint16_t mac_size = r.u16();
    if (r.failed() || mac_size > r.remaining()) return false;
    out.mac.assign(r.data() + r.pos(), r.data() + r.pos() + mac_size);
    r.skip(mac_size);
    out.original_id = r.u16();
    out.error = static_cast<Error>(r.u16());
    const std::uint16_t other_size = r.u16();
    if (r.failed() || other_size > r.remaining()) return false;
    out.other.assign(r.data() + r.pos(), r.data() + r.pos() + other_size);
    r.skip(other_size);
    return !r.failed() && r.pos() == end;
}

}  // namespace

std::optional<Algorithm> parse_algorithm(std::string_view text) {
    if (!text.empty() && text.back() == '.') text.remove_suffix(1);
    for (const AlgorithmInfo& a : kAlgorithms) {
        const std::string_view name = a.name;
        if (text.size() == name.size() &&
            std::equal(text.begin(), text.end(), name.begin(), [](char x, char y) {
                return lower(static_cast<std::uint8_t>(x)) == static_cast<std::uint8_t>(y);
            }))
            return a.algorithm;
    }
    return std::nullopt;
}

const char* algorithm_name(Algorithm a) {
    return info(a).name;
}

std::string algorithm_wire(Algorithm a) {
    const std::string name = info(a).name;
    return static_cast<char>(name.size()) + name + '\0';
}

std::size_t mac_size(Algorithm a) {
    return info(a).size;
}

Found find(std::span<const std::uint8_t> message, Record& out) {
    if (message.size() < kHeaderSize) return Found::none;
    Reader r(message.data(), message.size(), 4);
    const std::uint16_t qdcount = r.u16();
    const std::uint32_t records = std::uint32_t{r.u16()} + r.u16();
    const std::uint16_t arcount = r.u16();
    for (std::uint16_t i = 0; i < qdcount; ++i) {
        skip_name(r);
        r.skip(4);
    }
    for (std::uint32_t i = 0; i < records + arcount; ++i) {
        const std::size_t at = r.pos();
        std::string owner;
        if (!read_name(r, owner)) return Found::malformed;
        const std::uint16_t rtype = r.u16();
        const std::uint16_t rclass = r.u16();
        r.skip(4);
        const std::uint16_t rdlength = r.u16();
        if (r.failed() || rdlength > r.remaining()) return Found::malformed;
        if (rtype != type::TSIG) {
            r.skip(rdlength);
            continue;
        }
        // The last record of the additional section, class ANY, and nothing after it.
        const bool last = i + 1 == records + arcount && i >= records;
        if (!last || rclass != cls::ANY) return Found::malformed;
        out.offset = at;
        out.key_name = std::move(owner);
        if (!read_rdata(r, r.pos() + rdlength, out) || r.pos() != message.size())
            return Found::malformed;
        return Found::found;
    }
    return r.failed() ? Found::malformed : Found::none;
}

Verdict verify_request(std::span<const std::uint8_t> message, const Record& record,
                       std::span<const Key> keys, std::uint64_t now) {
    Verdict v;
    for (const Key& key : keys)
        if (key.name == record.key_name && algorithm_wire(key.algorithm) == record.algorithm)
            v.key = &key;
    if (!v.key) {
        v.error = Error::badkey;
        return v;
    }
    const Bytes computed = hmac(v.key->algorithm, v.key->secret,
                                {unsigned_message(message, record),
                                 variables(record.key_name, record.algorithm, record.time_signed,
                                           record.fudge, record.error, record.other, false)});
    // A MAC shorter than the larger of 10 octets and half the hash is not accepted at all
    // (RFC 8945 §5.2.2.1); a truncated one that is long enough matches, but nolbd asks for the
    // whole MAC.
    const std::size_t shortest = std::max<std::size_t>(10, computed.size() / 2);
    if (record.mac.size() < shortest || !same_mac(record.mac, computed)) {
        v.error = Error::badsig;
    } else if (record.mac.size() < computed.size()) {
        v.error = Error::badtrunc;
    } else if ((now > record.time_signed ? now - record.time_signed : record.time_signed - now) >
               record.fudge) {
        v.error = Error::badtime;
    }
    return v;
}

Signer::Signer(const Key& key, std::span<const std::uint8_t> request_mac, std::uint64_t now,
               std::uint16_t fudge)
    : key_(key), mac_(request_mac.begin(), request_mac.end()), now_(now), fudge_(fudge) {}

void Signer::sign(std::vector<std::uint8_t>& message, Error error,
                  std::span<const std::uint8_t> other) {
    const std::string algorithm = algorithm_wire(key_.algorithm);
    mac_ = hmac(key_.algorithm, key_.secret,
                {prefixed_mac(mac_), message,
                 variables(key_.name, algorithm, now_, fudge_, error, other, !first_)});
    first_ = false;
    append_record(message, key_.name, algorithm, now_, fudge_, mac_, error, other);
}

void append_unsigned(std::vector<std::uint8_t>& message, const Record& request, Error error) {
    append_record(message, request.key_name, request.algorithm, request.time_signed, request.fudge,
                  {}, error, {});
}

const char* error_name(Error error) {
    switch (error) {
        case Error::none:
            return "none";
        case Error::badsig:
            return "BADSIG";
        case Error::badkey:
            return "BADKEY";
        case Error::badtime:
            return "BADTIME";
        case Error::badtrunc:
            return "BADTRUNC";
    }
    return "unknown";
}

Error verify_response(std::span<const std::uint8_t> message, const Record& record, const Key& key,
                      std::span<const std::uint8_t> request_mac, bool first, std::uint64_t now) {
    if (record.key_name != key.name || record.algorithm != algorithm_wire(key.algorithm))
        return Error::badkey;
    const Bytes computed = hmac(key.algorithm, key.secret,
                                {prefixed_mac(request_mac), unsigned_message(message, record),
                                 variables(record.key_name, record.algorithm, record.time_signed,
                                           record.fudge, record.error, record.other, !first)});
    if (record.mac.size() != computed.size() || !same_mac(record.mac, computed))
        return Error::badsig;
    const std::uint64_t skew =
        now > record.time_signed ? now - record.time_signed : record.time_signed - now;
    if (skew > record.fudge) return Error::badtime;
    return record.error;
}

}  // namespace nolb::dns::tsig
