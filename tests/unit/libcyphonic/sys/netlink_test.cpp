#include "cyphonic/sys/netlink.hpp"

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "support/netns.hpp"
#include "unit/libcyphonic/sys/sys_test_util.hpp"

#include "cyphonic/sys/tun.hpp"

namespace cyphonic::sys {
namespace {

using testing::find_address;
using testing::ip;

// Every test: a fresh namespace with one TUN, up, and a netlink socket.
class NetlinkInNetns : public cyphonic::testing::FreshNetnsTest {
protected:
    void SetUp() override {
        FreshNetnsTest::SetUp();
        if (HasFatalFailure()) {
            return;
        }
        auto opened = TunDevice::open("cyphtest0");
        ASSERT_TRUE(opened.has_value()) << opened.error();
        tun_.emplace(std::move(*opened));
        auto netlink = Netlink::open();
        ASSERT_TRUE(netlink.has_value()) << netlink.error();
        netlink_.emplace(std::move(*netlink));
        const auto up = netlink_->set_link_up(ifindex(), std::nullopt);
        ASSERT_TRUE(up.has_value()) << up.error();
    }
    [[nodiscard]] int ifindex() const { return tun_->ifindex(); }
    Netlink& netlink() { return *netlink_; }
    std::vector<InterfaceAddress> addresses() {
        auto list = netlink_->addresses();
        EXPECT_TRUE(list.has_value()) << list.error();
        return list ? *list : std::vector<InterfaceAddress>{};
    }

    std::optional<TunDevice> tun_;
    std::optional<Netlink> netlink_;
};

// Adds, sees and removes one address of each family.
class NetlinkAddress : public NetlinkInNetns,
                       public ::testing::WithParamInterface<std::pair<const char*, unsigned>> {};

TEST_P(NetlinkAddress, AddedAddressIsListedAndRemovedAgain) {
    const IpAddress address = ip(GetParam().first);
    const unsigned prefix_len = GetParam().second;
    const auto added = netlink().add_address(ifindex(), address, prefix_len);
    ASSERT_TRUE(added.has_value()) << added.error();

    const auto listed = find_address(addresses(), address);
    ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(listed->ifindex, ifindex());
    EXPECT_EQ(listed->ifname, "cyphtest0");
    EXPECT_EQ(listed->prefix_len, prefix_len);
    EXPECT_TRUE(listed->global_scope);
    EXPECT_FALSE(listed->tentative_or_deprecated);
    EXPECT_EQ(testing::connect_error(address), 0);  // a local address now

    const auto removed = netlink().remove_address(ifindex(), address, prefix_len);
    ASSERT_TRUE(removed.has_value()) << removed.error();
    EXPECT_FALSE(find_address(addresses(), address).has_value());
}

TEST_P(NetlinkAddress, AddingTwiceSaysFileExists) {
    const IpAddress address = ip(GetParam().first);
    const unsigned prefix_len = GetParam().second;
    ASSERT_TRUE(netlink().add_address(ifindex(), address, prefix_len).has_value());
    const auto again = netlink().add_address(ifindex(), address, prefix_len);
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().rfind(
                  fmt::format("add {}/{} on cyphtest0: File exists", address, prefix_len), 0),
              0U)
        << again.error();
}

TEST_P(NetlinkAddress, RemovingWhatIsNotThereFailsUnlessIgnored) {
    const IpAddress address = ip(GetParam().first);
    const unsigned prefix_len = GetParam().second;
    const auto missing = netlink().remove_address(ifindex(), address, prefix_len);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().rfind(fmt::format("remove {}/{} from cyphtest0: Cannot assign "
                                                "requested address",
                                                address, prefix_len),
                                    0),
              0U)
        << missing.error();
    EXPECT_TRUE(
        netlink().remove_address(ifindex(), address, prefix_len, IfMissing::Ignore).has_value());
    // A vanished interface counts as missing too.
    EXPECT_FALSE(netlink().remove_address(4242, address, prefix_len).has_value());
    EXPECT_TRUE(netlink().remove_address(4242, address, prefix_len, IfMissing::Ignore).has_value());
}

INSTANTIATE_TEST_SUITE_P(BothFamilies, NetlinkAddress,
                         ::testing::Values(std::pair{"10.77.0.5", 32U}, std::pair{"10.77.0.6", 24U},
                                           std::pair{"fd00:77::5", 128U},
                                           std::pair{"fd00:77::6", 64U}));

TEST_F(NetlinkInNetns, PrefixLongerThanTheFamilyIsRejected) {
    const auto v4 = netlink().add_address(ifindex(), ip("10.77.0.5"), 33);
    ASSERT_FALSE(v4.has_value());
    EXPECT_EQ(v4.error(), "add 10.77.0.5/33 on cyphtest0: prefix length 33 is longer than 32 bits");
    const auto v6 = netlink().add_route(ifindex(), ip("fd00::"), 129);
    ASSERT_FALSE(v6.has_value());
    EXPECT_EQ(v6.error(),
              "add route fd00::/129 dev cyphtest0: prefix length 129 is longer than 128 bits");
}

