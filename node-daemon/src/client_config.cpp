#include "client_config.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>

#include <fmt/format.h>

#include "cyphonic/net/dns_server.hpp"

namespace cyphonic::noded {

void describe_client(app::ConfigSchema& s, ClientConfig& c, const ClientKeyNames& names) {
    s.field("as.host", c.as_host, "address or name of the Authentication Service (required)");
    s.field("as.port", c.as_port, "TCP port of the AS (TLS 1.3)");
    s.field("as.server_name", c.as_server_name,
            "name or address the AS certificate must carry; empty: as.host");
    s.field("as.ca_file", c.as_ca_file, "root CA certificate the AS must chain to (required)");
    s.field("auth.device_id", c.device_id, "DeviceID " + names.who + " logs in with (required)");
    s.field("auth.password_file", c.password_file,
            "file holding the password (basic login); leave empty for certificate login");
    s.field("auth.client_cert", c.client_cert,
            "client certificate chain, PEM (certificate login, with auth.client_key)");
    s.field("auth.client_key", c.client_key, "private key of auth.client_cert, PEM",
            {.secret = false});
    s.field("auth.application_id", c.application_id,
            "Application ID sent at login and in Direction Requests, 32 hex digits; empty: zero");
    s.field("overlay.domain", c.domain,
            "overlay domain answered by the resolver; empty: the login's FQDN without its first "
            "label");
    s.field("overlay.nms_port", c.nms_port,
            "UDP port of NMS at the addresses the Login Response names (§3)");
    s.field("overlay.trs_port", c.trs_port,
            "UDP port of TRS at the addresses a Route Direction names (§3)");
    s.field("data.port", c.data_port,
            "UDP port of the socket for NMS, TRS and peers (D13; reported as Application Port)");
    s.field("data.socket_buffer_bytes", c.socket_buffer_bytes,
            "SO_RCVBUF/SO_SNDBUF of the UDP socket; 0 keeps the system default");
    s.field("resolver.port", c.resolver_port, "UDP/TCP port of the resolver");
    s.field("resolver.upstream", c.resolver_upstream,
            "resolvers for names outside the overlay (\"ip\" or \"ip:port\"); empty: the "
            "nameservers of /etc/resolv.conf");
    s.field("resolver.ttl_s", c.resolver_ttl_s, "TTL of overlay answers in seconds");
    s.field("crypto.accept_ciphers", c.accept_ciphers,
            "cipher suites accepted for paths (names or numbers); empty: all three");
    s.field("crypto.responder_end_key", c.responder_end_key,
            "as responder, return an own End Key in the Tunnel Response (D14); false: the "
            "initiator's End Key protects both directions");
    s.field("status.socket", c.status_socket, "unix socket of the `status` command");
    s.field("timers.keepalive_s", c.keepalive_s, "seconds between Keep Alives to NMS (C12)");
    s.field("timers.path_keepalive_s", c.path_keepalive_s,
            "seconds between Hole Punching keepalives on an active path (§7.6)");
    s.field(names.peer_idle, c.peer_idle_s,
            "seconds without traffic after which a peer's tunnel is torn down");
    s.field("timers.renew_before_s", c.renew_before_s,
            "log in again / reselect the route this many seconds before a key expires (C4)");
    s.field("timers.reoptimise_s", c.reoptimise_s,
            "while a path is relayed, try the direct path again this often (5 Hole Punchings; "
            "§7.7); 0: only once, when the path comes up");
    s.field("log.level", c.log_level, "trace, debug, info, warn, error or off");
}

std::string config_origin(const std::optional<std::filesystem::path>& file,
                          const std::vector<std::string>& overrides, const std::string& key) {
    for (const auto& o : overrides) {
        if (o.starts_with(key + "=")) {
            return "--set";
        }
    }
    return file ? file->string() : "defaults";
}

std::filesystem::path relative_to(const std::optional<std::filesystem::path>& file,
                                  const std::filesystem::path& p) {
    if (p.empty() || p.is_absolute() || !file) {
        return p;
    }
    return file->parent_path() / p;
}

bool valid_interface_name(const std::string& name) {
    return name.size() < 16 && !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
               return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_' ||
                      ch == '.';
           });
}

ClientSettings resolve_client(ClientConfig& c, const std::optional<std::filesystem::path>& file,
                              const ClientKeyNames& names, const ConfigCheck& check) {
    ClientSettings out;
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
        const auto id = wire::parse_cipher_suite(name);
        check(id.has_value(), "crypto.accept_ciphers",
              fmt::format("unknown suite '{}' (aes-256-cbc-hmac-md5, aes-256-gcm, "
                          "chacha20-poly1305 or 1, 2, 3)",
                          name));
        out.accepted_ciphers.push_back(*id);
    }
    check(c.keepalive_s >= 1, "timers.keepalive_s", "at least 1");
    check(c.path_keepalive_s >= 1, "timers.path_keepalive_s", "at least 1");
    check(c.peer_idle_s >= 10, names.peer_idle, "at least 10");
    out.responder_end_key = c.responder_end_key;
    out.keepalive = std::chrono::seconds(c.keepalive_s);
    out.path_keepalive = std::chrono::seconds(c.path_keepalive_s);
    out.peer_idle = std::chrono::seconds(c.peer_idle_s);
    out.renew_before = std::chrono::seconds(c.renew_before_s);
    check(c.reoptimise_s == 0 || c.reoptimise_s >= 10, "timers.reoptimise_s",
          "0 (off) or at least 10");
    out.reoptimise = std::chrono::seconds(c.reoptimise_s);
    return out;
}

}  // namespace cyphonic::noded
