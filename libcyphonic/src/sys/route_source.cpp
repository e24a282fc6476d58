#include "cyphonic/sys/route_source.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <optional>

#include "cyphonic/sys/unique_fd.hpp"

namespace cyphonic::sys {
namespace {

// Any port will do: connect() on a UDP socket only picks the route and the source address.
// Port 0 is avoided because some stacks treat it as "unconnected".
constexpr std::uint16_t kProbePort = 9;

}  // namespace

std::optional<IpAddress> source_address_for(const IpAddress& destination) {
    const IpAddress target = destination.normalized();
    sockaddr_storage to{};
    socklen_t to_len = 0;
    if (target.is_v4()) {
        sockaddr_in v4{};
        v4.sin_family = AF_INET;
        v4.sin_port = htons(kProbePort);
        std::memcpy(&v4.sin_addr, target.v4().bytes.data(), target.v4().bytes.size());
        std::memcpy(&to, &v4, sizeof v4);
        to_len = sizeof v4;
    } else {
        sockaddr_in6 v6{};
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(kProbePort);
        std::memcpy(&v6.sin6_addr, target.v6().bytes.data(), target.v6().bytes.size());
        std::memcpy(&to, &v6, sizeof v6);
        to_len = sizeof v6;
    }

    const UniqueFd fd(::socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        return std::nullopt;  // e.g. IPv6 disabled in this kernel: no IPv6 source either
    }
    // ENETUNREACH / EHOSTUNREACH (no route, or an unreachable/prohibit route), EINVAL, ...
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), to_len) != 0) {
        return std::nullopt;
    }
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
        return std::nullopt;
    }

    IpAddress source;
    if (local.ss_family == AF_INET) {
        sockaddr_in v4{};
        std::memcpy(&v4, &local, sizeof v4);
        Ipv4Address address;
        std::memcpy(address.bytes.data(), &v4.sin_addr, address.bytes.size());
        source = address;
    } else if (local.ss_family == AF_INET6) {
        sockaddr_in6 v6{};
        std::memcpy(&v6, &local, sizeof v6);
        Ipv6Address address;
        std::memcpy(address.bytes.data(), &v6.sin6_addr, address.bytes.size());
        source = address;
    } else {
        return std::nullopt;
    }
    // A route exists but no address could be chosen for it.
    const bool unspecified =
        source.is_v4() ? source.v4().is_unspecified() : source.v6().is_unspecified();
    if (unspecified) {
        return std::nullopt;
    }
    return source;
}

}  // namespace cyphonic::sys
