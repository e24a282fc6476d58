// adapterd_lan Responder: real client frames built with libtins, replies checked field by field
// (and their checksums recomputed here, independently of libtins).
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <tins/arp.h>
#include <tins/dhcp.h>
#include <tins/dhcpv6.h>
#include <tins/ethernetII.h>
#include <tins/icmpv6.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/udp.h>

#include "lan/responder.hpp"

namespace cyphonic::adapterd::lan {
namespace {

using Tins::DHCP;
using Tins::DHCPv6;
using Tins::EthernetII;
using Tins::ICMPv6;
using Tins::IP;
using Tins::IPv6;
using Tins::UDP;

constexpr const char* kAdapterMac = "02:00:00:00:00:01";
constexpr const char* kClientMac = "52:54:00:12:34:56";
constexpr const char* kStrangerMac = "52:54:00:99:99:99";
constexpr const char* kClientV4 = "10.20.0.5";
constexpr const char* kClientV6 = "fd00:20::5";
constexpr const char* kClientLinkLocal = "fe80::5054:ff:fe12:3456";
constexpr const char* kPeerV4 = "10.20.0.9";
constexpr const char* kPeerV6 = "fd00:20::9";
constexpr std::uint32_t kXid = 0x11223344;

MacAddress mac(const char* text) {
    return *MacAddress::parse(text);
}
Ipv4Address v4(const char* text) {
    return *Ipv4Address::parse(text);
}
Ipv6Address v6(const char* text) {
    return *Ipv6Address::parse(text);
}

LinkConfig test_config() {
    LinkConfig c;
    c.adapter_mac = mac(kAdapterMac);
    c.gateway_v4 = v4("10.20.0.1");
    c.v4_prefix_len = 16;
    c.gateway_v6 = v6("fd00:20::1");
    c.link_local = v6("fe80::1");
    c.v6_prefix = v6("fd00:20::");
    c.v6_prefix_len = 64;
    c.lease_s = 3600;
    c.mtu = 1360;
    c.domain = "overlay.example";
    c.router_lifetime_s = 1800;
    return c;
}

std::optional<Binding> lookup(const MacAddress& m) {
    if (m == mac(kClientMac)) {
        return Binding{m, v4(kClientV4), v6(kClientV6), "gn1"};
    }
    return std::nullopt;
}

bool proxy(const IpAddress& target, const MacAddress& /*asker*/) {
    return target == IpAddress(v4(kPeerV4)) || target == IpAddress(v6(kPeerV6));
}

Responder make_responder() {
    return {test_config(), lookup, proxy};
}

Bytes to_bytes(const Tins::PDU::serialization_type& raw) {
    Bytes out(raw.size());
    std::transform(raw.begin(), raw.end(), out.begin(),
                   [](std::uint8_t b) { return static_cast<std::byte>(b); });
    return out;
}
Bytes build(Tins::PDU& pdu) {
    return to_bytes(pdu.serialize());
}

// ---- independent checksum verification -------------------------------------------------

std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
    for (std::size_t i = 0; i + 1 < n; i += 2) {
        sum += static_cast<std::uint32_t>((p[i] << 8) | p[i + 1]);
    }
    if (n % 2 != 0) {
        sum += static_cast<std::uint32_t>(p[n - 1] << 8);
    }
    return sum;
}
std::uint16_t fold(std::uint32_t sum) {
    while (sum >> 16) {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

// Checks the IPv4 header, UDP and ICMPv6 checksums of a frame we built; fails the test if any
// is wrong.
void expect_checksums(const Bytes& frame_bytes) {
    const auto* f = reinterpret_cast<const std::uint8_t*>(frame_bytes.data());
    ASSERT_GE(frame_bytes.size(), 14U);
    const unsigned ethertype = (f[12] << 8) | f[13];
    if (ethertype == 0x0800) {
        const std::uint8_t* ip = f + 14;
        const std::size_t ihl = std::size_t{ip[0] & 0xFU} * 4U;
        EXPECT_EQ(fold(sum16(ip, ihl)), 0xFFFF) << "IPv4 header checksum";
        const std::size_t total = (ip[2] << 8) | ip[3];
        ASSERT_LE(14 + total, frame_bytes.size());
        if (ip[9] == 17) {
            const std::uint8_t* udp = ip + ihl;
            const std::size_t len = (udp[4] << 8) | udp[5];
            EXPECT_EQ(len, total - ihl);
            ASSERT_NE((udp[6] << 8) | udp[7], 0) << "UDP checksum present";
            std::uint32_t s = sum16(ip + 12, 8);  // pseudo header: addresses
            s += 17 + static_cast<std::uint32_t>(len);
            EXPECT_EQ(fold(sum16(udp, len, s)), 0xFFFF) << "UDP checksum";
        }
    } else if (ethertype == 0x86DD) {
        const std::uint8_t* ip = f + 14;
        const std::size_t len = (ip[4] << 8) | ip[5];
        ASSERT_LE(14 + 40 + len, frame_bytes.size());
        std::uint32_t s = sum16(ip + 8, 32);
        s += static_cast<std::uint32_t>(len) + ip[6];
        EXPECT_EQ(fold(sum16(ip + 40, len, s)), 0xFFFF) << "UDP/ICMPv6 checksum";
    }
}

TEST(LanChecksums, VerifierCatchesCorruption) {
    Responder responder = make_responder();
    for (const auto& frame : {responder.router_advertisement()}) {
        Bytes corrupt = frame;
        corrupt.back() ^= std::byte{0x01};
        EXPECT_NONFATAL_FAILURE(expect_checksums(corrupt), "checksum");
    }
}

// ---- client frames -----------------------------------------------------------------------

Tins::HWAddress<6> hw(const char* text) {
    return Tins::HWAddress<6>(text);
}

DHCP base_dhcp(const char* chaddr, DHCP::Flags type) {
    DHCP dhcp;
    dhcp.opcode(DHCP::BOOTREQUEST);
    dhcp.htype(1);
    dhcp.hlen(6);
    dhcp.xid(kXid);
    dhcp.chaddr(hw(chaddr));
    dhcp.type(type);
    return dhcp;
}

Bytes dhcp4_frame(DHCP dhcp, const char* src_mac = kClientMac, const char* src_ip = "0.0.0.0",
                  const char* dst_ip = "255.255.255.255",
                  const char* dst_mac = "ff:ff:ff:ff:ff:ff") {
    dhcp.end();
    EthernetII frame =
        EthernetII(hw(dst_mac), hw(src_mac)) / IP(dst_ip, src_ip) / UDP(67, 68) / dhcp;
    return build(frame);
}

Bytes discover(const char* src_mac = kClientMac) {
    return dhcp4_frame(base_dhcp(src_mac, DHCP::DISCOVER), src_mac);
}

Bytes request_selecting(const char* requested, const char* server = "10.20.0.1") {
    DHCP d = base_dhcp(kClientMac, DHCP::REQUEST);
    d.requested_ip(requested);
    d.server_identifier(server);
    return dhcp4_frame(d);
}

Bytes request_renewing() {
    DHCP d = base_dhcp(kClientMac, DHCP::REQUEST);
    d.ciaddr(kClientV4);
    return dhcp4_frame(d, kClientMac, kClientV4, "10.20.0.1", kAdapterMac);
}

DHCPv6::duid_type client_duid() {
    return DHCPv6::duid_type(DHCPv6::duid_ll(1, {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}));
}

std::vector<std::uint8_t> server_duid_bytes() {
    return {0x00, 0x03, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
}

DHCPv6 base_dhcp6(DHCPv6::MessageType type, std::uint32_t iaid = 0xabcd0001) {
    DHCPv6 d;
    d.msg_type(type);
    d.transaction_id(0x123456);
    d.client_id(client_duid());
    d.elapsed_time(0);
    if (iaid != 0) {
        d.ia_na(DHCPv6::ia_na_type(iaid, 0, 0));
    }
    return d;
}

Bytes dhcp6_frame(const DHCPv6& d, const char* src_mac = kClientMac) {
    EthernetII frame = EthernetII(hw("33:33:00:01:00:02"), hw(src_mac)) /
                       IPv6("ff02::1:2", kClientLinkLocal) / UDP(547, 546) / d;
    return build(frame);
}

Bytes rs_frame(const char* src_ip = kClientLinkLocal, std::uint8_t hop_limit = 255) {
    ICMPv6 rs(ICMPv6::ROUTER_SOLICIT);
    if (std::string(src_ip) != "::") {
        rs.source_link_layer_addr(hw(kClientMac));
    }
    IPv6 ip("ff02::2", src_ip);
    ip.hop_limit(hop_limit);
    EthernetII frame = EthernetII(hw("33:33:00:00:00:02"), hw(kClientMac)) / ip / rs;
    return build(frame);
}

Bytes ns_frame(const char* target, const char* src_ip = kClientLinkLocal) {
    ICMPv6 ns(ICMPv6::NEIGHBOUR_SOLICIT);
    ns.target_addr(target);
    if (std::string(src_ip) != "::") {
        ns.source_link_layer_addr(hw(kClientMac));
    }
    IPv6 ip("ff02::1:ff00:9", src_ip);
    ip.hop_limit(255);
    EthernetII frame = EthernetII(hw("33:33:ff:00:00:09"), hw(kClientMac)) / ip / ns;
    return build(frame);
}

Bytes arp_request(const char* target, const char* sender = kClientV4,
                  const char* sender_mac = kClientMac) {
    EthernetII frame = Tins::ARP::make_arp_request(target, sender, hw(sender_mac));
    frame.src_addr(hw(sender_mac));
    return build(frame);
}

Bytes ipv4_udp_frame() {
    EthernetII frame = EthernetII(hw(kAdapterMac), hw(kClientMac)) / IP(kPeerV4, kClientV4) /
                       UDP(53, 40000) / Tins::RawPDU("hello");
    return build(frame);
}

// ---- reply parsing -----------------------------------------------------------------------

EthernetII parse(const Bytes& b) {
    return EthernetII(reinterpret_cast<const std::uint8_t*>(b.data()),
                      static_cast<std::uint32_t>(b.size()));
}

template <class T>
T payload_as(const EthernetII& eth) {
    if (const T* p = eth.find_pdu<T>()) {
        return *p;
    }
    return eth.rfind_pdu<Tins::RawPDU>().to<T>();
}

// One reply frame, checked for checksums; fails the test if there isn't exactly one.
Bytes single_frame(const Expected<Reply, std::string_view>& r) {
    EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error());
    if (!r.has_value()) {
        return {};
    }
    EXPECT_EQ(r->frames.size(), 1U);
    if (r->frames.size() != 1) {
        return {};
    }
    expect_checksums(r->frames.front());
    return r->frames.front();
}

std::uint64_t counter(const Responder& r, std::string_view name) {
    const auto it = r.counters().find(name);
    return it == r.counters().end() ? 0 : it->second;
}

std::vector<std::uint8_t> option_data(const DHCP& d, int code) {
    const auto* o = d.search_option(static_cast<DHCP::OptionTypes>(code));
    if (o == nullptr) {
        return {};
    }
    return {o->data_ptr(), o->data_ptr() + o->data_size()};
}

// ---- DHCPv4 --------------------------------------------------------------------------------

void expect_lease_options(const DHCP& d) {
    EXPECT_EQ(d.server_identifier().to_string(), "10.20.0.1");
    EXPECT_EQ(d.lease_time(), 3600U);
    EXPECT_EQ(d.renewal_time(), 1800U);
    EXPECT_EQ(d.rebind_time(), 3150U);
    EXPECT_EQ(d.subnet_mask().to_string(), "255.255.0.0");
    ASSERT_EQ(d.routers().size(), 1U);
    EXPECT_EQ(d.routers()[0].to_string(), "10.20.0.1");
    ASSERT_EQ(d.domain_name_servers().size(), 1U);
    EXPECT_EQ(d.domain_name_servers()[0].to_string(), "10.20.0.1");
    EXPECT_EQ(option_data(d, 26), (std::vector<std::uint8_t>{0x05, 0x50}));  // 1360
    EXPECT_EQ(d.domain_name(), "overlay.example");
    EXPECT_EQ(d.hostname(), "gn1");
}

TEST(LanDhcp4, DiscoverOfferRequestAckCarriesEveryOption) {
    Responder responder = make_responder();

    const auto offer_result = responder.handle(discover());
    ASSERT_TRUE(offer_result.has_value());
    EXPECT_EQ(offer_result->event, "dhcp4_offer");
    const EthernetII offer_eth = parse(single_frame(offer_result));
    EXPECT_EQ(offer_eth.dst_addr().to_string(), "ff:ff:ff:ff:ff:ff");
    EXPECT_EQ(offer_eth.src_addr().to_string(), kAdapterMac);
    const auto& offer_ip = offer_eth.rfind_pdu<IP>();
    EXPECT_EQ(offer_ip.src_addr().to_string(), "10.20.0.1");
    EXPECT_EQ(offer_ip.dst_addr().to_string(), "255.255.255.255");
    const auto& offer_udp = offer_eth.rfind_pdu<UDP>();
    EXPECT_EQ(offer_udp.sport(), 67);
    EXPECT_EQ(offer_udp.dport(), 68);
    const auto offer = payload_as<DHCP>(offer_eth);
    EXPECT_EQ(offer.opcode(), DHCP::BOOTREPLY);
    EXPECT_EQ(offer.type(), DHCP::OFFER);
    EXPECT_EQ(offer.xid(), kXid);
    EXPECT_EQ(offer.yiaddr().to_string(), kClientV4);
    EXPECT_EQ(offer.ciaddr().to_string(), "0.0.0.0");
    EXPECT_EQ(Tins::HWAddress<6>(offer.chaddr()).to_string(), kClientMac);
    EXPECT_GE(offer.header_size(), 300U);
    expect_lease_options(offer);
    // The first option is the message type and the last one END (zeros may pad after it).
    EXPECT_EQ(offer.options().front().option(), DHCP::DHCP_MESSAGE_TYPE);

    const auto ack_result = responder.handle(request_selecting(kClientV4));
    ASSERT_TRUE(ack_result.has_value());
    EXPECT_EQ(ack_result->event, "dhcp4_ack");
    const EthernetII ack_eth = parse(single_frame(ack_result));
    EXPECT_EQ(ack_eth.dst_addr().to_string(), "ff:ff:ff:ff:ff:ff");
    const auto ack = payload_as<DHCP>(ack_eth);
    EXPECT_EQ(ack.type(), DHCP::ACK);
    EXPECT_EQ(ack.yiaddr().to_string(), kClientV4);
    expect_lease_options(ack);

    EXPECT_EQ(counter(responder, "dhcp4_offer"), 1U);
    EXPECT_EQ(counter(responder, "dhcp4_ack"), 1U);
}

TEST(LanChecksums, VerifierCatchesCorruptIpv4AndUdp) {
    Responder responder = make_responder();
    const Bytes offer = single_frame(responder.handle(discover()));
    Bytes bad_ip = offer;
    bad_ip[14 + 8] ^= std::byte{0x01};  // TTL
    EXPECT_NONFATAL_FAILURE(expect_checksums(bad_ip), "IPv4 header checksum");
    Bytes bad_udp = offer;
    bad_udp[14 + 20 + 8 + 4] ^= std::byte{0x01};  // xid
    EXPECT_NONFATAL_FAILURE(expect_checksums(bad_udp), "UDP checksum");
}

TEST(LanDhcp4, BroadcastFlagGivesBroadcastReply) {
    Responder responder = make_responder();
    DHCP d = base_dhcp(kClientMac, DHCP::REQUEST);
    d.ciaddr(kClientV4);
    d.padding(0x8000);
    const auto r = responder.handle(dhcp4_frame(d, kClientMac, kClientV4));
    const EthernetII eth = parse(single_frame(r));
    EXPECT_EQ(eth.dst_addr().to_string(), "ff:ff:ff:ff:ff:ff");
    EXPECT_EQ(eth.rfind_pdu<IP>().dst_addr().to_string(), "255.255.255.255");
    EXPECT_EQ(payload_as<DHCP>(eth).padding(), 0x8000);
}

TEST(LanDhcp4, RenewalIsUnicastToCiaddrAndChaddr) {
    Responder responder = make_responder();
    const auto r = responder.handle(request_renewing());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->event, "dhcp4_ack");
    const EthernetII eth = parse(single_frame(r));
    EXPECT_EQ(eth.dst_addr().to_string(), kClientMac);
    EXPECT_EQ(eth.rfind_pdu<IP>().dst_addr().to_string(), kClientV4);
    EXPECT_EQ(eth.rfind_pdu<IP>().src_addr().to_string(), "10.20.0.1");
    const auto ack = payload_as<DHCP>(eth);
    EXPECT_EQ(ack.type(), DHCP::ACK);
    EXPECT_EQ(ack.ciaddr().to_string(), kClientV4);
    EXPECT_EQ(ack.yiaddr().to_string(), kClientV4);
    expect_lease_options(ack);
}

TEST(LanDhcp4, InitRebootForBoundAddressIsAcked) {
    Responder responder = make_responder();
    DHCP d = base_dhcp(kClientMac, DHCP::REQUEST);
    d.requested_ip(kClientV4);  // no server id: init-reboot after the lease expired
    const auto r = responder.handle(dhcp4_frame(d));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->event, "dhcp4_ack");
    EXPECT_EQ(payload_as<DHCP>(parse(single_frame(r))).yiaddr().to_string(), kClientV4);
}

TEST(LanDhcp4, WrongRequestedAddressIsNaked) {
    Responder responder = make_responder();
    const auto r = responder.handle(request_selecting("10.20.0.77"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->event, "dhcp4_nak");
    const EthernetII eth = parse(single_frame(r));
    EXPECT_EQ(eth.dst_addr().to_string(), "ff:ff:ff:ff:ff:ff");
    const auto nak = payload_as<DHCP>(eth);
    EXPECT_EQ(nak.type(), DHCP::NAK);
    EXPECT_EQ(nak.yiaddr().to_string(), "0.0.0.0");
    EXPECT_EQ(nak.server_identifier().to_string(), "10.20.0.1");
    EXPECT_EQ(nak.search_option(DHCP::DHCP_LEASE_TIME), nullptr);
    EXPECT_EQ(counter(responder, "dhcp4_nak"), 1U);
}

TEST(LanDhcp4, RenewingWithWrongCiaddrIsNaked) {
    Responder responder = make_responder();
    DHCP d = base_dhcp(kClientMac, DHCP::REQUEST);
    d.ciaddr("10.20.0.77");
    const auto r = responder.handle(dhcp4_frame(d, kClientMac, "10.20.0.77"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->event, "dhcp4_nak");
}

TEST(LanDhcp4, RequestForAnotherServerIsIgnored) {
    Responder responder = make_responder();
    const auto r = responder.handle(request_selecting(kClientV4, "10.99.0.1"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->event, "ignored_dhcp4_other_server");
    EXPECT_TRUE(r->frames.empty());
}

TEST(LanDhcp4, UnknownMacGetsNoReplyAndIsCounted) {
    Responder responder = make_responder();
    const auto r = responder.handle(discover(kStrangerMac));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "unknown_mac");
    EXPECT_EQ(counter(responder, "unknown_mac"), 1U);
}

TEST(LanDhcp4, BindingWithoutV4IsUnknown) {
    Responder responder(
        test_config(),
        [](const MacAddress& m) {
            return std::optional<Binding>(Binding{m, {}, v6(kClientV6), ""});
        },
        proxy);
    const auto r = responder.handle(discover());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "unknown_mac");
}

TEST(LanDhcp4, ChaddrDifferentFromSourceIsDropped) {
    Responder responder = make_responder();
    const auto r =
        responder.handle(dhcp4_frame(base_dhcp(kClientMac, DHCP::DISCOVER), kStrangerMac));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "chaddr_mismatch");
    EXPECT_EQ(counter(responder, "chaddr_mismatch"), 1U);
}

TEST(LanDhcp4, ReleaseAndDeclineAreCountedWithoutReply) {
    Responder responder = make_responder();
    DHCP release = base_dhcp(kClientMac, DHCP::RELEASE);
    release.ciaddr(kClientV4);
    release.server_identifier("10.20.0.1");
    auto r =
        responder.handle(dhcp4_frame(release, kClientMac, kClientV4, "10.20.0.1", kAdapterMac));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->event, "dhcp4_release");
    EXPECT_TRUE(r->frames.empty());
    DHCP decline = base_dhcp(kClientMac, DHCP::DECLINE);
    decline.requested_ip(kClientV4);
    decline.server_identifier("10.20.0.1");
    r = responder.handle(dhcp4_frame(decline));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->event, "dhcp4_decline");
    EXPECT_EQ(counter(responder, "dhcp4_release"), 1U);
    EXPECT_EQ(counter(responder, "dhcp4_decline"), 1U);
}

