#include "config.hpp"

namespace cyphonic::noded {

namespace {

const ClientKeyNames kNames{"this node", "timers.peer_idle_s"};

}  // namespace

void describe(app::ConfigSchema& s, DaemonConfig& c) {
    describe_client(s, c, kNames);
    s.field("tun.name", c.tun_name, "name of the TUN interface");
    s.field("tun.mtu", c.tun_mtu, "MTU of the TUN interface (C8 recommends 1360)");
    s.field("tun.ipv4_prefix_len", c.ipv4_prefix_len,
            "prefix length of the virtual IPv4 on the TUN: the overlay IPv4 prefix routed to it");
    s.field("tun.ipv6_prefix_len", c.ipv6_prefix_len,
            "prefix length of the virtual IPv6 on the TUN: the overlay IPv6 prefix routed to it");
    s.field("resolver.enabled", c.resolver_enabled,
            "run the DNS resolver on the virtual addresses");
    s.field("resolver.systemd_resolved", c.resolver_systemd_resolved,
            "route the overlay domain to this resolver through systemd-resolved (resolvectl): "
            "auto (when resolvectl works), on (fail if it does not), off");
}

DaemonSettings load_settings(const std::optional<std::filesystem::path>& file,
                             const std::vector<std::string>& overrides) {
    DaemonSettings out;
    DaemonConfig& c = out.raw;
    app::ConfigSchema schema;
    describe(schema, c);
    schema.load(file, overrides);
    const auto check = [&](bool ok, const std::string& key, const std::string& reason) {
        if (!ok) {
            throw app::ConfigError(config_origin(file, overrides, key), key, reason);
        }
    };
    static_cast<ClientSettings&>(out) = resolve_client(c, file, kNames, check);
    check(valid_interface_name(c.tun_name), "tun.name",
          "an interface name has 1 to 15 letters, digits, '-', '_' or '.'");
    check(c.tun_mtu >= 1280 && c.tun_mtu <= 65000, "tun.mtu",
          "between 1280 (IPv6 minimum) and 65000");
    check(c.ipv4_prefix_len >= 8 && c.ipv4_prefix_len <= 32, "tun.ipv4_prefix_len", "8 to 32");
    check(c.ipv6_prefix_len >= 16 && c.ipv6_prefix_len <= 128, "tun.ipv6_prefix_len", "16 to 128");
    check(c.resolver_systemd_resolved == "auto" || c.resolver_systemd_resolved == "on" ||
              c.resolver_systemd_resolved == "off",
          "resolver.systemd_resolved", "auto, on or off");
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
