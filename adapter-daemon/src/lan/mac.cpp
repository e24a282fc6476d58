#include "lan/mac.hpp"

#include <cstdint>

namespace cyphonic::adapterd::lan {
namespace {

std::optional<unsigned> hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return static_cast<unsigned>(c - '0');
    }
    if (c >= 'a' && c <= 'f') {
        return static_cast<unsigned>(c - 'a' + 10);
    }
    if (c >= 'A' && c <= 'F') {
        return static_cast<unsigned>(c - 'A' + 10);
    }
    return std::nullopt;
}

}  // namespace

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
    constexpr std::size_t kTextSize = 17;  // six pairs and five colons
    if (text.size() != kTextSize) {
        return std::nullopt;
    }
    MacAddress mac;
    for (std::size_t i = 0; i < mac.bytes.size(); ++i) {
        const std::size_t at = i * 3;
        if (i > 0 && text[at - 1] != ':') {
            return std::nullopt;
        }
        const auto high = hex_digit(text[at]);
        const auto low = hex_digit(text[at + 1]);
        if (!high || !low) {
            return std::nullopt;
        }
        mac.bytes[i] = static_cast<std::byte>((*high << 4U) | *low);
    }
    return mac;
}

std::string MacAddress::to_string() const {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(17);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i > 0) {
            out.push_back(':');
        }
        const auto v = static_cast<unsigned>(bytes[i]);
        out.push_back(kDigits[v >> 4U]);
        out.push_back(kDigits[v & 0xFU]);
    }
    return out;
}

bool MacAddress::is_broadcast() const noexcept {
    return *this == kBroadcastMac;
}

std::size_t MacAddressHash::operator()(const MacAddress& mac) const noexcept {
    // FNV-1a over the six octets.
    std::uint64_t h = 14695981039346656037ULL;
    for (const std::byte b : mac.bytes) {
        h ^= static_cast<std::uint64_t>(b);
        h *= 1099511628211ULL;
    }
    return static_cast<std::size_t>(h);
}

}  // namespace cyphonic::adapterd::lan