TEST(LanDhcp4, InformIsAckedWithoutLease) {
    Responder responder = make_responder();
    DHCP d = base_dhcp(kClientMac, DHCP::INFORM);
    d.ciaddr(kClientV4);
    const auto r =
        responder.handle(dhcp4_frame(d, kClientMac, kClientV4, "10.20.0.1", kAdapterMac));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->event, "dhcp4_inform");
    const EthernetII eth = parse(single_frame(r));
    EXPECT_EQ(eth.rfind_pdu<IP>().dst_addr().to_string(), kClientV4);
    const auto ack = payload_as<DHCP>(eth);
    EXPECT_EQ(ack.type(), DHCP::ACK);
    EXPECT_EQ(ack.yiaddr().to_string(), "0.0.0.0");
    EXPECT_EQ(ack.search_option(DHCP::DHCP_LEASE_TIME), nullptr);
    EXPECT_EQ(ack.routers()[0].to_string(), "10.20.0.1");
}

TEST(LanDhcp4, SetConfigChangesGateway) {
    Responder responder = make_responder();
    LinkConfig c = test_config();
    c.gateway_v4 = v4("10.30.0.1");
    c.v4_prefix_len = 24;
    responder.set_config(c);
    const auto offer = payload_as<DHCP>(parse(single_frame(responder.handle(discover()))));
    EXPECT_EQ(offer.server_identifier().to_string(), "10.30.0.1");
    EXPECT_EQ(offer.subnet_mask().to_string(), "255.255.255.0");
}

