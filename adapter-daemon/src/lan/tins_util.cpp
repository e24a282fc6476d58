#include "lan/tins_util.hpp"

#include <algorithm>
#include <cstring>

namespace cyphonic::adapterd::lan::detail {

Tins::HWAddress<6> to_tins(const MacAddress& mac) {
    return Tins::HWAddress<6>(reinterpret_cast<const std::uint8_t*>(mac.bytes.data()));  // NOLINT
}

Tins::IPv4Address to_tins(const Ipv4Address& address) {
    // libtins' uint32_t constructor takes the address in network order, as laid out in memory.
    std::uint32_t raw = 0;
    std::memcpy(&raw, address.bytes.data(), sizeof raw);
    return Tins::IPv4Address(raw);  // explicit constructor
}

Tins::IPv6Address to_tins(const Ipv6Address& address) {
    const auto* raw = reinterpret_cast<const std::uint8_t*>(address.bytes.data());  // NOLINT
    return {raw};
}

MacAddress from_tins(const Tins::HWAddress<6>& mac) {
    MacAddress out;
    std::transform(mac.begin(), mac.end(), out.bytes.begin(),
                   [](std::uint8_t b) { return static_cast<std::byte>(b); });
    return out;
}

Ipv4Address from_tins(const Tins::IPv4Address& address) {
    const std::uint32_t raw = address;  // network order in memory
    Ipv4Address out;
    std::memcpy(out.bytes.data(), &raw, sizeof raw);
    return out;
}

Ipv6Address from_tins(const Tins::IPv6Address& address) {
    Ipv6Address out;
    std::transform(address.begin(), address.end(), out.bytes.begin(),
                   [](std::uint8_t b) { return static_cast<std::byte>(b); });
    return out;
}

Bytes serialize(Tins::PDU& frame) {
    const Tins::PDU::serialization_type raw = frame.serialize();
    Bytes out(raw.size());
    std::transform(raw.begin(), raw.end(), out.begin(),
                   [](std::uint8_t b) { return static_cast<std::byte>(b); });
    return out;
}

Ipv6Address all_nodes() {
    Ipv6Address a;
    a.bytes[0] = std::byte{0xff};
    a.bytes[1] = std::byte{0x02};
    a.bytes[15] = std::byte{0x01};
    return a;
}

MacAddress all_nodes_mac() {
    return MacAddress{{std::byte{0x33}, std::byte{0x33}, std::byte{0}, std::byte{0}, std::byte{0},
                       std::byte{0x01}}};
}

}  // namespace cyphonic::adapterd::lan::detail
