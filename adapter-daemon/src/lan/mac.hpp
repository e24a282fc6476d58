#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cyphonic::adapterd::lan {

// An Ethernet MAC address, in wire order.
struct MacAddress {
    std::array<std::byte, 6> bytes{};

    // "aa:bb:cc:dd:ee:ff", either case; nullopt for anything else.
    [[nodiscard]] static std::optional<MacAddress> parse(std::string_view text);
    // Lower case with colons.
    [[nodiscard]] std::string to_string() const;
    // Group bit (bit 0 of the first octet); the broadcast address is multicast too.
    [[nodiscard]] bool is_multicast() const noexcept {
        return (static_cast<unsigned>(bytes[0]) & 1U) != 0;
    }
    [[nodiscard]] bool is_broadcast() const noexcept;

    friend bool operator==(const MacAddress&, const MacAddress&) = default;
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>.
    friend auto operator<=>(const MacAddress&, const MacAddress&) = default;
};

struct MacAddressHash {
    [[nodiscard]] std::size_t operator()(const MacAddress& mac) const noexcept;
};

inline constexpr MacAddress kBroadcastMac{{std::byte{0xff}, std::byte{0xff}, std::byte{0xff},
                                           std::byte{0xff}, std::byte{0xff}, std::byte{0xff}}};

}  // namespace cyphonic::adapterd::lan
