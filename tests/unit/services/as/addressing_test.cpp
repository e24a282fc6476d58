#include "addressing.hpp"

#include <gtest/gtest.h>

namespace cyphonic::as {
namespace {

Ipv4Address v4(const char* text) {
    return *Ipv4Address::parse(text);
}
Ipv6Address v6(const char* text) {
    return *Ipv6Address::parse(text);
}

TEST(AddressPrefix, ParsesAndRejectsWithReasons) {
    const auto p = Ipv4Prefix::parse("10.77.0.0/16");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->to_string(), "10.77.0.0/16");
    EXPECT_TRUE(p->contains(v4("10.77.255.254")));
    EXPECT_FALSE(p->contains(v4("10.78.0.1")));
    EXPECT_EQ(Ipv4Prefix::parse("10.77.0.1/16").error(), "'10.77.0.1/16' has host bits set");
    EXPECT_FALSE(Ipv4Prefix::parse("10.77.0.0").has_value());
    EXPECT_FALSE(Ipv4Prefix::parse("10.77.0.0/").has_value());
    EXPECT_FALSE(Ipv4Prefix::parse("10.77.0.0/x").has_value());
    EXPECT_FALSE(Ipv4Prefix::parse("10.77.0.0/31").has_value());
    EXPECT_FALSE(Ipv4Prefix::parse("fd77::/64").has_value());

    const auto q = Ipv6Prefix::parse("fd77::/64");
    ASSERT_TRUE(q.has_value());
    EXPECT_TRUE(q->contains(v6("fd77::ffff:ffff:ffff:ffff")));
    EXPECT_FALSE(q->contains(v6("fd77:0:0:1::1")));
    EXPECT_FALSE(Ipv6Prefix::parse("fd77::1/64").has_value());
    EXPECT_FALSE(Ipv6Prefix::parse("fd77::/127").has_value());
    EXPECT_FALSE(Ipv6Prefix::parse("10.0.0.0/8").has_value());
}

TEST(AddressAllocation, Ipv4TakesTheLowestFreeHostSkippingNetworkAndBroadcast) {
    const auto p = *Ipv4Prefix::parse("10.77.0.0/16");
    EXPECT_EQ(lowest_free(p, {}), v4("10.77.0.1"));
    const Ipv4Address used[] = {v4("10.77.0.3"), v4("10.77.0.1"), v4("192.168.0.2"),
                                v4("10.77.0.2"), v4("10.77.0.5")};
    EXPECT_EQ(lowest_free(p, used), v4("10.77.0.4"));  // any order; outside addresses ignored

    const auto small = *Ipv4Prefix::parse("192.0.2.0/30");  // hosts .1 and .2
    const Ipv4Address one[] = {v4("192.0.2.1")};
    EXPECT_EQ(lowest_free(small, one), v4("192.0.2.2"));
    const Ipv4Address both[] = {v4("192.0.2.2"), v4("192.0.2.1")};
    EXPECT_EQ(lowest_free(small, both), std::nullopt);  // .3 is the broadcast address
    const Ipv4Address with_network[] = {v4("192.0.2.0"), v4("192.0.2.3")};
    EXPECT_EQ(lowest_free(small, with_network), v4("192.0.2.1"));
}

TEST(AddressAllocation, Ipv6TakesTheLowestFreeHostSkippingTheAnycastAddress) {
    const auto p = *Ipv6Prefix::parse("fd77::/64");
    EXPECT_EQ(lowest_free(p, {}), v6("fd77::1"));
    const Ipv6Address used[] = {v6("fd77::1"), v6("fd77::2"), v6("fd78::3"), v6("fd77::4")};
    EXPECT_EQ(lowest_free(p, used), v6("fd77::3"));

    const auto tiny = *Ipv6Prefix::parse("fd00::/126");  // ::1, ::2, ::3
    const Ipv6Address full[] = {v6("fd00::1"), v6("fd00::2"), v6("fd00::3")};
    EXPECT_EQ(lowest_free(tiny, full), std::nullopt);
    const Ipv6Address carry[] = {v6("fd77::ffff"), v6("fd77::1:0")};
    const auto wide = *Ipv6Prefix::parse("fd77::/112");
    EXPECT_EQ(lowest_free(wide, carry), v6("fd77::1"));
}

TEST(AddressAllocation, ManyUsedAddressesStayFast) {
    const auto p = *Ipv4Prefix::parse("10.0.0.0/8");
    std::vector<Ipv4Address> used;
    for (std::uint32_t i = 1; i <= 100000; ++i) {
        Ipv4Address a;
        a.bytes = {std::byte{10}, static_cast<std::byte>(i >> 16U),
                   static_cast<std::byte>((i >> 8U) & 0xFFU), static_cast<std::byte>(i & 0xFFU)};
        used.push_back(a);
    }
    EXPECT_EQ(lowest_free(p, used), v4("10.1.134.161"));  // 100001 = 0x0186A1
}

}  // namespace
}  // namespace cyphonic::as
