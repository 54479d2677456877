#include "transfer/access.hpp"

#include <algorithm>
#include <string>

#include "dns/name.hpp"

namespace nolb::transfer {

namespace {

// A configured name (absolute, lower case, known good) in wire form.
std::string wire_name(const std::string& text) {
    std::string out, error;
    dns::wire_from_text(text, std::string(1, '\0'), out, error);
    return out;
}

}  // namespace

dns::tsig::Key tsig_key(const config::Key& k) {
    dns::tsig::Key key;
    key.name = wire_name(k.name);
    key.algorithm =
        dns::tsig::parse_algorithm(k.algorithm).value_or(dns::tsig::Algorithm::hmac_sha256);
    key.secret = k.secret;
    return key;
}

Access::Access(const config::Config& config) {
    keys_.reserve(config.keys.size());
    for (const config::Key& k : config.keys)
        keys_.push_back(tsig_key(k));
    for (const config::Zone& z : config.zones) {
        ZoneAccess access;
        access.allow = z.transfer.allow;
        for (const std::string& name : z.transfer.keys) {
            const std::string wire = wire_name(name);
            for (const dns::tsig::Key& key : keys_)
                if (key.name == wire) access.keys.push_back(&key);
        }
        zones_.push_back(std::move(access));
    }
}

const ZoneAccess& Access::zone(std::size_t zone) const {
    return zone < zones_.size() ? zones_[zone] : nobody_;
}

Decision Access::decide(std::size_t zone, const util::IpAddress& client,
                        const dns::tsig::Key* signed_with) const {
    const ZoneAccess& access = this->zone(zone);
    if (std::none_of(access.allow.begin(), access.allow.end(),
                     [&](const util::Prefix& p) { return p.contains(client); }))
        return Decision::not_allowed;
    if (!access.keys.empty() &&
        std::find(access.keys.begin(), access.keys.end(), signed_with) == access.keys.end())
        return Decision::unsigned_;
    return Decision::allowed;
}

}  // namespace nolb::transfer
