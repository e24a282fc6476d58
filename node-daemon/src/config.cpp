#include "config.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "cyphonic/net/dns_server.hpp"

namespace cyphonic::noded {

void describe(app::ConfigSchema& s, DaemonConfig& c) {
    s.field("as.host", c.as_host, "address or name of the Authentication Service (required)");
    s.field("as.port", c.as_port, "TCP port of the AS (TLS 1.3)");
    s.field("as.server_name", c.as_server_name,
            "name or address the AS certificate must carry; empty: as.host");
    s.field("as.ca_file", c.as_ca_file, "root CA certificate the AS must chain to (required)");
    s.field("auth.device_id", c.device_id, "DeviceID to log in with (required)");
    s.field("auth.password_file", c.password_file,
            "file holding the password (basic login); leave empty for certificate login");
    s.field("auth.client_cert", c.client_cert,
            "client certificate chain, PEM (certificate login, with auth.client_key)");
    s.field("auth.client_key", c.client_key, "private key of auth.client_cert, PEM",
            {.secret = false});
    s.field("auth.application_id", c.application_id,
            "Application ID sent at login and in Direction Requests, 32 hex digits; empty: zero");
    s.field("overlay.domain", c.domain,
            "overlay domain answered by the resolver; empty: the node's FQDN without its first "
            "label");
    s.field("overlay.nms_port", c.nms_port,
            "UDP port of NMS at the addresses the Login Response names (§3)");
    s.field("overlay.trs_port", c.trs_port,
            "UDP port of TRS at the addresses a Route Direction names (§3)");
    s.field("tun.name", c.tun_name, "name of the TUN interface");
    s.field("tun.mtu", c.tun_mtu, "MTU of the TUN interface (C8 recommends 1360)");
    s.field("tun.ipv4_prefix_len", c.ipv4_prefix_len,
            "prefix length of the virtual IPv4 on the TUN: the overlay IPv4 prefix routed to it");
    s.field("tun.ipv6_prefix_len", c.ipv6_prefix_len,
            "prefix length of the virtual IPv6 on the TUN: the overlay IPv6 prefix routed to it");
    s.field("data.port", c.data_port,
            "UDP port of the socket for NMS, TRS and peers (D13; reported as Application Port)");
    s.field("data.socket_buffer_bytes", c.socket_buffer_bytes,
            "SO_RCVBUF/SO_SNDBUF of the UDP socket; 0 keeps the system default");
    s.field("resolver.enabled", c.resolver_enabled,
            "run the DNS resolver on the virtual addresses");
    s.field("resolver.port", c.resolver_port, "UDP/TCP port of the resolver");
    s.field("resolver.upstream", c.resolver_upstream,
            "resolvers for names outside the overlay (\"ip\" or \"ip:port\"); empty: the "
            "nameservers of /etc/resolv.conf");
    s.field("resolver.systemd_resolved", c.resolver_systemd_resolved,
            "route the overlay domain to this resolver through systemd-resolved (resolvectl): "
            "auto (when resolvectl works), on (fail if it does not), off");
    s.field("resolver.ttl_s", c.resolver_ttl_s, "TTL of overlay answers in seconds");
    s.field("crypto.accept_ciphers", c.accept_ciphers,
            "cipher suites this node accepts for paths (names or numbers); empty: all three");
    s.field("status.socket", c.status_socket, "unix socket of `cyphonicd status`");
    s.field("timers.keepalive_s", c.keepalive_s, "seconds between Keep Alives to NMS (C12)");
    s.field("timers.path_keepalive_s", c.path_keepalive_s,
            "seconds between Hole Punching keepalives on an active path (§7.6)");
    s.field("timers.peer_idle_s", c.peer_idle_s,
            "seconds without traffic after which a peer's tunnel is torn down");
    s.field("timers.renew_before_s", c.renew_before_s,
            "log in again / reselect the route this many seconds before a key expires (C4)");
    s.field("log.level", c.log_level, "trace, debug, info, warn, error or off");
}

namespace {

std::string origin(const std::optional<std::filesystem::path>& file,
                   const std::vector<std::string>& overrides, const std::string& key) {
    for (const auto& o : overrides) {
        if (o.starts_with(key + "=")) {
            return "--set";
        }
    }
    return file ? file->string() : "defaults";
}

std::optional<wire::CipherSuiteId> parse_cipher(const std::string& text) {
    for (const auto id : {wire::CipherSuiteId::AesCbcHmacMd5, wire::CipherSuiteId::Aes256Gcm,
                          wire::CipherSuiteId::ChaCha20Poly1305}) {
        if (text == wire::to_string(id) || text == std::to_string(static_cast<unsigned>(id))) {
            return id;
        }
    }
    return std::nullopt;
}

std::filesystem::path relative_to(const std::optional<std::filesystem::path>& file,
                                  const std::filesystem::path& p) {
    if (p.empty() || p.is_absolute() || !file) {
        return p;
    }
    return file->parent_path() / p;
}

}  // namespace

DaemonSettings load_settings(const std::optional<std::filesystem::path>& file,
                             const std::vector<std::string>& overrides) {
    DaemonSettings out;
    DaemonConfig& c = out.raw;
    app::ConfigSchema schema;
    describe(schema, c);
    schema.load(file, overrides);
    const auto check = [&](bool ok, const std::string& key, const std::string& reason) {
        if (!ok) {
            throw app::ConfigError(origin(file, overrides, key), key, reason);
        }
    };
    check(!c.as_host.empty(), "as.host", "required: the address or name of the AS");
    check(!c.as_ca_file.empty(), "as.ca_file", "required: the root CA of the AS certificate");
    check(!c.device_id.empty(), "auth.device_id", "required");
    c.as_ca_file = relative_to(file, c.as_ca_file);
    c.password_file = relative_to(file, c.password_file);
    c.client_cert = relative_to(file, c.client_cert);
    c.client_key = relative_to(file, c.client_key);
    check(!c.password_file.empty() || !c.client_cert.empty(), "auth.password_file",
          "set auth.password_file (basic login) or auth.client_cert/auth.client_key "
          "(certificate login)");
    check(c.client_cert.empty() == c.client_key.empty(), "auth.client_key",
          "auth.client_cert and auth.client_key go together");
    if (!c.password_file.empty()) {
        std::ifstream in(c.password_file);
        check(static_cast<bool>(in), "auth.password_file",
              fmt::format("cannot read {}", c.password_file.string()));
        std::string password;
        std::getline(in, password);
        check(!password.empty(), "auth.password_file",
              fmt::format("{} is empty", c.password_file.string()));
        out.password = password;
    }
    if (!c.application_id.empty()) {
        const auto id = ApplicationId::from_hex(c.application_id);
        check(id.has_value(), "auth.application_id", "expected 32 hex digits");
        out.application_id = *id;
    }
    check(c.tun_name.size() < 16 && !c.tun_name.empty() &&
              std::all_of(c.tun_name.begin(), c.tun_name.end(),
                          [](char ch) {
                              return std::isalnum(static_cast<unsigned char>(ch)) != 0 ||
                                     ch == '-' || ch == '_' || ch == '.';
                          }),
          "tun.name", "an interface name has 1 to 15 letters, digits, '-', '_' or '.'");
    check(c.tun_mtu >= 1280 && c.tun_mtu <= 65000, "tun.mtu",
          "between 1280 (IPv6 minimum) and 65000");
    check(c.ipv4_prefix_len >= 8 && c.ipv4_prefix_len <= 32, "tun.ipv4_prefix_len", "8 to 32");
    check(c.ipv6_prefix_len >= 16 && c.ipv6_prefix_len <= 128, "tun.ipv6_prefix_len", "16 to 128");
    check(c.resolver_systemd_resolved == "auto" || c.resolver_systemd_resolved == "on" ||
              c.resolver_systemd_resolved == "off",
          "resolver.systemd_resolved", "auto, on or off");
    for (const auto& u : c.resolver_upstream) {
        auto e = Endpoint::parse(u);
        if (!e) {
            const auto a = IpAddress::parse(u);
            check(a.has_value(), "resolver.upstream",
                  fmt::format("'{}' is neither an address nor address:port", u));
            e = Endpoint{*a, 53};
        }
        out.upstreams.push_back(*e);
    }
    if (c.resolver_upstream.empty()) {
        out.upstreams = net::system_upstreams();
    }
    if (c.accept_ciphers.empty()) {
        out.accepted_ciphers = {wire::CipherSuiteId::AesCbcHmacMd5, wire::CipherSuiteId::Aes256Gcm,
                                wire::CipherSuiteId::ChaCha20Poly1305};
    }
    for (const auto& name : c.accept_ciphers) {
        const auto id = parse_cipher(name);
        check(id.has_value(), "crypto.accept_ciphers",
              fmt::format("unknown suite '{}' (aes-256-cbc-hmac-md5, aes-256-gcm, "
                          "chacha20-poly1305 or 1, 2, 3)",
                          name));
        out.accepted_ciphers.push_back(*id);
    }
    check(c.keepalive_s >= 1, "timers.keepalive_s", "at least 1");
    check(c.path_keepalive_s >= 1, "timers.path_keepalive_s", "at least 1");
    check(c.peer_idle_s >= 10, "timers.peer_idle_s", "at least 10");
    out.keepalive = std::chrono::seconds(c.keepalive_s);
    out.path_keepalive = std::chrono::seconds(c.path_keepalive_s);
    out.peer_idle = std::chrono::seconds(c.peer_idle_s);
    out.renew_before = std::chrono::seconds(c.renew_before_s);
    out.effective = schema.effective();
    return out;
}

std::vector<std::string> describe_keys() {
    DaemonConfig c;
    app::ConfigSchema schema;
    describe(schema, c);
    return schema.describe_keys();
}

}  // namespace cyphonic::noded
