#include "config.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "cyphonic/core/bytes.hpp"

namespace cyphonic::nms {

void describe(app::ConfigSchema& s, NmsConfig& c) {
    s.field("nms.node_id", c.node_id, "this NMS's NodeID, 32 hex digits (required)");
    s.field("listen.ipv4", c.listen_ipv4, "IPv4 address to bind; empty: no IPv4 socket");
    s.field("listen.ipv6", c.listen_ipv6, "IPv6 address to bind; empty: no IPv6 socket");
    s.field("listen.port", c.listen_port, "UDP port for nodes (0: any, logged at start)");
    s.field("db.conninfo", c.db_conninfo, "libpq connection string of the shared database",
            {.secret = true});
    s.field("db.connections", c.db_connections, "database connections (query threads)");
    s.field("tunnel.cipher", c.tunnel_cipher,
            "suite of Tunnel, Temp and End Keys: 1 AES-CBC+HMAC-MD5, 2 AES-GCM, 3 ChaCha20");
    s.field("tunnel.key_lifetime_days", c.tunnel_key_lifetime_days,
            "days a Tunnel Key is valid after today (UTC)");
    s.field("node.offline_after_s", c.offline_after_s,
            "seconds without a message before a node is offline");
    s.field("route.direct_failed_window_s", c.direct_retry_s,
            "a repeated Direction Request this many seconds after a direct route between the "
            "same endpoints means it failed: relay instead (Q8); 0 never falls back");
    s.field("trs.servers", c.trs_servers,
            "TRS list: \"node_id=HEX,ipv4=A,ipv6=B,port=4700,cipher=2,key_file=PATH\"");
    s.field("sequence.block", c.send_block,
            "sending numbers a replica reserves at a time per key (C10; well under 2048/replicas)");
    s.field("limits.max_in_flight", c.max_in_flight,
            "messages handled at once; more are dropped and counted");
    s.field("http.listen", c.http_listen, "address:port of /healthz, /readyz, /metrics");
    s.field("shutdown.grace_s", c.grace_s, "seconds in-flight work gets after SIGTERM");
    s.field("shutdown.quiet_s", c.quiet_s,
            "after SIGTERM, exit early once no datagram arrived for this long");
    s.field("notify.poll_s", c.notify_poll_s,
            "seconds between checks for changed general-node lists (General Node Update "
            "Notify); 0 disables");
    s.field("log.level", c.log_level, "trace, debug, info, warn, error or off");
}

namespace {

wire::CipherSuiteId cipher_of(std::uint32_t v, const std::string& key) {
    if (!wire::is_known_cipher_suite(static_cast<std::uint16_t>(v)) || v > 0xFFFF) {
        throw app::ConfigError("config", key, "cipher must be 1, 2 or 3");
    }
    return static_cast<wire::CipherSuiteId>(v);
}

crypto::Key read_key_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw app::ConfigError("config", "trs.servers", "cannot read key_file " + path);
    }
    std::stringstream text;
    text << in.rdbuf();
    const auto bytes = from_hex(text.str());
    if (!bytes || bytes->size() != 32) {
        throw app::ConfigError("config", "trs.servers",
                               "key_file " + path + " must hold 64 hex digits");
    }
    return crypto::Key(std::span<const std::byte, 32>(bytes->data(), 32));
}

}  // namespace

TrsPeer parse_trs_peer(const std::string& text) {
    TrsPeer peer;
    bool have_id = false;
    bool have_key = false;
    std::stringstream parts(text);
    for (std::string part; std::getline(parts, part, ',');) {
        const auto eq = part.find('=');
        if (eq == std::string::npos) {
            throw app::ConfigError("config", "trs.servers", "'" + part + "' is not name=value");
        }
        const std::string name = part.substr(0, eq);
        const std::string value = part.substr(eq + 1);
        if (name == "node_id") {
            const auto id = NodeId::from_hex(value);
            if (!id) {
                throw app::ConfigError("config", "trs.servers", "node_id must be 32 hex digits");
            }
            peer.node_id = *id;
            have_id = true;
        } else if (name == "ipv4") {
            const auto a = Ipv4Address::parse(value);
            if (!a) {
                throw app::ConfigError("config", "trs.servers", "bad ipv4 '" + value + "'");
            }
            peer.ipv4 = *a;
        } else if (name == "ipv6") {
            const auto a = Ipv6Address::parse(value);
            if (!a) {
                throw app::ConfigError("config", "trs.servers", "bad ipv6 '" + value + "'");
            }
            peer.ipv6 = *a;
        } else if (name == "port") {
            unsigned port = 0;
            const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
            if (ec != std::errc{} || p != value.data() + value.size() || port == 0 ||
                port > 65535) {
                throw app::ConfigError("config", "trs.servers", "bad port '" + value + "'");
            }
            peer.port = static_cast<std::uint16_t>(port);
        } else if (name == "cipher") {
            peer.cipher = cipher_of(static_cast<std::uint32_t>(std::stoul(value)), "trs.servers");
        } else if (name == "key_file") {
            peer.key = read_key_file(value);
            have_key = true;
        } else {
            throw app::ConfigError("config", "trs.servers", "unknown field '" + name + "'");
        }
    }
    if (!have_id || !have_key || (peer.ipv4.is_unspecified() && peer.ipv6.is_unspecified())) {
        throw app::ConfigError("config", "trs.servers",
                               "each TRS needs node_id, key_file and ipv4 and/or ipv6");
    }
    return peer;
}

NmsSettings validate(const NmsConfig& c) {
    NmsSettings s;
    const auto id = NodeId::from_hex(c.node_id);
    if (!id || id->is_zero()) {
        throw app::ConfigError("config", "nms.node_id", "required: 32 hex digits, not all zero");
    }
    s.node_id = *id;
    for (const auto& t : c.trs_servers) {
        s.trs.push_back(parse_trs_peer(t));
    }
    s.tunnel_cipher = cipher_of(c.tunnel_cipher, "tunnel.cipher");
    const auto http = Endpoint::parse(c.http_listen);
    if (!http) {
        throw app::ConfigError("config", "http.listen", "expected address:port");
    }
    s.http = *http;
    if (c.listen_ipv4.empty() && c.listen_ipv6.empty()) {
        throw app::ConfigError("config", "listen.ipv4", "both listen addresses are empty");
    }
    if (c.send_block == 0 || c.send_block > 512) {
        throw app::ConfigError("config", "sequence.block", "must be 1..512");
    }
    if (c.offline_after_s < 1) {
        throw app::ConfigError("config", "node.offline_after_s", "must be at least 1");
    }
    return s;
}

}  // namespace cyphonic::nms
