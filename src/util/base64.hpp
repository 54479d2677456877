// Base64 (RFC 4648 §4) to bytes, for secrets read from files: OpenSSL's decoder, with the
// whitespace and line breaks that key files hold skipped and the padding checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace nolb::util {

// nullopt when `text` (whitespace aside) is not base64 with correct padding.
std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text);

}  // namespace nolb::util
