// The operator commands: device add|list|remove, migrate, configuration errors.
#include <sys/wait.h>

#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "as_harness.hpp"
#include "store.hpp"

namespace cyphonic::as::testing {
namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(AsDeviceCli, AddListRemoveWithClearErrors) {
    AsHarness h;
    auto added = h.run({"device", "add", "node1", "--password-stdin"}, "pw-1\n");
    ASSERT_EQ(added.exit_code, 0) << added.err;
    EXPECT_TRUE(contains(added.out, "added node 'node1' fqdn=node1.cyphonic.test")) << added.out;
    EXPECT_TRUE(contains(added.out, "virtual_ipv4=10.77.0.1 virtual_ipv6=fd77::1")) << added.out;
    ASSERT_EQ(h.run({"device", "add", "ad1", "--kind", "adapter", "--cert-login"}).exit_code, 0);
    auto general = h.run({"device", "add", "gn1", "--kind", "general", "--adapter", "ad1", "--mac",
                          "AA:BB:CC:00:11:22"});
    ASSERT_EQ(general.exit_code, 0) << general.err;
    EXPECT_TRUE(contains(general.out, "adapter=ad1 mac=aa:bb:cc:00:11:22")) << general.out;

    const std::pair<std::vector<std::string>, std::string> refusals[] = {
        {{"device", "add", "node1", "--cert-login"}, "cyphonic-as: device 'node1' already exists"},
        {{"device", "add", "Node_2", "--cert-login"}, "is not a valid DNS label"},
        {{"device", "add", "a.b", "--cert-login"}, "is not a valid DNS label"},
        {{"device", "add", "node2"}, "would have no way to log in"},
        {{"device", "add", "gn2", "--kind", "general", "--adapter", "ad1", "--mac", "aa:bb"},
         "'aa:bb' is not a MAC address"},
        {{"device", "add", "gn2", "--kind", "general", "--adapter", "nope", "--mac",
          "aa:bb:cc:00:11:33"},
         "unknown adapter 'nope'"},
        {{"device", "add", "gn2", "--kind", "general", "--adapter", "node1", "--mac",
          "aa:bb:cc:00:11:33"},
         "'node1' is a node, not an adapter"},
        {{"device", "add", "gn2", "--kind", "general", "--adapter", "ad1", "--mac",
          "aa:bb:cc:00:11:22"},
         "MAC aa:bb:cc:00:11:22 already belongs to general node 'gn1'"},
        {{"device", "add", "gn2", "--kind", "general", "--adapter", "ad1"},
         "needs --adapter <adapter-id> and --mac"},
        {{"device", "add", "node2", "--cert-login", "--mac", "aa:bb:cc:00:11:44"},
         "--adapter and --mac are only for general nodes"},
        {{"device", "remove", "ghost"}, "cyphonic-as: no device 'ghost'"},
    };
    for (const auto& [args, message] : refusals) {
        SCOPED_TRACE(args[2]);
        const auto r = h.run(args);
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_TRUE(contains(r.err, message)) << r.err;
    }
    // Passwords are never given on the command line.
    EXPECT_EQ(h.run({"device", "add", "node3", "--password", "x"}).exit_code, 64);
    EXPECT_EQ(h.run({"device", "add", "node3", "--password-stdin"}, "\n").exit_code, 1);

    const auto table = h.run({"device", "list"});
    ASSERT_EQ(table.exit_code, 0);
    EXPECT_TRUE(table.out.starts_with("DEVICE_ID  KIND     FQDN")) << table.out;
    EXPECT_TRUE(contains(table.out, "gn1        general  gn1.cyphonic.test")) << table.out;
    const auto json = h.run({"device", "list", "--json"});
    ASSERT_EQ(json.exit_code, 0);
    EXPECT_TRUE(contains(json.out, R"("device_id":"gn1","kind":"general")")) << json.out;
    EXPECT_TRUE(contains(json.out, R"("adapter":"ad1","mac":"aa:bb:cc:00:11:22")")) << json.out;
    EXPECT_FALSE(contains(json.out, "scrypt"));  // hashes stay in the database

    // Removing an adapter removes its general nodes.
    const auto removed = h.run({"device", "remove", "ad1"});
    ASSERT_EQ(removed.exit_code, 0) << removed.err;
    EXPECT_EQ(removed.out, "removed 'ad1' and its general nodes gn1\n");
    const auto after = h.run({"device", "list", "--json"});
    EXPECT_FALSE(contains(after.out, "\"gn1\""));
    EXPECT_TRUE(contains(after.out, "\"node1\""));

    // The stored hash is the scrypt form, not the password.
    pqxx::connection c(h.conninfo());
    pqxx::read_transaction t(c);
    const auto hash =
        t.exec1("SELECT password_hash FROM devices WHERE device_id = 'node1'")[0].as<std::string>();
    EXPECT_TRUE(hash.starts_with("scrypt$16384$8$1$")) << hash;
    EXPECT_FALSE(contains(hash, "pw-1"));
}

TEST(AsDeviceCli, ConcurrentEnrolmentsNeverShareAnAddress) {
    AsHarness h;
    constexpr int kDevices = 50;
    constexpr int kThreads = 10;
    std::vector<std::thread> threads;
    std::vector<int> codes(kDevices, -1);
    std::vector<std::string> errors(kDevices);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = t; i < kDevices; i += kThreads) {
                const auto r = h.run({"device", "add", "dev" + std::to_string(i), "--cert-login"});
                codes[i] = r.exit_code;
                errors[i] = r.err;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (int i = 0; i < kDevices; ++i) {
        EXPECT_EQ(codes[i], 0) << i << ": " << errors[i];
    }
    pqxx::connection c(h.conninfo());
    pqxx::read_transaction t(c);
    const auto row = t.exec1(
        "SELECT count(*), count(DISTINCT virtual_ipv4), count(DISTINCT virtual_ipv6), "
        "count(DISTINCT node_id), max(host(virtual_ipv4)::inet)::text FROM devices");
    EXPECT_EQ(row[0].as<int>(), kDevices);
    EXPECT_EQ(row[1].as<int>(), kDevices);
    EXPECT_EQ(row[2].as<int>(), kDevices);
    EXPECT_EQ(row[3].as<int>(), kDevices);
    // The lowest free addresses were taken: 10.77.0.1 .. 10.77.0.50.
    EXPECT_EQ(row[4].as<std::string>(), "10.77.0.50/32");
}

TEST(AsMigrate, IsIdempotent) {
    AsHarness h;  // migrated once already
    const auto again = h.run({"migrate"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(again.out, "schema up to date (no migrations to apply)\n");
    pqxx::connection c(h.conninfo());
    pqxx::read_transaction t(c);
    EXPECT_EQ(t.exec1("SELECT count(*) FROM schema_migrations WHERE service = 'as'")[0].as<int>(),
              static_cast<int>(migrations().size()));
}

TEST(AsConfig, ErrorsNameFileLineAndKeyAndExit78) {
    AsHarness h;
    const auto bad_cipher = h.run({"--set", "nms.cipher=9", "serve"});
    EXPECT_EQ(bad_cipher.exit_code, 78);
    EXPECT_EQ(bad_cipher.err, "--set: nms.cipher: 9 is not a cipher suite: 1, 2 or 3\n");
    const auto unknown = h.run({"--set", "nms.ciphers=2", "serve"});
    EXPECT_EQ(unknown.exit_code, 78);
    EXPECT_EQ(unknown.err, "--set: nms.ciphers: unknown key\n");

    const auto file = h.config().parent_path() / "bad.yaml";
    std::ofstream(file) << "domain: cyphonic.test\n"
                        << "db:\n  conninfo: \"" << h.conninfo() << "\"\n"
                        << "addressing:\n  ipv4_prefix: 10.77.0.1/16\n";
    const auto prefix = h.run_plain({"-c", file.string(), "device", "add", "x", "--cert-login"});
    EXPECT_EQ(prefix.exit_code, 78);
    EXPECT_EQ(prefix.err, file.string() +
                              ":5: addressing.ipv4_prefix: '10.77.0.1/16' has host "
                              "bits set\n");
    const auto no_cert =
        h.run_plain({"-c", file.string(), "--set", "addressing.ipv4_prefix=10.0.0.0/8", "serve"});
    EXPECT_EQ(no_cert.exit_code, 78);
    EXPECT_TRUE(contains(no_cert.err, "tls.cert: required for serve")) << no_cert.err;
}

}  // namespace
}  // namespace cyphonic::as::testing