TEST_F(NetlinkInNetns, ListsLoopbackAsHostScope) {
    const auto lo = find_address(addresses(), ip("127.0.0.1"));
    ASSERT_TRUE(lo.has_value());
    EXPECT_EQ(lo->ifname, "lo");
    EXPECT_EQ(lo->prefix_len, 8U);
    EXPECT_FALSE(lo->global_scope);
}

// IFA_F_NODAD: on an interface that does duplicate address detection (a veth with carrier),
// an IPv6 address without it stays tentative for a second or more.
TEST_F(NetlinkInNetns, Ipv6AddressIsUsableAtOnce) {
    const int veth = testing::make_veth("veth0", "veth1");
    ASSERT_NE(veth, 0);
    ASSERT_TRUE(netlink().set_link_up(veth, std::nullopt).has_value());
    ASSERT_TRUE(
        netlink().set_link_up(static_cast<int>(if_nametoindex("veth1")), std::nullopt).has_value());
    const IpAddress address = ip("fd00:88::1");
    const auto added = netlink().add_address(veth, address, 64);
    ASSERT_TRUE(added.has_value()) << added.error();
    const auto listed = find_address(addresses(), address);
    ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(listed->ifname, "veth0");
    EXPECT_FALSE(listed->tentative_or_deprecated);
    // Usable as a source right away: bind() refuses tentative addresses with EADDRNOTAVAIL.
    const auto [local, len] = testing::to_sockaddr(address, 0);
    const UniqueFd fd(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), len), 0)
        << std::generic_category().message(errno);
}

class NetlinkRoute : public NetlinkInNetns,
                     public ::testing::WithParamInterface<
                         std::tuple<const char*, unsigned, const char*, const char*>> {
protected:
    [[nodiscard]] IpAddress prefix() const { return ip(std::get<0>(GetParam())); }
    [[nodiscard]] unsigned prefix_len() const { return std::get<1>(GetParam()); }
    [[nodiscard]] IpAddress inside() const { return ip(std::get<2>(GetParam())); }
    [[nodiscard]] IpAddress with_host_bits() const { return ip(std::get<3>(GetParam())); }
};

TEST_P(NetlinkRoute, AddedRouteReachesThePrefixUntilRemoved) {
    EXPECT_EQ(testing::connect_error(inside()), ENETUNREACH);
    const auto added = netlink().add_route(ifindex(), prefix(), prefix_len());
    ASSERT_TRUE(added.has_value()) << added.error();
    EXPECT_EQ(testing::connect_error(inside()), 0);

    const auto removed = netlink().remove_route(ifindex(), prefix(), prefix_len());
    ASSERT_TRUE(removed.has_value()) << removed.error();
    EXPECT_EQ(testing::connect_error(inside()), ENETUNREACH);
}

TEST_P(NetlinkRoute, ErrorsSayWhatFailed) {
    ASSERT_TRUE(netlink().add_route(ifindex(), prefix(), prefix_len()).has_value());
    const auto again = netlink().add_route(ifindex(), prefix(), prefix_len());
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(
        again.error().rfind(
            fmt::format("add route {}/{} dev cyphtest0: File exists", prefix(), prefix_len()), 0),
        0U)
        << again.error();
    ASSERT_TRUE(netlink().remove_route(ifindex(), prefix(), prefix_len()).has_value());

    const auto missing = netlink().remove_route(ifindex(), prefix(), prefix_len());
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().rfind(fmt::format("remove route {}/{} dev cyphtest0: No such process",
                                                prefix(), prefix_len()),
                                    0),
              0U)
        << missing.error();
    EXPECT_TRUE(
        netlink().remove_route(ifindex(), prefix(), prefix_len(), IfMissing::Ignore).has_value());

    if (std::get<3>(GetParam()) != nullptr) {
        const auto host_bits = netlink().add_route(ifindex(), with_host_bits(), prefix_len());
        ASSERT_FALSE(host_bits.has_value());
        EXPECT_EQ(host_bits.error(),
                  fmt::format("add route {}/{} dev cyphtest0: host bits set (not a network "
                              "address for /{})",
                              with_host_bits(), prefix_len(), prefix_len()));
        EXPECT_EQ(testing::connect_error(inside()), ENETUNREACH);  // nothing was added
    }
}

INSTANTIATE_TEST_SUITE_P(
    BothFamilies, NetlinkRoute,
    ::testing::Values(std::tuple{"10.78.0.0", 16U, "10.78.3.4", "10.78.0.1"},
                      std::tuple{"10.79.1.1", 32U, "10.79.1.1", nullptr},
                      std::tuple{"fd00:78::", 64U, "fd00:78::abcd", "fd00:78::1"},
                      std::tuple{"fd00:79::", 33U, "fd00:79::1", "fd00:79:4000::"}));

TEST_F(NetlinkInNetns, RouteThroughADownInterfaceIsRefused) {
    const auto down = TunDevice::open("cyphdown0");
    ASSERT_TRUE(down.has_value()) << down.error();
    const auto added = netlink().add_route(down->ifindex(), ip("10.80.0.0"), 16);
    ASSERT_FALSE(added.has_value());
    EXPECT_EQ(added.error().rfind("add route 10.80.0.0/16 dev cyphdown0: Network is down", 0), 0U)
        << added.error();
}

}  // namespace
}  // namespace cyphonic::sys
