// Basic logins against the real cyphonic-as binary (PROTOCOL.md §6.2, §6.3, §7.1, C14).
#include <thread>

#include <gtest/gtest.h>

#include "as_harness.hpp"
#include "raw_tls.hpp"

namespace cyphonic::as::testing {
namespace {

using namespace std::chrono_literals;

// One value from the test database.
template <class T>
T query(const AsHarness& h, const std::string& sql) {
    pqxx::connection c(h.conninfo());
    pqxx::read_transaction t(c);
    return t.exec1(sql)[0].as<T>();
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(AsLogin, BasicLoginIssuesStableIdentityAndFreshKeys) {
    AsHarness h;
    h.add_device({"node1"}, "secret-1");
    h.start();
    net::BlockingAsClient client(h.client_options());

    auto first = client.login(basic_login("node1", "secret-1"));
    ASSERT_TRUE(first.has_value()) << first.error().describe();
    const auto& r = first->response;
    EXPECT_EQ(r.fqdn, "node1.cyphonic.test");
    EXPECT_EQ(r.cipher, wire::CipherSuiteId::Aes256Gcm);
    EXPECT_EQ(r.virtual_ipv4, *Ipv4Address::parse("10.77.0.1"));  // lowest host of 10.77.0.0/16
    EXPECT_EQ(r.virtual_ipv6, *Ipv6Address::parse("fd77::1"));
    EXPECT_EQ(r.nms_ipv4, *Ipv4Address::parse("192.0.2.10"));
    EXPECT_EQ(r.nms_ipv6, *Ipv6Address::parse("2001:db8::10"));
    EXPECT_EQ(r.expiry, utc_date_plus(7));
    EXPECT_NE(r.common_key, wire::KeyBytes{});
    EXPECT_EQ(first->node_id.to_hex(),
              query<std::string>(h, "SELECT encode(node_id, 'hex') FROM devices"));
    EXPECT_EQ(to_hex(r.common_key),
              query<std::string>(h, "SELECT encode(key, 'hex') FROM nms_keys"));
    EXPECT_EQ(query<int>(h, "SELECT generation FROM nms_keys"), 1);
    EXPECT_EQ(
        query<std::string>(h,
                           "SELECT to_char(expires_at AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD HH24:MI:SS') FROM nms_keys"),
        fmt::format("{:04d}-{:02d}-{:02d} 23:59:59", r.expiry.year, r.expiry.month, r.expiry.day));

    // A second login on the same connection: same identity and addresses, a new key.
    auto second = client.login(basic_login("node1", "secret-1"));
    ASSERT_TRUE(second.has_value()) << second.error().describe();
    EXPECT_EQ(second->node_id, first->node_id);
    EXPECT_EQ(second->response.fqdn, r.fqdn);
    EXPECT_EQ(second->response.virtual_ipv4, r.virtual_ipv4);
    EXPECT_EQ(second->response.virtual_ipv6, r.virtual_ipv6);
    EXPECT_NE(second->response.common_key, r.common_key);
    EXPECT_EQ(query<int>(h, "SELECT generation FROM nms_keys"), 2);
    EXPECT_EQ(to_hex(second->response.common_key),
              query<std::string>(h, "SELECT encode(key, 'hex') FROM nms_keys"));

    // And on a new connection.
    net::BlockingAsClient other(h.client_options());
    auto third = other.login(basic_login("node1", "secret-1"));
    ASSERT_TRUE(third.has_value()) << third.error().describe();
    EXPECT_EQ(third->node_id, first->node_id);
    EXPECT_EQ(h.metric(R"(cyphonic_as_requests_total{type="login_request",result="ok"})"), 3);
}

TEST(AsLogin, WrongPasswordOrUnknownDeviceIsAuthFailedWithAReason) {
    AsHarness h;
    h.add_device({"node1"}, "secret-1");
    h.start();
    net::BlockingAsClient client(h.client_options());

    auto wrong = client.login(basic_login("node1", "not-it"));
    ASSERT_FALSE(wrong.has_value());
    EXPECT_EQ(wrong.error().kind, net::LoginFailure::Kind::Rejected);
    EXPECT_EQ(wrong.error().code, wire::ErrorCode::AuthFailed);
    EXPECT_EQ(wrong.error().reason, "unknown device 'node1' or wrong password");
    EXPECT_EQ(query<int>(h, "SELECT failed_logins FROM devices"), 1);

    // An unknown DeviceID reads the same, so the answer does not tell which IDs exist.
    auto unknown = client.login(basic_login("nobody", "x"));
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().code, wire::ErrorCode::AuthFailed);
    EXPECT_EQ(unknown.error().reason, "unknown device 'nobody' or wrong password");

    EXPECT_EQ(h.metric(R"(cyphonic_as_requests_total{type="login_request",result="auth_failed"})"),
              2);
    EXPECT_TRUE(contains(h.log(), "login failed device_id=node1")) << h.log();
    EXPECT_FALSE(contains(h.log(), "not-it"));  // a password never reaches the log

    // The connection stays usable after a failure; a success resets the counter.
    auto ok = client.login(basic_login("node1", "secret-1"));
    ASSERT_TRUE(ok.has_value()) << ok.error().describe();
    EXPECT_EQ(query<int>(h, "SELECT failed_logins FROM devices"), 0);
}

TEST(AsLogin, RepeatedFailuresLockTheDeviceAndUnknownDevicesTheSource) {
    AsHarness h({"login.unknown_burst=2", "login.unknown_per_s=0.1"});
    h.add_device({"node1"}, "secret-1");
    h.start();
    net::BlockingAsClient client(h.client_options());

    std::vector<wire::ErrorCode> codes;
    std::string locked_reason;
    for (int i = 0; i < 10 && locked_reason.empty(); ++i) {
        auto r = client.login(basic_login("node1", "wrong"));
        ASSERT_FALSE(r.has_value());
        codes.push_back(r.error().code);
        if (r.error().code == wire::ErrorCode::RateLimited) {
            locked_reason = r.error().reason;
        }
    }
    ASSERT_GE(codes.size(), 6U);
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(codes[i], wire::ErrorCode::AuthFailed) << i;
    }
    EXPECT_TRUE(contains(locked_reason, "device 'node1' is locked after")) << locked_reason;
    EXPECT_TRUE(contains(locked_reason, "retry after 20")) << locked_reason;

