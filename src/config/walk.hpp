// The machinery behind the schema: a key table per kind of TOML table (Item rows, declared in
// schema.cpp), and one walk that checks a table against its rows and stores what passes.
//
// A row says everything about one key: its name, the TOML type it takes, its range, its default
// (a TOML literal, applied as if written), what it means to an operator, and how a checked value
// lands in the struct. The reference (nolb.toml(5), conf/nolb.toml, the README's key table) is
// generated from the rows by describe(), so it says what the code does. walk() reports unknown
// keys, wrong types, out-of-range values and missing required keys; the row's store function then
// converts the value and reports what only it can judge (a malformed address, a name outside its
// zone). Nothing stops at the first problem: Context collects them all and hands them back in file
// order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "config/document.hpp"
#include "config/names.hpp"

namespace nolb::config {

enum class Type {
    boolean,
    integer,          // min..max
    seconds,          // integer or float, min..max
    number,           // integer or float, min..max (not a duration)
    string,           // min..max octets
    strings,          // array of strings, at least min of them
    array,            // array of anything, at least min elements; the store checks each one
    integer_or_auto,  // integer in min..max, or the string "auto"
    table,            // a [table] or an inline table
    string_or_table,  // a string (min..max octets) or a table: a shorthand and its long form
    tables,           // an array of tables ([[name]]), at least min of them
};

inline constexpr double kUnlimited = std::numeric_limits<double>::infinity();

class Context;

// One key as the reference documents it, with its full path: "server.listen",
// "service[].health.fast_interval" ("[]" marks an array of tables, [[service]] in a file).
struct KeyDoc {
    std::string path;
    std::string table;  // the path of the table that holds the key; "" at the top
    std::string key;
    std::string type;  // "integer", "seconds", "array of tables", ...
    bool required = false;
    std::string range;         // "1..65535", "at most 255 octets", "at least 1"; "" when unbounded
    std::string fallback;      // the TOML literal applied when the key is absent; "" when none
    std::string default_note;  // the default in words, where the literal does not say it all
    std::string meaning;
};

// Appends the KeyDocs of a table's rows, the table's own path given; see describe() below.
using Describe = void (*)(std::string_view path, std::vector<KeyDoc>& out);

template <typename T>
struct Item {
    std::string_view key;
    Type type;
    bool required = false;
    double min = 0;
    double max = kUnlimited;
    std::string_view fallback = {};  // TOML literal applied when the key is absent; empty: none
    // The default in words where the literal does not say it all: computed from other keys
    // ("a fifth of interval"), or what an empty string stands for ("the host name").
    std::string_view default_note = {};
    // What the key does, in sentences an operator reads in nolb.toml(5) and conf/nolb.toml.
    std::string_view meaning = {};
    // A table key's own rows (describe_rows<kTable>), for the reference; nullptr elsewhere.
    Describe nested = nullptr;
    // Called with a value that has passed the type and range checks.
    void (*store)(T& out, const Value& value, Context& ctx) = nullptr;
};

template <typename T>
struct Table {
    std::span<const Item<T>> items;  // walked in this order, whatever the order in the file
    // Checks across keys and computed defaults, once every row has been stored.
    void (*finish)(T& out, const Value& table, Context& ctx) = nullptr;
};

class Context {
  public:
    Context(std::string file, std::filesystem::path folder);

    const std::string& file() const { return file_; }
    // The folder relative paths in the config are resolved against.
    const std::filesystem::path& folder() const { return folder_; }
    Source source(const Value& value) const { return source(value.at); }
    Source source(Position at) const { return Source{file_, at.line, at.column}; }

    // Records "file:line:column: <value's path>: message" at the value's position.
    void error(const Value& value, std::string_view message);
    void error(Position at, std::string_view path, std::string_view message);

    // Type and range checks of one row against a present value; false (and reported) if wrong.
    bool accepts(const Value& value, Type type, double min, double max);
    void unknown_key(const Value& member, const std::vector<std::string_view>& known);
    void missing_key(const Value& table, std::string_view key, Type type);

    // Remembers `key` within `scope` (e.g. the addresses of one service). When it was seen
    // before, reports "<what> on line N" at `value` and returns false.
    bool unique(const std::string& scope, const std::string& key, const Value& value,
                std::string_view what);

    // The tables being walked, innermost last; enclosing(0) is the current table.
    const Value& enclosing(std::size_t levels_up) const {
        return *tables_[tables_.size() - 1 - levels_up];
    }
    void enter(const Value& table) { tables_.push_back(&table); }
    void leave() { tables_.pop_back(); }

    // Every problem, "file:line:column: key: message", sorted in file order.
    std::vector<std::string> take_problems();

    // The origin of the [[zone]] being walked: names without a trailing dot hang from it.
    // Unset outside a zone, and when the zone's origin is itself wrong.
    std::optional<Name> origin;
    // The origins of the zones read so far; services must fall under one of them.
    std::vector<Name> origins;
    // False once a zone's origin is missing or wrong: a service may belong to that zone, so
    // "outside every zone" would be a second report of the same mistake.
    bool origins_complete = true;

  private:
    struct Problem {
        Position at;
        std::string text;
    };
    std::string file_;
    std::filesystem::path folder_;
    std::vector<Problem> problems_;
    std::map<std::pair<std::string, std::string>, Position> seen_;
    std::vector<const Value*> tables_;
};

// "1.2.3" with quotes, escaping what would make the message ambiguous.
std::string in_quotes(std::string_view text);

// The KeyDoc of a row, under the table at `table_path`: the row's fields in words.
KeyDoc key_doc(std::string_view table_path, std::string_view key, Type type, bool required,
               double min, double max, std::string_view fallback, std::string_view default_note,
               std::string_view meaning);

// Every row of `table` and, depth first, of the tables its rows hold, in walking order.
template <typename T>
void describe(const Table<T>& table, std::string_view path, std::vector<KeyDoc>& out) {
    for (const Item<T>& item : table.items) {
        out.push_back(key_doc(path, item.key, item.type, item.required, item.min, item.max,
                              item.fallback, item.default_note, item.meaning));
        if (item.nested) item.nested(std::string(out.back().path), out);
    }
}

// describe() as a plain function of one table, for Item::nested.
template <const auto& table>
void describe_rows(std::string_view path, std::vector<KeyDoc>& out) {
    describe(table, path, out);
}

template <typename T>
void walk(const Table<T>& table, const Value& value, T& out, Context& ctx) {
    for (const Value& member : value.items) {
        auto is_member = [&](const Item<T>& item) { return item.key == member.key; };
        if (std::none_of(table.items.begin(), table.items.end(), is_member)) {
            std::vector<std::string_view> known;
            for (const Item<T>& item : table.items)
                known.push_back(item.key);
            ctx.unknown_key(member, known);
        }
    }
    ctx.enter(value);
    for (const Item<T>& item : table.items) {
        if (const Value* given = value.member(item.key)) {
            if (ctx.accepts(*given, item.type, item.min, item.max)) item.store(out, *given, ctx);
        } else if (item.required) {
            ctx.missing_key(value, item.key, item.type);
        } else if (!item.fallback.empty()) {
            Value fallback = parse_literal(item.fallback, child_path(value.path, item.key));
            if (ctx.accepts(fallback, item.type, item.min, item.max))
                item.store(out, fallback, ctx);
        }
    }
    if (table.finish) table.finish(out, value, ctx);
    ctx.leave();
}

}  // namespace nolb::config
