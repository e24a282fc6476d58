#pragma once

// Helpers shared by the sys tests. They check the kernel's state with plain ioctl/socket calls,
// not with the code under test, and create veth pairs with libnl directly.

#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/socket.h>

#include "cyphonic/core/address.hpp"
#include "cyphonic/sys/netlink.hpp"
#include "cyphonic/sys/unique_fd.hpp"

namespace cyphonic::sys::testing {

// SIOCGIFFLAGS / SIOCGIFMTU of interface `name`; std::nullopt when it does not exist.
struct LinkState {
    bool up = false;
    int mtu = 0;
};
inline std::optional<LinkState> link_state(const std::string& name) {
    const UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq request{};
    std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd.get(), SIOCGIFFLAGS, &request) != 0) {
        return std::nullopt;
    }
    LinkState state;
    state.up = (request.ifr_flags & IFF_UP) != 0;
    if (::ioctl(fd.get(), SIOCGIFMTU, &request) != 0) {
        return std::nullopt;
    }
    state.mtu = request.ifr_mtu;
    return state;
}

// Creates the veth pair `name` <-> `peer` (down) in the current network namespace; returns the
// ifindex of `name`, or 0 on failure.
inline int make_veth(const std::string& name, const std::string& peer) {
    const std::unique_ptr<nl_sock, void (*)(nl_sock*)> socket(nl_socket_alloc(), nl_socket_free);
    if (!socket || nl_connect(socket.get(), NETLINK_ROUTE) < 0) {
        return 0;
    }
    // The peer is put into the namespace of our process, which is this one (the test thread is
    // the main thread).
    if (rtnl_link_veth_add(socket.get(), name.c_str(), peer.c_str(), ::getpid()) < 0) {
        return 0;
    }
    return static_cast<int>(if_nametoindex(name.c_str()));
}

// The socket address for `address`:`port`, and its length.
inline std::pair<sockaddr_storage, socklen_t> to_sockaddr(const IpAddress& address,
                                                          std::uint16_t port) {
    sockaddr_storage out{};
    if (address.is_v4()) {
        sockaddr_in v4{};
        v4.sin_family = AF_INET;
        v4.sin_port = htons(port);
        std::memcpy(&v4.sin_addr, address.v4().bytes.data(), 4);
        std::memcpy(&out, &v4, sizeof v4);
        return {out, sizeof v4};
    }
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(&v6.sin6_addr, address.v6().bytes.data(), 16);
    std::memcpy(&out, &v6, sizeof v6);
    return {out, sizeof v6};
}

// 0 when a UDP socket can connect to `address` (there is a route), else the errno.
inline int connect_error(const IpAddress& address) {
    const auto [to, len] = to_sockaddr(address, 9);
    const UniqueFd fd(::socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), len) != 0) {
        return errno;
    }
    return 0;
}

inline bool readable(int fd, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

inline IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}

// The entry for `address` in `list`, if any.
inline std::optional<InterfaceAddress> find_address(const std::vector<InterfaceAddress>& list,
                                                    const IpAddress& address) {
    const auto it = std::find_if(list.begin(), list.end(),
                                 [&](const InterfaceAddress& a) { return a.address == address; });
    if (it == list.end()) {
        return std::nullopt;
    }
    return *it;
}

}  // namespace cyphonic::sys::testing
