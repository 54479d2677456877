// Short exchanges the lab has with its own servers on loopback: an HTTP request to a node (is it
// up, inject a fault), a line over a Unix socket (nolbd's control socket, HAProxy's stats
// socket) and the DNS query it asks nolbd. Each blocking call has a hard deadline; they are used
// while starting servers, around the measured run, and for faults, where a local process answers
// within a millisecond or two. The DNS sampler of the measured run builds and reads its messages
// with the same functions but never blocks.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nolb::compare {

struct HttpReply {
    int status = 0;  // 0: no complete status line (see `error`)
    std::string body;
    std::string error;  // "connection refused", "timed out", ...
};

// One request (Connection: close, no body) to address:port, read until the server closes.
HttpReply http_exchange(const std::string& address, std::uint16_t port, std::string_view method,
                        std::string_view target, std::chrono::milliseconds timeout);

// Sends `request` over a Unix stream socket and reads the reply: up to the first newline when
// `one_line`, else until the peer closes. nullopt on failure, with the reason in `error`.
std::optional<std::string> unix_exchange(const std::filesystem::path& socket,
                                         std::string_view request, bool one_line,
                                         std::chrono::milliseconds timeout, std::string& error);

// A query for `name` A, class IN, with this ID; recursion wanted only when asked (a resolver
// answers a query without it from its cache alone).
std::vector<std::uint8_t> dns_query(const std::string& name, std::uint16_t id,
                                    bool recursion = false);
// The A addresses of a response with this ID (text, in answer order); nullopt when the message
// is not a well-formed response to that query or its rcode is not NOERROR.
std::optional<std::vector<std::string>> dns_addresses(std::span<const std::uint8_t> message,
                                                      std::uint16_t id);
// Asks address:port (IPv4) over UDP and waits for the answer, up to `timeout`.
std::optional<std::vector<std::string>> dns_lookup(const std::string& address, std::uint16_t port,
                                                   const std::string& name,
                                                   std::chrono::milliseconds timeout,
                                                   bool recursion);
// The same, of 127.0.0.1 without recursion.
std::optional<std::vector<std::string>> dns_lookup(std::uint16_t port, const std::string& name,
                                                   std::chrono::milliseconds timeout);

}  // namespace nolb::compare
