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

// Configuration of cyphonicd (STYLE.md §7): defaults here → YAML file → --set → validate.
namespace cyphonic::noded {

// The keys as written in the file, with their defaults: the shared ones and cyphonicd's own.
struct DaemonConfig : ClientConfig {
    DaemonConfig() { status_socket = "/run/cyphonic/cyphonicd.sock"; }
    std::string tun_name = "cyph0";
    std::uint32_t tun_mtu = 1360;
    std::uint32_t ipv4_prefix_len = 16;
    std::uint32_t ipv6_prefix_len = 64;
    bool resolver_enabled = true;
    std::string resolver_systemd_resolved = "auto";
};

void describe(app::ConfigSchema& s, DaemonConfig& c);

// The configuration checked and resolved.
struct DaemonSettings : ClientSettings {
    DaemonConfig raw;
    std::vector<std::string> effective;
};

// Throws app::ConfigError naming the file (or --set) and the key.
DaemonSettings load_settings(const std::optional<std::filesystem::path>& file,
                             const std::vector<std::string>& overrides);
std::vector<std::string> describe_keys();

}  // namespace cyphonic::noded
