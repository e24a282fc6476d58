#include "cyphonic/sys/route_source.hpp"

#include <optional>

#include <gtest/gtest.h>

#include "support/netns.hpp"
#include "unit/libcyphonic/sys/sys_test_util.hpp"

#include "cyphonic/sys/netlink.hpp"
#include "cyphonic/sys/tun.hpp"

namespace cyphonic::sys {
namespace {

using testing::ip;

using SourceAddressInNetns = cyphonic::testing::FreshNetnsTest;

// Two interfaces, each with its own address and a route; the answer depends on the route.
//   cypha0  10.1.0.1/32  fd00:1::1/128   routes 10.1.1.0/24  fd00:1:1::/64
//   cyphb0  10.2.0.1/32  fd00:2::1/128   routes 10.2.2.0/24  fd00:2:2::/64
TEST_F(SourceAddressInNetns, PicksTheAddressOfTheRoutesInterface) {
    auto netlink = Netlink::open();
    ASSERT_TRUE(netlink.has_value()) << netlink.error();
    struct Side {
        const char* name;
        const char* v4;
        const char* v6;
        const char* v4_net;
        const char* v6_net;
    };
    std::vector<TunDevice> tuns;
    for (const Side& side : {Side{"cypha0", "10.1.0.1", "fd00:1::1", "10.1.1.0", "fd00:1:1::"},
                             Side{"cyphb0", "10.2.0.1", "fd00:2::1", "10.2.2.0", "fd00:2:2::"}}) {
        auto tun = TunDevice::open(side.name);
        ASSERT_TRUE(tun.has_value()) << tun.error();
        const int ifindex = tun->ifindex();
        tuns.push_back(std::move(*tun));
        for (const auto& step : {netlink->set_link_up(ifindex, std::nullopt),
                                 netlink->add_address(ifindex, ip(side.v4), 32),
                                 netlink->add_address(ifindex, ip(side.v6), 128),
                                 netlink->add_route(ifindex, ip(side.v4_net), 24),
                                 netlink->add_route(ifindex, ip(side.v6_net), 64)}) {
            ASSERT_TRUE(step.has_value()) << step.error();
        }
    }
    EXPECT_EQ(source_address_for(ip("10.1.1.9")), ip("10.1.0.1"));
    EXPECT_EQ(source_address_for(ip("10.2.2.9")), ip("10.2.0.1"));
    EXPECT_EQ(source_address_for(ip("fd00:1:1::9")), ip("fd00:1::1"));
    EXPECT_EQ(source_address_for(ip("fd00:2:2::9")), ip("fd00:2::1"));
    EXPECT_EQ(source_address_for(ip("::ffff:10.2.2.9")), ip("10.2.0.1"));  // looked up as IPv4

    // Moving the route moves the answer (what the mobility handling relies on).
    ASSERT_TRUE(netlink->remove_route(tuns[0].ifindex(), ip("10.1.1.0"), 24).has_value());
    ASSERT_TRUE(netlink->add_route(tuns[1].ifindex(), ip("10.1.1.0"), 24).has_value());
    EXPECT_EQ(source_address_for(ip("10.1.1.9")), ip("10.2.0.1"));
}

TEST_F(SourceAddressInNetns, NoRouteIsNullopt) {
    EXPECT_EQ(source_address_for(ip("192.0.2.1")), std::nullopt);
    EXPECT_EQ(source_address_for(ip("2001:db8::1")), std::nullopt);
}

TEST_F(SourceAddressInNetns, LoopbackAnswersItself) {
    EXPECT_EQ(source_address_for(ip("127.0.0.1")), ip("127.0.0.1"));
    EXPECT_EQ(source_address_for(ip("::1")), ip("::1"));
}

}  // namespace
}  // namespace cyphonic::sys
