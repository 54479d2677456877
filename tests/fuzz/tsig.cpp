// Fuzz target: one DNS message through dns::tsig::find and, when it holds a TSIG record, through
// verify_request with keys of every algorithm (one named as the record's key). It checks what
// TSIG promises, not only that nothing crashes: a record found is the message's last (it ends
// where the message ends, and the message cut there still parses as far as the header); a
// message re-signed with a key verifies with that key, as a first response to the record's MAC
// and as a later message of the same response, and fails with a single bit of it flipped.
#include <cstdint>
#include <span>
#include <vector>

#include "dns/tsig.hpp"
#include "dns/wire.hpp"
#include "fuzz.hpp"

namespace nolb::fuzz {
namespace {

using namespace dns::tsig;

Key key(Algorithm algorithm, const std::string& name) {
    Key k;
    k.name = name;
    k.algorithm = algorithm;
    k.secret.assign(32, 0x5a);
    return k;
}

void check_signing(std::span<const std::uint8_t> message, const Record& record) {
    // The message without its TSIG, signed again as a response to the record's MAC.
    std::vector<std::uint8_t> body(message.begin(),
                                   message.begin() + static_cast<std::ptrdiff_t>(record.offset));
    dns::store16(body.data() + 10, static_cast<std::uint16_t>(dns::load16(body.data() + 10) - 1));
    const Key ours = key(Algorithm::hmac_sha256, std::string("\x03key\x00", 5));
    Signer signer(ours, record.mac, 1'700'000'000);
    std::vector<std::uint8_t> first = body;
    signer.sign(first);
    std::vector<std::uint8_t> second = body;
    signer.sign(second);

    Record again;
    require(find(first, again) == Found::found, "a message signed here has its TSIG found");
    require(verify_response(first, again, ours, record.mac, true, 1'700'000'000) == Error::none,
            "a first response signed here verifies");
    Record later;
    require(find(second, later) == Found::found, "a later message signed here has its TSIG");
    require(verify_response(second, later, ours, again.mac, false, 1'700'000'000) == Error::none,
            "a later message signed here verifies against the previous MAC");
    first[first.size() / 2] ^= 0x01;
    Record flipped;
    if (find(first, flipped) == Found::found)
        require(
            verify_response(first, flipped, ours, record.mac, true, 1'700'000'000) != Error::none,
            "a flipped bit fails the MAC");
}

}  // namespace
}  // namespace nolb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nolb::dns::tsig;
    const std::span<const std::uint8_t> message(data, size);
    Record record;
    if (find(message, record) != Found::found) return 0;
    nolb::fuzz::require(record.offset >= 12 && record.offset < size,
                        "the TSIG starts after the header and inside the message");
    const Key keys[] = {nolb::fuzz::key(Algorithm::hmac_sha1, record.key_name),
                        nolb::fuzz::key(Algorithm::hmac_sha256, record.key_name),
                        nolb::fuzz::key(Algorithm::hmac_sha512, record.key_name)};
    const Verdict v = verify_request(message, record, keys, 1'700'000'000);
    nolb::fuzz::require(v.error == Error::badkey || v.key != nullptr,
                        "a verdict other than BADKEY names the key");
    if (nolb::dns::load16(data + 10) > 0) nolb::fuzz::check_signing(message, record);
    return 0;
}
