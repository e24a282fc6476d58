#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "cyphonic/core/bytes.hpp"

namespace cyphonic {

// A 128-bit identifier (PROTOCOL.md §1). The tag keeps NodeId, PathId and ApplicationId apart
// at compile time; all three share one map at a receiver (C3) through `raw()`.
template <class Tag>
class Id128 {
public:
    static constexpr std::size_t kSize = 16;
    using Raw = std::array<std::byte, kSize>;

    constexpr Id128() noexcept = default;
    constexpr explicit Id128(const Raw& raw) noexcept : raw_(raw) {}

    [[nodiscard]] static Id128 from_span(std::span<const std::byte, kSize> bytes) noexcept {
        Raw raw{};
        std::memcpy(raw.data(), bytes.data(), kSize);
        return Id128(raw);
    }
    // 32 hex digits (white space ignored); nullopt otherwise.
    [[nodiscard]] static std::optional<Id128> from_hex(std::string_view hex) {
        const auto bytes = cyphonic::from_hex(hex);
        if (!bytes || bytes->size() != kSize) {
            return std::nullopt;
        }
        return from_span(std::span<const std::byte, kSize>(bytes->data(), kSize));
    }

    [[nodiscard]] constexpr const Raw& raw() const noexcept { return raw_; }
    [[nodiscard]] ByteView bytes() const noexcept { return raw_; }
    [[nodiscard]] bool is_zero() const noexcept { return raw_ == Raw{}; }
    [[nodiscard]] std::string to_hex() const { return cyphonic::to_hex(raw_); }

    friend constexpr bool operator==(const Id128&, const Id128&) = default;
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads the defaulted comparison.
    friend constexpr auto operator<=>(const Id128&, const Id128&) = default;

private:
    Raw raw_{};
};

struct NodeIdTag {};
struct PathIdTag {};
struct ApplicationIdTag {};
using NodeId = Id128<NodeIdTag>;
using PathId = Id128<PathIdTag>;
using ApplicationId = Id128<ApplicationIdTag>;

// Hash for unordered maps: the IDs are random (or SHA-256 output), so the first 8 bytes are
// already well distributed.
struct Id128Hash {
    template <class Tag>
    std::size_t operator()(const Id128<Tag>& id) const noexcept {
        std::size_t h = 0;
        std::memcpy(&h, id.raw().data(), sizeof h);
        return h;
    }
};

}  // namespace cyphonic

template <class Tag>
struct fmt::formatter<cyphonic::Id128<Tag>> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const cyphonic::Id128<Tag>& id, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(id.to_hex(), ctx);
    }
};
