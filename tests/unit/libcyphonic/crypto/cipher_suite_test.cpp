#include "cyphonic/crypto/cipher_suite.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "support/golden.hpp"

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/crypto/hkdf.hpp"
#include "cyphonic/crypto/random.hpp"

namespace cyphonic::crypto {
namespace {

using golden::hex;
using wire::CipherSuiteId;
using Header = std::array<std::byte, wire::kBaseHeaderSize>;

constexpr std::size_t kLengthOffset = 12;

// --- Helpers --------------------------------------------------------------------------------

Key key_from_hex(std::string_view text) {
    const Bytes raw = hex(text);
    EXPECT_EQ(raw.size(), Key::kSize);
    return Key(std::span(raw).first<Key::kSize>());
}

// PROTOCOL.md §11: K = 00..1f, Temp Key = 20..3f.
Key key_k() {
    return key_from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
}
Key temp_key() {
    return key_from_hex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
}

// The 32 header bytes, written by hand from the hex of §11 (no dependency on the wire codec).
Header header_from_hex(std::string_view text) {
    const Bytes raw = hex(text);
    EXPECT_EQ(raw.size(), wire::kBaseHeaderSize);
    Header h{};
    std::memcpy(h.data(), raw.data(), h.size());
    return h;
}

// A Capsule header (Type 0x10) with Message Length left zero: seal() must fill it in.
Header capsule_header() {
    return header_from_hex(
        "a0b0c0d0 01 00 10 00 00000007 0000 00 00 22222222222222222222222222222222");
}

std::uint16_t message_length_field(ByteView message) {
    return static_cast<std::uint16_t>((static_cast<unsigned>(message[kLengthOffset]) << 8U) |
                                      static_cast<unsigned>(message[kLengthOffset + 1]));
}

void set_message_length_field(MutableByteView message, std::size_t value) {
    message[kLengthOffset] = static_cast<std::byte>((value >> 8U) & 0xFFU);
    message[kLengthOffset + 1] = static_cast<std::byte>(value & 0xFFU);
}

CipherSuite make_suite(CipherSuiteId id, const Key& key) {
    auto suite = CipherSuite::create(id, key);
    if (!suite.has_value()) {
        ADD_FAILURE() << suite.error();
        std::abort();
    }
    return std::move(*suite);
}

Bytes pattern(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = static_cast<std::byte>((i * 7 + 3) & 0xFFU);
    }
    return b;
}

Bytes seal(CipherSuite& suite, const Header& header, ByteView body) {
    Bytes out(suite.sealed_size(body.size()));
    const auto n = suite.seal(header, body, out);
    EXPECT_TRUE(n.has_value());
    EXPECT_EQ(n.value_or(0), out.size());
    return out;
}

Expected<Bytes, OpenError> open(CipherSuite& suite, ByteView message) {
    Bytes plain(CipherSuite::max_plaintext_size(message.size()));
    const auto n = suite.open(message, plain);
    if (!n.has_value()) {
        return fail(n.error());
    }
    plain.resize(*n);
    return plain;
}

Bytes concat(std::initializer_list<ByteView> parts) {
    Bytes out;
    for (const ByteView p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

std::string suite_name(const testing::TestParamInfo<CipherSuiteId>& info) {
    switch (info.param) {
        case CipherSuiteId::AesCbcHmacMd5:
            return "AesCbcHmacMd5";
        case CipherSuiteId::Aes256Gcm:
            return "Aes256Gcm";
        case CipherSuiteId::ChaCha20Poly1305:
            return "ChaCha20Poly1305";
    }
    return "Unknown";
}

// The largest plaintext body whose sealed message fits 65535 bytes:
// 0x0001: 32 + 16 + pad16(n) + 16 ≤ 65535 → pad16(n) ≤ 65456 → n ≤ 65455;
// AEAD:   32 + 12 + n + 16 ≤ 65535 → n ≤ 65475.
std::size_t max_body(CipherSuiteId id) {
    return id == CipherSuiteId::AesCbcHmacMd5 ? 65455 : 65475;
}

// --- PROTOCOL.md §11 test vectors ------------------------------------------------------------

const Bytes kCapsuleBody = hex("0014 0000 000102030405060708090a0b0c0d0e0f10111213");

TEST(CipherSuiteVectors, KeepAliveUnderSuiteOneMatchesHmac) {
    auto suite = make_suite(CipherSuiteId::AesCbcHmacMd5, key_k());
    const Header header = header_from_hex(
        "01020304 01 00 06 00 00000001 0030 00 00 11111111111111111111111111111111");
    const Bytes sealed = seal(suite, header, {});
    EXPECT_EQ(to_hex(sealed), to_hex(header) + "62731073f1a254b40f98a40c3ce0a607");
    const auto opened = open(suite, sealed);
    ASSERT_TRUE(opened.has_value()) << to_string(opened.error());
    EXPECT_TRUE(opened->empty());
}

TEST(CipherSuiteVectors, CapsuleUnderSuiteOneMatchesBytes) {
    auto suite = make_suite(CipherSuiteId::AesCbcHmacMd5, key_k());
    const Bytes iv = hex("808182838485868788898a8b8c8d8e8f");
    Bytes sealed(suite.sealed_size(kCapsuleBody.size()));
    ASSERT_EQ(sealed.size(), 96U);
    const auto n = suite.seal_with_nonce(capsule_header(), kCapsuleBody, iv, sealed);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, 96U);
    const Bytes expected =
        hex("a0b0c0d0 01 00 10 00 00000007 0060 00 00 22222222222222222222222222222222"
            "808182838485868788898a8b8c8d8e8f"
            "50ae6fe9a5dfc490673ecd604ef10ac37ca71dff54deb366335399b534e14b04"
            "a12928e17dcc72be2f930fc405c8d089");
    EXPECT_EQ(to_hex(sealed), to_hex(expected));
    const auto opened = open(suite, expected);
    ASSERT_TRUE(opened.has_value()) << to_string(opened.error());
    EXPECT_EQ(*opened, kCapsuleBody);
}

TEST(CipherSuiteVectors, CapsuleUnderAesGcmMatchesBytes) {
    auto suite = make_suite(CipherSuiteId::Aes256Gcm, key_k());
    const Bytes nonce = hex("404142434445464748494a4b");
    Bytes sealed(suite.sealed_size(kCapsuleBody.size()));
    ASSERT_EQ(sealed.size(), 84U);
    ASSERT_TRUE(suite.seal_with_nonce(capsule_header(), kCapsuleBody, nonce, sealed).has_value());
    const Bytes expected =
        hex("a0b0c0d0 01 00 10 00 00000007 0054 00 00 22222222222222222222222222222222"
            "404142434445464748494a4b"
            "e2adae23263d8500c9c11131936d195075cb5c53a7241d30"
            "71bbd2fd367371737aa025575c0c50d0");
    EXPECT_EQ(to_hex(sealed), to_hex(expected));
    const auto opened = open(suite, expected);
    ASSERT_TRUE(opened.has_value()) << to_string(opened.error());
    EXPECT_EQ(*opened, kCapsuleBody);
}

TEST(CipherSuiteVectors, CapsuleUnderChaCha20Poly1305MatchesBytes) {
    auto suite = make_suite(CipherSuiteId::ChaCha20Poly1305, key_k());
    const Bytes nonce = hex("404142434445464748494a4b");
    Bytes sealed(suite.sealed_size(kCapsuleBody.size()));
    ASSERT_EQ(sealed.size(), 84U);
    ASSERT_TRUE(suite.seal_with_nonce(capsule_header(), kCapsuleBody, nonce, sealed).has_value());
    const Bytes expected =
        hex("a0b0c0d0 01 00 10 00 00000007 0054 00 00 22222222222222222222222222222222"
            "404142434445464748494a4b"
            "f8407c81724bec025ccaf007b3e667c6b8c16d1754ed537c"
            "14379c2e739ca933942d4868b1389563");
    EXPECT_EQ(to_hex(sealed), to_hex(expected));
    const auto opened = open(suite, expected);
    ASSERT_TRUE(opened.has_value()) << to_string(opened.error());
    EXPECT_EQ(*opened, kCapsuleBody);
}

const PathId kPath22 = *PathId::from_hex("22222222222222222222222222222222");

TEST(CipherSuiteVectors, EndKeyWrapUnderSuiteOneMatchesBytes) {
    auto suite = make_suite(CipherSuiteId::AesCbcHmacMd5, temp_key());
    const Bytes iv = hex("606162636465666768696a6b6c6d6e6f");
    const auto wrapped = suite.wrap_key_with_nonce(key_k(), kPath22, WrapRole::Initiator, iv);
    ASSERT_TRUE(wrapped.has_value());
    EXPECT_EQ(suite.wrapped_key_size(), 80U);
    EXPECT_EQ(to_hex(*wrapped),
              "606162636465666768696a6b6c6d6e6f"
              "d2b3c87329251aeb4edefbb54df51f39b1decc074ed41564ff9384dbfc240aa7"
              "e502dd7270732f911018414ee4c1d5ef"
              "c650d4d5a74246540b6adcd1f0695ae6");
    const auto unwrapped = suite.unwrap_key(*wrapped, kPath22, WrapRole::Initiator);
    ASSERT_TRUE(unwrapped.has_value()) << to_string(unwrapped.error());
    EXPECT_EQ(to_hex(unwrapped->view()), to_hex(key_k().view()));
}

TEST(CipherSuiteVectors, EndKeyWrapUnderAesGcmMatchesBytes) {
    auto suite = make_suite(CipherSuiteId::Aes256Gcm, temp_key());
    const Bytes nonce = hex("505152535455565758595a5b");
    const auto wrapped = suite.wrap_key_with_nonce(key_k(), kPath22, WrapRole::Initiator, nonce);
    ASSERT_TRUE(wrapped.has_value());
    EXPECT_EQ(suite.wrapped_key_size(), 60U);
    EXPECT_EQ(to_hex(*wrapped),
              "505152535455565758595a5b"
              "b1a1aa11352a710a3c06001161048da0ccfd5d2c6ce36f17bae5c241ac173e26"
              "4ba0d5e5646913d1acd8c4ef79b18265");
    const auto unwrapped = suite.unwrap_key(*wrapped, kPath22, WrapRole::Initiator);
    ASSERT_TRUE(unwrapped.has_value()) << to_string(unwrapped.error());
    EXPECT_EQ(to_hex(unwrapped->view()), to_hex(key_k().view()));
}

// --- Suite 0x0001 specifics: body-as-sent shape and padding ---------------------------------

// Builds a 0x0001 message by hand: header ‖ IV ‖ AES-256-CBC(enc, IV, padded) (no padding
// added) ‖ HMAC-MD5(mac, everything before). The keys come from HKDF as in §5.1, so the MAC is
// valid whatever `padded` holds.
Bytes hand_sealed_suite_one(const Key& key, ByteView padded) {
    std::array<std::byte, 32> enc{};
    std::array<std::byte, 32> mac{};
    EXPECT_TRUE(hkdf_sha256(key.view(), {}, as_bytes("cyphonic enc"), enc).has_value());
    EXPECT_TRUE(hkdf_sha256(key.view(), {}, as_bytes("cyphonic mac"), mac).has_value());
    const Bytes iv = hex("000102030405060708090a0b0c0d0e0f");

    Bytes ciphertext(padded.size());
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int n1 = 0;
    int n2 = 0;
    auto uc = [](const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); };
    EXPECT_EQ(EVP_EncryptInit_ex2(ctx, EVP_aes_256_cbc(), uc(enc.data()), uc(iv.data()), nullptr),
              1);
    EXPECT_EQ(EVP_CIPHER_CTX_set_padding(ctx, 0), 1);
    EXPECT_EQ(EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(ciphertext.data()), &n1,
                                uc(padded.data()), static_cast<int>(padded.size())),
              1);
    EXPECT_EQ(
        EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(ciphertext.data()) + n1, &n2), 1);
    EVP_CIPHER_CTX_free(ctx);

    Header header = capsule_header();
    set_message_length_field(header, 32 + 16 + padded.size() + 16);
    Bytes message = concat({header, iv, ciphertext});
    std::array<unsigned char, 16> tag{};
    unsigned int tag_size = 0;
    HMAC(EVP_md5(), mac.data(), static_cast<int>(mac.size()), uc(message.data()), message.size(),
         tag.data(), &tag_size);
    EXPECT_EQ(tag_size, 16U);
    const Bytes tag_bytes = concat({std::as_bytes(std::span(tag))});
    message.insert(message.end(), tag_bytes.begin(), tag_bytes.end());
    return message;
}

