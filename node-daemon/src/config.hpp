#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cyphonic/app/config.hpp"
#include "cyphonic/core/address.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/wire/types.hpp"

// Configuration of cyphonicd (STYLE.md §7): defaults here → YAML file → --set → validate.
namespace cyphonic::noded {

// The keys as written in the file, with their defaults.
struct DaemonConfig {
    std::string as_host;
    std::uint16_t as_port = 8443;
    std::string as_server_name;
    std::filesystem::path as_ca_file;
    std::string device_id;
    std::filesystem::path password_file;
    std::filesystem::path client_cert;
    std::filesystem::path client_key;
    std::string application_id;
    std::string domain;
    std::uint16_t nms_port = 4600;
    std::uint16_t trs_port = 4700;
    std::string tun_name = "cyph0";
    std::uint32_t tun_mtu = 1360;
    std::uint32_t ipv4_prefix_len = 16;
    std::uint32_t ipv6_prefix_len = 64;
    std::uint16_t data_port = 4800;
    std::uint32_t socket_buffer_bytes = 4U << 20U;
    bool resolver_enabled = true;
    std::uint16_t resolver_port = 53;
    std::vector<std::string> resolver_upstream;
    std::string resolver_systemd_resolved = "auto";
    std::uint32_t resolver_ttl_s = 60;
    std::vector<std::string> accept_ciphers;
    std::filesystem::path status_socket = "/run/cyphonic/cyphonicd.sock";
    std::uint32_t keepalive_s = 15;
    std::uint32_t path_keepalive_s = 15;
    std::uint32_t peer_idle_s = 300;
    std::uint32_t renew_before_s = 3600;
    std::string log_level = "info";
};

void describe(app::ConfigSchema& s, DaemonConfig& c);

// The configuration checked and resolved.
struct DaemonSettings {
    DaemonConfig raw;
    std::optional<std::string> password;  // basic login; nullopt: certificate login
    ApplicationId application_id;
    std::vector<Endpoint> upstreams;  // resolver forwarders (port 53 unless given)
    std::vector<wire::CipherSuiteId> accepted_ciphers;  // path suites this node accepts
    std::chrono::seconds keepalive{15};
    std::chrono::seconds path_keepalive{15};
    std::chrono::seconds peer_idle{300};
    std::chrono::seconds renew_before{3600};
    std::vector<std::string> effective;
};

// Throws app::ConfigError naming the file (or --set) and the key.
DaemonSettings load_settings(const std::optional<std::filesystem::path>& file,
                             const std::vector<std::string>& overrides);
std::vector<std::string> describe_keys();

}  // namespace cyphonic::noded
