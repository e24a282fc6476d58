#pragma once

// Private to the sys module: owners for libnl objects and conversions between IpAddress and
// libnl's nl_addr (STYLE.md §5).

#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include "cyphonic/core/address.hpp"

namespace cyphonic::sys::detail {

template <auto FreeFn>
struct FreeWith {
    template <class T>
    void operator()(T* p) const noexcept {
        FreeFn(p);
    }
};
using NlSocket = std::unique_ptr<nl_sock, FreeWith<&nl_socket_free>>;
using NlAddr = std::unique_ptr<nl_addr, FreeWith<&nl_addr_put>>;
using NlCache = std::unique_ptr<nl_cache, FreeWith<&nl_cache_free>>;
using RtnlAddr = std::unique_ptr<rtnl_addr, FreeWith<&rtnl_addr_put>>;
using RtnlLink = std::unique_ptr<rtnl_link, FreeWith<&rtnl_link_put>>;
using RtnlRoute = std::unique_ptr<rtnl_route, FreeWith<&rtnl_route_put>>;
using RtnlNexthop = std::unique_ptr<rtnl_nexthop, FreeWith<&rtnl_route_nh_free>>;

// A new nl_addr holding `address` with `prefix_len`; null only when libnl is out of memory.
[[nodiscard]] inline NlAddr to_nl_addr(const IpAddress& address, unsigned prefix_len) {
    NlAddr out =
        address.is_v4()
            ? NlAddr(nl_addr_build(AF_INET, address.v4().bytes.data(), address.v4().bytes.size()))
            : NlAddr(nl_addr_build(AF_INET6, address.v6().bytes.data(), address.v6().bytes.size()));
    if (out) {
        nl_addr_set_prefixlen(out.get(), static_cast<int>(prefix_len));
    }
    return out;
}

// The address part of an nl_addr; std::nullopt for other families or a malformed length.
[[nodiscard]] inline std::optional<IpAddress> from_nl_addr(const nl_addr* address) {
    if (address == nullptr) {
        return std::nullopt;
    }
    const auto* data = static_cast<const std::byte*>(nl_addr_get_binary_addr(address));
    const unsigned len = nl_addr_get_len(address);
    if (nl_addr_get_family(address) == AF_INET && len == 4) {
        Ipv4Address v4;
        std::copy_n(data, v4.bytes.size(), v4.bytes.begin());
        return IpAddress(v4);
    }
    if (nl_addr_get_family(address) == AF_INET6 && len == 16) {
        Ipv6Address v6;
        std::copy_n(data, v6.bytes.size(), v6.bytes.begin());
        return IpAddress(v6);
    }
    return std::nullopt;
}

// strerror text without strerror's shared buffer.
[[nodiscard]] inline std::string errno_text(int error) {
    return std::generic_category().message(error);
}

}  // namespace cyphonic::sys::detail