TEST(CipherSuiteOne, HandSealedMessageWithGoodPaddingOpens) {
    auto suite = make_suite(CipherSuiteId::AesCbcHmacMd5, key_k());
    Bytes padded = pattern(13);
    padded.insert(padded.end(), 3, std::byte{3});
    const auto opened = open(suite, hand_sealed_suite_one(key_k(), padded));
    ASSERT_TRUE(opened.has_value()) << to_string(opened.error());
    EXPECT_EQ(*opened, pattern(13));
}

TEST(CipherSuiteOne, RejectsBadPaddingBehindValidMac) {
    auto suite = make_suite(CipherSuiteId::AesCbcHmacMd5, key_k());
    const std::vector<std::string> bad_last_blocks = {
        "000102030405060708090a0b0c0d0e00",  // pad 0
        "000102030405060708090a0b0c0d0e11",  // pad 17
        "000102030405060708090a0b0c0d0eff",  // pad 255
        "000102030405060708090a0b0c030203",  // pad 3, one byte wrong
        "0f101010101010101010101010101010",  // pad 16, first byte wrong
    };
    for (const auto& last_block : bad_last_blocks) {
        SCOPED_TRACE(last_block);
        const Bytes padded = concat({pattern(16), hex(last_block)});
        const auto opened = open(suite, hand_sealed_suite_one(key_k(), padded));
        ASSERT_FALSE(opened.has_value());
        EXPECT_EQ(opened.error(), OpenError::BadPadding);
    }
}

