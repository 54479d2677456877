// The TOML document reduced to what validation needs: each value with its kind, its full dotted
// key path ("zone[0].ns[1].name") and where it was written. Only document.cpp sees toml++; the
// schema walks this tree, so the rest of the loader compiles without the TOML headers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nolb::config {

struct Position {
    std::uint32_t line = 0;  // 1-based; 0 for values that were never written (defaults)
    std::uint32_t column = 0;
};

struct Value {
    enum class Kind { boolean, integer, floating, string, array, table, other };

    Kind kind = Kind::table;
    std::string path;       // full dotted key path; "" for the document itself
    std::string key;        // its own key; "" for an array element
    Position at;            // where the value starts
    Position key_at;        // where its key is written (the value's position for array elements)
    std::string kind_name;  // "a string", "a date-time", ... for messages

    bool boolean = false;
    std::int64_t integer = 0;
    double floating = 0;
    std::string string;
    std::vector<Value> items;  // array elements, or table members in the order they were written

    // The member named `name` of a table, or nullptr.
    const Value* member(std::string_view name) const;
    double number() const {
        return kind == Kind::integer ? static_cast<double>(integer) : floating;
    }
};

// Parses a whole document. A syntax error throws config::Error with one problem,
// "file:line:column: description".
Value parse_document(std::string_view text, const std::string& file);

// Parses one TOML value written in the schema (a key's default), giving it `path`. Throws
// std::logic_error when the literal is not valid TOML: that is a bug in the schema.
Value parse_literal(std::string_view literal, const std::string& path);

// "server.listen", "zone[0].ns" + "name", with keys quoted when they are not bare TOML keys.
std::string child_path(std::string_view parent, std::string_view key);

}  // namespace nolb::config
