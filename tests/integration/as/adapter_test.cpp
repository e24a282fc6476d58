// Adapters and their general nodes: proxy logins (PROTOCOL.md §7.10 step 1, D6, Q2, Q5) and the
// controller API (§7.9 step 3).
#include <map>

#include <gtest/gtest.h>

#include "as_harness.hpp"
#include "raw_tls.hpp"

namespace cyphonic::as::testing {
namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class AsAdapter : public ::testing::Test {
protected:
    void SetUp() override {
        h_.add_device({"ad1", "--kind", "adapter"}, "adapter-pw");
        h_.add_device({"ad2", "--kind", "adapter"}, "adapter2-pw");
        h_.add_device({"ad-cert", "--kind", "adapter", "--cert-login"});
        h_.add_device({"node1"}, "node-pw");
        h_.add_device(
            {"gn1", "--kind", "general", "--adapter", "ad1", "--mac", "02:00:5E:10:00:01"});
        h_.add_device(
            {"gnp", "--kind", "general", "--adapter", "ad1", "--mac", "02:00:5e:10:00:02"},
            "general-pw");
        h_.add_device({"gn-cert", "--kind", "general", "--adapter", "ad1", "--mac",
                       "02:00:5e:10:00:03", "--cert-login"});
        h_.add_device(
            {"gn9", "--kind", "general", "--adapter", "ad2", "--mac", "02:00:5e:10:00:09"});
        h_.start();
    }

    AsHarness h_;
};

TEST_F(AsAdapter, MacLoginOnlyAfterAdapterLoginAndOnlyForItsOwnGeneralNodes) {
    net::BlockingAsClient client(h_.client_options());
    auto early = client.login(mac_login("02:00:5e:10:00:01"));
    ASSERT_FALSE(early.has_value());
    EXPECT_EQ(early.error().code, wire::ErrorCode::AuthFailed);
    EXPECT_EQ(early.error().reason,
              "MAC login is only accepted on a connection already logged in as an adapter");
    auto early_basic = client.login(basic_login("gnp", "general-pw", wire::ExecMode::GeneralNode));
    ASSERT_FALSE(early_basic.has_value());
    EXPECT_TRUE(contains(early_basic.error().reason, "logged in by their adapter"));

    auto adapter = client.login(basic_login("ad1", "adapter-pw", wire::ExecMode::Adapter));
    ASSERT_TRUE(adapter.has_value()) << adapter.error().describe();
    EXPECT_EQ(adapter->response.fqdn, "ad1.cyphonic.test");

    auto gn1 = client.login(mac_login("02:00:5e:10:00:01"));
    ASSERT_TRUE(gn1.has_value()) << gn1.error().describe();
    EXPECT_EQ(gn1->response.fqdn, "gn1.cyphonic.test");
    EXPECT_NE(gn1->node_id, adapter->node_id);
    EXPECT_NE(gn1->response.virtual_ipv4, adapter->response.virtual_ipv4);

    auto foreign = client.login(mac_login("02:00:5e:10:00:09"));
    ASSERT_FALSE(foreign.has_value());
    EXPECT_EQ(foreign.error().reason,
              "MAC 02:00:5e:10:00:09 is not a general node of adapter 'ad1'");
    auto unknown = client.login(mac_login("02:00:5e:10:00:77"));
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().reason,
              "MAC 02:00:5e:10:00:77 is not a general node of adapter 'ad1'");
    auto wrong_mode = mac_login("02:00:5e:10:00:01");
    wrong_mode.exec_mode = wire::ExecMode::Node;
    auto as_node = client.login(wrong_mode);
    ASSERT_FALSE(as_node.has_value());
    EXPECT_EQ(as_node.error().reason,
              "MAC login (Auth Type 3) is only for general nodes (Exec Mode 3)");

    // Basic (Q5) and certificate (Q2) logins of the adapter's general nodes.
    auto gnp = client.login(basic_login("gnp", "general-pw", wire::ExecMode::GeneralNode));
    ASSERT_TRUE(gnp.has_value()) << gnp.error().describe();
    EXPECT_EQ(gnp->response.fqdn, "gnp.cyphonic.test");
    const auto certs = AsEnvironment::get().certs();
    auto gn_cert = client.login(certificate_login("gn-cert", wire::ExecMode::GeneralNode,
                                                  certificate_der(certs / "client-gn-cert.crt")));
    ASSERT_TRUE(gn_cert.has_value()) << gn_cert.error().describe();
    EXPECT_EQ(gn_cert->response.fqdn, "gn-cert.cyphonic.test");
    auto stolen = client.login(certificate_login("gn-cert", wire::ExecMode::GeneralNode,
                                                 certificate_der(certs / "client-node-cert.crt")));
    ASSERT_FALSE(stolen.has_value());
    EXPECT_EQ(stolen.error().reason,
              "client certificate CN 'node-cert' does not match DeviceID 'gn-cert'");

