#include "cyphonic/sys/address_watcher.hpp"

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "support/netns.hpp"
#include "unit/libcyphonic/sys/sys_test_util.hpp"

#include "cyphonic/sys/netlink.hpp"

namespace cyphonic::sys {
namespace {

using std::chrono::milliseconds;
using testing::ip;

constexpr milliseconds kDebounce(50);

// A fresh namespace with a veth pair (left down, so IPv6 stays quiet) and a watcher on it.
class AddressWatcherInNetns : public cyphonic::testing::FreshNetnsTest {
protected:
    void SetUp() override {
        FreshNetnsTest::SetUp();
        if (HasFatalFailure()) {
            return;
        }
        veth_ = testing::make_veth("veth0", "veth1");
        ASSERT_NE(veth_, 0);
        auto netlink = Netlink::open();
        ASSERT_TRUE(netlink.has_value()) << netlink.error();
        netlink_.emplace(std::move(*netlink));
        watcher_ = std::make_unique<AddressWatcher>(
            io_.get_executor(), [this] { ++calls_; }, kDebounce);
    }
    void add_address(const char* text) {
        const auto added = netlink_->add_address(veth_, ip(text), 24);
        ASSERT_TRUE(added.has_value()) << added.error();
    }
    // Runs the loop until on_change was called `calls` times or `limit` passed.
    void run_until_calls(int calls, milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (calls_ < calls && std::chrono::steady_clock::now() < end) {
            io_.run_one_for(milliseconds(10));
        }
    }

    asio::io_context io_;
    int veth_ = 0;
    std::optional<Netlink> netlink_;
    std::unique_ptr<AddressWatcher> watcher_;
    int calls_ = 0;
};

TEST_F(AddressWatcherInNetns, FiresAfterAnAddressIsAdded) {
    const auto started = watcher_->start();
    ASSERT_TRUE(started.has_value()) << started.error();
    io_.run_for(kDebounce * 3);
    EXPECT_EQ(calls_, 0);  // nothing happened yet

    const auto before = std::chrono::steady_clock::now();
    add_address("10.60.0.1");
    run_until_calls(1, milliseconds(3000));
    EXPECT_EQ(calls_, 1);
    EXPECT_GE(std::chrono::steady_clock::now() - before, kDebounce);  // it waited for the burst
}

TEST_F(AddressWatcherInNetns, FiresAfterAnAddressIsRemovedAndALinkComesUp) {
    add_address("10.60.0.1");
    ASSERT_TRUE(watcher_->start().has_value());
    ASSERT_TRUE(netlink_->remove_address(veth_, ip("10.60.0.1"), 24).has_value());
    run_until_calls(1, milliseconds(3000));
    EXPECT_EQ(calls_, 1);

    ASSERT_TRUE(netlink_->set_link_up(veth_, std::nullopt).has_value());
    run_until_calls(2, milliseconds(3000));
    EXPECT_EQ(calls_, 2);
}

TEST_F(AddressWatcherInNetns, CallsOncePerBurst) {
    // A longer debounce than the gaps between events, with room for a slow, shared machine.
    constexpr milliseconds kLong(250);
    watcher_ = std::make_unique<AddressWatcher>(
        io_.get_executor(), [this] { ++calls_; }, kLong);
    ASSERT_TRUE(watcher_->start().has_value());
    for (const char* address : {"10.60.0.1", "10.61.0.1", "10.62.0.1", "10.63.0.1"}) {
        add_address(address);
        io_.run_for(milliseconds(20));  // each event is read on its own
    }
    EXPECT_EQ(calls_, 0);
    run_until_calls(1, milliseconds(3000));
    io_.run_for(kLong * 3);  // long enough for a second call, if there were one
    EXPECT_EQ(calls_, 1);
}

TEST_F(AddressWatcherInNetns, SilentAfterStop) {
    ASSERT_TRUE(watcher_->start().has_value());
    add_address("10.60.0.1");
    io_.poll();  // the event is read and the debounce timer runs
    watcher_->stop();
    EXPECT_FALSE(watcher_->running());
    add_address("10.61.0.1");
    io_.run_for(kDebounce * 6);
    EXPECT_EQ(calls_, 0);
    watcher_->stop();  // idempotent
}

TEST_F(AddressWatcherInNetns, SilentAfterDestruction) {
    ASSERT_TRUE(watcher_->start().has_value());
    add_address("10.60.0.1");
    io_.poll();
    watcher_.reset();  // handlers are still queued; they must not touch the watcher
    add_address("10.61.0.1");
    io_.run_for(kDebounce * 6);
    EXPECT_EQ(calls_, 0);
}

TEST_F(AddressWatcherInNetns, CallbackMayStopTheWatcher) {
    watcher_ = std::make_unique<AddressWatcher>(
        io_.get_executor(),
        [this] {
            ++calls_;
            watcher_.reset();
        },
        kDebounce);
    ASSERT_TRUE(watcher_->start().has_value());
    add_address("10.60.0.1");
    run_until_calls(1, milliseconds(3000));
    EXPECT_EQ(calls_, 1);
    EXPECT_EQ(watcher_, nullptr);
    add_address("10.61.0.1");
    io_.run_for(kDebounce * 6);
    EXPECT_EQ(calls_, 1);
}

TEST_F(AddressWatcherInNetns, StartsOnceAndAgainAfterStop) {
    ASSERT_TRUE(watcher_->start().has_value());
    const auto twice = watcher_->start();
    ASSERT_FALSE(twice.has_value());
    EXPECT_EQ(twice.error(), "address watcher: already running");
    watcher_->stop();
    ASSERT_TRUE(watcher_->start().has_value());
    EXPECT_TRUE(watcher_->running());
    add_address("10.60.0.1");
    run_until_calls(1, milliseconds(3000));
    EXPECT_EQ(calls_, 1);
}

// A steady trickle of events (one every half debounce) still produces a call within the cap of
// 4 debounce periods, not only when it stops.
TEST_F(AddressWatcherInNetns, ConstantTrickleStillReports) {
    ASSERT_TRUE(watcher_->start().has_value());
    int sent = 0;
    for (; sent < 20 && calls_ == 0; ++sent) {
        add_address(fmt::format("10.60.{}.1", sent).c_str());
        io_.run_for(kDebounce / 2);
    }
    EXPECT_EQ(calls_, 1);
    EXPECT_LT(sent, 20);  // reported while events were still coming
}

}  // namespace
}  // namespace cyphonic::sys
