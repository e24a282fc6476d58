#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "client_config.hpp"

#include "cyphonic/app/config.hpp"
#include "cyphonic/core/address.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/wire/types.hpp"

// Configuration of cyphonic-adapterd (STYLE.md §7): defaults here → YAML file → --set → validate.
namespace cyphonic::adapterd {

// The keys as written in the file, with their defaults: the shared ones and the adapter's own.
struct AdapterConfig : noded::ClientConfig {
    AdapterConfig() { status_socket = "/run/cyphonic/adapterd.sock"; }
    std::string lan_interface;
    std::uint32_t ipv4_prefix_len = 16;
    std::uint32_t ipv6_prefix_len = 64;
    std::uint32_t lease_s = 3600;
    std::uint32_t ra_interval_s = 60;
    std::uint32_t mtu = 1360;
    std::string wan_interface;
    std::uint32_t workers = 4;
    bool staging = true;
    std::uint32_t staging_wait_us = 3000;
    std::filesystem::path state_dir = "/var/lib/cyphonic-adapterd";
};

void describe(app::ConfigSchema& s, AdapterConfig& c);

// The configuration checked and resolved.
struct AdapterSettings : noded::ClientSettings {
    AdapterConfig raw;
    std::vector<std::string> effective;
};

// Throws app::ConfigError naming the file (or --set) and the key.
AdapterSettings load_settings(const std::optional<std::filesystem::path>& file,
                              const std::vector<std::string>& overrides);
std::vector<std::string> describe_keys();

}  // namespace cyphonic::adapterd
