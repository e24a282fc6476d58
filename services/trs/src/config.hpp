#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "handlers.hpp"

#include "cyphonic/app/config.hpp"
#include "cyphonic/core/address.hpp"
#include "cyphonic/core/ids.hpp"

// Configuration of cyphonic-trs (STYLE.md §7): defaults here → YAML file → --set → validate.
namespace cyphonic::trs {

// The keys as written in the file, with their defaults.
struct TrsConfig {
    std::string listen_ipv4 = "0.0.0.0";
    std::string listen_ipv6 = "::";
    std::uint16_t listen_port = 4700;
    std::uint32_t socket_buffer_bytes = 4U << 20U;
    std::string http_listen = "127.0.0.1:9102";
    std::string node_id;
    std::vector<std::string> nms_peers;
    std::uint32_t idle_timeout_s = 120;
    std::uint32_t max_entries = 100000;
    double grace_s = 5.0;
    double quiet_s = 1.0;
    std::string log_level = "info";
    std::uint32_t summary_interval_s = 30;
};

// Binds every key of `c` to `s` (one list loads, overrides, prints and documents it).
void describe(app::ConfigSchema& s, TrsConfig& c);

// The configuration checked and resolved: addresses parsed, service keys read from their files.
struct TrsSettings {
    std::optional<Endpoint> listen_ipv4;  // nullopt: that family is disabled
    std::optional<Endpoint> listen_ipv6;
    std::uint32_t socket_buffer_bytes = 0;
    Endpoint http;
    NodeId trs_id;
    std::vector<ServiceKey> service_keys;
    std::chrono::seconds idle_timeout{120};
    std::size_t max_entries = 100000;
    std::chrono::milliseconds grace{5000};
    std::chrono::milliseconds quiet{1000};
    std::string log_level = "info";
    std::chrono::seconds summary_interval{30};
    std::vector<std::string> effective;  // "key = value" for the start-up log, secrets redacted
    std::vector<std::string> warnings;   // to log once logging is set up (key file modes)
};

// Defaults → `file` (if any) → `overrides` ("key.path=value") → validation. Throws
// app::ConfigError whose where() is "file:line", "--set" or the file name, e.g.
// "trs.yaml:7: trs.node_id: expected 32 hex digits".
[[nodiscard]] TrsSettings load_settings(const std::optional<std::filesystem::path>& file,
                                        const std::vector<std::string>& overrides);

// "key (default: value): help" for every key, for --help.
[[nodiscard]] std::vector<std::string> describe_keys();

}  // namespace cyphonic::trs
