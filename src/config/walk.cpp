// The checks every row shares (types, ranges, required and unknown keys, repeats) and the
// collection of problems, so that the schema rows only say what is particular to a key.
#include "config/walk.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace nolb::config {

namespace {

std::string number_text(double value) {
    if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
        return std::to_string(static_cast<long long>(value));
    }
    std::ostringstream out;
    out << value;
    return out.str();
}

std::string value_text(const Value& value) {
    return value.kind == Value::Kind::integer ? std::to_string(value.integer)
                                              : number_text(value.floating);
}

// "zone[0].ns[1]" -> "zone.ns": the name a [[table]] header uses.
std::string header_name(std::string_view path) {
    std::string out;
    bool in_index = false;
    for (char c : path) {
        if (c == '[') in_index = true;
        if (!in_index) out += c;
        if (c == ']') in_index = false;
    }
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The steps of Context::accepts, one per kind of value a row takes. Each reports what it rejects.

bool wrong_type(Context& ctx, const Value& value, const std::string& expected) {
    ctx.error(value, "expected " + expected + ", found " + value.kind_name);
    return false;
}

bool in_range(Context& ctx, const Value& value, double min, double max) {
    double number = value.number();
    if (number >= min && number <= max) return true;
    std::string range = max == kUnlimited ? "at least " + number_text(min)
                                          : number_text(min) + ".." + number_text(max);
    ctx.error(value, value_text(value) + " is out of range (" + range + ")");
    return false;
}

// An integer or a float in min..max; `expected` names it in the message for any other type.
bool accepts_number(Context& ctx, const Value& value, const std::string& expected, double min,
                    double max) {
    if (value.kind != Value::Kind::integer && value.kind != Value::Kind::floating) {
        return wrong_type(ctx, value, expected);
    }
    return in_range(ctx, value, min, max);
}

bool accepts_integer_or_auto(Context& ctx, const Value& value, double min, double max) {
    if (value.kind == Value::Kind::string) {
        if (value.string == "auto") return true;
        ctx.error(value, in_quotes(value.string) + " is neither \"auto\" nor an integer");
        return false;
    }
    if (value.kind != Value::Kind::integer) return wrong_type(ctx, value, "an integer or \"auto\"");
    return in_range(ctx, value, min, max);
}

// A string of min..max octets.
bool accepts_string(Context& ctx, const Value& value, double min, double max) {
    if (value.kind != Value::Kind::string) return wrong_type(ctx, value, "a string");
    double size = static_cast<double>(value.string.size());
    if (size < min) {
        ctx.error(value, "must not be empty");
        return false;
    }
    if (size > max) {
        ctx.error(value, "longer than " + number_text(max) + " octets");
        return false;
    }
    return true;
}

// An array with at least `min` elements.
bool has_enough_items(Context& ctx, const Value& value, double min) {
    if (static_cast<double>(value.items.size()) < min) {
        ctx.error(value, "must not be empty");
        return false;
    }
    return true;
}

// Every element of the array is of `kind`; each one that is not is reported.
bool all_items_are(Context& ctx, const Value& value, Value::Kind kind, std::string_view name) {
    bool ok = true;
    for (const Value& element : value.items) {
        if (element.kind != kind) {
            ctx.error(element, "expected " + std::string(name) + ", found " + element.kind_name);
            ok = false;
        }
    }
    return ok;
}

bool accepts_strings(Context& ctx, const Value& value, double min) {
    if (value.kind != Value::Kind::array) return wrong_type(ctx, value, "an array of strings");
    bool ok = all_items_are(ctx, value, Value::Kind::string, "a string");
    if (!has_enough_items(ctx, value, min)) ok = false;
    return ok;
}

// An array of at least `min` tables, written [[name]].
bool accepts_tables(Context& ctx, const Value& value, double min) {
    std::string header = "[[" + header_name(value.path) + "]]";
    if (value.kind != Value::Kind::array) {
        return wrong_type(ctx, value, "an array of tables (" + header + ")");
    }
    bool ok = all_items_are(ctx, value, Value::Kind::table, "a table");
    if (value.items.size() < static_cast<std::size_t>(min)) {
        ctx.error(value, (min == 1 ? "at least one " : "at least " + number_text(min) + " ") +
                             header + " is required");
        ok = false;
    }
    return ok;
}

std::string_view type_name(Type type) {
    switch (type) {
        case Type::boolean:
            return "boolean";
        case Type::integer:
            return "integer";
        case Type::seconds:
            return "seconds";
        case Type::number:
            return "number";
        case Type::string:
            return "string";
        case Type::strings:
            return "array of strings";
        case Type::array:
            return "array";
        case Type::integer_or_auto:
            return "integer or \"auto\"";
        case Type::table:
            return "table";
        case Type::string_or_table:
            return "string or table";
        case Type::tables:
            return "array of tables";
    }
    return "value";
}

// The bounds Context::accepts enforces, as its messages word them.
std::string range_text(Type type, double min, double max) {
    switch (type) {
        case Type::integer:
        case Type::seconds:
        case Type::number:
        case Type::integer_or_auto:
            if (max == kUnlimited) return "at least " + number_text(min);
            return number_text(min) + ".." + number_text(max);
        case Type::string:
            if (max == kUnlimited) return min > 0 ? "not empty" : "";
            if (min > 0) return number_text(min) + ".." + number_text(max) + " octets";
            return "at most " + number_text(max) + " octets";
        case Type::strings:
        case Type::array:
        case Type::tables:
            return min > 0 ? "at least " + number_text(min) : "";
        case Type::boolean:
        case Type::table:
        case Type::string_or_table:  // the string is a keyword; its table has its own rows
            break;
    }
    return "";
}

}  // namespace

