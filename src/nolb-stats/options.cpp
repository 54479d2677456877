// Parsing of the two option values that are more than a number: listen addresses and site names.
#include "nolb-stats/options.hpp"

#include <charconv>

namespace nolb::stats {

std::optional<util::Endpoint> parse_listen(std::string_view text) {
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find("]:");
        if (close == std::string_view::npos) return std::nullopt;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        // Brackets are for IPv6 only, so "[127.0.0.1]:80" is a mistake worth reporting.
        if (host.find(':') == std::string_view::npos) return std::nullopt;
    } else {
        auto colon = text.find(':');
        // More than one colon is a bare IPv6 address, whose port would be ambiguous.
        if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos)
            return std::nullopt;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    auto address = util::IpAddress::parse(host);
    if (!address || port.empty()) return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value > 65535) return std::nullopt;
    return util::Endpoint{*address, static_cast<std::uint16_t>(value)};
}

bool valid_site_name(std::string_view name) {
    if (name.empty() || name.size() > 63) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

}  // namespace nolb::stats
