// Wire-name parsing for untrusted input and the load-time name helpers.
#include "dns/name.hpp"

#include "util/ldns.hpp"

#include <cctype>
#include <cstdlib>
#include <memory>

namespace nolb::dns {

void skip_name(Reader& reader) {
    std::size_t total = 0;
    for (;;) {
        const std::size_t at = reader.pos();
        const std::uint8_t len = reader.u8();
        if (reader.failed()) return;
        if (len == 0) return;
        switch (len & 0xc0) {
            case 0x00:
                total += len + 1u;
                if (total + 1 > kMaxNameSize) return reader.fail();
                reader.skip(len);
                if (reader.failed()) return;
                break;
            case 0xc0: {
                const std::uint16_t target =
                    static_cast<std::uint16_t>(((len & 0x3f) << 8) | reader.u8());
                if (reader.failed() || target >= at) return reader.fail();
                return;
            }
            default:  // 0x40 extended and 0x80 reserved label types
                return reader.fail();
        }
    }
}

bool read_name(Reader& reader, std::string& out) {
    out.clear();
    Reader at = reader;  // follows pointers; `reader` stays where the name appears
    bool jumped = false;
    for (;;) {
        const std::size_t label_at = at.pos();
        const std::uint8_t len = at.u8();
        if (at.failed()) break;
        if (len == 0) {
            out.push_back('\0');
            if (!jumped) reader = at;
            return true;
        }
        if ((len & 0xc0) == 0xc0) {
            const std::size_t target = static_cast<std::size_t>(((len & 0x3f) << 8) | at.u8());
            if (at.failed() || target >= label_at) break;  // backwards only: no loops
            if (!jumped) reader = at;
            jumped = true;
            at = Reader(at.data(), at.size(), target);
            continue;
        }
        if ((len & 0xc0) != 0 || out.size() + 1 + len + 1 > kMaxNameSize) break;
        out.push_back(static_cast<char>(len));
        for (std::uint8_t i = 0; i < len; ++i)
            out.push_back(static_cast<char>(lower(at.u8())));
        if (at.failed()) break;
    }
    reader.fail();
    return false;
}

bool wire_from_text(std::string_view text, const WireName& origin, WireName& out,
                    std::string& error) {
    if (text.empty()) {
        error = "empty name";
        return false;
    }
    if (text == "@") {
        out = origin;
        return true;
    }
    // ldns reads a C string: a NUL would silently end the name early ("www\0.evil" -> "www").
    if (text.find('\0') != std::string_view::npos) {
        error = "NUL byte in the name (write it as \\000)";
        return false;
    }
    std::string s(text);
    ldns_rdf* raw = nullptr;
    if (ldns_str2rdf_dname(&raw, s.c_str()) != LDNS_STATUS_OK || raw == nullptr) {
        error = "malformed name (labels must be 1-63 octets, the name at most 255)";
        return false;
    }
    std::unique_ptr<ldns_rdf, decltype(&ldns_rdf_deep_free)> rdf(raw, ldns_rdf_deep_free);
    WireName name(reinterpret_cast<const char*>(ldns_rdf_data(rdf.get())),
                  ldns_rdf_size(rdf.get()));
    if (text.back() != '.' || (text.size() >= 2 && text[text.size() - 2] == '\\')) {
        // Relative: drop the root label and append the origin.
        if (!name.empty() && name.back() == '\0') name.pop_back();
        name += origin;
        if (name.size() > kMaxNameSize) {
            error = "name longer than 255 octets";
            return false;
        }
    }
    out = std::move(name);
    return true;
}

std::string text_from_wire(const WireName& name) {
    ldns_rdf* rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, name.size(), name.data());
    if (!rdf) return "?";
    char* s = ldns_rdf2str(rdf);
    std::string out = s ? s : "?";
    free(s);
    ldns_rdf_deep_free(rdf);
    return out;
}

WireName lowered(WireName name) {
    for (auto& c : name)
        c = static_cast<char>(lower(static_cast<std::uint8_t>(c)));
    return name;
}

WireName parent_of(const WireName& name) {
    if (name.empty() || name[0] == '\0') return name;
    return name.substr(static_cast<std::uint8_t>(name[0]) + 1u);
}

std::size_t label_count(const WireName& name) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < name.size() && name[i] != '\0';
         i += static_cast<std::uint8_t>(name[i]) + 1u)
        ++n;
    return n;
}

bool is_subdomain(const WireName& name, const WireName& ancestor) {
    if (ancestor.size() > name.size()) return false;
    // Walk label boundaries of `name` until the remaining suffix has ancestor's length.
    std::size_t i = 0;
    while (name.size() - i > ancestor.size())
        i += static_cast<std::uint8_t>(name[i]) + 1u;
    if (name.size() - i != ancestor.size()) return false;
    for (std::size_t k = 0; k < ancestor.size(); ++k)
        if (lower(static_cast<std::uint8_t>(name[i + k])) !=
            lower(static_cast<std::uint8_t>(ancestor[k])))
            return false;
    return true;
}

std::string type_name(std::uint16_t type) {
    char* text = ldns_rr_type2str(static_cast<ldns_rr_type>(type));
    if (!text) return "TYPE" + std::to_string(type);
    std::string out(text);
    std::free(text);
    return out;
}

std::optional<std::uint16_t> type_from_text(std::string_view text) {
    std::string upper(text);
    for (char& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // ldns reads TYPEnnn with atoi, unchecked: parse it here.
    if (upper.starts_with("TYPE")) {
        const std::string_view digits = std::string_view(upper).substr(4);
        if (digits.empty() || digits.size() > 5) return std::nullopt;
        std::uint32_t value = 0;
        for (char c : digits) {
            if (c < '0' || c > '9') return std::nullopt;
            value = value * 10 + static_cast<std::uint32_t>(c - '0');
        }
        if (value > 0xffff) return std::nullopt;
        return static_cast<std::uint16_t>(value);
    }
    const auto type = static_cast<std::uint16_t>(ldns_get_rr_type_by_name(upper.c_str()));
    if (type == 0) return std::nullopt;
    return type;
}

}  // namespace nolb::dns
