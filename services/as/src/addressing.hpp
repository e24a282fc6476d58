#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/expected.hpp"

// Virtual-address pools of the AS (config `addressing.ipv4_prefix` / `addressing.ipv6_prefix`).
// Pure functions: the store reads the addresses in use and asks for the lowest free one.
namespace cyphonic::as {

// An IPv4 prefix "a.b.c.d/len" with len 0–30 (a pool needs at least two host addresses) and no
// host bits set.
struct Ipv4Prefix {
    Ipv4Address network;
    unsigned length = 0;

    // nullopt-free parse: the error text says what is wrong, for a config error line.
    [[nodiscard]] static Expected<Ipv4Prefix, std::string> parse(std::string_view text);
    [[nodiscard]] bool contains(const Ipv4Address& a) const noexcept;
    [[nodiscard]] std::string to_string() const;
};

// An IPv6 prefix "x::/len" with len 0–126 and no host bits set.
struct Ipv6Prefix {
    Ipv6Address network;
    unsigned length = 0;

    [[nodiscard]] static Expected<Ipv6Prefix, std::string> parse(std::string_view text);
    [[nodiscard]] bool contains(const Ipv6Address& a) const noexcept;
    [[nodiscard]] std::string to_string() const;
};

// The lowest host address of `prefix` that is not in `used` (any order; addresses outside the
// prefix are ignored), or nullopt when the pool is full. IPv4 skips the network and broadcast
// addresses; IPv6 skips the all-zero host (the subnet-router anycast address).
[[nodiscard]] std::optional<Ipv4Address> lowest_free(const Ipv4Prefix& prefix,
                                                     std::span<const Ipv4Address> used);
[[nodiscard]] std::optional<Ipv6Address> lowest_free(const Ipv6Prefix& prefix,
                                                     std::span<const Ipv6Address> used);

}  // namespace cyphonic::as