// ---- DHCPv6 --------------------------------------------------------------------------------

struct Ia {
    std::uint32_t iaid = 0, t1 = 0, t2 = 0;
    std::vector<Ipv6Address> addresses;
    std::vector<std::uint32_t> lifetimes;  // preferred, valid per address
    std::optional<std::uint16_t> status;
};

std::uint32_t be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           p[3];
}

Ia parse_ia(const DHCPv6::option& o) {
    Ia ia;
    const std::uint8_t* p = o.data_ptr();
    ia.iaid = be32(p);
    ia.t1 = be32(p + 4);
    ia.t2 = be32(p + 8);
    for (std::size_t at = 12; at + 4 <= o.data_size();) {
        const unsigned code = (p[at] << 8) | p[at + 1];
        const std::size_t len = (p[at + 2] << 8) | p[at + 3];
        at += 4;
        if (code == 5) {
            Ipv6Address a;
            std::transform(p + at, p + at + 16, a.bytes.begin(),
                           [](std::uint8_t b) { return static_cast<std::byte>(b); });
            ia.addresses.push_back(a);
            ia.lifetimes.push_back(be32(p + at + 16));
            ia.lifetimes.push_back(be32(p + at + 20));
        } else if (code == 13) {
            ia.status = static_cast<std::uint16_t>((p[at] << 8) | p[at + 1]);
        }
        at += len;
    }
    return ia;
}

