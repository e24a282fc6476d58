#include "lan/frame.hpp"

#include <algorithm>
#include <cassert>

namespace cyphonic::adapterd::lan {
namespace {

constexpr std::uint16_t kEthertypeVlan = 0x8100;
constexpr std::uint16_t kEthertypeQinq = 0x88A8;
constexpr std::uint16_t kEthertypeVlanOld = 0x9100;
constexpr std::size_t kArpSize = 28;
constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kUdpHeader = 8;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kProtoIcmpv6 = 58;
constexpr std::uint16_t kDhcp4ServerPort = 67;
constexpr std::uint16_t kDhcp6ServerPort = 547;
constexpr std::uint8_t kRouterSolicit = 133;
constexpr std::uint8_t kNeighborSolicit = 135;

// Big-endian 16-bit read at a variable offset the caller has already checked.
std::uint16_t be16_at(ByteView data, std::size_t at) noexcept {
    assert(at + 2 <= data.size());
    return static_cast<std::uint16_t>((static_cast<unsigned>(data[at]) << 8U) |
                                      static_cast<unsigned>(data[at + 1]));
}

MacAddress mac_at(std::span<const std::byte, kEthernetHeaderSize> eth, std::size_t at) noexcept {
    MacAddress mac;
    std::copy_n(eth.begin() + static_cast<std::ptrdiff_t>(at), mac.bytes.size(), mac.bytes.begin());
    return mac;
}

// Checks the UDP header at `l4` (inside an IP packet ending at `end`) and returns its
// destination port, or nullopt when the UDP length does not fit.
std::optional<std::uint16_t> udp_dst_port(ByteView frame, std::size_t l4, std::size_t end) {
    if (l4 + kUdpHeader > end) {
        return std::nullopt;
    }
    const std::size_t udp_length = be16_at(frame, l4 + 4);
    if (udp_length < kUdpHeader || l4 + udp_length > end) {
        return std::nullopt;
    }
    return be16_at(frame, l4 + 2);
}

Expected<FrameInfo, std::string_view> classify_ipv4(ByteView frame, FrameInfo info) {
    const ByteView l3 = frame.subspan(kEthernetHeaderSize);
    if (l3.size() < kIpv4MinHeader) {
        return fail(std::string_view("short_ipv4"));
    }
    const auto h = l3.first<kIpv4MinHeader>();
    const unsigned version_ihl = load_u8<0>(h);
    const std::size_t header_size = std::size_t{version_ihl & 0xFU} * 4U;
    if ((version_ihl >> 4U) != 4U || header_size < kIpv4MinHeader) {
        return fail(std::string_view("bad_ipv4_header"));
    }
    const std::size_t total_length = load_be16<2>(h);
    if (total_length < header_size || total_length > l3.size()) {
        return fail(std::string_view("bad_ipv4_length"));  // the field is a claim, the size a fact
    }
    Ipv4Address src;
    Ipv4Address dst;
    std::copy_n(h.begin() + 12, 4, src.bytes.begin());
    std::copy_n(h.begin() + 16, 4, dst.bytes.begin());
    info.ip_src = src;
    info.ip_dst = dst;
    info.l3_size = total_length;
    info.kind = FrameKind::Ipv4;

    const bool fragment = (load_be16<6>(h) & 0x3FFFU) != 0;  // MF set or an offset
    if (load_u8<9>(h) == kProtoUdp && !fragment) {
        const std::size_t l4 = kEthernetHeaderSize + header_size;
        const std::size_t end = kEthernetHeaderSize + total_length;
        if (l4 + kUdpHeader <= end && be16_at(frame, l4 + 2) == kDhcp4ServerPort) {
            if (!udp_dst_port(frame, l4, end)) {
                return fail(std::string_view("bad_udp_length"));
            }
            info.kind = FrameKind::Dhcp4;
            info.l4_offset = l4;
        }
    }
    return info;
}

Expected<FrameInfo, std::string_view> classify_ipv6(ByteView frame, FrameInfo info) {
    const ByteView l3 = frame.subspan(kEthernetHeaderSize);
    if (l3.size() < kIpv6Header) {
        return fail(std::string_view("short_ipv6"));
    }
    const auto h = l3.first<kIpv6Header>();
    if ((load_u8<0>(h) >> 4U) != 6U) {
        return fail(std::string_view("bad_ipv6_header"));
    }
    const std::size_t payload_length = load_be16<4>(h);
    if (kIpv6Header + payload_length > l3.size()) {
        return fail(std::string_view("bad_ipv6_length"));
    }
    Ipv6Address src;
    Ipv6Address dst;
    std::copy_n(h.begin() + 8, 16, src.bytes.begin());
    std::copy_n(h.begin() + 24, 16, dst.bytes.begin());
    info.ip_src = src;
    info.ip_dst = dst;
    info.l3_size = kIpv6Header + payload_length;
    info.kind = FrameKind::Ipv6;

    const std::size_t l4 = kEthernetHeaderSize + kIpv6Header;
    const std::size_t end = kEthernetHeaderSize + info.l3_size;
    const std::uint8_t next_header = load_u8<6>(h);
    if (next_header == kProtoUdp && l4 + kUdpHeader <= end &&
        be16_at(frame, l4 + 2) == kDhcp6ServerPort) {
        if (!udp_dst_port(frame, l4, end)) {
            return fail(std::string_view("bad_udp_length"));
        }
        info.kind = FrameKind::Dhcp6;
        info.l4_offset = l4;
    } else if (next_header == kProtoIcmpv6 && l4 < end) {
        const auto type = static_cast<std::uint8_t>(frame[l4]);
        if (type == kRouterSolicit || type == kNeighborSolicit) {
            info.kind = FrameKind::Ndp;
            info.l4_offset = l4;
        }
    }
    return info;
}

}  // namespace

std::string_view to_string(FrameKind kind) noexcept {
    switch (kind) {
        case FrameKind::Arp:
            return "arp";
        case FrameKind::Dhcp4:
            return "dhcp4";
        case FrameKind::Dhcp6:
            return "dhcp6";
        case FrameKind::Ndp:
            return "ndp";
        case FrameKind::Ipv4:
            return "ipv4";
        case FrameKind::Ipv6:
            return "ipv6";
        case FrameKind::Other:
            break;
    }
    return "other";
}

Expected<FrameInfo, std::string_view> classify(ByteView frame) noexcept {
    if (frame.size() > kMaxFrameSize) {
        return fail(std::string_view("oversized"));
    }
    if (frame.size() < kEthernetHeaderSize) {
        return fail(std::string_view("short_frame"));
    }
    const auto eth = frame.first<kEthernetHeaderSize>();
    FrameInfo info;
    info.dst = mac_at(eth, 0);
    info.src = mac_at(eth, 6);
    switch (load_be16<12>(eth)) {
        case kEthertypeVlan:
        case kEthertypeQinq:
        case kEthertypeVlanOld:
            return fail(std::string_view("vlan_tagged"));
        case kEthertypeArp:
            if (frame.size() < kEthernetHeaderSize + kArpSize) {
                return fail(std::string_view("short_arp"));
            }
            info.kind = FrameKind::Arp;
            return info;
        case kEthertypeIpv4:
            return classify_ipv4(frame, info);
        case kEthertypeIpv6:
            return classify_ipv6(frame, info);
        default:
            return info;
    }
}

void write_ethernet_header(MutableByteView out, const MacAddress& dst, const MacAddress& src,
                           std::uint16_t ethertype) noexcept {
    assert(out.size() >= kEthernetHeaderSize);
    if (out.size() < kEthernetHeaderSize) {
        return;
    }
    const auto header = out.first<kEthernetHeaderSize>();
    std::copy(dst.bytes.begin(), dst.bytes.end(), header.begin());
    std::copy(src.bytes.begin(), src.bytes.end(), header.begin() + 6);
    store_be16<12>(header, ethertype);
}

}  // namespace cyphonic::adapterd::lan
