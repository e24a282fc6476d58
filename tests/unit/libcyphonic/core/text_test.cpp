// Text helpers: metric-label names and JSON string literals.
#include "cyphonic/core/text.hpp"

#include <gtest/gtest.h>

namespace cyphonic {
namespace {

TEST(Text, SnakeCase) {
    EXPECT_EQ(snake_case("LengthMismatch"), "length_mismatch");
    EXPECT_EQ(snake_case("Ok"), "ok");
}

TEST(Text, JsonStringEscapesWhatJsonRequires) {
    EXPECT_EQ(json_string(""), "\"\"");
    EXPECT_EQ(json_string("gn1.example.net"), "\"gn1.example.net\"");
    EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(json_string(std::string("\n\x01\x1f", 3)), "\"\\u000a\\u0001\\u001f\"");
    EXPECT_EQ(json_string("\xc3\xa9"), "\"\xc3\xa9\"");  // UTF-8 passes unchanged
}

}  // namespace
}  // namespace cyphonic
