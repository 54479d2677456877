// toml++ to config::Value: the only place the loader touches the TOML library. Table members are
// put back in the order they were written (toml++ keeps them sorted by key), so that anything
// walking the tree meets them as the operator does.
#include "config/document.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>

#include "config/config.hpp"

namespace nolb::config {

namespace {

Position position_of(const toml::source_region& region) {
    return {region.begin.line, region.begin.column};
}

bool is_bare_key(std::string_view key) {
    if (key.empty()) return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

bool earlier(const Position& a, const Position& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
}

// A table's members in the order they were written. Most tables are small: an insertion sort
// there needs no buffer (std::stable_sort takes one per call, and a large configuration has
// tens of thousands of tables).
void sort_by_key_position(std::vector<Value>& items) {
    auto by_key = [](const Value& a, const Value& b) { return earlier(a.key_at, b.key_at); };
    if (items.size() > 16) {
        std::stable_sort(items.begin(), items.end(), by_key);
        return;
    }
    for (auto it = items.begin(); it != items.end(); ++it)
        std::rotate(std::upper_bound(items.begin(), it, *it, by_key), it, it + 1);
}

Value convert(const toml::node& node, std::string path, std::string key, Position key_at);

// A table's members, converted and put back in the order they were written.
void convert_table(const toml::table& table, Value& v) {
    v.kind = Value::Kind::table;
    v.kind_name = "a table";
    v.items.reserve(table.size());
    for (auto&& [k, child] : table) {
        v.items.push_back(convert(child, child_path(v.path, k.str()), std::string(k.str()),
                                  position_of(k.source())));
    }
    sort_by_key_position(v.items);
}

// An array's elements, each at "path[index]".
void convert_array(const toml::array& array, Value& v) {
    v.kind = Value::Kind::array;
    v.kind_name = "an array";
    v.items.reserve(array.size());
    std::size_t index = 0;
    for (const toml::node& element : array) {
        v.items.push_back(
            convert(element, v.path + "[" + std::to_string(index++) + "]", "", Position{}));
    }
}

// A value that holds no other: its kind, the name messages give it, and what it holds.
void convert_scalar(const toml::node& node, Value& v) {
    switch (node.type()) {
        case toml::node_type::string:
            v.kind = Value::Kind::string;
            v.kind_name = "a string";
            v.string = node.as_string()->get();
            break;
        case toml::node_type::integer:
            v.kind = Value::Kind::integer;
            v.kind_name = "an integer";
            v.integer = node.as_integer()->get();
            break;
        case toml::node_type::floating_point:
            v.kind = Value::Kind::floating;
            v.kind_name = "a float";
            v.floating = node.as_floating_point()->get();
            break;
        case toml::node_type::boolean:
            v.kind = Value::Kind::boolean;
            v.kind_name = "a boolean";
            v.boolean = node.as_boolean()->get();
            break;
        case toml::node_type::date:
            v.kind = Value::Kind::other;
            v.kind_name = "a date";
            break;
        case toml::node_type::time:
            v.kind = Value::Kind::other;
            v.kind_name = "a time";
            break;
        default:
            v.kind = Value::Kind::other;
            v.kind_name = "a date-time";
            break;
    }
}

Value convert(const toml::node& node, std::string path, std::string key, Position key_at) {
    Value v;
    v.path = std::move(path);
    v.key = std::move(key);
    v.at = position_of(node.source());
    v.key_at = key_at.line != 0 ? key_at : v.at;
    if (const toml::table* table = node.as_table()) {
        convert_table(*table, v);
    } else if (const toml::array* array = node.as_array()) {
        convert_array(*array, v);
    } else {
        convert_scalar(node, v);
    }
    return v;
}

void forget_positions(Value& value) {
    value.at = value.key_at = Position{};
    for (Value& item : value.items)
        forget_positions(item);
}

// Gives a parsed literal, and everything in it, the paths it would have at `path`.
void set_path(Value& value, std::string path) {
    value.path = std::move(path);
    std::size_t index = 0;
    for (Value& item : value.items) {
        set_path(item, value.kind == Value::Kind::array
                           ? value.path + "[" + std::to_string(index++) + "]"
                           : child_path(value.path, item.key));
    }
}

}  // namespace

const Value* Value::member(std::string_view name) const {
    if (kind != Kind::table) return nullptr;
    for (const Value& item : items) {
        if (item.key == name) return &item;
    }
    return nullptr;
}

std::string child_path(std::string_view parent, std::string_view key) {
    std::string out(parent);
    if (!out.empty()) out += '.';
    if (is_bare_key(key)) {
        out += key;
    } else {
        out += '"';
        for (char c : key) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out;
}

Value parse_document(std::string_view text, const std::string& file) {
    try {
        toml::table root = toml::parse(text, std::string_view(file));
        return convert(root, "", "", Position{});
    } catch (const toml::parse_error& e) {
        Source where{file, e.source().begin.line, e.source().begin.column};
        throw Error({where.to_string() + ": " + std::string(e.description())});
    }
}

Value parse_literal(std::string_view literal, const std::string& path) {
    // The schema's defaults are a few literals applied to every table that leaves them out:
    // each is parsed once.
    static std::mutex mutex;
    static std::map<std::string, Value, std::less<>> parsed;
    std::unique_lock lock(mutex);
    auto it = parsed.find(literal);
    if (it == parsed.end()) {
        std::string text = "v = ";
        text += literal;
        try {
            toml::table root = toml::parse(text);
            Value v = convert(*root.get("v"), "", "", Position{});
            forget_positions(v);  // a default has no place in the file
            it = parsed.emplace(std::string(literal), std::move(v)).first;
        } catch (const toml::parse_error& e) {
            throw std::logic_error("config schema: bad default " + std::string(literal) + ": " +
                                   std::string(e.description()));
        }
    }
    Value v = it->second;
    lock.unlock();
    set_path(v, path);
    return v;
}

}  // namespace nolb::config
