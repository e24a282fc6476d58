#include "cyphonic/core/address.hpp"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace cyphonic {
namespace {

TEST(Ipv4Address, ParsesAndPrintsDottedQuad) {
    const auto a = Ipv4Address::parse("192.0.2.10");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->bytes, (std::array<std::byte, 4>{std::byte{192}, std::byte{0}, std::byte{2},
                                                  std::byte{10}}));
    EXPECT_EQ(a->to_string(), "192.0.2.10");
    EXPECT_EQ(fmt::format("{}", *a), "192.0.2.10");
    EXPECT_FALSE(a->is_unspecified());
    EXPECT_TRUE(Ipv4Address{}.is_unspecified());
    EXPECT_EQ(Ipv4Address{}.to_string(), "0.0.0.0");
}

TEST(Ipv4Address, RejectsMalformedText) {
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4",
                            "a.b.c.d", "::1", "1.2.3.4:80", "01234567890123456789"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(Ipv4Address::parse(bad).has_value());
    }
}

TEST(Ipv6Address, ParsesAndPrintsRfc5952) {
    const auto a = Ipv6Address::parse("2001:DB8:0:0:0:0:0:1");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->to_string(), "2001:db8::1");
    EXPECT_EQ(fmt::format("{}", *a), "2001:db8::1");
    EXPECT_EQ(static_cast<unsigned>(a->bytes[0]), 0x20U);
    EXPECT_EQ(static_cast<unsigned>(a->bytes[15]), 0x01U);
    EXPECT_TRUE(Ipv6Address{}.is_unspecified());
    EXPECT_EQ(Ipv6Address{}.to_string(), "::");
}

TEST(Ipv6Address, RejectsMalformedText) {
    for (const char* bad :
         {"", ":::", "1::2::3", "2001:db8::g", "[2001:db8::1]", "1.2.3.4", "2001:db8:0:0:0:0:0:0:1",
          "1111111111111111111111111111111111111111111111111"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(Ipv6Address::parse(bad).has_value());
    }
}

TEST(Ipv6Address, MapsIpv4MappedAddressesOnly) {
    const auto mapped = Ipv6Address::parse("::ffff:198.51.100.7");
    ASSERT_TRUE(mapped.has_value());
    const auto v4 = mapped->mapped_ipv4();
    ASSERT_TRUE(v4.has_value());
    EXPECT_EQ(v4->to_string(), "198.51.100.7");
    for (const char* other : {"::", "::1", "::198.51.100.7", "::fffe:198.51.100.7",
                              "64:ff9b::198.51.100.7", "2001:db8::ffff:1:2"}) {
        SCOPED_TRACE(other);
        EXPECT_FALSE(Ipv6Address::parse(other)->mapped_ipv4().has_value());
    }
}

TEST(IpAddress, ParsesEitherFamily) {
    const auto v4 = IpAddress::parse("10.64.0.5");
    ASSERT_TRUE(v4.has_value());
    EXPECT_TRUE(v4->is_v4());
    EXPECT_EQ(v4->to_string(), "10.64.0.5");
    const auto v6 = IpAddress::parse("fd00:cafe::5");
    ASSERT_TRUE(v6.has_value());
    EXPECT_TRUE(v6->is_v6());
    EXPECT_EQ(v6->to_string(), "fd00:cafe::5");
    EXPECT_EQ(fmt::format("{}", *v6), "fd00:cafe::5");
    EXPECT_FALSE(IpAddress::parse("example.net").has_value());
    EXPECT_NE(*v4, *v6);
}

TEST(IpAddress, NormalizesMappedIpv6ToIpv4AndLeavesTheRest) {
    const auto mapped = IpAddress::parse("::ffff:203.0.113.5");
    ASSERT_TRUE(mapped.has_value());
    const IpAddress normal = mapped->normalized();
    EXPECT_TRUE(normal.is_v4());
    EXPECT_EQ(normal, *IpAddress::parse("203.0.113.5"));
    for (const char* same : {"203.0.113.5", "2001:db8::1", "::"}) {
        SCOPED_TRACE(same);
        EXPECT_EQ(IpAddress::parse(same)->normalized(), *IpAddress::parse(same));
    }
}

TEST(Endpoint, ParsesAndPrintsBothFamilies) {
    const auto v4 = Endpoint::parse("192.0.2.1:4600");
    ASSERT_TRUE(v4.has_value());
    EXPECT_EQ(v4->address, *IpAddress::parse("192.0.2.1"));
    EXPECT_EQ(v4->port, 4600);
    EXPECT_EQ(v4->to_string(), "192.0.2.1:4600");
    const auto v6 = Endpoint::parse("[2001:db8::1]:65535");
    ASSERT_TRUE(v6.has_value());
    EXPECT_TRUE(v6->address.is_v6());
    EXPECT_EQ(v6->port, 65535);
    EXPECT_EQ(v6->to_string(), "[2001:db8::1]:65535");
    EXPECT_EQ(fmt::format("{}", *v6), "[2001:db8::1]:65535");
    const auto zero = Endpoint::parse("0.0.0.0:0");
    ASSERT_TRUE(zero.has_value());
    EXPECT_EQ(zero->port, 0);
}

TEST(Endpoint, RejectsMalformedText) {
    for (const char* bad :
         {"", "192.0.2.1", "192.0.2.1:", "192.0.2.1:65536", "192.0.2.1:-1", "192.0.2.1:80x",
          "192.0.2.1: 80", "2001:db8::1:80", "[2001:db8::1]", "[2001:db8::1]:", "[192.0.2.1]:80",
          "[2001:db8::1]80", "host:80", ":80", "192.0.2.1:99999999999"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(Endpoint::parse(bad).has_value());
    }
}

TEST(Endpoint, OrdersAndComparesByAddressThenPort) {
    const auto a = *Endpoint::parse("192.0.2.1:1");
    const auto b = *Endpoint::parse("192.0.2.1:2");
    const auto c = *Endpoint::parse("192.0.2.2:1");
    EXPECT_LT(a, b);
    EXPECT_LT(b, c);
    EXPECT_EQ(a, *Endpoint::parse("192.0.2.1:1"));
}

}  // namespace
}  // namespace cyphonic
