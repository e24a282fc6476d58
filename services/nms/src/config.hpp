#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cyphonic/app/config.hpp"
#include "cyphonic/core/address.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/crypto/secret_bytes.hpp"
#include "cyphonic/wire/types.hpp"

namespace cyphonic::nms {

struct NmsConfig {
    std::string node_id;  // 32 hex digits: this NMS's NodeID (Relay Request header ID)
    std::string listen_ipv4 = "0.0.0.0";
    std::string listen_ipv6 = "::";
    std::uint16_t listen_port = 4600;
    std::string db_conninfo = "host=/var/run/postgresql dbname=cyphonic";
    std::uint32_t db_connections = 4;
    std::uint32_t tunnel_cipher = 2;
    std::uint32_t tunnel_key_lifetime_days = 1;
    std::int64_t offline_after_s = 60;
    std::uint32_t direct_retry_s = 120;
    std::vector<std::string> trs_servers;
    std::uint32_t send_block = 64;
    std::uint32_t max_in_flight = 4096;
    std::string http_listen = "127.0.0.1:9101";
    double grace_s = 5.0;
    double quiet_s = 1.0;
    double notify_poll_s = 2.0;
    std::string log_level = "info";
};

void describe(app::ConfigSchema& schema, NmsConfig& config);

// One TRS this NMS may ask to relay, with the service key of the pair (C5).
struct TrsPeer {
    NodeId node_id;
    Ipv4Address ipv4;
    Ipv6Address ipv6;
    std::uint16_t port = 4700;
    wire::CipherSuiteId cipher = wire::CipherSuiteId::Aes256Gcm;
    crypto::Key key;
};

// The checked form of the configuration; throws app::ConfigError naming the key.
struct NmsSettings {
    NodeId node_id;
    std::vector<TrsPeer> trs;
    wire::CipherSuiteId tunnel_cipher = wire::CipherSuiteId::Aes256Gcm;
    Endpoint http;
};
[[nodiscard]] NmsSettings validate(const NmsConfig& config);

// "node_id=<hex>,ipv4=A,ipv6=B,port=N,cipher=N,key_file=PATH" (ipv4 or ipv6 may be left out).
[[nodiscard]] TrsPeer parse_trs_peer(const std::string& text);

}  // namespace cyphonic::nms
