// Text <-> bytes for addresses and endpoints, with inet_pton/inet_ntop doing the grammar.
#include "util/ip.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace nolb::util {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    // inet_pton reads a C string: a NUL inside the text would end the address early.
    if (text.empty() || text.size() > INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos)
        return std::nullopt;
    std::string s(text);
    IpAddress a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
        a.family = AF_INET;
        return a;
    }
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
        a.family = AF_INET6;
        return a;
    }
    return std::nullopt;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text, std::uint16_t default_port) {
    std::string_view host = text;
    std::string_view port;
    bool has_port = false;  // a port separator was written, so a port must follow it
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = text.substr(1, close - 1);
        auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port = rest.substr(1);
            has_port = true;
        }
    } else if (text.find(':') != text.rfind(':')) {
        host = text;  // a bare IPv6 address, which may end with "::"
    } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        has_port = true;
    }
    auto address = IpAddress::parse(host);
    if (!address) return std::nullopt;
    Endpoint e{*address, default_port};
    if (has_port) {
        unsigned value = 0;
        auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535)
            return std::nullopt;
        e.port = static_cast<std::uint16_t>(value);
    }
    return e;
}

std::string Endpoint::to_string() const {
    std::string text;
    if (address.is_v4()) {
        text = address.to_string();
    } else {
        text.append("[").append(address.to_string()).append("]");
    }
    return text.append(":").append(std::to_string(port));
}

socklen_t Endpoint::to_sockaddr(sockaddr_storage& out) const {
    std::memset(&out, 0, sizeof out);
    if (address.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&out);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        std::memcpy(&sin->sin_addr, address.bytes.data(), 4);
        return sizeof(sockaddr_in);
    }
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, address.bytes.data(), 16);
    return sizeof(sockaddr_in6);
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
    const std::size_t slash = text.find('/');
    auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) return std::nullopt;
    const unsigned bits = static_cast<unsigned>(address->size() * 8);
    Prefix p{*address, static_cast<std::uint8_t>(bits)};
    if (slash == std::string_view::npos) return p;
    const std::string_view digits = text.substr(slash + 1);
    unsigned length = 0;
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        length = length * 10 + static_cast<unsigned>(c - '0');
    }
    if (length > bits) return std::nullopt;
    p.length = static_cast<std::uint8_t>(length);
    // Host bits must be clear: "192.0.2.1/24" is a mistake, not 192.0.2.0/24.
    for (unsigned bit = length; bit < bits; ++bit)
        if (p.address.bytes[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;
    return p;
}

std::string Prefix::to_string() const {
    return address.to_string() + "/" + std::to_string(length);
}

bool Prefix::contains(const IpAddress& a) const {
    IpAddress candidate = a;
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!a.is_v4() && address.is_v4() && std::equal(kMapped, kMapped + 12, a.bytes.begin())) {
        candidate.family = AF_INET;
        std::copy(a.bytes.begin() + 12, a.bytes.end(), candidate.bytes.begin());
        std::fill(candidate.bytes.begin() + 4, candidate.bytes.end(), 0);
    }
    if (candidate.family != address.family) return false;
    for (unsigned bit = 0; bit < length; ++bit) {
        const std::uint8_t mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
        if ((candidate.bytes[bit / 8] & mask) != (address.bytes[bit / 8] & mask)) return false;
    }
    return true;
}

std::optional<IpAddress> address_of(const sockaddr_storage& address) {
    IpAddress out;
    if (address.ss_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&address);
        std::memcpy(out.bytes.data(), &sin->sin_addr, 4);
        return out;
    }
    if (address.ss_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&address);
        out.family = AF_INET6;
        std::memcpy(out.bytes.data(), &sin6->sin6_addr, 16);
        return out;
    }
    return std::nullopt;
}

}  // namespace nolb::util
