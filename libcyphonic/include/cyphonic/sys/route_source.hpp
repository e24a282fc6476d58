#pragma once

#include <optional>

#include "cyphonic/core/address.hpp"

namespace cyphonic::sys {

// The local address the kernel would pick as source to reach `destination` with the current
// routes of the calling thread's network namespace (a UDP socket is connected, which only does
// the route lookup, and asked for its name; no packet is sent). std::nullopt when there is no
// route (ENETUNREACH, EHOSTUNREACH) or no usable source address. An IPv4-mapped IPv6 address
// is looked up as IPv4.
[[nodiscard]] std::optional<IpAddress> source_address_for(const IpAddress& destination);

}  // namespace cyphonic::sys
