// Domain names on the wire (RFC 1035 §3.1, §4.1.4). Names are kept in uncompressed wire form;
// lookups use a lower-cased copy, answers echo the bytes the client sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dns/types.hpp"
#include "dns/wire.hpp"

namespace nolb::dns {

inline std::uint8_t lower(std::uint8_t c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c + ('a' - 'A')) : c;
}

// Skips a possibly compressed name in an untrusted message. A compression pointer must point
// backwards (RFC 1035 allows only prior occurrences), which also rules out loops; labels must
// be at most 63 octets and the uncompressed prefix at most 255. Failure marks the reader failed.
void skip_name(Reader& reader);

// FNV-1a over wire bytes: the key of the snapshot's name table.
inline std::uint64_t name_hash(const std::uint8_t* name, std::size_t size) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i < size; ++i) {
        h ^= name[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

// Load-time helpers on names held as std::string of wire bytes.
using WireName = std::string;

// "www.example.test." -> wire; relative names are made absolute against `origin` (wire).
// Returns false (with `error` set) on a malformed name.
bool wire_from_text(std::string_view text, const WireName& origin, WireName& out,
                    std::string& error);
std::string text_from_wire(const WireName& name);
WireName lowered(WireName name);
// The name with its first label removed (root stays root).
WireName parent_of(const WireName& name);
std::size_t label_count(const WireName& name);
// True when `name` equals `ancestor` or lies below it (case-insensitive, both absolute).
bool is_subdomain(const WireName& name, const WireName& ancestor);

}  // namespace nolb::dns
