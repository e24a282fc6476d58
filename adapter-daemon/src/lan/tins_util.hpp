#pragma once
// Private to adapterd_lan: conversions between our address types and libtins'.

#include <cstdint>

#include <tins/hw_address.h>
#include <tins/ip_address.h>
#include <tins/ipv6_address.h>
#include <tins/pdu.h>

#include "lan/mac.hpp"

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/bytes.hpp"

namespace cyphonic::adapterd::lan::detail {

[[nodiscard]] Tins::HWAddress<6> to_tins(const MacAddress& mac);
[[nodiscard]] Tins::IPv4Address to_tins(const Ipv4Address& address);
[[nodiscard]] Tins::IPv6Address to_tins(const Ipv6Address& address);
[[nodiscard]] MacAddress from_tins(const Tins::HWAddress<6>& mac);
[[nodiscard]] Ipv4Address from_tins(const Tins::IPv4Address& address);
[[nodiscard]] Ipv6Address from_tins(const Tins::IPv6Address& address);

// Serialises a whole frame (libtins fills in lengths and checksums).
[[nodiscard]] Bytes serialize(Tins::PDU& frame);

// Pointer and size for libtins' (const uint8_t*, uint32_t) constructors.
[[nodiscard]] inline const std::uint8_t* data_of(ByteView bytes) noexcept {
    return reinterpret_cast<const std::uint8_t*>(bytes.data());  // NOLINT
}
[[nodiscard]] inline std::uint32_t size_of(ByteView bytes) noexcept {
    return static_cast<std::uint32_t>(bytes.size());  // frames are <= kMaxFrameSize
}

// The all-nodes multicast group ff02::1 and its MAC 33:33:00:00:00:01.
[[nodiscard]] Ipv6Address all_nodes();
[[nodiscard]] MacAddress all_nodes_mac();

}  // namespace cyphonic::adapterd::lan::detail
