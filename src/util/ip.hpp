// An IPv4 or IPv6 address as plain bytes, and a listen endpoint (address + port). Parsed from
// config text once; sockets and compiled answers take the bytes from here.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nolb::util {

struct IpAddress {
    int family = AF_INET;  // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> bytes{};

    std::size_t size() const { return family == AF_INET ? 4 : 16; }
    bool is_v4() const { return family == AF_INET; }
    std::string to_string() const;
    bool operator==(const IpAddress&) const = default;

    static std::optional<IpAddress> parse(std::string_view text);
};

struct Endpoint {
    IpAddress address;
    std::uint16_t port = 53;

    // "192.0.2.1:53", "[2001:db8::1]:53"; a bare address takes `default_port`.
    static std::optional<Endpoint> parse(std::string_view text, std::uint16_t default_port);
    std::string to_string() const;
    // Fills a sockaddr_in or sockaddr_in6; returns its length.
    socklen_t to_sockaddr(sockaddr_storage& out) const;
    bool operator==(const Endpoint&) const = default;
};

}  // namespace nolb::util
