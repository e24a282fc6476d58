#include "cyphonic/app/service.hpp"

#include <optional>

#include <gtest/gtest.h>

namespace cyphonic::app {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(ServiceRuntime, WaitsForInFlightWorkThenExitsZero) {
    ServiceRuntime rt("test");
    rt.set_ready(true);
    bool listeners_closed = false;
    bool work_finished = false;
    std::optional<ServiceRuntime::InFlight> work(rt.in_flight());
    asio::steady_timer finish(rt.io(), milliseconds(100));
    finish.async_wait([&](const boost::system::error_code&) {
        work_finished = true;
        work.reset();
    });
    rt.request_stop();
    const auto start = Clock::now();
    EXPECT_EQ(rt.run([&] { listeners_closed = true; }, milliseconds(5000)), 0);
    EXPECT_TRUE(listeners_closed);
    EXPECT_TRUE(work_finished);
    EXPECT_FALSE(rt.ready());
    EXPECT_LT(Clock::now() - start, milliseconds(4000));
}

TEST(ServiceRuntime, AbandonsWorkAfterGrace) {
    ServiceRuntime rt("test");
    const auto stuck = rt.in_flight();
    rt.request_stop();
    const auto start = Clock::now();
    EXPECT_EQ(rt.run({}, milliseconds(200)), 0);
    EXPECT_GE(Clock::now() - start, milliseconds(200));
    EXPECT_EQ(rt.in_flight_count(), 1);
}

TEST(ServiceRuntime, FailExitsOne) {
    ServiceRuntime rt("test");
    rt.fail("socket closed");
    EXPECT_EQ(rt.run({}, milliseconds(100)), 1);
}

TEST(ServiceRuntime, SigtermStopsTheService) {
    ServiceRuntime rt("test");
    rt.set_ready(true);
    asio::post(rt.io(), [] { ::raise(SIGTERM); });
    EXPECT_EQ(rt.run({}, milliseconds(100)), 0);
    EXPECT_TRUE(rt.stopping());
}

}  // namespace
}  // namespace cyphonic::app
