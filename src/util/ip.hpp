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

// An address block for access lists: "198.51.100.0/24", "2001:db8::/32", or one address (its
// full length). Bits past the length must be zero, as in every ACL syntax that checks them.
struct Prefix {
    IpAddress address;
    std::uint8_t length = 32;

    static std::optional<Prefix> parse(std::string_view text);
    std::string to_string() const;
    // `a` lies in the block; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as its IPv4.
    bool contains(const IpAddress& a) const;
    bool operator==(const Prefix&) const = default;
};

// The address of a socket address (IPv4 or IPv6); nullopt for other families.
std::optional<IpAddress> address_of(const sockaddr_storage& address);

}  // namespace nolb::util
