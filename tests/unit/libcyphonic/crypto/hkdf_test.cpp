#include "cyphonic/crypto/hkdf.hpp"

#include <gtest/gtest.h>

#include "support/golden.hpp"

#include "cyphonic/core/bytes.hpp"

namespace cyphonic::crypto {
namespace {

using golden::hex;

TEST(HkdfSha256, MatchesRfc5869TestCaseOne) {
    const Bytes ikm = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
    const Bytes salt = hex("000102030405060708090a0b0c");
    const Bytes info = hex("f0f1f2f3f4f5f6f7f8f9");
    Bytes okm(42);
    ASSERT_TRUE(hkdf_sha256(ikm, salt, info, okm).has_value());
    EXPECT_EQ(
        to_hex(okm),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

// PROTOCOL.md §11: the suite 0x0001 key split of K = 00..1f.
TEST(HkdfSha256, SplitsSuiteOneKeyAsInProtocolVectors) {
    const Bytes key = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    Bytes enc(32);
    Bytes mac(32);
    ASSERT_TRUE(hkdf_sha256(key, {}, as_bytes("cyphonic enc"), enc).has_value());
    ASSERT_TRUE(hkdf_sha256(key, {}, as_bytes("cyphonic mac"), mac).has_value());
    EXPECT_EQ(to_hex(enc), "d883ca7af94f6129b4e304f1b9db2f917b0a7c7c2bd3d56769dada7bf5328d7e");
    EXPECT_EQ(to_hex(mac), "dd0ec97ad02a52f48cabb574fe71e4e5e73288ada9a1485054717b90b8aad938");
}

// An absent salt is HashLen zero bytes (RFC 5869 §2.2): both must give the same output.
TEST(HkdfSha256, TreatsEmptySaltAsZeroSalt) {
    const Bytes ikm = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
    const Bytes zeros(32);
    Bytes a(42);
    Bytes b(42);
    ASSERT_TRUE(hkdf_sha256(ikm, {}, {}, a).has_value());
    ASSERT_TRUE(hkdf_sha256(ikm, zeros, {}, b).has_value());
    EXPECT_EQ(a, b);
    // RFC 5869 test case 3 (no salt, no info).
    EXPECT_EQ(
        to_hex(a),
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfSha256, RejectsEmptyAndOverlongOutput) {
    const Bytes ikm(32);
    Bytes empty;
    EXPECT_FALSE(hkdf_sha256(ikm, {}, {}, empty).has_value());
    Bytes too_long(std::size_t{255} * 32 + 1);
    EXPECT_FALSE(hkdf_sha256(ikm, {}, {}, too_long).has_value());
    Bytes longest(std::size_t{255} * 32);
    EXPECT_TRUE(hkdf_sha256(ikm, {}, {}, longest).has_value());
}

}  // namespace
}  // namespace cyphonic::crypto
