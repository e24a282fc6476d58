#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "cyphonic/core/bytes.hpp"

namespace cyphonic {

// An IPv4 address in network order. All-zero means "absent" on the wire (PROTOCOL.md §0).
struct Ipv4Address {
    std::array<std::byte, 4> bytes{};

    [[nodiscard]] static std::optional<Ipv4Address> parse(std::string_view text);
    [[nodiscard]] std::string to_string() const;
    [[nodiscard]] bool is_unspecified() const noexcept { return bytes == decltype(bytes){}; }

    friend bool operator==(const Ipv4Address&, const Ipv4Address&) = default;
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>.
    friend auto operator<=>(const Ipv4Address&, const Ipv4Address&) = default;
};

// An IPv6 address in network order. `::` means "absent" on the wire.
struct Ipv6Address {
    std::array<std::byte, 16> bytes{};

    [[nodiscard]] static std::optional<Ipv6Address> parse(std::string_view text);
    [[nodiscard]] std::string to_string() const;
    [[nodiscard]] bool is_unspecified() const noexcept { return bytes == decltype(bytes){}; }
    // ::ffff:a.b.c.d → a.b.c.d (NMS normalises observed sources this way, PROTOCOL.md §7.2).
    [[nodiscard]] std::optional<Ipv4Address> mapped_ipv4() const noexcept;

    friend bool operator==(const Ipv6Address&, const Ipv6Address&) = default;
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>.
    friend auto operator<=>(const Ipv6Address&, const Ipv6Address&) = default;
};

// Either family. Text form: dotted quad or RFC 5952 IPv6.
class IpAddress {
public:
    IpAddress() = default;
    IpAddress(Ipv4Address v4) : value_(v4) {}  // NOLINT(google-explicit-constructor)
    IpAddress(Ipv6Address v6) : value_(v6) {}  // NOLINT(google-explicit-constructor)

    [[nodiscard]] static std::optional<IpAddress> parse(std::string_view text);
    [[nodiscard]] bool is_v4() const noexcept {
        return std::holds_alternative<Ipv4Address>(value_);
    }
    [[nodiscard]] bool is_v6() const noexcept { return !is_v4(); }
    [[nodiscard]] const Ipv4Address& v4() const { return std::get<Ipv4Address>(value_); }
    [[nodiscard]] const Ipv6Address& v6() const { return std::get<Ipv6Address>(value_); }
    [[nodiscard]] std::string to_string() const;
    // An IPv4-mapped IPv6 address becomes the IPv4 address; everything else is unchanged.
    [[nodiscard]] IpAddress normalized() const noexcept;

    friend bool operator==(const IpAddress&, const IpAddress&) = default;
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>.
    friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

private:
    std::variant<Ipv4Address, Ipv6Address> value_;
};

// Address + UDP/TCP port. Text form `1.2.3.4:4600` or `[2001:db8::1]:4600`.
struct Endpoint {
    IpAddress address;
    std::uint16_t port = 0;

    [[nodiscard]] static std::optional<Endpoint> parse(std::string_view text);
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const Endpoint&, const Endpoint&) = default;
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>.
    friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

}  // namespace cyphonic

template <>
struct fmt::formatter<cyphonic::Ipv4Address> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const cyphonic::Ipv4Address& a, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format(a.to_string(), ctx);
    }
};
template <>
struct fmt::formatter<cyphonic::Ipv6Address> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const cyphonic::Ipv6Address& a, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format(a.to_string(), ctx);
    }
};
template <>
struct fmt::formatter<cyphonic::IpAddress> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const cyphonic::IpAddress& a, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format(a.to_string(), ctx);
    }
};
template <>
struct fmt::formatter<cyphonic::Endpoint> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const cyphonic::Endpoint& e, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format(e.to_string(), ctx);
    }
};
