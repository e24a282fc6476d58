#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cyphonic/app/config.hpp"
#include "cyphonic/core/address.hpp"

// Configuration of cyphonic-as (docs/SERVICES.md): struct defaults → YAML file → --set and
// named flags → validate(). Every key is listed once in describe().
namespace cyphonic::as {

struct AsConfig {
    std::string listen_address = "::";
    std::uint16_t listen_port = 8443;
    std::filesystem::path tls_cert;
    std::filesystem::path tls_key;
    std::filesystem::path tls_client_ca;
    std::string domain = "cyphonic.test";
    std::string db_conninfo;
    std::uint32_t db_connections = 4;
    std::optional<IpAddress> nms_ipv4;
    std::optional<IpAddress> nms_ipv6;
    std::uint16_t nms_cipher = 2;
    std::uint32_t nms_key_lifetime_days = 7;
    std::string addressing_ipv4_prefix = "10.77.0.0/16";
    std::string addressing_ipv6_prefix = "fd77::/64";
    std::uint32_t login_max_failures = 5;
    std::uint32_t login_lock_max_s = 300;
    std::uint32_t login_unknown_burst = 20;
    double login_unknown_per_s = 0.5;
    std::uint32_t login_kdf_threads = 0;
    std::uint32_t connection_idle_timeout_s = 60;
    std::uint32_t connection_handshake_timeout_s = 10;
    std::uint32_t connection_max = 1024;
    std::string http_listen = "127.0.0.1:9100";
    std::uint32_t shutdown_grace_s = 5;
    std::string log_level = "info";
};

void describe(app::ConfigSchema& schema, AsConfig& config);

// Where the configuration came from, so a bad value can be reported as "file:line: key: reason".
struct ConfigSource {
    std::optional<std::filesystem::path> file;
    std::vector<std::string> overrides;  // "key.path=value", applied after the file

    // "--set" when an override set `key`, "file:line" when the file did, else the file name
    // (or "defaults" without a file).
    [[nodiscard]] std::string where(std::string_view key) const;
};

// What a subcommand needs beyond the always-checked keys.
enum class ConfigUse {
    Database,  // migrate, device list/remove: db.conninfo
    Enrol,     // device add: also domain and the address prefixes
    Serve,     // serve: everything, including the TLS files
};

// Loads and validates. Throws app::ConfigError naming where a bad key was set.
[[nodiscard]] AsConfig load_config(const ConfigSource& source, ConfigUse use);

// Checks the values of `config` for `use`; throws app::ConfigError.
void validate(const AsConfig& config, const ConfigSource& source, ConfigUse use);

// "key = value" lines of the effective configuration, secrets redacted.
[[nodiscard]] std::vector<std::string> effective_config(const AsConfig& config);
// "key (default: value): help" lines for --help.
[[nodiscard]] std::vector<std::string> describe_config();

}  // namespace cyphonic::as
