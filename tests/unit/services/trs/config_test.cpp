#include "config.hpp"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/process.hpp"

namespace cyphonic::trs {
namespace {

constexpr const char* kTrsId = "54525300000000000000000000000004";
constexpr const char* kNmsId = "4e4d5300000000000000000000000003";
constexpr const char* kNms2Id = "4e4d5300000000000000000000000033";
constexpr const char* kKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

class TrsConfigTest : public ::testing::Test {
protected:
    TrsConfigTest() {
        write("nms1.key", std::string(kKeyHex) + "\n");
        std::filesystem::permissions(
            dir_.path() / "nms1.key",
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }

    std::filesystem::path write(const std::string& name, const std::string& text) {
        auto path = dir_.path() / name;
        std::ofstream(path) << text;
        return path;
    }

    // A valid file with `extra` appended.
    std::filesystem::path config(const std::string& extra = "") {
        return write("trs.yaml", std::string("trs:\n  node_id: \"") + kTrsId +
                                     "\"\n"
                                     "nms_peers:\n"
                                     "  - \"" +
                                     kNmsId + ":2:nms1.key\"\n" + extra);
    }

    // The ConfigError of loading, as main prints it.
    std::string error_of(const std::optional<std::filesystem::path>& file,
                         const std::vector<std::string>& overrides = {}) {
        try {
            (void)load_settings(file, overrides);
        } catch (const app::ConfigError& e) {
            return e.what();
        }
        ADD_FAILURE() << "no ConfigError";
        return "";
    }

    testing::TempDir dir_;
};

TEST_F(TrsConfigTest, LoadsDefaultsAndServiceKeys) {
    const auto s = load_settings(config(), {});
    ASSERT_TRUE(s.listen_ipv4 && s.listen_ipv6);
    EXPECT_EQ(s.listen_ipv4->to_string(), "0.0.0.0:4700");
    EXPECT_EQ(s.listen_ipv6->to_string(), "[::]:4700");
    EXPECT_EQ(s.http.to_string(), "127.0.0.1:9102");
    EXPECT_EQ(s.trs_id.to_hex(), kTrsId);
    EXPECT_EQ(s.idle_timeout, std::chrono::seconds(120));
    EXPECT_EQ(s.max_entries, 100000U);
    EXPECT_EQ(s.grace, std::chrono::seconds(5));
    ASSERT_EQ(s.service_keys.size(), 1U);
    EXPECT_EQ(s.service_keys[0].nms_id.to_hex(), kNmsId);
    EXPECT_EQ(s.service_keys[0].cipher, wire::CipherSuiteId::Aes256Gcm);
    EXPECT_EQ(to_hex(s.service_keys[0].key.view()), kKeyHex);
    EXPECT_TRUE(s.warnings.empty());
    // The effective configuration names the key file, never the key.
    for (const auto& line : s.effective) {
        EXPECT_EQ(line.find(kKeyHex), std::string::npos) << line;
    }
}

TEST_F(TrsConfigTest, SetOverridesTheFileAndDisablesAFamily) {
    const auto s = load_settings(
        config("listen:\n  port: 5000\n"),
        {"listen.port=0", "listen.ipv4=", "listen.ipv6=::1", "http.listen=127.0.0.1:0"});
    EXPECT_FALSE(s.listen_ipv4);
    ASSERT_TRUE(s.listen_ipv6);
    EXPECT_EQ(s.listen_ipv6->to_string(), "[::1]:0");
    EXPECT_EQ(s.http.port, 0);
}

TEST_F(TrsConfigTest, AcceptsTheKeyValueSpellingAndSuiteNames) {
    const auto key = dir_.path() / "nms1.key";
    const auto s =
        load_settings(config(), {fmt::format("nms_peers=[\"{}:chacha20-poly1305:{}\", "
                                             "\"node_id={},cipher=0x0001,key_file={}\"]",
                                             kNmsId, key.string(), kNms2Id, key.string())});
    ASSERT_EQ(s.service_keys.size(), 2U);
    EXPECT_EQ(s.service_keys[0].cipher, wire::CipherSuiteId::ChaCha20Poly1305);
    EXPECT_EQ(s.service_keys[1].nms_id.to_hex(), kNms2Id);
    EXPECT_EQ(s.service_keys[1].cipher, wire::CipherSuiteId::AesCbcHmacMd5);
}

TEST_F(TrsConfigTest, ErrorsNameFileLineAndKey) {
    const auto file = config("relay:\n  max_entries: 0\n");
    EXPECT_EQ(error_of(file), file.string() + ":6: relay.max_entries: must be at least 1");
    const auto bad_id = write("bad_id.yaml", "trs:\n  node_id: \"xyz\"\n");
    EXPECT_EQ(error_of(bad_id),
              bad_id.string() + ":2: trs.node_id: expected 32 hex digits, not all zero");
    const auto missing = write("missing.yaml", "log:\n  level: debug\n");
    EXPECT_EQ(error_of(missing), missing.string() + ": trs.node_id: required: 32 hex digits");
    EXPECT_EQ(error_of(config(), {"log.level=loud"}),
              "--set: log.level: 'loud' is not one of trace, debug, info, warn, error, off");
    EXPECT_NE(error_of(config("relay:\n  idle_timeout: 5\n")).find(":6: relay.idle_timeout: "),
              std::string::npos);
}

TEST_F(TrsConfigTest, BadServiceKeyEntriesPointAtTheirLine) {
    write("short.key", "0011");
    const auto file = write("peers.yaml", std::string("trs:\n  node_id: ") + kTrsId +
                                              "\n"
                                              "nms_peers:\n"
                                              "  - \"" +
                                              kNmsId +
                                              ":2:nms1.key\"\n"
                                              "  - \"" +
                                              kNms2Id + ":2:short.key\"\n");
    const auto e = error_of(file);
    EXPECT_EQ(e.rfind(file.string() + ":5: nms_peers: entry 2", 0), 0U) << e;
    EXPECT_NE(e.find("64 hex digits"), std::string::npos) << e;

    EXPECT_NE(error_of(config(), {std::string("nms_peers=[\"") + kNmsId + ":9:nms1.key\"]"})
                  .find("the cipher must be"),
              std::string::npos);
    EXPECT_NE(error_of(config(), {std::string("nms_peers=[\"") + kNmsId + ":2:/nonexistent\"]"})
                  .find("cannot read key file /nonexistent"),
              std::string::npos);
    EXPECT_NE(error_of(config(), {std::string("nms_peers=[\"") + kNmsId +
                                  ":2:" + (dir_.path() / "nms1.key").string() + "\", \"" + kNmsId +
                                  ":1:" + (dir_.path() / "nms1.key").string() + "\"]"})
                  .find("listed twice"),
              std::string::npos);
    EXPECT_NE(error_of(config(), {"nms_peers=[]"}).find("nms_peers: required"), std::string::npos);
}

TEST_F(TrsConfigTest, RejectsNoSocketAndWrongFamilies) {
    EXPECT_NE(error_of(config(), {"listen.ipv4=", "listen.ipv6="}).find("both empty"),
              std::string::npos);
    EXPECT_NE(error_of(config(), {"listen.ipv4=::1"}).find("is not an IPv4 address"),
              std::string::npos);
    EXPECT_NE(error_of(config(), {"listen.ipv6=127.0.0.1"}).find("is not an IPv6 address"),
              std::string::npos);
    EXPECT_NE(error_of(config(), {"http.listen=localhost"}).find("http.listen"), std::string::npos);
}

TEST_F(TrsConfigTest, WarnsAboutAKeyFileOthersCanRead) {
    write("open.key", kKeyHex);
    std::filesystem::permissions(dir_.path() / "open.key", std::filesystem::perms::others_read,
                                 std::filesystem::perm_options::add);
    const auto s = load_settings(config(), {std::string("nms_peers=[\"") + kNmsId +
                                            ":2:" + (dir_.path() / "open.key").string() + "\"]"});
    ASSERT_EQ(s.warnings.size(), 1U);
    EXPECT_NE(s.warnings[0].find("readable by others"), std::string::npos);
}

TEST(TrsConfigKeys, HelpListsEveryKeyWithItsDefault) {
    const auto keys = describe_keys();
    for (const std::string key :
         {"listen.ipv4 (default: \"0.0.0.0\")", "listen.ipv6 (default: \"::\")",
          "listen.port (default: 4700)", "http.listen (default: \"127.0.0.1:9102\")", "trs.node_id",
          "nms_peers", "relay.idle_timeout_s (default: 120)", "relay.max_entries (default: 100000)",
          "shutdown.grace_s (default: 5)", "log.level (default: \"info\")"}) {
        EXPECT_TRUE(std::any_of(keys.begin(), keys.end(), [&](const std::string& line) {
            return line.starts_with(key);
        })) << key;
    }
}

}  // namespace
}  // namespace cyphonic::trs