std::vector<std::uint8_t> option6(const DHCPv6& d, DHCPv6::OptionTypes code) {
    const auto* o = d.search_option(code);
    if (o == nullptr) {
        return {};
    }
    return {o->data_ptr(), o->data_ptr() + o->data_size()};
}

void expect_dhcp6_addressing(const EthernetII& eth) {
    EXPECT_EQ(eth.dst_addr().to_string(), kClientMac);
    EXPECT_EQ(eth.src_addr().to_string(), kAdapterMac);
    const auto& ip = eth.rfind_pdu<IPv6>();
    EXPECT_EQ(ip.src_addr().to_string(), "fe80::1");
    EXPECT_EQ(ip.dst_addr().to_string(), kClientLinkLocal);
    EXPECT_EQ(eth.rfind_pdu<UDP>().sport(), 547);
    EXPECT_EQ(eth.rfind_pdu<UDP>().dport(), 546);
}

void expect_bound_ia(const DHCPv6& d, std::uint32_t iaid) {
    const auto* o = d.search_option(DHCPv6::IA_NA);
    ASSERT_NE(o, nullptr);
    const Ia ia = parse_ia(*o);
    EXPECT_EQ(ia.iaid, iaid);
    EXPECT_EQ(ia.t1, 1800U);
    EXPECT_EQ(ia.t2, 3150U);
    ASSERT_EQ(ia.addresses.size(), 1U);
    EXPECT_EQ(ia.addresses[0], v6(kClientV6));
    EXPECT_EQ(ia.lifetimes, (std::vector<std::uint32_t>{3600, 3600}));
    EXPECT_FALSE(ia.status.has_value());
}

