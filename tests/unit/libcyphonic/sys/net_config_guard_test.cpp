#include "cyphonic/sys/net_config_guard.hpp"

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/netns.hpp"
#include "unit/libcyphonic/sys/sys_test_util.hpp"

#include "cyphonic/sys/netlink.hpp"
#include "cyphonic/sys/tun.hpp"

namespace cyphonic::sys {
namespace {

using testing::connect_error;
using testing::find_address;
using testing::ip;

class NetConfigGuardInNetns : public cyphonic::testing::FreshNetnsTest {
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
        ASSERT_TRUE(netlink_->set_link_up(ifindex(), std::nullopt).has_value());
    }
    [[nodiscard]] int ifindex() const { return tun_->ifindex(); }
    bool has_address(const char* text) {
        const auto list = netlink_->addresses();
        EXPECT_TRUE(list.has_value());
        return list && find_address(*list, ip(text)).has_value();
    }
    // Adds the daemon's usual set: a virtual IPv4 and IPv6 address and a route of each family.
    void add_all(NetConfigGuard& guard) {
        for (const auto& [address, prefix_len] :
             {std::pair{"10.77.0.1", 32U}, std::pair{"fd00:77::1", 128U}}) {
            const auto added = guard.add_address(ifindex(), ip(address), prefix_len);
            ASSERT_TRUE(added.has_value()) << added.error();
        }
        for (const auto& [prefix, prefix_len] :
             {std::pair{"10.78.0.0", 16U}, std::pair{"fd00:78::", 64U}}) {
            const auto added = guard.add_route(ifindex(), ip(prefix), prefix_len);
            ASSERT_TRUE(added.has_value()) << added.error();
        }
    }
    void expect_all_gone() {
        EXPECT_FALSE(has_address("10.77.0.1"));
        EXPECT_FALSE(has_address("fd00:77::1"));
        EXPECT_EQ(connect_error(ip("10.78.9.9")), ENETUNREACH);
        EXPECT_EQ(connect_error(ip("fd00:78::9")), ENETUNREACH);
    }

    std::optional<TunDevice> tun_;
    std::optional<Netlink> netlink_;
};

TEST_F(NetConfigGuardInNetns, RestoreRemovesExactlyWhatItAdded) {
    // Configuration that was there before, or that someone else adds, stays.
    ASSERT_TRUE(netlink_->add_address(ifindex(), ip("10.90.0.1"), 32).has_value());
    NetConfigGuard guard(*netlink_);
    add_all(guard);
    ASSERT_TRUE(netlink_->add_route(ifindex(), ip("10.91.0.0"), 16).has_value());
    EXPECT_EQ(guard.size(), 4U);
    EXPECT_TRUE(has_address("10.77.0.1"));
    EXPECT_TRUE(has_address("fd00:77::1"));
    EXPECT_EQ(connect_error(ip("10.78.9.9")), 0);
    EXPECT_EQ(connect_error(ip("fd00:78::9")), 0);

    EXPECT_EQ(guard.restore(), std::vector<std::string>{});
    EXPECT_EQ(guard.size(), 0U);
    expect_all_gone();
    EXPECT_TRUE(has_address("10.90.0.1"));
    EXPECT_EQ(connect_error(ip("10.91.9.9")), 0);
}

TEST_F(NetConfigGuardInNetns, DestructorRestores) {
    {
        NetConfigGuard guard(*netlink_);
        add_all(guard);
        EXPECT_TRUE(has_address("10.77.0.1"));
    }
    expect_all_gone();
}

TEST_F(NetConfigGuardInNetns, MovedGuardRestoresOnce) {
    std::optional<NetConfigGuard> moved;
    {
        NetConfigGuard guard(*netlink_);
        add_all(guard);
        moved.emplace(std::move(guard));
    }
    EXPECT_TRUE(has_address("10.77.0.1"));  // the moved-from guard had nothing left to undo
    moved.reset();
    expect_all_gone();
}

TEST_F(NetConfigGuardInNetns, AlreadyGoneCountsAsRemoved) {
    NetConfigGuard guard(*netlink_);
    add_all(guard);
    ASSERT_TRUE(netlink_->remove_address(ifindex(), ip("10.77.0.1"), 32).has_value());
    tun_.reset();  // the kernel removes the interface and everything on it
    EXPECT_EQ(guard.restore(), std::vector<std::string>{});
}

TEST_F(NetConfigGuardInNetns, FailedAddIsNotRecorded) {
    NetConfigGuard guard(*netlink_);
    ASSERT_TRUE(netlink_->add_address(ifindex(), ip("10.77.0.1"), 32).has_value());
    const auto clash = guard.add_address(ifindex(), ip("10.77.0.1"), 32);
    ASSERT_FALSE(clash.has_value());
    EXPECT_EQ(guard.size(), 0U);
    EXPECT_EQ(guard.restore(), std::vector<std::string>{});
    EXPECT_TRUE(has_address("10.77.0.1"));  // not ours to remove
}

TEST_F(NetConfigGuardInNetns, RemovesOneEntryOnRequest) {
    NetConfigGuard guard(*netlink_);
    add_all(guard);
    const auto removed = guard.remove_address(ifindex(), ip("10.77.0.1"), 32);
    ASSERT_TRUE(removed.has_value()) << removed.error();
    EXPECT_FALSE(has_address("10.77.0.1"));
    EXPECT_TRUE(has_address("fd00:77::1"));
    const auto route = guard.remove_route(ifindex(), ip("fd00:78::"), 64);
    ASSERT_TRUE(route.has_value()) << route.error();
    EXPECT_EQ(connect_error(ip("fd00:78::9")), ENETUNREACH);
    EXPECT_EQ(guard.size(), 2U);

    const auto foreign = guard.remove_address(ifindex(), ip("10.77.0.1"), 32);
    ASSERT_FALSE(foreign.has_value());
    EXPECT_EQ(foreign.error(), "remove address 10.77.0.1/32: not added through this guard");
}

TEST_F(NetConfigGuardInNetns, ReleaseLeavesTheConfiguration) {
    {
        NetConfigGuard guard(*netlink_);
        add_all(guard);
        guard.release();
    }
    EXPECT_TRUE(has_address("10.77.0.1"));
    EXPECT_EQ(connect_error(ip("10.78.9.9")), 0);
}

}  // namespace
}  // namespace cyphonic::sys
