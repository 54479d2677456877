// Presentation-format domain names: reading with escapes, label and length limits, and one
// canonical way of printing them back (lower case, specials escaped the way zone files expect).
#include "config/names.hpp"

#include <algorithm>

namespace nolb::config {

namespace {

char fold(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Octets a zone-file tokenizer would take for syntax; they are written with a backslash.
bool needs_backslash(char c) {
    switch (c) {
        case '.':
        case '\\':
        case '"':
        case '(':
        case ')':
        case ';':
        case '@':
        case '$':
            return true;
        default:
            return false;
    }
}

// The octet the escape at text[i] stands for (\X is X, \DDD is the octet DDD); i is left on
// the escape's last character.
std::optional<char> read_escape(std::string_view text, std::size_t& i, std::string& why) {
    if (i + 1 == text.size()) {
        why = "name ends with a lone backslash";
        return std::nullopt;
    }
    char next = text[i + 1];
    if (!is_digit(next)) {
        i += 1;
        return next;
    }
    if (i + 3 >= text.size() || !is_digit(text[i + 2]) || !is_digit(text[i + 3])) {
        why = "\\DDD escape needs three digits";
        return std::nullopt;
    }
    int value = (next - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
    if (value > 255) {
        why = "\\DDD escape above 255";
        return std::nullopt;
    }
    i += 3;
    return static_cast<char>(value);
}

// The label octet written at text[i], a dot aside: an escape or a printable character.
std::optional<char> read_octet(std::string_view text, std::size_t& i, std::string& why) {
    char c = text[i];
    if (c == '\\') return read_escape(text, i, why);
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
        why = "character " + std::to_string(static_cast<unsigned char>(c)) +
              " must be written as a \\DDD escape";
        return std::nullopt;
    }
    return c;
}

}  // namespace

std::size_t Name::wire_length() const {
    std::size_t n = 1;  // the root label
    for (const std::string& label : labels)
        n += 1 + label.size();
    return n;
}

bool Name::at_or_below(const Name& zone) const {
    if (absolute != zone.absolute || labels.size() < zone.labels.size()) return false;
    return std::equal(zone.labels.rbegin(), zone.labels.rend(), labels.rbegin());
}

Name Name::under(const Name& origin) const {
    Name out = *this;
    out.labels.insert(out.labels.end(), origin.labels.begin(), origin.labels.end());
    out.absolute = origin.absolute;
    return out;
}

std::string Name::to_string() const {
    if (labels.empty()) return absolute ? "." : "";
    std::string out;
    for (const std::string& label : labels) {
        for (char c : label) {
            auto octet = static_cast<unsigned char>(c);
            if (octet < 0x21 || octet > 0x7e) {
                out += '\\';
                out += static_cast<char>('0' + octet / 100);
                out += static_cast<char>('0' + octet / 10 % 10);
                out += static_cast<char>('0' + octet % 10);
            } else {
                if (needs_backslash(c)) out += '\\';
                out += c;
            }
        }
        out += '.';
    }
    if (!absolute) out.pop_back();
    return out;
}

std::optional<Name> parse_name(std::string_view text, std::string& why) {
    if (text.empty()) {
        why = "empty name";
        return std::nullopt;
    }
    Name name;
    if (text == ".") {
        name.absolute = true;
        return name;
    }
    std::string label;
    bool label_open = false;  // something (possibly an escape) was read since the last dot
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '.') {
            if (!label_open) {
                why = "empty label";
                return std::nullopt;
            }
            name.labels.push_back(std::move(label));
            label.clear();
            label_open = false;
            continue;
        }
        std::optional<char> octet = read_octet(text, i, why);
        if (!octet) return std::nullopt;
        label += fold(*octet);
        label_open = true;
        if (label.size() > kMaxLabelOctets) {
            why = "label longer than 63 octets";
            return std::nullopt;
        }
    }
    if (label_open) {
        name.labels.push_back(std::move(label));
    } else {
        name.absolute = true;  // the text ended with an (unescaped) dot
    }
    if (name.wire_length() > kMaxNameOctets) {
        why = "name longer than 255 octets";
        return std::nullopt;
    }
    return name;
}

}  // namespace nolb::config
