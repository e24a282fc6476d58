// Route selection rules of NMS (services/nms/src/route.cpp): which route two ends get, and when
// a repeated Direction Request falls back to the relay (Q8, docs/DECISIONS.md N11).
#include "route.hpp"

#include <gtest/gtest.h>

namespace cyphonic::nms {
namespace {

using std::chrono::seconds;

FamilyLocation v4(const char* address, std::uint16_t port, bool nat) {
    return FamilyLocation{*IpAddress::parse(address), port, nat, SystemClock::now()};
}

Location at(std::optional<FamilyLocation> f4, Ipv4Address real = {}) {
    Location l;
    l.application_port = 4800;
    l.real_ipv4 = real;
    l.v4 = std::move(f4);
    l.online = true;
    return l;
}

const TrsAddresses kTrs{NodeId{}, *Ipv4Address::parse("10.77.0.20"), Ipv6Address{}};

NodeInfo node(const char* fqdn) {
    NodeInfo n;
    n.fqdn = fqdn;
    return n;
}

wire::RouteDirection route(const Location& i, const Location& r, const RouteChoice& c) {
    const auto a = node("a.example");
    const auto b = node("b.example");
    return build_route_direction(PathId{}, c, RouteEnds{a, i, b, r}, kTrs);
}

TEST(Route, PublicAndNattedEndsGetADirectRoute) {
    const auto i = at(v4("10.77.0.40", 4800, false));
    const auto r = at(v4("10.77.0.2", 40001, true));
    const auto c = choose_route(i, r, kTrs);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->code, wire::ProcessCode::Direct);
}

TEST(Route, TwoNattedEndsAreRelayedAndOneSharedNatIsDirectOnPrivateAddresses) {
    const auto i = at(v4("10.77.0.2", 40001, true));
    const auto r = at(v4("10.77.0.3", 40002, true));
    EXPECT_EQ(choose_route(i, r, kTrs)->code, wire::ProcessCode::Relayed);
    const auto same = at(v4("10.77.0.2", 40003, true));
    EXPECT_EQ(choose_route(i, same, kTrs)->code, wire::ProcessCode::SharedNat);
    EXPECT_FALSE(choose_route(i, r, std::nullopt).has_value());  // relay needed, no TRS
}

TEST(Route, RepeatedRequestSoonAfterADirectRouteBetweenTheSameEndpointsFallsBack) {
    const auto i = at(v4("10.77.0.40", 4800, false));
    const auto r = at(v4("10.77.0.2", 40001, true));
    const auto c = *choose_route(i, r, kTrs);
    const auto before = route(i, r, c);
    const auto now = route(i, r, c);
    EXPECT_TRUE(direct_route_failed_before(now, PreviousRoute{before, seconds(4)}, seconds(120)));
    // Too long ago: direct is worth another try (the outage may be over).
    EXPECT_FALSE(
        direct_route_failed_before(now, PreviousRoute{before, seconds(120)}, seconds(120)));
    // An end moved (new observed port or address): a new direct attempt, not the relay.
    const auto moved = at(v4("10.77.0.2", 40009, true));
    EXPECT_FALSE(direct_route_failed_before(route(i, moved, *choose_route(i, moved, kTrs)),
                                            PreviousRoute{before, seconds(4)}, seconds(120)));
    const auto elsewhere = at(v4("10.77.0.5", 40001, true));
    EXPECT_FALSE(direct_route_failed_before(route(i, elsewhere, *choose_route(i, elsewhere, kTrs)),
                                            PreviousRoute{before, seconds(4)}, seconds(120)));
    // The relay that follows is there for both ends.
    const auto relay = relay_route(i, r, kTrs);
    ASSERT_TRUE(relay.has_value());
    EXPECT_EQ(relay->code, wire::ProcessCode::Relayed);
    EXPECT_FALSE(relay_route(i, r, std::nullopt).has_value());
}

TEST(Route, SharedNatRouteFallsBackToo) {
    const auto i = at(v4("10.77.0.2", 40001, true), *Ipv4Address::parse("192.168.1.2"));
    const auto r = at(v4("10.77.0.2", 40003, true), *Ipv4Address::parse("192.168.1.3"));
    const auto c = *choose_route(i, r, kTrs);
    ASSERT_EQ(c.code, wire::ProcessCode::SharedNat);
    const auto body = route(i, r, c);
    EXPECT_TRUE(direct_route_failed_before(body, PreviousRoute{body, seconds(3)}, seconds(120)));
}

TEST(Route, ARelayedRouteNeverCountsAsAFailedDirectOne) {
    const auto i = at(v4("10.77.0.2", 40001, true));
    const auto r = at(v4("10.77.0.3", 40002, true));
    const auto body = route(i, r, *choose_route(i, r, kTrs));
    ASSERT_EQ(body.process, wire::ProcessCode::Relayed);
    EXPECT_FALSE(direct_route_failed_before(body, PreviousRoute{body, seconds(1)}, seconds(120)));
}

}  // namespace
}  // namespace cyphonic::nms
