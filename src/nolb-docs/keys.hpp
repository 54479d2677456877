// The configuration keys as an operator meets them: grouped by the TOML table they are written
// in, each table under the header a file gives it ([server], [[zone]], [zone.soa]), and each
// key's facts (type, range, default) in words. The keys are config::describe_schema()'s.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/walk.hpp"

namespace nolb::docs {

// A table of the configuration and the keys written in it.
struct Table {
    const config::KeyDoc* key = nullptr;  // the key that holds the table; nullptr: the document
    std::string header;                   // "[server]", "[[zone.ns]]"; "" for the document
    std::vector<const config::KeyDoc*> keys;
};

// The tables of `keys`, parents before children, each with its keys in the schema's order. A key
// that holds a table of keys heads that table instead of being listed in its parent, but for
// one that may also be a string (health = "none"), which is both. The result points into `keys`.
std::vector<Table> tables(const std::vector<config::KeyDoc>& keys);

// "[[zone.ns]]" for "zone[].ns[]", "[zone.soa]" for "zone[].soa".
std::string toml_header(std::string_view path);

// A key's facts in one line: "integer, 1..65535; default: 80", "string, not empty; required",
// "seconds, 0.01..3600; default: a fifth of interval", "array of strings; optional".
std::string facts(const config::KeyDoc& key);

// How a table appears in a file: "Required, at least 1.", "Optional, any number.", "Optional."
std::string presence(const config::KeyDoc& table);

}  // namespace nolb::docs
