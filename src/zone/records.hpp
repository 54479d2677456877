// The load-time model of zone data: RRsets grouped by owner, before rendering. Records come
// from the TOML config (SOA, NS, glue, `records`, services) and from master files read with
// ldns; both paths meet here so that compile sees one shape.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "dns/name.hpp"

namespace nolb::zone {

// One RDATA field: raw bytes, or a domain name (kept apart so it can be compressed and used
// for additional-section processing).
struct Piece {
    bool is_name = false;
    std::string bytes;
    bool operator==(const Piece&) const = default;
};

struct RData {
    std::vector<Piece> pieces;
    bool operator==(const RData&) const = default;
};

struct RRset {
    std::uint16_t type = 0;
    std::uint16_t klass = 1;
    std::uint32_t ttl = 0;
    std::vector<RData> rdatas;
    bool shuffled = false;  // a service's address set: order drawn per response
};

struct NodeData {
    dns::WireName name;  // lower-cased
    std::uint32_t zone = 0;
    std::map<std::uint16_t, RRset> rrsets;
    std::optional<std::uint32_t> service;  // the service whose addresses are published here
};

// One record as ldns read it, with the line it came from (0 when not from a file).
struct ParsedRecord {
    dns::WireName owner;  // as written (case kept)
    std::uint32_t line = 0;
    std::uint16_t type = 0;
    std::uint16_t klass = 1;
    std::uint32_t ttl = 0;
    RData rdata;
};

// Parses one record in zone-file syntax relative to `origin` (wire form). Throws nothing;
// returns false and sets `error`.
bool parse_record_text(const std::string& text, const dns::WireName& origin,
                       std::uint32_t default_ttl, ParsedRecord& out, std::string& error);

// Reads a master file (RFC 1035 §5) with ldns. Each problem is appended to `problems` as
// "file:line: message"; good records are returned.
std::vector<ParsedRecord> read_zone_file(const std::string& path, const dns::WireName& origin,
                                         std::uint32_t default_ttl,
                                         std::vector<std::string>& problems);

}  // namespace nolb::zone
