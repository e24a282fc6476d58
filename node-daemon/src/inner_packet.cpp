#include "inner_packet.hpp"

#include <cstring>

namespace cyphonic::noded {

namespace {

constexpr std::size_t kIpv4Header = 20;
constexpr std::size_t kIpv6Header = 40;

unsigned version(ByteView p) noexcept {
    return static_cast<unsigned>(std::to_integer<std::uint8_t>(p[0]) >> 4U);
}

std::size_t be16(ByteView p, std::size_t at) noexcept {
    return (std::to_integer<std::size_t>(p[at]) << 8U) | std::to_integer<std::size_t>(p[at + 1]);
}

Ipv4Address v4_at(ByteView p, std::size_t at) noexcept {
    Ipv4Address a;
    std::memcpy(a.bytes.data(), p.data() + at, a.bytes.size());
    return a;
}

Ipv6Address v6_at(ByteView p, std::size_t at) noexcept {
    Ipv6Address a;
    std::memcpy(a.bytes.data(), p.data() + at, a.bytes.size());
    return a;
}

}  // namespace

std::optional<InnerAddresses> inner_addresses(ByteView packet) noexcept {
    if (packet.empty()) {
        return std::nullopt;
    }
    if (version(packet) == 4) {
        if (packet.size() < kIpv4Header || be16(packet, 2) != packet.size()) {
            return std::nullopt;
        }
        return InnerAddresses{v4_at(packet, 12), v4_at(packet, 16)};
    }
    if (version(packet) == 6) {
        if (packet.size() < kIpv6Header || be16(packet, 4) + kIpv6Header != packet.size()) {
            return std::nullopt;
        }
        return InnerAddresses{v6_at(packet, 8), v6_at(packet, 24)};
    }
    return std::nullopt;
}

std::optional<IpAddress> inner_destination(ByteView packet) noexcept {
    if (packet.size() >= kIpv4Header && version(packet) == 4) {
        return IpAddress(v4_at(packet, 16));
    }
    if (packet.size() >= kIpv6Header && version(packet) == 6) {
        return IpAddress(v6_at(packet, 24));
    }
    return std::nullopt;
}

}  // namespace cyphonic::noded
