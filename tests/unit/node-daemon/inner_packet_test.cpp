// The inner-packet checks of received Capsules (PROTOCOL.md C18, D20).
#include "inner_packet.hpp"

#include <gtest/gtest.h>

namespace cyphonic::noded {
namespace {

Bytes ipv4_packet(std::size_t size) {
    Bytes p(size);
    p[0] = std::byte{0x45};
    p[2] = std::byte(static_cast<std::uint8_t>(size >> 8U));
    p[3] = std::byte(static_cast<std::uint8_t>(size));
    const std::array<std::uint8_t, 8> addrs = {10, 99, 0, 1, 10, 99, 0, 2};
    for (std::size_t i = 0; i < addrs.size(); ++i) {
        p[12 + i] = std::byte{addrs[i]};
    }
    return p;
}

Bytes ipv6_packet(std::size_t payload) {
    Bytes p(40 + payload);
    p[0] = std::byte{0x60};
    p[4] = std::byte(static_cast<std::uint8_t>(payload >> 8U));
    p[5] = std::byte(static_cast<std::uint8_t>(payload));
    p[8] = std::byte{0xfd};
    p[23] = std::byte{1};
    p[24] = std::byte{0xfd};
    p[39] = std::byte{2};
    return p;
}

TEST(InnerPacket, ReadsIpv4Addresses) {
    const auto p = ipv4_packet(60);
    const auto a = inner_addresses(p);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->source, *IpAddress::parse("10.99.0.1"));
    EXPECT_EQ(a->destination, *IpAddress::parse("10.99.0.2"));
    EXPECT_EQ(inner_destination(p), *IpAddress::parse("10.99.0.2"));
}

TEST(InnerPacket, ReadsIpv6Addresses) {
    const auto p = ipv6_packet(8);
    const auto a = inner_addresses(p);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->source, *IpAddress::parse("fd00::1"));
    EXPECT_EQ(a->destination, *IpAddress::parse("fd00::2"));
}

TEST(InnerPacket, RejectsEveryTruncation) {
    const auto v4 = ipv4_packet(40);
    const auto v6 = ipv6_packet(16);
    for (std::size_t n = 0; n < v4.size(); ++n) {
        EXPECT_FALSE(inner_addresses(ByteView(v4).first(n)).has_value()) << n;
    }
    for (std::size_t n = 0; n < v6.size(); ++n) {
        EXPECT_FALSE(inner_addresses(ByteView(v6).first(n)).has_value()) << n;
    }
}

TEST(InnerPacket, RejectsLyingLengthsAndOtherVersions) {
    auto v4 = ipv4_packet(40);
    v4[3] = std::byte{41};  // says one byte more than there is
    EXPECT_FALSE(inner_addresses(v4).has_value());
    auto v6 = ipv6_packet(16);
    v6[5] = std::byte{15};  // says one byte less
    EXPECT_FALSE(inner_addresses(v6).has_value());
    auto other = ipv4_packet(40);
    other[0] = std::byte{0x55};
    EXPECT_FALSE(inner_addresses(other).has_value());
    EXPECT_FALSE(inner_destination(other).has_value());
    EXPECT_FALSE(inner_destination(ByteView()).has_value());
}

}  // namespace
}  // namespace cyphonic::noded