KeyDoc key_doc(std::string_view table_path, std::string_view key, Type type, bool required,
               double min, double max, std::string_view fallback, std::string_view default_note,
               std::string_view meaning) {
    KeyDoc doc;
    doc.table = table_path;
    doc.key = key;
    doc.path = table_path.empty() ? doc.key : doc.table + "." + doc.key;
    if (type == Type::tables) doc.path += "[]";
    doc.type = type_name(type);
    doc.required = required;
    doc.range = range_text(type, min, max);
    doc.fallback = fallback;
    doc.default_note = default_note;
    doc.meaning = meaning;
    return doc;
}

std::string in_quotes(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (char c : text) {
        auto octet = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (octet < 0x20 || octet == 0x7f) {
            out += "\\x";
            out += kHex[octet >> 4];
            out += kHex[octet & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

Context::Context(std::string file, std::filesystem::path folder)
    : file_(std::move(file)), folder_(std::move(folder)) {}

void Context::error(const Value& value, std::string_view message) {
    error(value.at, value.path, message);
}

void Context::error(Position at, std::string_view path, std::string_view message) {
    std::string text = source(at).to_string();
    text += ": ";
    if (!path.empty()) {
        text += path;
        text += ": ";
    }
    text += message;
    problems_.push_back({at, std::move(text)});
}

bool Context::accepts(const Value& value, Type type, double min, double max) {
    using Kind = Value::Kind;
    switch (type) {
        case Type::boolean:
            return value.kind == Kind::boolean || wrong_type(*this, value, "a boolean");
        case Type::integer:
            if (value.kind != Kind::integer) return wrong_type(*this, value, "an integer");
            return in_range(*this, value, min, max);
        case Type::seconds:
            return accepts_number(*this, value, "a number of seconds", min, max);
        case Type::number:
            return accepts_number(*this, value, "a number", min, max);
        case Type::integer_or_auto:
            return accepts_integer_or_auto(*this, value, min, max);
        case Type::string_or_table:
            if (value.kind == Kind::table) return true;
            if (value.kind != Kind::string) {
                return wrong_type(*this, value,
                                  "a string or a table ([" + header_name(value.path) + "])");
            }
            return accepts_string(*this, value, min, max);
        case Type::string:
            return accepts_string(*this, value, min, max);
        case Type::strings:
            return accepts_strings(*this, value, min);
        case Type::array:
            if (value.kind != Kind::array) return wrong_type(*this, value, "an array");
            return has_enough_items(*this, value, min);
        case Type::table:
            if (value.kind != Kind::table) {
                return wrong_type(*this, value, "a table ([" + header_name(value.path) + "])");
            }
            return true;
        case Type::tables:
            return accepts_tables(*this, value, min);
    }
    return false;
}

void Context::unknown_key(const Value& member, const std::vector<std::string_view>& known) {
    std::string_view best;
    std::size_t best_distance = 3;  // suggest only near misses
    for (std::string_view key : known) {
        std::size_t distance = edit_distance(member.key, key);
        if (distance < best_distance && distance < member.key.size()) {
            best = key;
            best_distance = distance;
        }
    }
    std::string message = "unknown key";
    if (!best.empty()) {
        message.append(" (did you mean \"").append(best).append("\"?)");
    } else {
        message += " (expected one of:";
        for (std::string_view key : known)
            message.append(" ").append(key);
        message += ")";
    }
    error(member.key_at, member.path, message);
}

void Context::missing_key(const Value& table, std::string_view key, Type type) {
    std::string path = child_path(table.path, key);
    if (type == Type::tables) {
        error(table.at, path, "at least one [[" + header_name(path) + "]] is required");
    } else {
        error(table.at, path, "required key is missing");
    }
}

bool Context::unique(const std::string& scope, const std::string& key, const Value& value,
                     std::string_view what) {
    auto [it, inserted] = seen_.try_emplace({scope, key}, value.at);
    if (inserted) return true;
    std::string message(what);
    if (it->second.line != 0) message += " on line " + std::to_string(it->second.line);
    error(value, message);
    return false;
}

std::vector<std::string> Context::take_problems() {
    // Problems without a position (about the file as a whole) go last.
    auto order = [](const Problem& a, const Problem& b) {
        auto line = [](const Problem& p) {
            return p.at.line == 0 ? std::numeric_limits<std::uint32_t>::max() : p.at.line;
        };
        if (line(a) != line(b)) return line(a) < line(b);
        return a.at.column < b.at.column;
    };
    std::stable_sort(problems_.begin(), problems_.end(), order);
    std::vector<std::string> out;
    out.reserve(problems_.size());
    for (Problem& p : problems_)
        out.push_back(std::move(p.text));
    problems_.clear();
    return out;
}

}  // namespace nolb::config
