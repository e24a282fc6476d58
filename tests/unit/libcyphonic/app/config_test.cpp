#include "cyphonic/app/config.hpp"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

namespace cyphonic::app {
namespace {

struct SampleConfig {
    std::string name = "nms-1";
    bool verbose = false;
    std::uint16_t port = 4600;
    std::uint32_t workers = 2;
    double grace_s = 5.0;
    std::vector<std::string> peers;
    std::optional<IpAddress> address;
    std::string password = "hunter2";
};

void describe(ConfigSchema& s, SampleConfig& c) {
    s.field("name", c.name, "instance name");
    s.field("log.verbose", c.verbose, "debug logging");
    s.field("listen.port", c.port, "UDP port");
    s.field("listen.workers", c.workers, "threads");
    s.field("shutdown.grace_s", c.grace_s, "seconds");
    s.field("peers", c.peers, "peer names");
    s.field("listen.address", c.address, "bind address");
    s.field("db.password", c.password, "secret", {.secret = true});
}

class ConfigFile : public ::testing::Test {
protected:
    std::filesystem::path write(const std::string& text) {
        path_ = std::filesystem::temp_directory_path() /
                ("cyphonic-config-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml");
        std::ofstream(path_) << text;
        return path_;
    }
    void TearDown() override {
        if (!path_.empty()) {
            std::filesystem::remove(path_);
        }
    }
    std::filesystem::path path_;
};

TEST_F(ConfigFile, KeepsDefaultsWithoutFileOrOverrides) {
    SampleConfig c;
    ConfigSchema s;
    describe(s, c);
    s.load(std::nullopt, {});
    EXPECT_EQ(c.port, 4600);
    EXPECT_EQ(c.name, "nms-1");
}

TEST_F(ConfigFile, ReadsNestedKeysAndSetOverridesWin) {
    SampleConfig c;
    ConfigSchema s;
    describe(s, c);
    s.load(write("name: a\nlisten:\n  port: 5000\n  address: \"::1\"\npeers: [x, y]\n"),
           {"listen.port=6000", "log.verbose=true", "shutdown.grace_s=2.5", "peers=[z]"});
    EXPECT_EQ(c.name, "a");
    EXPECT_EQ(c.port, 6000);
    EXPECT_TRUE(c.verbose);
    EXPECT_DOUBLE_EQ(c.grace_s, 2.5);
    EXPECT_EQ(c.peers, std::vector<std::string>{"z"});
    ASSERT_TRUE(c.address);
    EXPECT_EQ(c.address->to_string(), "::1");
}

TEST_F(ConfigFile, RejectsUnknownKeyWithFileAndLine) {
    SampleConfig c;
    ConfigSchema s;
    describe(s, c);
    const auto file = write("name: a\nlisten:\n  prot: 5000\n");
    try {
        s.load(file, {});
        FAIL() << "accepted a typo";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where(), file.string() + ":3");
        EXPECT_EQ(e.key(), "listen.prot");
        EXPECT_NE(std::string(e.what()).find("unknown key"), std::string::npos);
    }
}

TEST_F(ConfigFile, RejectsWrongTypesAndRanges) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"listen:\n  port: 70000\n", "listen.port"},
        {"listen:\n  port: -1\n", "listen.port"},
        {"listen:\n  port: abc\n", "listen.port"},
        {"log:\n  verbose: maybe\n", "log.verbose"},
        {"peers: notalist\n", "peers"},
        {"listen:\n  address: 300.1.1.1\n", "listen.address"},
        {"name: [a]\n", "name"},
        {"listen: 5\n", "listen"},
        {"shutdown:\n  grace_s: soon\n", "shutdown.grace_s"},
    };
    for (const auto& [text, key] : cases) {
        SCOPED_TRACE(text);
        SampleConfig c;
        ConfigSchema s;
        describe(s, c);
        try {
            s.load(write(text), {});
            ADD_FAILURE() << "accepted";
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.key(), key);
        }
    }
}

TEST_F(ConfigFile, RejectsBadOverrides) {
    for (const std::string bad : {"listen.port", "nope=1", "listen.port=x", "=1"}) {
        SCOPED_TRACE(bad);
        SampleConfig c;
        ConfigSchema s;
        describe(s, c);
        EXPECT_THROW(s.load(std::nullopt, {bad}), ConfigError);
    }
}

TEST_F(ConfigFile, ReportsMissingFileAndSyntaxErrors) {
    SampleConfig c;
    ConfigSchema s;
    describe(s, c);
    EXPECT_THROW(s.load(std::filesystem::path("/nonexistent/cyphonic.yaml"), {}), ConfigError);
    try {
        s.load(write("name: a\nlisten: [unclosed\n"), {});
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(e.where().find(".yaml:"), std::string::npos);
    }
}

TEST_F(ConfigFile, EffectiveConfigRedactsSecrets) {
    SampleConfig c;
    ConfigSchema s;
    describe(s, c);
    s.load(std::nullopt, {"db.password=topsecret"});
    EXPECT_EQ(c.password, "topsecret");
    for (const auto& line : s.effective()) {
        EXPECT_EQ(line.find("topsecret"), std::string::npos) << line;
    }
    EXPECT_EQ(s.effective().size(), 8U);
}

}  // namespace
}  // namespace cyphonic::app
