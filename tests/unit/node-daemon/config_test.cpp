// cyphonicd configuration: defaults, required keys and the errors a person acts on.
#include "config.hpp"

#include <fstream>

#include <gtest/gtest.h>

namespace cyphonic::noded {
namespace {

std::filesystem::path write_password() {
    const auto path = std::filesystem::temp_directory_path() / "cyphonicd_config_test_pw";
    std::ofstream(path) << "secret\n";
    return path;
}

std::vector<std::string> minimal() {
    return {"as.host=192.0.2.1", "as.ca_file=/etc/ca.crt", "auth.device_id=alpha",
            "auth.password_file=" + write_password().string(), "resolver.upstream=[192.0.2.53]"};
}

TEST(DaemonConfig, MinimalConfigGetsDefaults) {
    const auto s = load_settings(std::nullopt, minimal());
    EXPECT_EQ(s.password, "secret");
    EXPECT_EQ(s.raw.tun_name, "cyph0");
    EXPECT_EQ(s.raw.tun_mtu, 1360U);
    EXPECT_EQ(s.raw.data_port, 4800);
    EXPECT_EQ(s.accepted_ciphers.size(), 3U);
    ASSERT_EQ(s.upstreams.size(), 1U);
    EXPECT_EQ(s.upstreams[0], *Endpoint::parse("192.0.2.53:53"));
    EXPECT_EQ(s.keepalive, std::chrono::seconds(15));
}

TEST(DaemonConfig, RejectsMissingAndBadKeys) {
    const auto expect_key = [](std::vector<std::string> overrides, const std::string& key) {
        try {
            load_settings(std::nullopt, overrides);
            ADD_FAILURE() << "accepted; expected an error on " << key;
        } catch (const app::ConfigError& e) {
            EXPECT_EQ(e.key(), key) << e.what();
        }
    };
    expect_key({"as.ca_file=/x", "auth.device_id=a", "auth.password_file=/x"}, "as.host");
    auto o = minimal();
    o.emplace_back("tun.name=way-too-long-name0");
    expect_key(o, "tun.name");
    o = minimal();
    o.emplace_back("tun.mtu=576");
    expect_key(o, "tun.mtu");
    o = minimal();
    o.emplace_back("crypto.accept_ciphers=[rot13]");
    expect_key(o, "crypto.accept_ciphers");
    o = minimal();
    o.emplace_back("resolver.upstream=[nonsense]");
    expect_key(o, "resolver.upstream");
    o = minimal();
    o.emplace_back("auth.password_file=/nonexistent/pw");
    expect_key(o, "auth.password_file");
}

TEST(DaemonConfig, AcceptsCipherNamesAndNumbers) {
    auto o = minimal();
    o.emplace_back("crypto.accept_ciphers=[aes-256-gcm, 3]");
    const auto s = load_settings(std::nullopt, o);
    ASSERT_EQ(s.accepted_ciphers.size(), 2U);
    EXPECT_EQ(s.accepted_ciphers[0], wire::CipherSuiteId::Aes256Gcm);
    EXPECT_EQ(s.accepted_ciphers[1], wire::CipherSuiteId::ChaCha20Poly1305);
}

}  // namespace
}  // namespace cyphonic::noded