void expect_common_dhcp6(const DHCPv6& d) {
    EXPECT_EQ(static_cast<std::uint32_t>(d.transaction_id()), 0x123456U);
    EXPECT_EQ(option6(d, DHCPv6::SERVERID), server_duid_bytes());
    const auto client = d.client_id();
    EXPECT_EQ(client.id, client_duid().id);
    EXPECT_EQ(client.data, client_duid().data);
    const auto dns = option6(d, DHCPv6::DNS_SERVERS);
    ASSERT_EQ(dns.size(), 16U);
    EXPECT_EQ(Tins::IPv6Address(dns.data()).to_string(), "fd00:20::1");
    const std::vector<std::uint8_t> domain{7,   'o', 'v', 'e', 'r', 'l', 'a', 'y', 7,
                                           'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
    EXPECT_EQ(option6(d, DHCPv6::DOMAIN_LIST), domain);
}

TEST(LanDhcp6, SolicitAdvertiseRequestReply) {
    Responder responder = make_responder();
    const auto adv = responder.handle(dhcp6_frame(base_dhcp6(DHCPv6::SOLICIT)));
    ASSERT_TRUE(adv.has_value()) << adv.error();
    EXPECT_EQ(adv->event, "dhcp6_advertise");
    const EthernetII adv_eth = parse(single_frame(adv));
    expect_dhcp6_addressing(adv_eth);
    const auto advertise = payload_as<DHCPv6>(adv_eth);
    EXPECT_EQ(advertise.msg_type(), DHCPv6::ADVERTISE);
    expect_common_dhcp6(advertise);
    expect_bound_ia(advertise, 0xabcd0001);
    EXPECT_FALSE(advertise.has_rapid_commit());

    DHCPv6 request = base_dhcp6(DHCPv6::REQUEST);
    request.server_id(DHCPv6::duid_type(3, {0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01}));
    const auto rep = responder.handle(dhcp6_frame(request));
    ASSERT_TRUE(rep.has_value()) << rep.error();
    EXPECT_EQ(rep->event, "dhcp6_reply");
    const EthernetII rep_eth = parse(single_frame(rep));
    expect_dhcp6_addressing(rep_eth);
    const auto reply = payload_as<DHCPv6>(rep_eth);
    EXPECT_EQ(reply.msg_type(), DHCPv6::REPLY);
    expect_common_dhcp6(reply);
    expect_bound_ia(reply, 0xabcd0001);
}

TEST(LanDhcp6, RapidCommitSolicitGetsReply) {
    Responder responder = make_responder();
    DHCPv6 solicit = base_dhcp6(DHCPv6::SOLICIT, 7);
    solicit.rapid_commit();
    const auto r = responder.handle(dhcp6_frame(solicit));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->event, "dhcp6_reply");
    const auto reply = payload_as<DHCPv6>(parse(single_frame(r)));
    EXPECT_EQ(reply.msg_type(), DHCPv6::REPLY);
    EXPECT_TRUE(reply.has_rapid_commit());
    expect_bound_ia(reply, 7);
}

