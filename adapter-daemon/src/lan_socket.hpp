#pragma once

#include <optional>
#include <string>

#include "lan/mac.hpp"

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/expected.hpp"

// The internal NIC as cyphonic-adapterd uses it (thesis §4.2.1): a raw AF_PACKET socket for every
// frame on the link, the interface in promiscuous mode, receive offloads (GRO, LRO) switched off
// so frames are handled one by one, and IP forwarding off on it (frames for the overlay are the
// daemon's, not the kernel's).
namespace cyphonic::adapterd {

struct LanInterface {
    int fd = -1;  // non-blocking AF_PACKET/SOCK_RAW socket bound to the interface; owned
    int ifindex = 0;
    lan::MacAddress mac;
    std::optional<Ipv6Address> link_local;
};

// Fails with a sentence naming the interface and the reason (no such device, no permission).
// Offload and forwarding settings that cannot be changed are logged, not fatal.
[[nodiscard]] Expected<LanInterface, std::string> open_lan_interface(const std::string& name);

}  // namespace cyphonic::adapterd
