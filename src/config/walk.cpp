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

}  // namespace

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
    auto wrong_type = [&](const std::string& expected) {
        error(value, "expected " + expected + ", found " + value.kind_name);
        return false;
    };
    auto in_range = [&]() {
        double number = value.number();
        if (number >= min && number <= max) return true;
        std::string range = max == kUnlimited ? "at least " + number_text(min)
                                              : number_text(min) + ".." + number_text(max);
        error(value, value_text(value) + " is out of range (" + range + ")");
        return false;
    };
    switch (type) {
        case Type::boolean:
            return value.kind == Kind::boolean || wrong_type("a boolean");
        case Type::integer:
            if (value.kind != Kind::integer) return wrong_type("an integer");
            return in_range();
        case Type::seconds:
            if (value.kind != Kind::integer && value.kind != Kind::floating) {
                return wrong_type("a number of seconds");
            }
            return in_range();
        case Type::number:
            if (value.kind != Kind::integer && value.kind != Kind::floating) {
                return wrong_type("a number");
            }
            return in_range();
        case Type::integer_or_auto:
            if (value.kind == Kind::string) {
                if (value.string == "auto") return true;
                error(value, in_quotes(value.string) + " is neither \"auto\" nor an integer");
                return false;
            }
            if (value.kind != Kind::integer) return wrong_type("an integer or \"auto\"");
            return in_range();
        case Type::string_or_table:
            if (value.kind == Kind::table) return true;
            if (value.kind != Kind::string) {
                return wrong_type("a string or a table ([" + header_name(value.path) + "])");
            }
            [[fallthrough]];
        case Type::string: {
            if (value.kind != Kind::string) return wrong_type("a string");
            double size = static_cast<double>(value.string.size());
            if (size < min) {
                error(value, "must not be empty");
                return false;
            }
            if (size > max) {
                error(value, "longer than " + number_text(max) + " octets");
                return false;
            }
            return true;
        }
        case Type::strings: {
            if (value.kind != Kind::array) return wrong_type("an array of strings");
            bool ok = true;
            for (const Value& element : value.items) {
                if (element.kind != Kind::string) {
                    error(element, "expected a string, found " + element.kind_name);
                    ok = false;
                }
            }
            if (static_cast<double>(value.items.size()) < min) {
                error(value, "must not be empty");
                ok = false;
            }
            return ok;
        }
        case Type::array:
            if (value.kind != Kind::array) return wrong_type("an array");
            if (static_cast<double>(value.items.size()) < min) {
                error(value, "must not be empty");
                return false;
            }
            return true;
        case Type::table:
            if (value.kind != Kind::table) {
                return wrong_type("a table ([" + header_name(value.path) + "])");
            }
            return true;
        case Type::tables: {
            std::string header = "[[" + header_name(value.path) + "]]";
            if (value.kind != Kind::array) return wrong_type("an array of tables (" + header + ")");
            bool ok = true;
            for (const Value& element : value.items) {
                if (element.kind != Kind::table) {
                    error(element, "expected a table, found " + element.kind_name);
                    ok = false;
                }
            }
            if (value.items.size() < static_cast<std::size_t>(min)) {
                error(value, (min == 1 ? "at least one " : "at least " + number_text(min) + " ") +
                                 header + " is required");
                ok = false;
            }
            return ok;
        }
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