    // The right password does not help while the lock lasts.
    auto during = client.login(basic_login("node1", "secret-1"));
    ASSERT_FALSE(during.has_value());
    EXPECT_EQ(during.error().code, wire::ErrorCode::RateLimited);
    EXPECT_GE(h.metric(R"(cyphonic_as_requests_total{type="login_request",result="rate_limited"})"),
              2);

    // After the lock (1 s after the 5th failure, doubling per further failure) it does.
    const double wait_s = query<double>(
        h, "SELECT GREATEST(0, extract(epoch FROM locked_until - now()))::float8 FROM devices");
    std::this_thread::sleep_for(std::chrono::duration<double>(wait_s + 0.2));
    auto after = client.login(basic_login("node1", "secret-1"));
    ASSERT_TRUE(after.has_value()) << after.error().describe();
    EXPECT_EQ(query<int>(h, "SELECT failed_logins FROM devices"), 0);
    EXPECT_TRUE(query<bool>(h, "SELECT locked_until IS NULL FROM devices"));

    // Scanning for DeviceIDs: after login.unknown_burst failures for unknown devices, the
    // source address has to wait.
    for (int i = 0; i < 2; ++i) {
        auto r = client.login(basic_login("ghost" + std::to_string(i), "x"));
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, wire::ErrorCode::AuthFailed);
    }
    auto scan = client.login(basic_login("ghost9", "x"));
    ASSERT_FALSE(scan.has_value());
    EXPECT_EQ(scan.error().code, wire::ErrorCode::RateLimited);
    EXPECT_TRUE(contains(scan.error().reason,
                         "too many failed logins for unknown devices from 127.0.0.1; retry in"))
        << scan.error().reason;
}

TEST(AsLogin, ExecModeMustMatchTheDeviceKind) {
    AsHarness h;
    h.add_device({"node1"}, "secret-1");
    h.add_device({"ad1", "--kind", "adapter"}, "adapter-pw");
    h.start();
    net::BlockingAsClient client(h.client_options());

    auto as_adapter = client.login(basic_login("node1", "secret-1", wire::ExecMode::Adapter));
    ASSERT_FALSE(as_adapter.has_value());
    EXPECT_EQ(as_adapter.error().code, wire::ErrorCode::AuthFailed);
    EXPECT_EQ(as_adapter.error().reason,
              "device 'node1' is enrolled as a node and must log in with Exec Mode 1, not 2 "
              "(adapter)");
    auto as_node = client.login(basic_login("ad1", "adapter-pw", wire::ExecMode::Node));
    ASSERT_FALSE(as_node.has_value());
    EXPECT_TRUE(contains(as_node.error().reason, "enrolled as an adapter"))
        << as_node.error().reason;
    EXPECT_TRUE(
        client.login(basic_login("ad1", "adapter-pw", wire::ExecMode::Adapter)).has_value());
}

TEST(AsLogin, PipelinedRequestsAreAnsweredInOrder) {
    AsHarness h;
    h.add_device({"node1"}, "secret-1");
    h.start();
    RawTls tls(raw_options(h.tls(), AsEnvironment::get().certs() / "ca.crt"));
    ASSERT_EQ(tls.connect(), std::nullopt);
    Bytes all;
    for (std::uint32_t i = 1; i <= 3; ++i) {
        const auto request =
            stream_bytes(basic_login("node1", i == 2 ? "wrong" : "secret-1"), 0x1000 + i, i);
        all.insert(all.end(), request.begin(), request.end());
    }
    ASSERT_TRUE(tls.write(all));
    for (std::uint32_t i = 1; i <= 3; ++i) {
        const auto answer = tls.read_message();
        ASSERT_TRUE(answer.has_value()) << i;
        EXPECT_EQ(answer->header.transaction_id, 0x1000 + i);
        EXPECT_EQ(answer->header.sequence, i);  // the AS numbers its messages from 1 (§5.4)
        if (i == 2) {
            EXPECT_EQ(answer->header.type, wire::MessageType::Error);
            EXPECT_EQ(answer->header.flags, wire::flag::kResponse);
            EXPECT_EQ(answer->header.node_id(), NodeId{});  // D20: ID zero on a failed login
        } else {
            EXPECT_EQ(answer->header.type, wire::MessageType::LoginResponse);
            EXPECT_EQ(answer->header.flags, wire::flag::kSuccess | wire::flag::kResponse);
            EXPECT_FALSE(answer->header.node_id().is_zero());
        }
    }
}

}  // namespace
}  // namespace cyphonic::as::testing
