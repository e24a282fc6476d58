#include "cyphonic/crypto/secret_bytes.hpp"

#include <algorithm>
#include <array>
#include <span>

#include <gtest/gtest.h>

namespace cyphonic::crypto {
namespace {

Key counting_key() {
    std::array<std::byte, 32> raw{};
    for (std::size_t i = 0; i < raw.size(); ++i) {
        raw[i] = static_cast<std::byte>(i + 1);
    }
    return Key(std::span<const std::byte, 32>(raw));
}

bool all_zero(std::span<const std::byte, Key::kSize> bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}
bool all_zero(const Key& k) {
    return all_zero(k.view());
}

bool same(const Key& a, const Key& b) {
    return std::equal(a.view().begin(), a.view().end(), b.view().begin());
}

TEST(SecretBytes, MoveConstructionZeroesTheSource) {
    Key source = counting_key();
    const Key target(std::move(source));
    // The claim under test is the state of the moved-from object.
    // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
    EXPECT_TRUE(all_zero(source.view()));
    EXPECT_TRUE(same(target, counting_key()));
}

TEST(SecretBytes, MoveAssignmentZeroesTheSource) {
    Key source = counting_key();
    Key target;
    target = std::move(source);
    // The claim under test is the state of the moved-from object.
    // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
    EXPECT_TRUE(all_zero(source.view()));
    EXPECT_TRUE(same(target, counting_key()));
}

TEST(SecretBytes, SelfMoveAssignmentKeepsTheValue) {
    Key key = counting_key();
    Key& alias = key;
    key = std::move(alias);
    EXPECT_TRUE(same(key, counting_key()));
}

TEST(SecretBytes, CloneCopiesAndLeavesTheSource) {
    const Key source = counting_key();
    const Key copy = source.clone();
    EXPECT_TRUE(same(copy, source));
    EXPECT_FALSE(all_zero(source));
}

TEST(SecretBytes, DefaultIsZero) {
    EXPECT_TRUE(all_zero(Key{}));
}

}  // namespace
}  // namespace cyphonic::crypto
