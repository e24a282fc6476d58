#include "config.hpp"

namespace cyphonic::adapterd {

namespace {

const noded::ClientKeyNames kNames{"the adapter itself", "peers.idle_s"};

}  // namespace

void describe(app::ConfigSchema& s, AdapterConfig& c) {
    noded::describe_client(s, c, kNames);
    s.field("lan.interface", c.lan_interface,
            "internal NIC facing the general nodes (required); read raw, promiscuous, with "
            "receive offloads switched off; the gateway addresses are put on it");
    s.field("lan.ipv4_prefix_len", c.ipv4_prefix_len,
            "overlay IPv4 prefix length: the subnet mask general nodes get by DHCP");
    s.field("lan.ipv6_prefix_len", c.ipv6_prefix_len,
            "overlay IPv6 prefix length: the on-link prefix in Router Advertisements");
    s.field("lan.lease_s", c.lease_s, "DHCPv4 lease and DHCPv6 lifetimes, seconds");
    s.field("lan.ra_interval_s", c.ra_interval_s, "seconds between unsolicited Router Adverts");
    s.field("lan.mtu", c.mtu, "MTU given to general nodes (DHCP option 26, RA): the overlay MTU");
    s.field("wan.interface", c.wan_interface,
            "external NIC (informational; the source address towards NMS is the route's)");
    s.field("data.workers", c.workers, "worker threads of the handling stage (§4.2.1)");
    s.field("data.staging", c.staging,
            "release packets in arrival order (staging stage); false only for tests");
    s.field("data.staging_wait_us", c.staging_wait_us,
            "longest wait of the staging stage for a late packet before releasing later ones");
    s.field("state.dir", c.state_dir,
            "directory of the general-node cache, the gateway addresses and the peers met "
            "(survive restarts)");
}

AdapterSettings load_settings(const std::optional<std::filesystem::path>& file,
                              const std::vector<std::string>& overrides) {
    AdapterSettings out;
    AdapterConfig& c = out.raw;
    app::ConfigSchema schema;
    describe(schema, c);
    schema.load(file, overrides);
    const auto check = [&](bool ok, const std::string& key, const std::string& reason) {
        if (!ok) {
            throw app::ConfigError(noded::config_origin(file, overrides, key), key, reason);
        }
    };
    static_cast<noded::ClientSettings&>(out) = noded::resolve_client(c, file, kNames, check);
    c.state_dir = noded::relative_to(file, c.state_dir);
    check(noded::valid_interface_name(c.lan_interface), "lan.interface",
          "required: the internal NIC (1 to 15 letters, digits, '-', '_' or '.')");
    check(c.wan_interface.empty() || noded::valid_interface_name(c.wan_interface), "wan.interface",
          "an interface name has 1 to 15 letters, digits, '-', '_' or '.'");
    check(c.wan_interface != c.lan_interface, "wan.interface", "must differ from lan.interface");
    check(c.ipv4_prefix_len >= 8 && c.ipv4_prefix_len <= 30, "lan.ipv4_prefix_len", "8 to 30");
    check(c.ipv6_prefix_len >= 16 && c.ipv6_prefix_len <= 120, "lan.ipv6_prefix_len", "16 to 120");
    check(c.lease_s >= 60, "lan.lease_s", "at least 60");
    check(c.ra_interval_s >= 3 && c.ra_interval_s <= 1800, "lan.ra_interval_s", "3 to 1800");
    check(c.mtu >= 1280 && c.mtu <= 1500, "lan.mtu", "1280 to 1500");
    check(c.workers >= 1 && c.workers <= 64, "data.workers", "1 to 64");
    check(c.staging_wait_us >= 100 && c.staging_wait_us <= 1000000, "data.staging_wait_us",
          "100 to 1000000");
    out.effective = schema.effective();
    return out;
}

std::vector<std::string> describe_keys() {
    AdapterConfig c;
    app::ConfigSchema schema;
    describe(schema, c);
    return schema.describe_keys();
}

}  // namespace cyphonic::adapterd