TEST(CipherSuiteOne, RejectsBodyNotMultipleOfBlockSize) {
    auto suite = make_suite(CipherSuiteId::AesCbcHmacMd5, key_k());
    // body-as-sent sizes that 0x0001 never produces: 1..31 (shorter than IV + one block) and
    // anything not a multiple of 16.
    for (std::size_t body : {1U, 12U, 16U, 31U, 33U, 40U, 47U, 49U, 1375U}) {
        SCOPED_TRACE(body);
        Bytes message = concat({capsule_header(), pattern(body), Bytes(16)});
        set_message_length_field(message, message.size());
        const auto opened = open(suite, message);
        ASSERT_FALSE(opened.has_value());
        EXPECT_EQ(opened.error(), OpenError::BadBodyLength);
    }
}

TEST(CipherSuiteAead, RejectsBodyShorterThanNonce) {
    for (const auto id : {CipherSuiteId::Aes256Gcm, CipherSuiteId::ChaCha20Poly1305}) {
        auto suite = make_suite(id, key_k());
        for (std::size_t body = 0; body < 12; ++body) {
            SCOPED_TRACE(body);
            Bytes message = concat({capsule_header(), pattern(body), Bytes(16)});
            set_message_length_field(message, message.size());
            const auto opened = open(suite, message);
            ASSERT_FALSE(opened.has_value());
            EXPECT_EQ(opened.error(), OpenError::BadBodyLength);
        }
    }
}

