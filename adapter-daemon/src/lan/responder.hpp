#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lan/frame.hpp"
#include "lan/mac.hpp"

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"

namespace cyphonic::adapterd::lan {

// The adapter's side of the internal link (PROTOCOL.md §7.10 steps 2 and 6).
struct LinkConfig {
    MacAddress adapter_mac;
    Ipv4Address gateway_v4;           // adapter's virtual IPv4: DHCP server id, router, DNS server
    std::uint8_t v4_prefix_len = 16;  // subnet mask given to general nodes
    std::optional<Ipv6Address> gateway_v6;  // DNS server in DHCPv6 (option 23)
    Ipv6Address link_local;                 // fe80:: on the internal NIC: RA and DHCPv6 source
    std::optional<Ipv6Address> v6_prefix;   // announced on-link (L=1, A=0) in RAs
    std::uint8_t v6_prefix_len = 64;
    std::uint32_t lease_s = 3600;  // DHCPv4 lease, DHCPv6 lifetimes, RA prefix lifetimes;
                                   // T1 = lease/2, T2 = lease*7/8
    std::uint16_t mtu = 1360;      // DHCPv4 option 26 and the RA MTU option
    std::string domain;            // DHCPv4 option 15 and DHCPv6 option 24 when not empty
    std::uint16_t router_lifetime_s = 1800;
};

// A general node allowed on the link.
struct Binding {
    MacAddress mac;
    std::optional<Ipv4Address> v4;
    std::optional<Ipv6Address> v6;
    std::string hostname;  // sent as DHCPv4 option 12 when not empty
};

using BindingLookup = std::function<std::optional<Binding>(const MacAddress&)>;
// Whether the adapter answers ARP / NS for `target` asked by `asker` (a peer's virtual address).
using ProxyPredicate = std::function<bool(const IpAddress& target, const MacAddress& asker)>;

struct Reply {
    std::vector<Bytes> frames;  // complete Ethernet frames to send on the internal NIC
    std::string_view event;     // stable snake_case name (static storage)
};

// Answers the internal link's control frames: DHCPv4 (RFC 2131), stateful DHCPv6 (RFC 8415),
// Router Solicitation (RFC 4861), proxy ARP and proxy ND. Pure: no I/O, no clock, no threads.
// Not thread-safe: one owner (the I/O thread).
//
// Events (Reply::event): dhcp4_offer, dhcp4_ack, dhcp4_nak, dhcp4_inform, dhcp4_release,
// dhcp4_decline, ignored_dhcp4, ignored_dhcp4_other_server, dhcp6_advertise, dhcp6_reply,
// dhcp6_release, dhcp6_decline, dhcp6_confirm, dhcp6_information, ignored_dhcp6,
// ignored_dhcp6_other_server, ra_solicited, na_proxy, na_gateway, ignored_ns, arp_proxy,
// arp_gateway, ignored_arp. The "ignored_*" events carry no frames.
// Drop reasons (the error): every classify() reason, not_control_frame, malformed, bad_arp,
// arp_sender_mismatch, not_bootrequest, chaddr_mismatch, dhcp4_no_message_type,
// dhcp4_unknown_message_type, unknown_mac, dhcp6_no_client_id, dhcp6_relay, bad_dhcp6_source,
// dhcp6_unknown_message_type, bad_arp_opcode, bad_arp_target, bad_nd, bad_nd_hop_limit,
// internal_error.
// Besides `proxy`, ARP for gateway_v4 and NS for gateway_v6 / link_local are answered
// (arp_gateway, na_gateway): the nodes' router and DNS server live on the adapter.
class Responder {
public:
    Responder(LinkConfig config, BindingLookup lookup, ProxyPredicate proxy);

    // One control frame (kind Arp, Dhcp4, Dhcp6 or Ndp). Error = drop reason; every call is
    // counted under its event or drop reason. Never throws.
    [[nodiscard]] Expected<Reply, std::string_view> handle(ByteView frame);
    // Same, when the caller already classified the frame: `info` must be classify(frame).
    [[nodiscard]] Expected<Reply, std::string_view> handle(ByteView frame, const FrameInfo& info);

    // Unsolicited RA to ff02::1 / 33:33:00:00:00:01 (send periodically).
    [[nodiscard]] Bytes router_advertisement() const;

    // One entry per event or drop reason seen so far (names as above), so the sum is the number
    // of handle() calls.
    [[nodiscard]] const std::map<std::string, std::uint64_t, std::less<>>& counters()
        const noexcept {
        return counters_;
    }
    // Gateway addresses are known only after login.
    void set_config(LinkConfig config) { config_ = std::move(config); }
    [[nodiscard]] const LinkConfig& config() const noexcept { return config_; }

private:
    Expected<Reply, std::string_view> dispatch(ByteView frame, const FrameInfo& info);
    void count(std::string_view name);

    LinkConfig config_;
    BindingLookup lookup_;
    ProxyPredicate proxy_;
    std::map<std::string, std::uint64_t, std::less<>> counters_;
};

}  // namespace cyphonic::adapterd::lan
