// adapterd_lan classify(), write_ethernet_header() and MacAddress.
#include <string>
#include <unordered_set>

#include <gtest/gtest.h>
#include <tins/arp.h>
#include <tins/dhcp.h>
#include <tins/dhcpv6.h>
#include <tins/dot1q.h>
#include <tins/ethernetII.h>
#include <tins/icmpv6.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/tcp.h>
#include <tins/udp.h>

#include "lan/frame.hpp"

namespace cyphonic::adapterd::lan {
namespace {

using Tins::EthernetII;

Bytes build(Tins::PDU& pdu) {
    const auto raw = pdu.serialize();
    Bytes out(raw.size());
    std::transform(raw.begin(), raw.end(), out.begin(),
                   [](std::uint8_t b) { return static_cast<std::byte>(b); });
    return out;
}

EthernetII eth() {
    return EthernetII(Tins::HWAddress<6>("02:00:00:00:00:01"),
                      Tins::HWAddress<6>("52:54:00:12:34:56"));
}

TEST(LanMacAddress, ParsesAndPrints) {
    const auto mac = MacAddress::parse("AA:bb:0C:dd:ee:0F");
    ASSERT_TRUE(mac.has_value());
    EXPECT_EQ(mac->to_string(), "aa:bb:0c:dd:ee:0f");
    EXPECT_FALSE(mac->is_multicast());
    EXPECT_TRUE(MacAddress::parse("01:00:5e:00:00:01")->is_multicast());
    EXPECT_TRUE(MacAddress::parse("ff:ff:ff:ff:ff:ff")->is_broadcast());
    for (const char* bad : {"", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "aa-bb-cc-dd-ee-ff",
                            "aa:bb:cc:dd:ee:fg", "aabb:cc:dd:ee:ff:", " a:bb:cc:dd:ee:ff"}) {
        EXPECT_FALSE(MacAddress::parse(bad).has_value()) << bad;
    }
}

TEST(LanMacAddress, HashesAndOrders) {
    std::unordered_set<MacAddress, MacAddressHash> set;
    set.insert(*MacAddress::parse("00:00:00:00:00:01"));
    set.insert(*MacAddress::parse("00:00:00:00:00:02"));
    set.insert(*MacAddress::parse("00:00:00:00:00:01"));
    EXPECT_EQ(set.size(), 2U);
    EXPECT_LT(*MacAddress::parse("00:00:00:00:00:01"), *MacAddress::parse("00:00:00:00:00:02"));
}

TEST(LanClassify, ArpFrame) {
    EthernetII f = Tins::ARP::make_arp_request("10.0.0.9", "10.0.0.5",
                                               Tins::HWAddress<6>("52:54:00:12:34:56"));
    const auto info = classify(build(f));
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->kind, FrameKind::Arp);
    EXPECT_EQ(info->dst.to_string(), "ff:ff:ff:ff:ff:ff");
    EXPECT_EQ(info->l3_offset, 14U);
}

TEST(LanClassify, Dhcp4Frame) {
    Tins::DHCP dhcp;
    dhcp.type(Tins::DHCP::DISCOVER);
    dhcp.end();
    EthernetII f = eth() / Tins::IP("255.255.255.255", "0.0.0.0") / Tins::UDP(67, 68) / dhcp;
    const auto info = classify(build(f));
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->kind, FrameKind::Dhcp4);
    EXPECT_EQ(info->src.to_string(), "52:54:00:12:34:56");
    EXPECT_EQ(info->ip_dst, IpAddress(*Ipv4Address::parse("255.255.255.255")));
    EXPECT_EQ(info->l4_offset, 34U);
}

TEST(LanClassify, Dhcp6Frame) {
    Tins::DHCPv6 dhcp;
    dhcp.msg_type(Tins::DHCPv6::SOLICIT);
    EthernetII f = eth() / Tins::IPv6("ff02::1:2", "fe80::5") / Tins::UDP(547, 546) / dhcp;
    const auto info = classify(build(f));
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->kind, FrameKind::Dhcp6);
    EXPECT_EQ(info->ip_src, IpAddress(*Ipv6Address::parse("fe80::5")));
    EXPECT_EQ(info->l4_offset, 54U);
}

TEST(LanClassify, NdpFramesAreOnlyRsAndNs) {
    for (const auto type : {Tins::ICMPv6::ROUTER_SOLICIT, Tins::ICMPv6::NEIGHBOUR_SOLICIT}) {
        EthernetII f = eth() / Tins::IPv6("ff02::2", "fe80::5") / Tins::ICMPv6(type);
        const auto info = classify(build(f));
        ASSERT_TRUE(info.has_value());
        EXPECT_EQ(info->kind, FrameKind::Ndp);
    }
    for (const auto type : {Tins::ICMPv6::ECHO_REQUEST, Tins::ICMPv6::NEIGHBOUR_ADVERT,
                            Tins::ICMPv6::ROUTER_ADVERT}) {
        EthernetII f = eth() / Tins::IPv6("ff02::2", "fe80::5") / Tins::ICMPv6(type);
        const auto info = classify(build(f));
        ASSERT_TRUE(info.has_value());
        EXPECT_EQ(info->kind, FrameKind::Ipv6);
    }
}