// --- Every suite ----------------------------------------------------------------------------

class CipherSuiteTest : public testing::TestWithParam<CipherSuiteId> {
protected:
    CipherSuite suite_ = make_suite(GetParam(), key_k());
};

INSTANTIATE_TEST_SUITE_P(AllSuites, CipherSuiteTest,
                         testing::Values(CipherSuiteId::AesCbcHmacMd5, CipherSuiteId::Aes256Gcm,
                                         CipherSuiteId::ChaCha20Poly1305),
                         suite_name);

TEST_P(CipherSuiteTest, ReportsItsId) {
    EXPECT_EQ(suite_.id(), GetParam());
}

TEST_P(CipherSuiteTest, RoundTripsEveryBodySize) {
    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16},
                                   std::size_t{17}, std::size_t{1360}, max_body(GetParam())}) {
        SCOPED_TRACE(size);
        const Bytes body = pattern(size);
        const Bytes sealed = seal(suite_, capsule_header(), body);
        EXPECT_EQ(message_length_field(sealed), sealed.size());
        EXPECT_LE(sealed.size(), wire::kMaxMessageLength);
        const auto opened = open(suite_, sealed);
        ASSERT_TRUE(opened.has_value()) << to_string(opened.error());
        EXPECT_EQ(*opened, body);
    }
}

