#include "config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "addressing.hpp"

#include "cyphonic/app/logging.hpp"
#include "cyphonic/core/fqdn.hpp"
#include "cyphonic/wire/types.hpp"

namespace cyphonic::as {

void describe(app::ConfigSchema& s, AsConfig& c) {
    s.field("listen.address", c.listen_address,
            "address of the TLS port (login stream and controller API); \"::\" is dual-stack");
    s.field("listen.port", c.listen_port, "TCP port of the TLS listener; 0 picks a free one");
    s.field("tls.cert", c.tls_cert, "server certificate chain (PEM), required for serve");
    s.field("tls.key", c.tls_key, "private key of tls.cert (PEM), required for serve");
    s.field("tls.client_ca", c.tls_client_ca,
            "CA (PEM) client certificates must chain to; empty disables certificate login");
    s.field("domain", c.domain, "overlay domain: a device's FQDN is <device-id>.<domain>");
    s.field("db.conninfo", c.db_conninfo, "libpq connection string of the shared database",
            {.secret = true});
    s.field("db.connections", c.db_connections, "database connections (1-64)");
    s.field("nms.ipv4", c.nms_ipv4, "NMS IPv4 address sent in Login Responses (null: 0.0.0.0)");
    s.field("nms.ipv6", c.nms_ipv6, "NMS IPv6 address sent in Login Responses (null: ::)");
    s.field("nms.cipher", c.nms_cipher,
            "cipher suite of issued NMS keys: 1 AES-256-CBC+HMAC-MD5, 2 AES-256-GCM, "
            "3 ChaCha20-Poly1305");
    s.field("nms.key_lifetime_days", c.nms_key_lifetime_days,
            "an NMS key expires at 23:59:59 UTC this many days after the login day (1-365)");
    s.field("addressing.ipv4_prefix", c.addressing_ipv4_prefix,
            "pool of virtual IPv4 addresses (at most /30)");
    s.field("addressing.ipv6_prefix", c.addressing_ipv6_prefix,
            "pool of virtual IPv6 addresses (at most /126)");
    s.field("login.max_failures", c.login_max_failures,
            "consecutive failed logins after which a DeviceID is locked");
    s.field("login.lock_max_s", c.login_lock_max_s,
            "longest lock in seconds (the lock doubles from 1 s with each further failure)");
    s.field("login.unknown_burst", c.login_unknown_burst,
            "failed logins for unknown DeviceIDs one source address may make in a burst");
    s.field("login.unknown_per_s", c.login_unknown_per_s,
            "refill rate of that allowance per second");
    s.field("login.kdf_threads", c.login_kdf_threads,
            "threads computing password hashes; 0 = number of CPUs");
    s.field("connection.idle_timeout_s", c.connection_idle_timeout_s,
            "seconds a connection may wait for its next request");
    s.field("connection.handshake_timeout_s", c.connection_handshake_timeout_s,
            "seconds a client has to complete the TLS handshake");
    s.field("connection.max", c.connection_max,
            "open connections at most; further ones are closed at once and counted");
    s.field("http.listen", c.http_listen, "address:port of /healthz, /readyz and /metrics");
    s.field("shutdown.grace_s", c.shutdown_grace_s,
            "seconds in-flight logins get to finish after SIGTERM");
    s.field("log.level", c.log_level, "trace, debug, info, warn, error or off");
}

std::string ConfigSource::where(std::string_view key) const {
    const std::string prefix = std::string(key) + "=";
    for (const auto& o : overrides) {
        if (o.starts_with(prefix)) {
            return "--set";
        }
    }
    if (!file) {
        return "defaults";
    }
    try {
        YAML::Node node = YAML::LoadFile(file->string());
        std::size_t start = 0;
        for (;;) {
            const auto dot = key.find('.', start);
            const std::string part(key.substr(start, dot - start));
            if (!node.IsMap() || !node[part]) {
                return file->string();
            }
            node = node[part];
            if (dot == std::string_view::npos) {
                return fmt::format("{}:{}", file->string(), node.Mark().line + 1);
            }
            start = dot + 1;
        }
    } catch (const YAML::Exception&) {
        return file->string();
    }
}

namespace {

void check(bool ok, const ConfigSource& source, std::string_view key, const std::string& reason) {
    if (!ok) {
        throw app::ConfigError(source.where(key), std::string(key), reason);
    }
}

void check_file(const std::filesystem::path& path, const ConfigSource& source, std::string_view key,
                std::string_view what) {
    check(!path.empty(), source, key, fmt::format("required for serve: the path of {}", what));
    std::error_code ec;
    check(std::filesystem::is_regular_file(path, ec), source, key,
          fmt::format("'{}' is not a readable file ({})", path.string(), what));
}

}  // namespace

void validate(const AsConfig& c, const ConfigSource& source, ConfigUse use) {
    check(app::is_log_level(c.log_level), source, "log.level",
          fmt::format("'{}' is not one of trace, debug, info, warn, error, off", c.log_level));
    check(!c.db_conninfo.empty(), source, "db.conninfo",
          "required: a libpq connection string, e.g. \"host=/run/postgresql dbname=cyphonic\"");
    check(c.db_connections >= 1 && c.db_connections <= 64, source, "db.connections",
          fmt::format("{} is not in 1-64", c.db_connections));
    if (use == ConfigUse::Database) {
        return;
    }
    const auto domain = Fqdn::validate(c.domain);
    check(domain.has_value(), source, "domain",
          fmt::format("'{}' is not a valid domain name: {}", c.domain,
                      domain.has_value() ? "" : to_string(domain.error())));
    const auto v4 = Ipv4Prefix::parse(c.addressing_ipv4_prefix);
    check(v4.has_value(), source, "addressing.ipv4_prefix", v4.has_value() ? "" : v4.error());
    const auto v6 = Ipv6Prefix::parse(c.addressing_ipv6_prefix);
    check(v6.has_value(), source, "addressing.ipv6_prefix", v6.has_value() ? "" : v6.error());
    if (use == ConfigUse::Enrol) {
        return;
    }
    check(c.nms_ipv4.has_value() ? c.nms_ipv4->is_v4() : true, source, "nms.ipv4",
          "expected an IPv4 address");
    check(c.nms_ipv6.has_value() ? c.nms_ipv6->is_v6() : true, source, "nms.ipv6",
          "expected an IPv6 address");
    check(wire::is_known_cipher_suite(c.nms_cipher), source, "nms.cipher",
          fmt::format("{} is not a cipher suite: 1, 2 or 3", c.nms_cipher));
    check(c.nms_key_lifetime_days >= 1 && c.nms_key_lifetime_days <= 365, source,
          "nms.key_lifetime_days", fmt::format("{} is not in 1-365", c.nms_key_lifetime_days));
    check(IpAddress::parse(c.listen_address).has_value(), source, "listen.address",
          fmt::format("'{}' is not an IP address", c.listen_address));
    check(
        Endpoint::parse(c.http_listen).has_value(), source, "http.listen",
        fmt::format("'{}' is not address:port (e.g. 127.0.0.1:9100 or [::]:9100)", c.http_listen));
    check(c.login_max_failures >= 1, source, "login.max_failures", "must be at least 1");
    check(c.login_lock_max_s >= 1, source, "login.lock_max_s", "must be at least 1");
    check(c.login_unknown_burst >= 1, source, "login.unknown_burst", "must be at least 1");
    check(c.login_unknown_per_s > 0, source, "login.unknown_per_s", "must be above 0");
    check(c.login_kdf_threads <= 256, source, "login.kdf_threads", "at most 256");
    check(c.connection_idle_timeout_s >= 1, source, "connection.idle_timeout_s",
          "must be at least 1");
    check(c.connection_handshake_timeout_s >= 1, source, "connection.handshake_timeout_s",
          "must be at least 1");
    check(c.connection_max >= 1, source, "connection.max", "must be at least 1");
    check(c.shutdown_grace_s <= 3600, source, "shutdown.grace_s", "at most 3600");
    check_file(c.tls_cert, source, "tls.cert", "the server certificate (PEM)");
    check_file(c.tls_key, source, "tls.key", "the server's private key (PEM)");
    if (!c.tls_client_ca.empty()) {
        check_file(c.tls_client_ca, source, "tls.client_ca", "the client CA (PEM)");
    }
}

AsConfig load_config(const ConfigSource& source, ConfigUse use) {
    AsConfig config;
    app::ConfigSchema schema;
    describe(schema, config);
    schema.load(source.file, source.overrides);
    validate(config, source, use);
    return config;
}

std::vector<std::string> effective_config(const AsConfig& config) {
    AsConfig copy = config;
    app::ConfigSchema schema;
    describe(schema, copy);
    return schema.effective();
}

std::vector<std::string> describe_config() {
    AsConfig defaults;
    app::ConfigSchema schema;
    describe(schema, defaults);
    return schema.describe_keys();
}

}  // namespace cyphonic::as