TEST(LanDhcp6, RenewAndRebindGetTheBoundAddress) {
    for (const auto type : {DHCPv6::RENEW, DHCPv6::REBIND}) {
        SCOPED_TRACE(static_cast<int>(type));
        Responder responder = make_responder();
        DHCPv6 d = base_dhcp6(type, 42);
        if (type == DHCPv6::RENEW) {
            d.server_id(DHCPv6::duid_type(3, {0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01}));
        }
        const auto r = responder.handle(dhcp6_frame(d));
        ASSERT_TRUE(r.has_value()) << r.error();
        EXPECT_EQ(r->event, "dhcp6_reply");
        expect_bound_ia(payload_as<DHCPv6>(parse(single_frame(r))), 42);
    }
}

TEST(LanDhcp6, RequestForAnotherServerIsIgnored) {
    Responder responder = make_responder();
    DHCPv6 request = base_dhcp6(DHCPv6::REQUEST);
    request.server_id(DHCPv6::duid_type(3, {0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x99}));
    const auto r = responder.handle(dhcp6_frame(request));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->event, "ignored_dhcp6_other_server");
    EXPECT_TRUE(r->frames.empty());
}

TEST(LanDhcp6, ReleaseGetsSuccessStatus) {
    Responder responder = make_responder();
    DHCPv6 release = base_dhcp6(DHCPv6::RELEASE);
    release.server_id(DHCPv6::duid_type(3, {0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01}));
    const auto r = responder.handle(dhcp6_frame(release));
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(r->event, "dhcp6_release");
    const auto reply = payload_as<DHCPv6>(parse(single_frame(r)));
    EXPECT_EQ(reply.msg_type(), DHCPv6::REPLY);
    EXPECT_EQ(reply.status_code().code, 0);
}

TEST(LanDhcp6, ConfirmChecksTheAddress) {
    Responder responder = make_responder();
    auto confirm_for = [&](const char* address) {
        DHCPv6 d = base_dhcp6(DHCPv6::CONFIRM, 0);
        std::vector<std::uint8_t> ia{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 24};
        const Tins::IPv6Address a(address);
        ia.insert(ia.end(), a.begin(), a.end());
        ia.resize(ia.size() + 8, 0);
        d.add_option(DHCPv6::option(DHCPv6::IA_NA, ia.begin(), ia.end()));
        const auto r = responder.handle(dhcp6_frame(d));
        EXPECT_TRUE(r.has_value());
        return payload_as<DHCPv6>(parse(single_frame(r))).status_code().code;
    };
    EXPECT_EQ(confirm_for(kClientV6), 0);
    EXPECT_EQ(confirm_for("fd00:99::5"), 4);  // NotOnLink
}

TEST(LanDhcp6, UnknownMacAndMissingClientIdAreDropped) {
    Responder responder = make_responder();
    auto r = responder.handle(dhcp6_frame(base_dhcp6(DHCPv6::SOLICIT), kStrangerMac));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "unknown_mac");
    DHCPv6 no_id;
    no_id.msg_type(DHCPv6::SOLICIT);
    no_id.transaction_id(1);
    r = responder.handle(dhcp6_frame(no_id));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "dhcp6_no_client_id");
}

// ---- RS / RA -------------------------------------------------------------------------------

void expect_ra(const EthernetII& eth) {
    EXPECT_EQ(eth.src_addr().to_string(), kAdapterMac);
    const auto& ip = eth.rfind_pdu<IPv6>();
    EXPECT_EQ(ip.src_addr().to_string(), "fe80::1");
    EXPECT_EQ(ip.hop_limit(), 255);
    const auto& ra = eth.rfind_pdu<ICMPv6>();
    EXPECT_EQ(ra.type(), ICMPv6::ROUTER_ADVERT);
    EXPECT_EQ(ra.hop_limit(), 64);
    EXPECT_EQ(ra.managed(), 1);
    EXPECT_EQ(ra.other(), 1);
    EXPECT_EQ(ra.router_lifetime(), 1800);
    EXPECT_EQ(ra.source_link_layer_addr().to_string(), kAdapterMac);
    EXPECT_EQ(ra.mtu().second, 1360U);
    const auto prefix = ra.prefix_info();
    EXPECT_EQ(prefix.prefix.to_string(), "fd00:20::");
    EXPECT_EQ(prefix.prefix_len, 64);
    EXPECT_EQ(prefix.L, 1);
    EXPECT_EQ(prefix.A, 0);
    EXPECT_EQ(prefix.valid_lifetime, 3600U);
}

TEST(LanNdp, RouterSolicitationGetsAdvertisement) {
    Responder responder = make_responder();
    const auto r = responder.handle(rs_frame());
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(r->event, "ra_solicited");
    const EthernetII eth = parse(single_frame(r));
    expect_ra(eth);
    EXPECT_EQ(eth.dst_addr().to_string(), kClientMac);
    EXPECT_EQ(eth.rfind_pdu<IPv6>().dst_addr().to_string(), kClientLinkLocal);
}

TEST(LanNdp, RouterSolicitationFromUnspecifiedGoesToAllNodes) {
    Responder responder = make_responder();
    const auto r = responder.handle(rs_frame("::"));
    const EthernetII eth = parse(single_frame(r));
    expect_ra(eth);
    EXPECT_EQ(eth.dst_addr().to_string(), "33:33:00:00:00:01");
    EXPECT_EQ(eth.rfind_pdu<IPv6>().dst_addr().to_string(), "ff02::1");
}

TEST(LanNdp, RouterSolicitationWithLowHopLimitIsDropped) {
    Responder responder = make_responder();
    const auto r = responder.handle(rs_frame(kClientLinkLocal, 64));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "bad_nd_hop_limit");
}

