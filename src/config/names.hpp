// Domain names as an operator writes them in the config: presentation format (RFC 1035 §5.1),
// with \. and \DDD escapes, absolute when they end with a dot, otherwise relative to a zone
// origin. The loader parses them into labels so that "is this name inside that zone" compares
// labels rather than text, and prints them back in one canonical, lower-case form.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nolb::config {

struct Name {
    std::vector<std::string> labels;  // most specific first; raw octets, A-Z folded to a-z
    bool absolute = false;            // written with the trailing dot (or made so)

    bool is_root() const { return absolute && labels.empty(); }
    // Octets in wire form, the terminating root label included.
    std::size_t wire_length() const;
    // True when this name equals `zone` or lies below it (label-wise, not text-wise).
    bool at_or_below(const Name& zone) const;
    // This relative name completed with `origin`.
    Name under(const Name& origin) const;
    // Presentation form: labels joined with dots, special octets escaped, a trailing dot when
    // absolute, "." for the root.
    std::string to_string() const;
};

inline constexpr std::size_t kMaxLabelOctets = 63;
inline constexpr std::size_t kMaxNameOctets = 255;

// Parses `text` ("www", "www.demo.test.", "a\.b", "\065"); on failure returns nullopt and puts
// the reason in `why` ("label longer than 63 octets").
std::optional<Name> parse_name(std::string_view text, std::string& why);

}  // namespace nolb::config
