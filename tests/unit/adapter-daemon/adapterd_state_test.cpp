// cyphonic-adapterd's configuration and on-disk state: defaults, validation with the key named,
// and the state surviving a save/load round trip (the restart test relies on it).
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "config.hpp"
#include "state.hpp"

namespace cyphonic::adapterd {
namespace {

class TempDir {
public:
    TempDir() {
        path_ = std::filesystem::temp_directory_path() /
                ("adapterd-test-" + std::to_string(::getpid()) + "-" + std::to_string(++count_));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    static inline int count_ = 0;
    std::filesystem::path path_;
};

std::filesystem::path write(const TempDir& dir, const std::string& name, const std::string& text) {
    const auto p = dir.path() / name;
    std::ofstream(p) << text;
    return p;
}

std::string minimal(const TempDir& dir) {
    write(dir, "pw", "secret\n");
    return "as:\n  host: 10.0.0.1\n  ca_file: ca.crt\nauth:\n  device_id: adp1\n"
           "  password_file: pw\nlan:\n  interface: lan0\nresolver:\n  upstream: [\"10.0.0.53\"]\n";
}

TEST(AdapterConfig, DefaultsAndRelativePaths) {
    const TempDir dir;
    const auto file = write(dir, "a.yaml", minimal(dir));
    const auto s = load_settings(file, {});
    EXPECT_EQ(s.raw.lan_interface, "lan0");
    EXPECT_EQ(s.raw.workers, 4U);
    EXPECT_TRUE(s.raw.staging);
    EXPECT_EQ(s.password, "secret");
    EXPECT_EQ(s.raw.as_ca_file, dir.path() / "ca.crt");
    ASSERT_EQ(s.upstreams.size(), 1U);
    EXPECT_EQ(s.upstreams[0].port, 53);
    EXPECT_EQ(s.accepted_ciphers.size(), 3U);
}

TEST(AdapterConfig, OverridesApply) {
    const TempDir dir;
    const auto file = write(dir, "a.yaml", minimal(dir));
    const auto s = load_settings(file, {"data.workers=2", "data.staging=false"});
    EXPECT_EQ(s.raw.workers, 2U);
    EXPECT_FALSE(s.raw.staging);
}

TEST(AdapterConfig, ErrorsNameTheKey) {
    const TempDir dir;
    const auto file = write(dir, "a.yaml", minimal(dir));
    const auto fails_on = [&](const std::string& set, const std::string& key) {
        try {
            static_cast<void>(load_settings(file, {set}));
        } catch (const app::ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
            return;
        }
        ADD_FAILURE() << set << " was accepted";
    };
    fails_on("data.workers=0", "data.workers");
    fails_on("lan.interface=", "lan.interface");
    fails_on("lan.interface=this-name-is-far-too-long", "lan.interface");
    fails_on("wan.interface=lan0", "wan.interface");
    fails_on("crypto.accept_ciphers=[rot13]", "crypto.accept_ciphers");
    fails_on("lan.lease_s=5", "lan.lease_s");
    fails_on("peers.idle_s=1", "peers.idle_s");
}

TEST(AdapterState, MissingFilesGiveAnEmptyState) {
    const TempDir dir;
    const auto s = load_state(dir.path() / "nothing-here");
    ASSERT_TRUE(s.has_value()) << s.error();
    EXPECT_TRUE(s->general_nodes.empty());
    EXPECT_FALSE(s->gateway_v4.has_value());
}

TEST(AdapterState, RoundTrip) {
    const TempDir dir;
    SavedState state;
    net::GeneralNodeEntry a;
    a.device_id = "gn1";
    a.mac = "02:00:00:00:01:01";
    a.fqdn = "gn1.example.net";
    a.virtual_ipv4 = Ipv4Address::parse("10.99.0.7");
    a.virtual_ipv6 = Ipv6Address::parse("fd99::7");
    a.auth_type = "mac";
    net::GeneralNodeEntry b = a;
    b.device_id = "gn\"2";  // quoting survives
    b.virtual_ipv6.reset();
    state.general_nodes = {a, b};
    state.gateway_v4 = Ipv4Address::parse("10.99.0.1");
    state.gateway_v6 = Ipv6Address::parse("fd99::1");
    ASSERT_TRUE(save_state(dir.path() / "st", state).has_value());
    const auto back = load_state(dir.path() / "st");
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_EQ(*back, state);
    // No temporary files are left behind.
    for (const auto& e : std::filesystem::directory_iterator(dir.path() / "st")) {
        EXPECT_EQ(e.path().extension(), e.path().extension() == ".tmp" ? "" : e.path().extension());
    }
}

TEST(AdapterState, CorruptFilesAreErrorsNamingTheFile) {
    const TempDir dir;
    write(dir, "general-nodes.json", "[{\"device_id\": ");
    auto s = load_state(dir.path());
    ASSERT_FALSE(s.has_value());
    EXPECT_NE(s.error().find("general-nodes.json"), std::string::npos) << s.error();
    std::filesystem::remove(dir.path() / "general-nodes.json");
    write(dir, "gateway", "not-an-address\n");
    s = load_state(dir.path());
    ASSERT_FALSE(s.has_value());
    EXPECT_NE(s.error().find("gateway"), std::string::npos) << s.error();
}

}  // namespace
}  // namespace cyphonic::adapterd
