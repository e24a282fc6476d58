#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cyphonic/app/config.hpp"
#include "cyphonic/core/address.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/wire/types.hpp"

// The configuration both daemons share (cyphonicd and cyphonic-adapterd are both CYPHONIC
// clients): the AS and its login, the overlay ports, the UDP socket, the resolver's upstreams,
// the path ciphers, the timers, the status socket and the log level. Each daemon's own keys
// derive from these.
namespace cyphonic::noded {

// The keys as written in the file, with their defaults.
struct ClientConfig {
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
    std::uint16_t data_port = 4800;
    std::uint32_t socket_buffer_bytes = 4U << 20U;
    std::uint16_t resolver_port = 53;
    std::vector<std::string> resolver_upstream;
    std::uint32_t resolver_ttl_s = 60;
    std::vector<std::string> accept_ciphers;
    bool responder_end_key = true;
    std::filesystem::path status_socket;
    std::uint32_t keepalive_s = 15;
    std::uint32_t path_keepalive_s = 15;
    std::uint32_t peer_idle_s = 300;
    std::uint32_t renew_before_s = 3600;
    std::uint32_t reoptimise_s = 60;
    std::string log_level = "info";
};

// Where the keys differ between the daemons.
struct ClientKeyNames {
    std::string who = "this node";  // whose DeviceID and password ("the adapter's own")
    std::string peer_idle = "timers.peer_idle_s";
};

void describe_client(app::ConfigSchema& s, ClientConfig& c, const ClientKeyNames& names);

// What the shared keys resolve to.
struct ClientSettings {
    std::optional<std::string> password;  // basic login; nullopt: certificate login
    ApplicationId application_id;
    std::vector<Endpoint> upstreams;  // resolver forwarders (port 53 unless given)
    std::vector<wire::CipherSuiteId> accepted_ciphers;  // path suites accepted
    bool responder_end_key = true;                      // D14: answer with our own End Key
    std::chrono::seconds keepalive{15};
    std::chrono::seconds path_keepalive{15};
    std::chrono::seconds peer_idle{300};
    std::chrono::seconds renew_before{3600};
    std::chrono::seconds reoptimise{60};
};

// Fails through `check(ok, key, reason)` (which throws app::ConfigError); relative paths are
// made relative to the configuration file's folder.
using ConfigCheck = std::function<void(bool ok, const std::string& key, const std::string& reason)>;
ClientSettings resolve_client(ClientConfig& c, const std::optional<std::filesystem::path>& file,
                              const ClientKeyNames& names, const ConfigCheck& check);

// "--set" when an override sets `key`, else the file's name (or "defaults").
[[nodiscard]] std::string config_origin(const std::optional<std::filesystem::path>& file,
                                        const std::vector<std::string>& overrides,
                                        const std::string& key);
// `p` relative to the configuration file's folder (absolute and empty paths unchanged).
[[nodiscard]] std::filesystem::path relative_to(const std::optional<std::filesystem::path>& file,
                                                const std::filesystem::path& p);
// An interface name: 1 to 15 letters, digits, '-', '_' or '.'.
[[nodiscard]] bool valid_interface_name(const std::string& name);

}  // namespace cyphonic::noded