TEST(LanNdp, UnsolicitedAdvertisement) {
    Responder responder = make_responder();
    const Bytes ra = responder.router_advertisement();
    expect_checksums(ra);
    const EthernetII eth = parse(ra);
    expect_ra(eth);
    EXPECT_EQ(eth.dst_addr().to_string(), "33:33:00:00:00:01");
    EXPECT_EQ(eth.rfind_pdu<IPv6>().dst_addr().to_string(), "ff02::1");
}

TEST(LanNdp, NeighborSolicitationForPeerIsProxied) {
    Responder responder = make_responder();
    const auto r = responder.handle(ns_frame(kPeerV6));
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(r->event, "na_proxy");
    const EthernetII eth = parse(single_frame(r));
    EXPECT_EQ(eth.dst_addr().to_string(), kClientMac);
    EXPECT_EQ(eth.src_addr().to_string(), kAdapterMac);
    const auto& ip = eth.rfind_pdu<IPv6>();
    EXPECT_EQ(ip.hop_limit(), 255);
    EXPECT_EQ(ip.dst_addr().to_string(), kClientLinkLocal);
    const auto& na = eth.rfind_pdu<ICMPv6>();
    EXPECT_EQ(na.type(), ICMPv6::NEIGHBOUR_ADVERT);
    EXPECT_EQ(na.router(), 1);
    EXPECT_EQ(na.solicited(), 1);
    EXPECT_EQ(na.override(), 1);
    EXPECT_EQ(na.target_addr().to_string(), kPeerV6);
    EXPECT_EQ(na.target_link_layer_addr().to_string(), kAdapterMac);
}

TEST(LanNdp, NeighborSolicitationForGatewayIsAnswered) {
    Responder responder = make_responder();
    const auto r = responder.handle(ns_frame("fd00:20::1"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->event, "na_gateway");
    EXPECT_EQ(r->frames.size(), 1U);
}

TEST(LanNdp, DadAndOwnAddressAndUnknownTargetsAreNotAnswered) {
    Responder responder = make_responder();
    for (const auto& frame : {ns_frame(kPeerV6, "::"), ns_frame(kClientV6, "::"),
                              ns_frame(kClientV6), ns_frame("fd00:20::77")}) {
        const auto r = responder.handle(frame);
        ASSERT_TRUE(r.has_value()) << r.error();
        EXPECT_EQ(r->event, "ignored_ns");
        EXPECT_TRUE(r->frames.empty());
    }
    EXPECT_EQ(counter(responder, "ignored_ns"), 4U);
}

// ---- ARP -----------------------------------------------------------------------------------

TEST(LanArp, RequestForPeerIsProxied) {
    Responder responder = make_responder();
    const auto r = responder.handle(arp_request(kPeerV4));
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(r->event, "arp_proxy");
    const EthernetII eth = parse(single_frame(r));
    EXPECT_EQ(eth.dst_addr().to_string(), kClientMac);
    EXPECT_EQ(eth.src_addr().to_string(), kAdapterMac);
    const auto& arp = eth.rfind_pdu<Tins::ARP>();
    EXPECT_EQ(arp.opcode(), Tins::ARP::REPLY);
    EXPECT_EQ(arp.sender_hw_addr().to_string(), kAdapterMac);
    EXPECT_EQ(arp.sender_ip_addr().to_string(), kPeerV4);
    EXPECT_EQ(arp.target_hw_addr().to_string(), kClientMac);
    EXPECT_EQ(arp.target_ip_addr().to_string(), kClientV4);
}

TEST(LanArp, RequestForGatewayIsAnswered) {
    Responder responder = make_responder();
    const auto r = responder.handle(arp_request("10.20.0.1"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->event, "arp_gateway");
    EXPECT_EQ(parse(single_frame(r)).rfind_pdu<Tins::ARP>().sender_ip_addr().to_string(),
              "10.20.0.1");
}

TEST(LanArp, OwnAddressGratuitousProbeReplyAndUnknownAreIgnored) {
    Responder responder = make_responder();
    EthernetII reply =
        Tins::ARP::make_arp_reply(kClientV4, kPeerV4, hw(kClientMac), hw(kClientMac));
    reply.src_addr(hw(kClientMac));
    const std::vector<Bytes> frames{
        arp_request(kClientV4, "10.20.0.200"),  // asking for its own bound address
        arp_request(kClientV4, kClientV4),      // gratuitous
        arp_request(kPeerV4, "0.0.0.0"),        // RFC 5227 probe
        arp_request("10.20.0.77"),              // nobody we proxy for
        build(reply)};
    for (const auto& frame : frames) {
        const auto r = responder.handle(frame);
        ASSERT_TRUE(r.has_value()) << r.error();
        EXPECT_EQ(r->event, "ignored_arp");
        EXPECT_TRUE(r->frames.empty());
    }
    EXPECT_EQ(counter(responder, "ignored_arp"), 5U);
}

TEST(LanArp, MalformedArpIsDropped) {
    Responder responder = make_responder();
    Bytes frame = arp_request(kPeerV4);
    frame[14 + 4] = std::byte{8};  // hardware address length 8
    auto r = responder.handle(frame);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "bad_arp");
    Bytes spoofed = arp_request(kPeerV4);
    spoofed[6] = std::byte{0x66};  // Ethernet source != ARP sender hardware address
    r = responder.handle(spoofed);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "arp_sender_mismatch");
}

// ---- robustness ------------------------------------------------------------------------------

std::vector<std::pair<std::string, Bytes>> seeds() {
    DHCPv6 request = base_dhcp6(DHCPv6::REQUEST);
    request.server_id(DHCPv6::duid_type(3, {0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01}));
    return {{"discover", discover()},
            {"request", request_selecting(kClientV4)},
            {"renew", request_renewing()},
            {"arp", arp_request(kPeerV4)},
            {"solicit", dhcp6_frame(base_dhcp6(DHCPv6::SOLICIT))},
            {"dhcp6_request", dhcp6_frame(request)},
            {"rs", rs_frame()},
            {"ns", ns_frame(kPeerV6)},
            {"udp", ipv4_udp_frame()}};
}