TEST(LanClassify, PlainIpFrames) {
    EthernetII udp4 =
        eth() / Tins::IP("10.0.0.9", "10.0.0.5") / Tins::UDP(53, 4000) / Tins::RawPDU("x");
    EthernetII tcp4 = eth() / Tins::IP("10.0.0.9", "10.0.0.5") / Tins::TCP(67, 68);
    EthernetII udp6 = eth() / Tins::IPv6("fd00::9", "fd00::5") / Tins::UDP(53, 547);
    const auto a = classify(build(udp4));
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->kind, FrameKind::Ipv4);
    EXPECT_EQ(a->ip_src, IpAddress(*Ipv4Address::parse("10.0.0.5")));
    EXPECT_EQ(a->ip_dst, IpAddress(*Ipv4Address::parse("10.0.0.9")));
    EXPECT_EQ(classify(build(tcp4))->kind, FrameKind::Ipv4);  // port 67 but TCP
    EXPECT_EQ(classify(build(udp6))->kind, FrameKind::Ipv6);
}

TEST(LanClassify, FragmentedDhcpPortIsPlainIpv4) {
    Tins::IP ip("255.255.255.255", "0.0.0.0");
    ip.flags(Tins::IP::MORE_FRAGMENTS);
    EthernetII f = eth() / ip / Tins::UDP(67, 68) / Tins::RawPDU("xxxxxxxx");
    EXPECT_EQ(classify(build(f))->kind, FrameKind::Ipv4);
}

TEST(LanClassify, OtherEthertype) {
    Bytes f(60);
    f[12] = std::byte{0x88};
    f[13] = std::byte{0xcc};  // LLDP
    const auto info = classify(f);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->kind, FrameKind::Other);
}

// The drop reason, or "accepted" (so a wrong verdict fails the comparison instead of reading
// error() of a value).
std::string_view reason(ByteView frame) {
    const auto info = classify(frame);
    return info.has_value() ? std::string_view("accepted") : info.error();
}

TEST(LanClassify, Rejections) {
    EthernetII v4 = eth() / Tins::IP("10.0.0.9", "10.0.0.5") / Tins::UDP(53, 4000);
    const Bytes good = build(v4);
    EXPECT_EQ(reason(ByteView(good).first(13)), "short_frame");
    EXPECT_EQ(reason(ByteView(good).first(30)), "short_ipv4");

    Bytes bad = good;
    bad[14] = std::byte{0x65};  // version 6 in an IPv4 ethertype
    EXPECT_EQ(reason(bad), "bad_ipv4_header");
    bad = good;
    bad[14] = std::byte{0x44};  // IHL 4
    EXPECT_EQ(reason(bad), "bad_ipv4_header");
    bad = good;
    bad[16] = std::byte{0};
    bad[17] = static_cast<std::byte>(good.size() - 14 + 1);  // one byte more than the frame
    EXPECT_EQ(reason(bad), "bad_ipv4_length");
    bad = good;
    bad[16] = std::byte{0};
    bad[17] = std::byte{19};  // total length below the header
    EXPECT_EQ(reason(bad), "bad_ipv4_length");

    EthernetII v6 = eth() / Tins::IPv6("fd00::9", "fd00::5") / Tins::UDP(53, 4000);
    const Bytes good6 = build(v6);
    EXPECT_EQ(reason(ByteView(good6).first(14 + 39)), "short_ipv6");
    bad = good6;
    bad[14] = std::byte{0x40};
    EXPECT_EQ(reason(bad), "bad_ipv6_header");
    bad = good6;
    bad[19] = static_cast<std::byte>(static_cast<unsigned>(bad[19]) + 1);  // payload length + 1
    EXPECT_EQ(reason(bad), "bad_ipv6_length");

    EthernetII tagged = eth() / Tins::Dot1Q(5) / Tins::IP("10.0.0.9", "10.0.0.5");
    EXPECT_EQ(reason(build(tagged)), "vlan_tagged");

    EthernetII arp = Tins::ARP::make_arp_request("10.0.0.9", "10.0.0.5");
    EXPECT_EQ(reason(ByteView(build(arp)).first(41)), "short_arp");

    Bytes huge(1519);
    EXPECT_EQ(reason(huge), "oversized");
    Bytes max(1518);
    EXPECT_TRUE(classify(max).has_value());
}

TEST(LanClassify, EveryTruncationOfAnIpv4FrameIsRejected) {
    EthernetII v4 =
        eth() / Tins::IP("10.0.0.9", "10.0.0.5") / Tins::UDP(67, 68) / Tins::RawPDU("payload");
    const Bytes good = build(v4);
    ASSERT_EQ(good.size(), 60U);  // 49 bytes of frame and Ethernet padding
    for (std::size_t n = 0; n < 14 + 20 + 8 + 7; ++n) {
        SCOPED_TRACE(n);
        EXPECT_FALSE(classify(ByteView(good).first(n)).has_value());
    }
}

TEST(LanEthernet, WritesHeader) {
    Bytes out(14);
    write_ethernet_header(out, *MacAddress::parse("ff:ff:ff:ff:ff:ff"),
                          *MacAddress::parse("02:00:00:00:00:01"), 0x86DD);
    EXPECT_EQ(to_hex(out),
              "ffffffffffff020000000001"
              "86dd");
}

}  // namespace
}  // namespace cyphonic::adapterd::lan
