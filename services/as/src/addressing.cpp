#include "addressing.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

namespace cyphonic::as {

namespace {

// GCC/Clang extension; __extension__ keeps -Wpedantic quiet.
__extension__ using U128 = unsigned __int128;

U128 to_u128(const Ipv6Address& a) noexcept {
    U128 v = 0;
    for (const std::byte b : a.bytes) {
        v = (v << 8U) | static_cast<U128>(b);
    }
    return v;
}

Ipv6Address from_u128(U128 v) noexcept {
    Ipv6Address a;
    for (std::size_t i = a.bytes.size(); i-- > 0;) {
        a.bytes[i] = static_cast<std::byte>(static_cast<unsigned>(v & 0xFFU));
        v >>= 8U;
    }
    return a;
}

std::uint32_t to_u32(const Ipv4Address& a) noexcept {
    std::uint32_t v = 0;
    for (const std::byte b : a.bytes) {
        v = (v << 8U) | static_cast<std::uint32_t>(b);
    }
    return v;
}

Ipv4Address from_u32(std::uint32_t v) noexcept {
    Ipv4Address a;
    for (std::size_t i = a.bytes.size(); i-- > 0;) {
        a.bytes[i] = static_cast<std::byte>(v & 0xFFU);
        v >>= 8U;
    }
    return a;
}

std::uint32_t host_mask32(unsigned length) noexcept {
    return length == 0 ? 0xFFFFFFFFU : (0xFFFFFFFFU >> length);
}

U128 host_mask128(unsigned length) noexcept {
    const U128 all = ~static_cast<U128>(0);
    return length == 0 ? all : (all >> length);
}

// Splits "addr/len"; the error says what is missing.
Expected<std::pair<std::string_view, unsigned>, std::string> split_prefix(std::string_view text,
                                                                          unsigned max_length) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        return fail(fmt::format("'{}' is not a prefix: expected address/length", text));
    }
    const std::string_view len_text = text.substr(slash + 1);
    unsigned length = 0;
    const auto [ptr, ec] =
        std::from_chars(len_text.data(), len_text.data() + len_text.size(), length);
    if (ec != std::errc{} || ptr != len_text.data() + len_text.size() || len_text.empty()) {
        return fail(fmt::format("'{}' is not a prefix: '{}' is not a length", text, len_text));
    }
    if (length > max_length) {
        return fail(
            fmt::format("'{}': prefix length {} leaves fewer than two host addresses "
                        "(at most /{})",
                        text, length, max_length));
    }
    return std::pair{text.substr(0, slash), length};
}

// Lowest value in [first, last] not in the sorted `used`.
template <class Int>
std::optional<Int> lowest_gap(Int first, Int last, std::vector<Int>& used) {
    std::sort(used.begin(), used.end());
    Int candidate = first;
    for (const Int u : used) {
        if (u < candidate) {
            continue;
        }
        if (u > candidate) {
            break;
        }
        if (candidate == last) {
            return std::nullopt;
        }
        ++candidate;
    }
    return candidate;
}

}  // namespace

Expected<Ipv4Prefix, std::string> Ipv4Prefix::parse(std::string_view text) {
    constexpr unsigned kMaxLength = 30;
    const auto parts = split_prefix(text, kMaxLength);
    if (!parts.has_value()) {
        return fail(parts.error());
    }
    const auto address = Ipv4Address::parse(parts->first);
    if (!address) {
        return fail(fmt::format("'{}': '{}' is not an IPv4 address", text, parts->first));
    }
    if ((to_u32(*address) & host_mask32(parts->second)) != 0) {
        return fail(fmt::format("'{}' has host bits set", text));
    }
    return Ipv4Prefix{*address, parts->second};
}

bool Ipv4Prefix::contains(const Ipv4Address& a) const noexcept {
    return (to_u32(a) & ~host_mask32(length)) == to_u32(network);
}

std::string Ipv4Prefix::to_string() const {
    return fmt::format("{}/{}", network.to_string(), length);
}

Expected<Ipv6Prefix, std::string> Ipv6Prefix::parse(std::string_view text) {
    constexpr unsigned kMaxLength = 126;
    const auto parts = split_prefix(text, kMaxLength);
    if (!parts.has_value()) {
        return fail(parts.error());
    }
    const auto address = Ipv6Address::parse(parts->first);
    if (!address) {
        return fail(fmt::format("'{}': '{}' is not an IPv6 address", text, parts->first));
    }
    if ((to_u128(*address) & host_mask128(parts->second)) != 0) {
        return fail(fmt::format("'{}' has host bits set", text));
    }
    return Ipv6Prefix{*address, parts->second};
}

bool Ipv6Prefix::contains(const Ipv6Address& a) const noexcept {
    return (to_u128(a) & ~host_mask128(length)) == to_u128(network);
}

std::string Ipv6Prefix::to_string() const {
    return fmt::format("{}/{}", network.to_string(), length);
}

std::optional<Ipv4Address> lowest_free(const Ipv4Prefix& prefix,
                                       std::span<const Ipv4Address> used) {
    const std::uint32_t base = to_u32(prefix.network);
    const std::uint32_t first = base + 1;                                // skip the network
    const std::uint32_t last = (base | host_mask32(prefix.length)) - 1;  // and the broadcast
    std::vector<std::uint32_t> in_prefix;
    in_prefix.reserve(used.size());
    for (const auto& a : used) {
        if (prefix.contains(a)) {
            in_prefix.push_back(to_u32(a));
        }
    }
    const auto free = lowest_gap(first, last, in_prefix);
    if (!free) {
        return std::nullopt;
    }
    return from_u32(*free);
}

std::optional<Ipv6Address> lowest_free(const Ipv6Prefix& prefix,
                                       std::span<const Ipv6Address> used) {
    const U128 base = to_u128(prefix.network);
    const U128 first = base + 1;  // skip the subnet-router anycast address
    const U128 last = base | host_mask128(prefix.length);
    std::vector<U128> in_prefix;
    in_prefix.reserve(used.size());
    for (const auto& a : used) {
        if (prefix.contains(a)) {
            in_prefix.push_back(to_u128(a));
        }
    }
    const auto free = lowest_gap(first, last, in_prefix);
    if (!free) {
        return std::nullopt;
    }
    return from_u128(*free);
}

}  // namespace cyphonic::as
