// TSIG (RFC 8945): shared-secret signatures on the messages of zone transfers and NOTIFY. A
// signed message ends with one TSIG record; its MAC is an HMAC over the message without that
// record and over the record's variables. A response's MAC also covers the request's MAC, and
// each later message of a multi-message response the previous message's MAC, so that nobody can
// splice messages into a transfer or drop some from its middle.
//
// Messages that carry TSIG are rare (transfers, NOTIFY): this code allocates, and is kept off
// the answering path of plain queries.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nolb::dns::tsig {

enum class Algorithm : std::uint8_t { hmac_sha1, hmac_sha256, hmac_sha512 };

// "hmac-sha256" or "hmac-sha256." (any case) -> the algorithm; nullopt for others.
std::optional<Algorithm> parse_algorithm(std::string_view text);
const char* algorithm_name(Algorithm);  // "hmac-sha256"
// The algorithm's name in wire form ("\x0bhmac-sha256\x00").
std::string algorithm_wire(Algorithm);
std::size_t mac_size(Algorithm);  // the HMAC's full length in octets

struct Key {
    std::string name;  // wire form, lower-cased ("\x08transfer\x04demo\x04test\x00")
    Algorithm algorithm = Algorithm::hmac_sha256;
    std::vector<std::uint8_t> secret;
};

// The extended errors of the TSIG record (RFC 8945 §3).
enum class Error : std::uint16_t {
    none = 0,
    badsig = 16,
    badkey = 17,
    badtime = 18,
    badtrunc = 22,
};

// "BADSIG", "BADKEY", ...; "none" for none.
const char* error_name(Error error);

// A TSIG record found at the end of a message.
struct Record {
    std::size_t offset = 0;         // where the record starts; the message without it ends here
    std::string key_name;           // wire form, lower-cased
    std::string algorithm;          // wire form, lower-cased
    std::uint64_t time_signed = 0;  // seconds since the epoch (48 bits)
    std::uint16_t fudge = 0;
    std::vector<std::uint8_t> mac;
    std::uint16_t original_id = 0;
    Error error = Error::none;
    std::vector<std::uint8_t> other;
};

enum class Found : std::uint8_t {
    none,       // no TSIG record
    malformed,  // a TSIG record that is not the last one, or not well formed: FORMERR
    found,
};

// Finds and parses the TSIG record of `message`, which must be the last record of its
// additional section (RFC 8945 §5.1). Walks every section; never reads out of bounds.
Found find(std::span<const std::uint8_t> message, Record& out);

// What checking a signed request decided, and with which of `keys`.
struct Verdict {
    Error error = Error::none;  // none: the MAC is good and the time within the fudge
    const Key* key = nullptr;   // the key named, when it is one of `keys`
};

// Checks `record`, found in the request `message`, at the time `now` (seconds since the epoch).
// In the RFC's order: an unknown key or algorithm is BADKEY, a wrong MAC BADSIG, a MAC truncated
// below what the RFC allows BADTRUNC, then a time more than the fudge from `now` BADTIME.
Verdict verify_request(std::span<const std::uint8_t> message, const Record& record,
                       std::span<const Key> keys, std::uint64_t now);

// Signs the messages of one response, or of one request and the responses that follow it:
// every call to sign() appends a TSIG record to a complete message and counts it in ARCOUNT.
// The first signature of a response covers the request's MAC; each later one the previous
// message's MAC, with only the timers of its variables (RFC 8945 §5.3.1).
class Signer {
  public:
    // `request_mac` is the signed request's MAC (empty when signing a request). `now` is the time
    // signed into every message.
    Signer(const Key& key, std::span<const std::uint8_t> request_mac, std::uint64_t now,
           std::uint16_t fudge = 300);

    // Appends the TSIG record to `message` (at least a header). `error` and `other` go into the
    // record (BADTIME carries the server's time in `other`).
    void sign(std::vector<std::uint8_t>& message, Error error = Error::none,
              std::span<const std::uint8_t> other = {});

    // The MAC of the last message signed.
    const std::vector<std::uint8_t>& last_mac() const { return mac_; }

  private:
    const Key& key_;
    std::vector<std::uint8_t> mac_;  // the request's, then each message's in turn
    std::uint64_t now_;
    std::uint16_t fudge_;
    bool first_ = true;
};

// Appends the unsigned TSIG record of an error answer (BADKEY, BADSIG: RFC 8945 §5.3.2) to
// `message`: the request's key and algorithm names, its time and fudge, an empty MAC.
void append_unsigned(std::vector<std::uint8_t>& message, const Record& request, Error error);

// Checks the TSIG record of a message received in answer to one signed with `request_mac`
// (first = true), or of a later message of the same response (first = false, `request_mac` the
// previous message's MAC). Returns the error; `record` is the message's, from find().
Error verify_response(std::span<const std::uint8_t> message, const Record& record, const Key& key,
                      std::span<const std::uint8_t> request_mac, bool first, std::uint64_t now);

}  // namespace nolb::dns::tsig
