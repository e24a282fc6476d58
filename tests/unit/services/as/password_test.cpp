#include "password.hpp"

#include <gtest/gtest.h>

namespace cyphonic::as {
namespace {

TEST(Password, HashVerifiesTheRightPasswordOnly) {
    const std::string stored = hash_password("correct horse");
    EXPECT_TRUE(stored.starts_with("scrypt$16384$8$1$")) << stored;
    // scrypt$N$r$p$<16-byte salt hex>$<32-byte hash hex>
    EXPECT_EQ(stored.size(), std::string("scrypt$16384$8$1$").size() + 32 + 1 + 64);
    EXPECT_EQ(stored.find("correct"), std::string::npos);
    EXPECT_EQ(verify_password("correct horse", stored), PasswordCheck::Match);
    EXPECT_EQ(verify_password("correct horsf", stored), PasswordCheck::Mismatch);
    EXPECT_EQ(verify_password("", stored), PasswordCheck::Mismatch);
}

TEST(Password, SaltMakesEveryHashDifferent) {
    const std::string a = hash_password("same");
    const std::string b = hash_password("same");
    EXPECT_NE(a, b);
    EXPECT_EQ(verify_password("same", a), PasswordCheck::Match);
    EXPECT_EQ(verify_password("same", b), PasswordCheck::Match);
}

TEST(Password, UnicodeAndLongPasswordsWork) {
    const std::string password = "pässwörd-\xF0\x9F\x94\x91-" + std::string(500, 'x');
    EXPECT_EQ(verify_password(password, hash_password(password)), PasswordCheck::Match);
}

TEST(Password, RejectsMalformedStoredForms) {
    const std::string good = hash_password("pw");
    const std::string salt_and_hash = good.substr(std::string("scrypt$16384$8$1$").size());
    const std::string cases[] = {
        "",
        "plain-text-password",
        "bcrypt$16384$8$1$" + salt_and_hash,
        "scrypt$16384$8$1$" + salt_and_hash + "$extra",
        "scrypt$16384$8$" + salt_and_hash,
        "scrypt$16383$8$1$" + salt_and_hash,                       // N not a power of two
        "scrypt$1048576$8$1$" + salt_and_hash,                     // N too large (memory)
        "scrypt$16384$0$1$" + salt_and_hash,                       // r = 0
        "scrypt$16384$8$99$" + salt_and_hash,                      // p too large
        "scrypt$16384$8$1$zz$" + salt_and_hash.substr(33),         // salt not hex
        "scrypt$16384$8$1$00$" + salt_and_hash.substr(33),         // salt too short
        "scrypt$16384$8$1$" + salt_and_hash.substr(0, 33) + "00",  // hash too short
        "scrypt$-1$8$1$" + salt_and_hash,
    };
    for (const auto& stored : cases) {
        SCOPED_TRACE(stored);
        EXPECT_EQ(verify_password("pw", stored), PasswordCheck::Malformed);
    }
    EXPECT_EQ(verify_password("pw", good), PasswordCheck::Match);
}

TEST(Password, DummyKdfTakesAboutAsLongAsAVerification) {
    const std::string stored = hash_password("pw");
    const auto time = [](auto fn) {
        const auto start = std::chrono::steady_clock::now();
        fn();
        return std::chrono::steady_clock::now() - start;
    };
    const auto verify = time([&] { (void)verify_password("other", stored); });
    const auto dummy = time([] { spend_dummy_kdf("other"); });
    // Same parameters, so the same work; allow generous noise.
    EXPECT_GT(dummy * 3, verify);
    EXPECT_GT(verify * 3, dummy);
}

}  // namespace
}  // namespace cyphonic::as