TEST_P(CipherSuiteTest, SealedSizeIsExact) {
    const bool cbc = GetParam() == CipherSuiteId::AesCbcHmacMd5;
    for (std::size_t size = 0; size < 100; ++size) {
        SCOPED_TRACE(size);
        const std::size_t expected =
            cbc ? (size == 0 ? std::size_t{48} : 32 + 16 + (size / 16 + 1) * 16 + 16)
                : 32 + 12 + size + 16;
        EXPECT_EQ(suite_.sealed_size(size), expected);
        Bytes out(expected + 7);
        const auto n = suite_.seal(capsule_header(), pattern(size), out);
        ASSERT_TRUE(n.has_value());
        EXPECT_EQ(*n, expected);
        // The plaintext bound holds for what this suite produces.
        EXPECT_GE(CipherSuite::max_plaintext_size(expected), size);
    }
}

// C7: an empty body is 48 bytes under 0x0001, a fresh nonce alone (60 bytes) under AEAD.
TEST_P(CipherSuiteTest, EmptyBodyHasTheSpecifiedLength) {
    const Bytes sealed = seal(suite_, capsule_header(), {});
    EXPECT_EQ(sealed.size(), GetParam() == CipherSuiteId::AesCbcHmacMd5 ? 48U : 60U);
}

TEST_P(CipherSuiteTest, RejectsBodyTooLargeForMessageLength) {
    const std::size_t too_big = max_body(GetParam()) + 1;
    EXPECT_GT(suite_.sealed_size(too_big), wire::kMaxMessageLength);
    EXPECT_EQ(suite_.sealed_size(max_body(GetParam())),
              wire::kMaxMessageLength -
                  (GetParam() == CipherSuiteId::AesCbcHmacMd5 ? 15U : 0U));  // 65520 / 65535
    EXPECT_EQ(suite_.sealed_size(std::numeric_limits<std::size_t>::max()),
              std::numeric_limits<std::size_t>::max());
    const Bytes body(too_big);
    Bytes out(too_big + 200);
    const auto n = suite_.seal(capsule_header(), body, out);
    ASSERT_FALSE(n.has_value());
    EXPECT_EQ(n.error(), SealError::TooLarge);
}

TEST_P(CipherSuiteTest, RejectsSealIntoSmallBuffer) {
    const Bytes body = pattern(100);
    Bytes out(suite_.sealed_size(body.size()) - 1);
    const auto n = suite_.seal(capsule_header(), body, out);
    ASSERT_FALSE(n.has_value());
    EXPECT_EQ(n.error(), SealError::BufferTooSmall);
}

TEST_P(CipherSuiteTest, RejectsNonceOfWrongSize) {
    const std::size_t good = GetParam() == CipherSuiteId::AesCbcHmacMd5 ? 16 : 12;
    Bytes out(suite_.sealed_size(10));
    for (const std::size_t size : {std::size_t{0}, good - 1, good + 1}) {
        const Bytes nonce(size);
        const auto n = suite_.seal_with_nonce(capsule_header(), pattern(10), nonce, out);
        ASSERT_FALSE(n.has_value());
        EXPECT_EQ(n.error(), SealError::BadNonce);
        const auto w = suite_.wrap_key_with_nonce(key_k(), kPath22, WrapRole::Initiator, nonce);
        ASSERT_FALSE(w.has_value());
        EXPECT_EQ(w.error(), SealError::BadNonce);
    }
}

TEST_P(CipherSuiteTest, SealWritesHeaderInPlace) {
    // The header may already sit at the start of `out` (encoded there by the caller).
    const Bytes body = pattern(40);
    Bytes out(suite_.sealed_size(body.size()));
    const Header header = capsule_header();
    std::memcpy(out.data(), header.data(), header.size());
    const auto n = suite_.seal(std::span(out).first<wire::kBaseHeaderSize>(), body, out);
    ASSERT_TRUE(n.has_value());
    const auto opened = open(suite_, out);
    ASSERT_TRUE(opened.has_value()) << to_string(opened.error());
    EXPECT_EQ(*opened, body);
}

