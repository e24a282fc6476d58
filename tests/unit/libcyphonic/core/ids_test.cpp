#include "cyphonic/core/ids.hpp"

#include <type_traits>
#include <unordered_set>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace cyphonic {
namespace {

constexpr const char* kHex = "dd5fcb64b9089d1d47787370c4c08b02";

TEST(Id128, RoundTripsThroughHex) {
    const auto id = PathId::from_hex(kHex);
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(id->to_hex(), kHex);
    EXPECT_EQ(fmt::format("{}", *id), kHex);
    EXPECT_EQ(static_cast<unsigned>(id->raw()[0]), 0xddU);
    EXPECT_EQ(static_cast<unsigned>(id->raw()[15]), 0x02U);
    EXPECT_FALSE(id->is_zero());
}

TEST(Id128, AcceptsUpperCaseAndWhiteSpace) {
    const auto id = NodeId::from_hex(" DD5FCB64 B9089D1D\n47787370 c4c08b02\t");
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(id->to_hex(), kHex);
}

TEST(Id128, RejectsWrongLengthsAndNonHex) {
    for (const char* bad : {"", "00", "dd5fcb64b9089d1d47787370c4c08b0",  // 31 digits
                            "dd5fcb64b9089d1d47787370c4c08b0200",         // 17 bytes
                            "dd5fcb64b9089d1d47787370c4c08b0g", "0x5fcb64b9089d1d47787370c4c08b02",
                            "dd5fcb64-b9089d1d-47787370-c4c08b02"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(NodeId::from_hex(bad).has_value());
    }
}

TEST(Id128, DefaultIsZero) {
    EXPECT_TRUE(NodeId{}.is_zero());
    EXPECT_EQ(NodeId{}.to_hex(), std::string(32, '0'));
}

TEST(Id128, KeepsTagsApartAtCompileTime) {
    static_assert(!std::is_convertible_v<NodeId, PathId>);
    static_assert(!std::is_convertible_v<PathId, ApplicationId>);
    static_assert(std::is_same_v<NodeId::Raw, PathId::Raw>);
    const auto node = NodeId::from_hex(kHex);
    const auto path = PathId::from_hex(kHex);
    ASSERT_TRUE(node && path);
    EXPECT_EQ(node->raw(), path->raw());  // one map at a receiver keys on raw() (C3)
}

TEST(Id128, OrdersAndHashes) {
    const auto a = *NodeId::from_hex("00000000000000000000000000000001");
    const auto b = *NodeId::from_hex("00000000000000000000000000000002");
    EXPECT_LT(a, b);
    std::unordered_set<NodeId, Id128Hash> set{a, b, a};
    EXPECT_EQ(set.size(), 2U);
}

TEST(Id128, BuildsFromASpan) {
    const auto bytes = from_hex(kHex);
    ASSERT_TRUE(bytes.has_value());
    const auto id = PathId::from_span(std::span<const std::byte, 16>(bytes->data(), 16));
    EXPECT_EQ(id.to_hex(), kHex);
    EXPECT_EQ(to_hex(id.bytes()), kHex);
}

}  // namespace
}  // namespace cyphonic
