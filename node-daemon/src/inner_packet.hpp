#pragma once

#include <optional>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/bytes.hpp"

// The IP packets carried in Capsules (PROTOCOL.md §6.10, C18, D20): just enough of the IPv4 and
// IPv6 headers to route a packet to its peer and to check a received one.
namespace cyphonic::noded {

struct InnerAddresses {
    IpAddress source;
    IpAddress destination;
};

// Source and destination of an IPv4 or IPv6 packet whose length field equals the packet size;
// nullopt for anything else (other versions, truncated headers, lying lengths).
[[nodiscard]] std::optional<InnerAddresses> inner_addresses(ByteView packet) noexcept;

// The destination only, for the send path (the kernel wrote the packet; its length is right).
[[nodiscard]] std::optional<IpAddress> inner_destination(ByteView packet) noexcept;

}  // namespace cyphonic::noded