    // Another adapter's general node by name is refused too.
    net::BlockingAsClient second(h_.client_options());
    ASSERT_TRUE(
        second.login(basic_login("ad2", "adapter2-pw", wire::ExecMode::Adapter)).has_value());
    auto not_yours = second.login(basic_login("gnp", "general-pw", wire::ExecMode::GeneralNode));
    ASSERT_FALSE(not_yours.has_value());
    EXPECT_EQ(not_yours.error().reason,
              "general node 'gnp' belongs to adapter 'ad1', not to 'ad2' logged in on this "
              "connection");
}

TEST_F(AsAdapter, ControllerApiListsTheAdaptersGeneralNodes) {
    net::BlockingAsClient client(h_.client_options());
    auto nodes = client.fetch_general_nodes("ad1", std::string("adapter-pw"));
    ASSERT_TRUE(nodes.has_value()) << nodes.error().describe();
    ASSERT_EQ(nodes->size(), 3U);
    std::map<std::string, net::GeneralNodeEntry> by_id;
    for (const auto& n : *nodes) {
        by_id[n.device_id] = n;
    }
    ASSERT_EQ(by_id.size(), 3U);
    const auto& gn1 = by_id["gn1"];
    EXPECT_EQ(gn1.mac, "02:00:5e:10:00:01");  // enrolled in upper case, stored in lower case
    EXPECT_EQ(gn1.fqdn, "gn1.cyphonic.test");
    EXPECT_TRUE(gn1.virtual_ipv4.has_value());
    EXPECT_TRUE(gn1.virtual_ipv6.has_value());
    EXPECT_EQ(gn1.auth_type, "mac");
    EXPECT_EQ(by_id["gn-cert"].auth_type, "certificate");
    EXPECT_EQ(by_id["gnp"].auth_type, "basic");
    // The addresses are those a login issues.
    ASSERT_TRUE(
        client.login(basic_login("ad1", "adapter-pw", wire::ExecMode::Adapter)).has_value());
    auto login = client.login(mac_login("02:00:5e:10:00:01"));
    ASSERT_TRUE(login.has_value());
    EXPECT_EQ(gn1.virtual_ipv4, login->response.virtual_ipv4);
    EXPECT_EQ(gn1.virtual_ipv6, login->response.virtual_ipv6);

    // With the adapter's client certificate instead of a password.
    net::BlockingAsClient by_cert(h_.client_options("ad-cert"));
    auto empty = by_cert.fetch_general_nodes("ad-cert", std::nullopt);
    ASSERT_TRUE(empty.has_value()) << empty.error().describe();
    EXPECT_TRUE(empty->empty());

    const auto ca = AsEnvironment::get().certs() / "ca.crt";
    const std::string path = "/v1/adapters/ad1/general-nodes";
    auto anonymous = https_get(h_.tls(), ca, path, std::nullopt);
    EXPECT_EQ(anonymous.status, 401);
    EXPECT_TRUE(contains(anonymous.body, "\"error\":\"authenticate as the adapter"))
        << anonymous.body;
    auto wrong = https_get(h_.tls(), ca, path, basic_authorization("ad1", "nope"));
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.body, R"({"error":"unknown device 'ad1' or wrong password"})");
    auto other = https_get(h_.tls(), ca, path, basic_authorization("ad2", "adapter2-pw"));
    EXPECT_EQ(other.status, 403);
    EXPECT_EQ(
        other.body,
        R"({"error":"adapter 'ad2' may read only its own general nodes, not those of 'ad1'"})");
    auto node = https_get(h_.tls(), ca, "/v1/adapters/node1/general-nodes",
                          basic_authorization("node1", "node-pw"));
    EXPECT_EQ(node.status, 403);
    auto missing = https_get(h_.tls(), ca, "/v1/nothing", basic_authorization("ad1", "adapter-pw"));
    EXPECT_EQ(missing.status, 404);
    auto failed = client.fetch_general_nodes("ad2", std::string("wrong"));
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().status, 401U);
    EXPECT_EQ(failed.error().error, "unknown device 'ad2' or wrong password");
    EXPECT_EQ(h_.metric(R"(cyphonic_as_requests_total{type="controller_api",result="401"})"), 3);
}

}  // namespace
}  // namespace cyphonic::as::testing
