#include "cyphonic/core/address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace cyphonic {

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
    if (text.size() >= INET_ADDRSTRLEN) {
        return std::nullopt;
    }
    char buf[INET_ADDRSTRLEN] = {};
    std::memcpy(buf, text.data(), text.size());
    Ipv4Address out;
    if (inet_pton(AF_INET, buf, out.bytes.data()) != 1) {
        return std::nullopt;
    }
    return out;
}

std::string Ipv4Address::to_string() const {
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<Ipv6Address> Ipv6Address::parse(std::string_view text) {
    if (text.size() >= INET6_ADDRSTRLEN) {
        return std::nullopt;
    }
    char buf[INET6_ADDRSTRLEN] = {};
    std::memcpy(buf, text.data(), text.size());
    Ipv6Address out;
    if (inet_pton(AF_INET6, buf, out.bytes.data()) != 1) {
        return std::nullopt;
    }
    return out;
}

std::string Ipv6Address::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<Ipv4Address> Ipv6Address::mapped_ipv4() const noexcept {
    static constexpr std::array<std::byte, 12> kPrefix{
        std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},    std::byte{0},
        std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0xff}, std::byte{0xff}};
    if (std::memcmp(bytes.data(), kPrefix.data(), kPrefix.size()) != 0) {
        return std::nullopt;
    }
    Ipv4Address v4;
    std::memcpy(v4.bytes.data(), bytes.data() + 12, 4);
    return v4;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (const auto v4 = Ipv4Address::parse(text)) {
        return IpAddress(*v4);
    }
    if (const auto v6 = Ipv6Address::parse(text)) {
        return IpAddress(*v6);
    }
    return std::nullopt;
}

std::string IpAddress::to_string() const {
    return is_v4() ? v4().to_string() : v6().to_string();
}

IpAddress IpAddress::normalized() const noexcept {
    if (is_v6()) {
        if (const auto v4 = v6().mapped_ipv4()) {
            return {*v4};
        }
    }
    return *this;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find("]:");
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        if (!Ipv6Address::parse(host)) {
            return std::nullopt;
        }
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (!Ipv4Address::parse(host)) {
            return std::nullopt;
        }
    }
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || ptr != port.data() + port.size() || port.empty() || value > 65535) {
        return std::nullopt;
    }
    auto address = IpAddress::parse(host);
    if (!address) {
        return std::nullopt;
    }
    return Endpoint{*address, static_cast<std::uint16_t>(value)};
}

std::string Endpoint::to_string() const {
    if (address.is_v6()) {
        return "[" + address.to_string() + "]:" + std::to_string(port);
    }
    return address.to_string() + ":" + std::to_string(port);
}

}  // namespace cyphonic