TEST_P(CipherSuiteTest, RejectsEveryFlippedBit) {
    for (const std::size_t size : {std::size_t{0}, std::size_t{5}, std::size_t{200}}) {
        const Bytes sealed = seal(suite_, capsule_header(), pattern(size));
        for (std::size_t bit = 0; bit < sealed.size() * 8; ++bit) {
            SCOPED_TRACE(testing::Message() << "size " << size << " bit " << bit);
            Bytes flipped = sealed;
            flipped[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
            const auto opened = open(suite_, flipped);
            ASSERT_FALSE(opened.has_value());
            const std::size_t byte = bit / 8;
            if (byte == kLengthOffset || byte == kLengthOffset + 1) {
                EXPECT_EQ(opened.error(), OpenError::LengthMismatch);
            } else {
                EXPECT_EQ(opened.error(), OpenError::BadMac);
            }
        }
    }
}

TEST_P(CipherSuiteTest, RejectsEveryTruncation) {
    const Bytes sealed = seal(suite_, capsule_header(), pattern(77));
    for (std::size_t n = 0; n < sealed.size(); ++n) {
        SCOPED_TRACE(n);
        const auto opened = open(suite_, std::span(sealed).first(n));
        ASSERT_FALSE(opened.has_value());
        EXPECT_EQ(opened.error(), n < 48 ? OpenError::Truncated : OpenError::LengthMismatch);
    }
}

TEST_P(CipherSuiteTest, RejectsMessageLengthLyingHighOrLow) {
    const Bytes sealed = seal(suite_, capsule_header(), pattern(64));
    for (const std::size_t claim :
         {std::size_t{0}, std::size_t{47}, std::size_t{48}, sealed.size() - 16, sealed.size() - 1,
          sealed.size() + 1, sealed.size() + 16, std::size_t{0xFFFF}}) {
        SCOPED_TRACE(claim);
        Bytes lying = sealed;
        set_message_length_field(lying, claim);
        const auto opened = open(suite_, lying);
        ASSERT_FALSE(opened.has_value());
        EXPECT_EQ(opened.error(), OpenError::LengthMismatch);
    }
    // Extra bytes after a valid message: the field is then lower than the size.
    Bytes longer = sealed;
    longer.push_back(std::byte{0});
    const auto opened = open(suite_, longer);
    ASSERT_FALSE(opened.has_value());
    EXPECT_EQ(opened.error(), OpenError::LengthMismatch);
}

TEST_P(CipherSuiteTest, RejectsWrongKey) {
    auto other = make_suite(GetParam(), temp_key());
    for (const std::size_t size : {std::size_t{0}, std::size_t{33}}) {
        const auto opened = open(other, seal(suite_, capsule_header(), pattern(size)));
        ASSERT_FALSE(opened.has_value());
        EXPECT_EQ(opened.error(), OpenError::BadMac);
    }
}

TEST_P(CipherSuiteTest, RejectsOtherSuiteWithSameKey) {
    for (const auto other_id : {CipherSuiteId::AesCbcHmacMd5, CipherSuiteId::Aes256Gcm,
                                CipherSuiteId::ChaCha20Poly1305}) {
        if (other_id == GetParam()) {
            continue;
        }
        auto other = make_suite(other_id, key_k());
        const auto opened = open(other, seal(suite_, capsule_header(), pattern(32)));
        EXPECT_FALSE(opened.has_value());
    }
}

TEST_P(CipherSuiteTest, RejectsPlaintextBufferTooSmall) {
    const Bytes sealed = seal(suite_, capsule_header(), pattern(64));
    Bytes plain(10);
    const auto n = suite_.open(sealed, plain);
    ASSERT_FALSE(n.has_value());
    EXPECT_EQ(n.error(), OpenError::BufferTooSmall);
}

TEST_P(CipherSuiteTest, NoncesDifferBetweenSealsOfTheSameMessage) {
    const Bytes body = pattern(50);
    const Bytes a = seal(suite_, capsule_header(), body);
    const Bytes b = seal(suite_, capsule_header(), body);
    const std::size_t nonce_size = GetParam() == CipherSuiteId::AesCbcHmacMd5 ? 16 : 12;
    EXPECT_NE(to_hex(std::span(a).subspan(32, nonce_size)),
              to_hex(std::span(b).subspan(32, nonce_size)));
    EXPECT_NE(a, b);
    // Many seals: no IV/nonce repeats (the per-instance random buffer is refilled in between).
    std::set<std::string> nonces;
    for (int i = 0; i < 300; ++i) {
        const Bytes sealed = seal(suite_, capsule_header(), body);
        nonces.insert(to_hex(std::span(sealed).subspan(32, nonce_size)));
    }
    EXPECT_EQ(nonces.size(), 300U);
}

// IVs/nonces come from a per-instance random buffer; a forked child must not reuse what the
// parent will use next.
TEST_P(CipherSuiteTest, NoncesDifferBetweenParentAndChildAfterFork) {
    const Bytes body = pattern(8);
    const std::size_t nonce_size = GetParam() == CipherSuiteId::AesCbcHmacMd5 ? 16 : 12;
    (void)seal(suite_, capsule_header(), body);  // the buffer now holds unused bytes
    std::array<int, 2> fds{};
    ASSERT_EQ(pipe(fds.data()), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        Bytes out(suite_.sealed_size(body.size()));
        const bool ok =
            suite_.seal(capsule_header(), body, out).has_value() &&
            write(fds[1], out.data() + 32, nonce_size) == static_cast<ssize_t>(nonce_size);
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    const Bytes parent = seal(suite_, capsule_header(), body);
    Bytes child_nonce(nonce_size);
    const ssize_t n = read(fds[0], child_nonce.data(), nonce_size);
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_EQ(n, static_cast<ssize_t>(nonce_size));
    EXPECT_NE(to_hex(child_nonce), to_hex(std::span(parent).subspan(32, nonce_size)));
}

// C7: under AEAD an empty body still gets a fresh nonce; 0x0001 sends no IV, so the same
// header gives the same 48 bytes.
TEST_P(CipherSuiteTest, EmptyBodyCarriesFreshNonceOnlyUnderAead) {
    const Bytes a = seal(suite_, capsule_header(), {});
    const Bytes b = seal(suite_, capsule_header(), {});
    if (GetParam() == CipherSuiteId::AesCbcHmacMd5) {
        EXPECT_EQ(a, b);
    } else {
        EXPECT_NE(a, b);
    }
}

TEST_P(CipherSuiteTest, CloneInteroperatesWithOriginal) {
    auto copy = suite_.clone();
    ASSERT_TRUE(copy.has_value()) << copy.error();
    EXPECT_EQ(copy->id(), GetParam());
    const Bytes body = pattern(99);
    const auto a = open(*copy, seal(suite_, capsule_header(), body));
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(*a, body);
    const auto b = open(suite_, seal(*copy, capsule_header(), body));
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(*b, body);
}

TEST_P(CipherSuiteTest, SurvivesMove) {
    CipherSuite moved = std::move(suite_);
    const Bytes body = pattern(20);
    const auto opened = open(moved, seal(moved, capsule_header(), body));
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(*opened, body);
}

TEST_P(CipherSuiteTest, CreateFromByteViewEqualsCreateFromKey) {
    const Bytes raw = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    auto from_view = CipherSuite::create(GetParam(), ByteView(raw));
    ASSERT_TRUE(from_view.has_value()) << from_view.error();
    const Bytes body = pattern(18);
    const auto opened = open(*from_view, seal(suite_, capsule_header(), body));
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(*opened, body);
}

TEST_P(CipherSuiteTest, CreateRejectsKeyOfWrongLength) {
    for (const std::size_t size : {0U, 16U, 31U, 33U, 64U}) {
        const Bytes raw(size);
        const auto suite = CipherSuite::create(GetParam(), ByteView(raw));
        EXPECT_FALSE(suite.has_value());
    }
}

TEST_P(CipherSuiteTest, WrapRoundTripsAndHasTheSpecifiedSize) {
    const Key end_key = random_key();
    const PathId path = random_id<PathIdTag>();
    for (const auto role : {WrapRole::Initiator, WrapRole::Responder}) {
        const auto wrapped = suite_.wrap_key(end_key, path, role);
        ASSERT_TRUE(wrapped.has_value());
        EXPECT_EQ(wrapped->size(), suite_.wrapped_key_size());
        EXPECT_EQ(wrapped->size(), GetParam() == CipherSuiteId::AesCbcHmacMd5 ? 80U : 60U);
        const auto unwrapped = suite_.unwrap_key(*wrapped, path, role);
        ASSERT_TRUE(unwrapped.has_value()) << to_string(unwrapped.error());
        EXPECT_EQ(to_hex(unwrapped->view()), to_hex(end_key.view()));
    }
}

TEST_P(CipherSuiteTest, UnwrapLeavesTheInstanceKeyIntact) {
    const Bytes body = pattern(21);
    const Bytes sealed = seal(suite_, capsule_header(), body);
    const auto wrapped = suite_.wrap_key(temp_key(), kPath22, WrapRole::Responder);
    ASSERT_TRUE(wrapped.has_value());
    ASSERT_TRUE(suite_.unwrap_key(*wrapped, kPath22, WrapRole::Responder).has_value());
    auto copy = suite_.clone();  // made from the stored key
    ASSERT_TRUE(copy.has_value());
    const auto opened = open(*copy, sealed);
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(*opened, body);
}

TEST_P(CipherSuiteTest, UnwrapRejectsWrongRolePathOrKey) {
    const Key end_key = random_key();
    const auto wrapped = suite_.wrap_key(end_key, kPath22, WrapRole::Initiator);
    ASSERT_TRUE(wrapped.has_value());

    const auto wrong_role = suite_.unwrap_key(*wrapped, kPath22, WrapRole::Responder);
    ASSERT_FALSE(wrong_role.has_value());
    EXPECT_EQ(wrong_role.error(), OpenError::BadMac);

    const auto other_path = *PathId::from_hex("22222222222222222222222222222223");
    const auto wrong_path = suite_.unwrap_key(*wrapped, other_path, WrapRole::Initiator);
    ASSERT_FALSE(wrong_path.has_value());
    EXPECT_EQ(wrong_path.error(), OpenError::BadMac);

    auto other = make_suite(GetParam(), temp_key());
    const auto wrong_key = other.unwrap_key(*wrapped, kPath22, WrapRole::Initiator);
    ASSERT_FALSE(wrong_key.has_value());
    EXPECT_EQ(wrong_key.error(), OpenError::BadMac);
}

TEST_P(CipherSuiteTest, UnwrapRejectsEveryFlippedBitAndWrongSize) {
    const auto wrapped = suite_.wrap_key(random_key(), kPath22, WrapRole::Responder);
    ASSERT_TRUE(wrapped.has_value());
    for (std::size_t bit = 0; bit < wrapped->size() * 8; ++bit) {
        SCOPED_TRACE(bit);
        Bytes flipped = *wrapped;
        flipped[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
        const auto unwrapped = suite_.unwrap_key(flipped, kPath22, WrapRole::Responder);
        ASSERT_FALSE(unwrapped.has_value());
        EXPECT_EQ(unwrapped.error(), OpenError::BadMac);
    }
    for (std::size_t n = 0; n < wrapped->size(); ++n) {
        const auto unwrapped =
            suite_.unwrap_key(std::span(*wrapped).first(n), kPath22, WrapRole::Responder);
        ASSERT_FALSE(unwrapped.has_value());
        EXPECT_EQ(unwrapped.error(), OpenError::BadBodyLength);
    }
    Bytes longer = *wrapped;
    longer.push_back(std::byte{0});
    const auto unwrapped = suite_.unwrap_key(longer, kPath22, WrapRole::Responder);
    ASSERT_FALSE(unwrapped.has_value());
    EXPECT_EQ(unwrapped.error(), OpenError::BadBodyLength);
}

// --- Misc -----------------------------------------------------------------------------------

TEST(CipherSuiteCreate, RejectsUnknownSuite) {
    const auto suite = CipherSuite::create(static_cast<CipherSuiteId>(0x0004), key_k());
    ASSERT_FALSE(suite.has_value());
    EXPECT_NE(suite.error().find("0x0004"), std::string::npos);
}

TEST(CipherSuiteErrors, EveryErrorHasAName) {
    for (const auto e : {OpenError::Truncated, OpenError::LengthMismatch, OpenError::BadBodyLength,
                         OpenError::BadMac, OpenError::BadPadding, OpenError::BufferTooSmall,
                         OpenError::Internal}) {
        EXPECT_NE(to_string(e), "unknown");
    }
    EXPECT_EQ(to_string(OpenError::BadMac), "bad_mac");
    for (const auto e : {SealError::BufferTooSmall, SealError::TooLarge, SealError::BadNonce,
                         SealError::Internal}) {
        EXPECT_NE(to_string(e), "unknown");
    }
    EXPECT_EQ(to_string(SealError::TooLarge), "TooLarge");
}

TEST(CipherSuiteMaxPlaintext, BoundsEveryShape) {
    EXPECT_EQ(CipherSuite::max_plaintext_size(0), 0U);
    EXPECT_EQ(CipherSuite::max_plaintext_size(48), 0U);
    EXPECT_EQ(CipherSuite::max_plaintext_size(60), 0U);
    EXPECT_EQ(CipherSuite::max_plaintext_size(84), 24U);
    EXPECT_GE(CipherSuite::max_plaintext_size(96), 32U);  // 0x0001 writes the padded block
}

}  // namespace
}  // namespace cyphonic::crypto
