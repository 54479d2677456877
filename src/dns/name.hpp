// Domain names on the wire (RFC 1035 §3.1, §4.1.4). Names are kept in uncompressed wire form;
// lookups use a lower-cased copy, answers echo the bytes the client sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "dns/types.hpp"
#include "dns/wire.hpp"

namespace nolb::dns {

// ASCII case folding (RFC 4343): only A-Z change. Branch-free, since names are lowered a byte
// at a time on every query.
inline std::uint8_t lower(std::uint8_t c) {
    return static_cast<std::uint8_t>(c | (static_cast<std::uint8_t>(c - 'A') < 26 ? 0x20 : 0));
}

// Skips a possibly compressed name in an untrusted message. A compression pointer must point
// backwards (RFC 1035 allows only prior occurrences), which also rules out loops; labels must
// be at most 63 octets and the uncompressed prefix at most 255. Failure marks the reader failed.
void skip_name(Reader& reader);

// Reads a possibly compressed name, by skip_name's rules, into `out` uncompressed and
// lower-cased; the reader ends after the name where it appears. False (the reader failed) on
// any malformation. Allocates: for the rare messages that are not queries (TSIG, NOTIFY).
bool read_name(Reader& reader, std::string& out);

// The key of the snapshot's name table, hashed eight bytes at a time (a name is rarely more
// than three words): each word is mixed in with a multiply and a shift; a last partial word is
// read as the final eight bytes, overlapping the previous word. The table takes the low bits,
// so the result ends with a fold of the high half into them.
inline std::uint64_t name_hash(const std::uint8_t* name, std::size_t size) {
    constexpr std::uint64_t kMultiplier = 0x9e3779b97f4a7c15ULL;
    auto mix = [](std::uint64_t h, std::uint64_t word) {
        h = (h ^ word) * kMultiplier;
        return h ^ (h >> 29);
    };
    std::uint64_t h = size * kMultiplier;
    std::uint64_t word = 0;
    if (size < 8) {
        for (std::size_t i = 0; i < size; ++i)
            word = (word << 8) | name[i];
        h = mix(h, word);
        return h ^ (h >> 32);
    }
    std::size_t at = 0;
    for (; at + 8 <= size; at += 8) {
        std::memcpy(&word, name + at, 8);
        h = mix(h, word);
    }
    if (at < size) {
        std::memcpy(&word, name + size - 8, 8);
        h = mix(h, word);
    }
    return h ^ (h >> 32);
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

// Record type mnemonics, with RFC 3597 §5's TYPEnnn for types without one.
std::string type_name(std::uint16_t type);
// Case-insensitive; nullopt for an unknown mnemonic or a TYPEnnn outside 0-65535.
std::optional<std::uint16_t> type_from_text(std::string_view text);

}  // namespace nolb::dns
