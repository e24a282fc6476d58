// The pure parts of the AS: dates, JSON, MAC syntax, the per-source allowance.
#include "handlers.hpp"

#include <gtest/gtest.h>

#include "controller_api.hpp"
#include "metrics.hpp"
#include "store.hpp"

namespace cyphonic::as {
namespace {

using std::chrono::sys_days;
using namespace std::chrono;

TEST(LoginExpiry, IsTheDayAfterTheLifetimeAtEndOfDayUtc) {
    const SystemTime noon = sys_days(year{2026} / 12 / 28) + hours(12);
    const wire::Date d = expiry_date(noon, 7);
    EXPECT_EQ(d, (wire::Date{2027, 1, 4}));
    EXPECT_EQ(expiry_timestamp(d), "2027-01-04 23:59:59+00");
    const SystemTime last_second = sys_days(year{2024} / 2 / 28) + hours(23) + minutes(59);
    EXPECT_EQ(expiry_date(last_second, 1), (wire::Date{2024, 2, 29}));
    EXPECT_EQ(iso_time(sys_days(year{2026} / 11 / 23) + hours(12)), "2026-11-23T12:00:00Z");
}

TEST(Json, EscapesEverythingJsonRequires) {
    EXPECT_EQ(json_escape("plain"), "plain");
    EXPECT_EQ(json_escape("a\"b\\c\n\t\x01\x7f"), "a\\\"b\\\\c\\n\\t\\u0001\\u007f");
    EXPECT_EQ(json_escape("gr\xC3\xBC\xC3\x9F"), "gr\xC3\xBC\xC3\x9F");
    DeviceRecord n;
    n.device_id = "gn1";
    n.mac = "02:00:5e:10:00:01";
    n.fqdn = "gn1.cyphonic.test";
    n.virtual_ipv4 = Ipv4Address::parse("10.77.0.3");
    EXPECT_EQ(general_nodes_json({n}),
              R"([{"device_id":"gn1","mac":"02:00:5e:10:00:01","fqdn":"gn1.cyphonic.test",)"
              R"("virtual_ipv4":"10.77.0.3","virtual_ipv6":null,"auth_type":"mac"}])");
    EXPECT_EQ(general_nodes_json({}), "[]");
}

TEST(Mac, NormalizesToLowerCaseAndRejectsOtherForms) {
    EXPECT_EQ(normalize_mac("02:00:5E:10:00:0A"), "02:00:5e:10:00:0a");
    EXPECT_EQ(normalize_mac("02-00-5e-10-00-0a"), std::nullopt);
    EXPECT_EQ(normalize_mac("02:00:5e:10:00"), std::nullopt);
    EXPECT_EQ(normalize_mac("02:00:5e:10:00:0g"), std::nullopt);
    EXPECT_EQ(normalize_mac("020:0:5e:10:00:0a"), std::nullopt);
}

TEST(SourceLimiter, AllowsABurstThenRefills) {
    SourceLimiter limiter(3, 1.0);
    const auto source = *IpAddress::parse("192.0.2.1");
    const auto other = *IpAddress::parse("2001:db8::1");
    const auto t0 = steady_clock::time_point{} + hours(1);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(limiter.wait_s(source, t0), 0);
        limiter.consume(source, t0);
    }
    EXPECT_NEAR(limiter.wait_s(source, t0), 1.0, 1e-9);
    EXPECT_EQ(limiter.wait_s(other, t0), 0);  // per source
    EXPECT_EQ(limiter.wait_s(source, t0 + milliseconds(1000)), 0);
}

TEST(SourceLimiter, StaysBounded) {
    SourceLimiter limiter(1, 0.001, 100);
    const auto t0 = steady_clock::time_point{} + hours(1);
    for (std::uint32_t i = 0; i < 1000; ++i) {
        Ipv4Address a;
        a.bytes = {std::byte{10}, std::byte{0}, static_cast<std::byte>(i >> 8U),
                   static_cast<std::byte>(i & 0xFFU)};
        limiter.consume(a, t0);
    }
    // The oldest sources were forgotten (they get a fresh allowance), memory did not grow.
    Ipv4Address first;
    first.bytes = {std::byte{10}, std::byte{0}, std::byte{0}, std::byte{0}};
    EXPECT_EQ(limiter.wait_s(first, t0), 0);
}

TEST(Metrics, SnakeCaseAndDropSummaryDeltas) {
    EXPECT_EQ(snake_case("LengthMismatch"), "length_mismatch");
    EXPECT_EQ(snake_case("Truncated"), "truncated");
    app::MetricsRegistry registry;
    AsMetrics m(registry);
    EXPECT_EQ(m.drop_summary(), "");
    m.dropped("oversized");
    m.dropped("oversized");
    m.dropped("truncated");
    EXPECT_EQ(m.drop_summary(), "oversized=2 truncated=1");
    EXPECT_EQ(m.drop_summary(), "");
    m.dropped("truncated");
    EXPECT_EQ(m.drop_summary(), "truncated=1");
}

TEST(Printable, KeepsLogLinesSafe) {
    EXPECT_EQ(printable("node1"), "node1");
    EXPECT_EQ(printable("a\nb\x1b[31m"), "a?b?[31m");
    EXPECT_EQ(printable(std::string(100, 'x')), std::string(64, 'x') + "...");
}

}  // namespace
}  // namespace cyphonic::as
