#include "cyphonic/core/bytes.hpp"

#include <array>

#include <gtest/gtest.h>

namespace cyphonic {
namespace {

TEST(Hex, RoundTripsEveryByteValue) {
    Bytes all(256);
    for (std::size_t i = 0; i < all.size(); ++i) {
        all[i] = static_cast<std::byte>(i);
    }
    const std::string hex = to_hex(all);
    EXPECT_EQ(hex.size(), 512U);
    EXPECT_EQ(hex.substr(0, 6), "000102");
    EXPECT_EQ(hex.substr(506), "fdfeff");
    EXPECT_EQ(from_hex(hex), all);
}

TEST(Hex, AcceptsUpperCaseAndWhiteSpace) {
    EXPECT_EQ(from_hex("AB cd\n\tEf\r"),
              (Bytes{std::byte{0xab}, std::byte{0xcd}, std::byte{0xef}}));
    EXPECT_EQ(from_hex(""), Bytes{});
    EXPECT_EQ(from_hex(" \n"), Bytes{});
}

TEST(Hex, RejectsAnOddNumberOfDigits) {
    for (const char* bad : {"0", "abc", "ab c", "0 0 0"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(from_hex(bad).has_value());
    }
}

TEST(Hex, RejectsCharactersOtherThanHexDigitsAndWhiteSpace) {
    for (int c = 0; c < 256; ++c) {
        const char ch = static_cast<char>(c);
        const bool hex =
            (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
        const bool space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
        if (hex || space) {
            continue;
        }
        SCOPED_TRACE(c);
        EXPECT_FALSE(from_hex(std::string("a") + ch + "b").has_value());
    }
    EXPECT_FALSE(from_hex("0x00").has_value());
}

TEST(FixedOffsetLoads, ReadBigEndian) {
    const std::array<std::byte, 7> raw{std::byte{0x01}, std::byte{0x02}, std::byte{0x03},
                                       std::byte{0x04}, std::byte{0x05}, std::byte{0x06},
                                       std::byte{0xFF}};
    const std::span<const std::byte, 7> view(raw);
    EXPECT_EQ(load_u8<6>(view), 0xFF);
    EXPECT_EQ(load_be16<0>(view), 0x0102);
    EXPECT_EQ(load_be32<2>(view), 0x03040506U);
    EXPECT_EQ(load_be32<3>(view), 0x040506FFU);
}

TEST(FixedOffsetStores, WriteBigEndian) {
    std::array<std::byte, 7> raw{};
    const std::span<std::byte, 7> view(raw);
    store_u8<0>(view, 0xAB);
    store_be16<1>(view, 0xCDEF);
    store_be32<3>(view, 0x01020304);
    EXPECT_EQ(to_hex(raw), "abcdef01020304");
}

TEST(ByteReader, NeverReadsPastTheEnd) {
    const auto data = *from_hex("0102030405");
    ByteReader r(data);
    EXPECT_EQ(r.u8(), 0x01);
    EXPECT_EQ(r.be16(), 0x0203);
    EXPECT_FALSE(r.be32().has_value());
    EXPECT_EQ(r.position(), 3U);  // a failed read consumes nothing
    EXPECT_FALSE(r.take(3).has_value());
    const auto rest = r.take(2);
    ASSERT_TRUE(rest.has_value());
    EXPECT_EQ(to_hex(*rest), "0405");
    EXPECT_EQ(r.remaining(), 0U);
    EXPECT_FALSE(r.u8().has_value());
    EXPECT_TRUE(r.take(0).has_value());
    EXPECT_FALSE(r.take(static_cast<std::size_t>(-1)).has_value());
}

TEST(ByteWriter, WritesFrontToBack) {
    std::array<std::byte, 12> out{};
    ByteWriter w(out);
    w.u8(0x01);
    w.be16(0x0203);
    w.be32(0x04050607);
    w.zeros(2);
    w.bytes(*from_hex("ffee"));
    w.bytes({});
    EXPECT_FALSE(w.failed());
    EXPECT_EQ(w.position(), 11U);
    EXPECT_EQ(to_hex(out), "010203040506070000ffee00");
}

TEST(AsBytes, ViewsTheCharacters) {
    EXPECT_EQ(to_hex(as_bytes("AZ")), "415a");
    EXPECT_EQ(to_string(as_bytes("text")), "text");
}

}  // namespace
}  // namespace cyphonic
