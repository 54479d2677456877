// decode_base64 on RFC 4648's test vectors, with line breaks and spaces as key files hold them,
// and what it refuses: bad characters, wrong lengths, padding in the middle.
#include "util/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace nolb::util {
namespace {

std::string text(const std::vector<std::uint8_t>& bytes) {
    return std::string(bytes.begin(), bytes.end());
}

TEST(Base64, Rfc4648Vectors) {
    const std::pair<const char*, const char*> vectors[] = {
        {"Zg==", "f"},        {"Zm8=", "fo"},        {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"}, {"Zm9vYmFy", "foobar"}};
    for (const auto& [encoded, decoded] : vectors) {
        auto out = decode_base64(encoded);
        ASSERT_TRUE(out) << encoded;
        EXPECT_EQ(text(*out), decoded);
    }
}

TEST(Base64, WhitespaceIsSkipped) {
    auto out = decode_base64("  Zm9v\n YmFy\r\n");
    ASSERT_TRUE(out);
    EXPECT_EQ(text(*out), "foobar");
}

TEST(Base64, MalformedIsRefused) {
    for (const char* bad : {"", "Zm9", "Zm9v!mFy", "Zg=a", "Z===", "Zm==Zm9v", "===="})
        EXPECT_FALSE(decode_base64(bad)) << bad;
}

}  // namespace
}  // namespace nolb::util
