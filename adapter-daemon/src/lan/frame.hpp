#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lan/mac.hpp"

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"

namespace cyphonic::adapterd::lan {

inline constexpr std::size_t kEthernetHeaderSize = 14;
// Largest frame accepted: 1514 bytes plus 4 for a trailing FCS some NICs leave on.
inline constexpr std::size_t kMaxFrameSize = 1514 + 4;

inline constexpr std::uint16_t kEthertypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEthertypeArp = 0x0806;
inline constexpr std::uint16_t kEthertypeIpv6 = 0x86DD;

enum class FrameKind : std::uint8_t { Arp, Dhcp4, Dhcp6, Ndp, Ipv4, Ipv6, Other };

[[nodiscard]] std::string_view to_string(FrameKind kind) noexcept;

struct FrameInfo {
    FrameKind kind = FrameKind::Other;
    MacAddress dst, src;
    // Start of the ARP/IP header. Always 14: 802.1Q/802.1ad tagged frames are dropped.
    std::size_t l3_offset = kEthernetHeaderSize;
    // Set for Ipv4, Ipv6, Dhcp4, Dhcp6 and Ndp.
    IpAddress ip_src, ip_dst;
    // Bytes of the IP packet as its header claims (IPv4 total length, IPv6 40 + payload length):
    // the frame may carry Ethernet padding after it. 0 for Arp and Other.
    std::size_t l3_size = 0;
    // For Dhcp4, Dhcp6 and Ndp: start of the UDP header / ICMPv6 message within the frame.
    std::size_t l4_offset = 0;
};

// Classifies one received Ethernet frame for the data path: hand-written, no allocation, no
// libtins. Checks the Ethernet header and the IP header's own consistency (IPv4: version,
// IHL >= 5, IHL <= total length <= frame; IPv6: version, payload length fits in the frame; the
// header checksum is not verified). Dhcp4 = unfragmented IPv4 UDP to port 67; Dhcp6 = IPv6 with
// next header UDP to port 547; Ndp = IPv6 with next header ICMPv6 type 133 (RS) or 135 (NS)
// (extension headers are not followed: such packets are Ipv6). For Dhcp4/Dhcp6 the UDP length
// must fit the IP payload. Error = drop reason, stable snake_case: short_frame, oversized,
// vlan_tagged, short_arp, short_ipv4, bad_ipv4_header, bad_ipv4_length, short_ipv6,
// bad_ipv6_header, bad_ipv6_length, bad_udp_length. Thread-safe.
[[nodiscard]] Expected<FrameInfo, std::string_view> classify(ByteView frame) noexcept;

// Writes a 14-byte Ethernet II header to the front of `out` (which must hold 14 bytes).
void write_ethernet_header(MutableByteView out, const MacAddress& dst, const MacAddress& src,
                           std::uint16_t ethertype) noexcept;

}  // namespace cyphonic::adapterd::lan
