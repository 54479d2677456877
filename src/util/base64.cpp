#include "util/base64.hpp"

#include <openssl/evp.h>

#include <string>

namespace nolb::util {

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text) {
    std::string compact;
    for (char c : text)
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') compact.push_back(c);
    if (compact.empty() || compact.size() % 4 != 0) return std::nullopt;
    std::size_t padding = 0;
    while (padding < 2 && compact[compact.size() - 1 - padding] == '=')
        ++padding;
    if (compact.find('=') < compact.size() - padding) return std::nullopt;
    std::vector<std::uint8_t> out(compact.size() / 4 * 3);
    const int n =
        EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(compact.data()),
                        static_cast<int>(compact.size()));
    if (n < 0) return std::nullopt;
    out.resize(static_cast<std::size_t>(n) - padding);  // EVP counts the padding as zeros
    return out;
}

}  // namespace nolb::util