// A stable counter name: non-empty snake_case (the reasons themselves are asserted where each is
// provoked on purpose).
bool is_snake_case(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

// Every result names a known event or reason, every reply frame is well formed, and the
// counters add up to the number of calls.
void expect_sane(Responder& responder, const Bytes& frame, std::uint64_t& calls) {
    const auto r = responder.handle(frame);
    ++calls;
    const std::string_view name = r.has_value() ? r->event : r.error();
    EXPECT_TRUE(is_snake_case(name)) << name;
    if (r.has_value()) {
        for (const auto& out : r->frames) {
            EXPECT_NO_THROW(parse(out));
            expect_checksums(out);
        }
    }
}

std::uint64_t total(const Responder& r) {
    std::uint64_t sum = 0;
    for (const auto& [name, n] : r.counters()) {
        sum += n;
    }
    return sum;
}

TEST(LanRobustness, SeedsAreAnsweredAsExpected) {
    Responder responder = make_responder();
    const std::map<std::string, std::string_view> expected{
        {"discover", "dhcp4_offer"},    {"request", "dhcp4_ack"},
        {"renew", "dhcp4_ack"},         {"arp", "arp_proxy"},
        {"solicit", "dhcp6_advertise"}, {"dhcp6_request", "dhcp6_reply"},
        {"rs", "ra_solicited"},         {"ns", "na_proxy"}};
    for (const auto& [name, frame] : seeds()) {
        SCOPED_TRACE(name);
        const auto r = responder.handle(frame);
        if (name == "udp") {
            ASSERT_FALSE(r.has_value());
            EXPECT_EQ(r.error(), "not_control_frame");
            continue;
        }
        ASSERT_TRUE(r.has_value()) << r.error();
        EXPECT_EQ(r->event, expected.at(name));
    }
}

TEST(LanRobustness, EveryTruncationIsAnErrorOrIgnoredAndNeverCrashes) {
    Responder responder = make_responder();
    std::uint64_t calls = 0;
    for (const auto& [name, frame] : seeds()) {
        for (std::size_t n = 0; n < frame.size(); ++n) {
            SCOPED_TRACE(name + " truncated to " + std::to_string(n));
            const ByteView cut = ByteView(frame).first(n);
            const auto r = responder.handle(cut);
            ++calls;
            if (r.has_value()) {
                // Only Ethernet padding (after the IP packet) may be cut without consequence.
                const auto info = classify(cut);
                ASSERT_TRUE(info.has_value());
                EXPECT_LE(info->l3_offset + info->l3_size, n);
            }
        }
    }
    EXPECT_EQ(total(responder), calls);
}

TEST(LanRobustness, EveryBitFlipIsHandled) {
    Responder responder = make_responder();
    std::uint64_t calls = 0;
    for (const auto& [name, frame] : seeds()) {
        SCOPED_TRACE(name);
        for (std::size_t bit = 0; bit < frame.size() * 8; ++bit) {
            Bytes flipped = frame;
            flipped[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
            expect_sane(responder, flipped, calls);
        }
    }
    EXPECT_EQ(total(responder), calls);
}

TEST(LanRobustness, LyingIpv4TotalLengthIsDropped) {
    Responder responder = make_responder();
    Bytes frame = discover();
    const std::size_t claimed = frame.size() - 14 + 1;
    frame[16] = static_cast<std::byte>(claimed >> 8);
    frame[17] = static_cast<std::byte>(claimed & 0xFF);
    const auto r = responder.handle(frame);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "bad_ipv4_length");
}

TEST(LanRobustness, LyingUdpLengthIsDropped) {
    for (const bool v6_frame : {false, true}) {
        Responder responder = make_responder();
        Bytes frame = v6_frame ? dhcp6_frame(base_dhcp6(DHCPv6::SOLICIT)) : discover();
        const std::size_t udp = v6_frame ? 14 + 40 : 14 + 20;
        const std::size_t claimed = frame.size() - udp + 1;
        frame[udp + 4] = static_cast<std::byte>(claimed >> 8);
        frame[udp + 5] = static_cast<std::byte>(claimed & 0xFF);
        const auto r = responder.handle(frame);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), "bad_udp_length");
        // Too low (below the UDP header) too.
        frame[udp + 4] = std::byte{0};
        frame[udp + 5] = std::byte{7};
        const auto low = responder.handle(frame);
        ASSERT_FALSE(low.has_value());
        EXPECT_EQ(low.error(), "bad_udp_length");
    }
}

TEST(LanRobustness, ShortUdpLengthTruncatesDhcpPayload) {
    Responder responder = make_responder();
    Bytes frame = discover();
    // UDP length 8 + 100: the DHCP message is cut inside the fixed BOOTP header.
    frame[14 + 20 + 4] = std::byte{0};
    frame[14 + 20 + 5] = std::byte{108};
    const auto r = responder.handle(frame);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "malformed");
}

TEST(LanRobustness, OversizedFrameIsDropped) {
    Responder responder = make_responder();
    Bytes frame = discover();
    frame.resize(1519);
    const auto r = responder.handle(frame);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), "oversized");
    EXPECT_EQ(counter(responder, "oversized"), 1U);
}

TEST(LanRobustness, EthernetPaddingIsAccepted) {
    Responder responder = make_responder();
    Bytes frame = arp_request(kPeerV4);
    frame.resize(60);
    Bytes padded_rs = rs_frame();
    padded_rs.resize(padded_rs.size() + 10);
    EXPECT_TRUE(responder.handle(frame).has_value());
    const auto r = responder.handle(padded_rs);
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(r->event, "ra_solicited");
}

}  // namespace
}  // namespace cyphonic::adapterd::lan
