#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cyphonic {

using ByteView = std::span<const std::byte>;
using MutableByteView = std::span<std::byte>;
using Bytes = std::vector<std::byte>;

// Big-endian loads and stores at a fixed offset of a fixed-extent span: an offset past the end
// does not compile.
template <std::size_t Offset, std::size_t N>
[[nodiscard]] constexpr std::uint8_t load_u8(std::span<const std::byte, N> raw) {
    static_assert(Offset + 1 <= N);
    return static_cast<std::uint8_t>(raw[Offset]);
}
template <std::size_t Offset, std::size_t N>
[[nodiscard]] constexpr std::uint16_t load_be16(std::span<const std::byte, N> raw) {
    static_assert(Offset + 2 <= N);
    return static_cast<std::uint16_t>((static_cast<unsigned>(raw[Offset]) << 8U) |
                                      static_cast<unsigned>(raw[Offset + 1]));
}
template <std::size_t Offset, std::size_t N>
[[nodiscard]] constexpr std::uint32_t load_be32(std::span<const std::byte, N> raw) {
    static_assert(Offset + 4 <= N);
    return (static_cast<std::uint32_t>(raw[Offset]) << 24U) |
           (static_cast<std::uint32_t>(raw[Offset + 1]) << 16U) |
           (static_cast<std::uint32_t>(raw[Offset + 2]) << 8U) |
           static_cast<std::uint32_t>(raw[Offset + 3]);
}
template <std::size_t Offset, std::size_t N>
constexpr void store_u8(std::span<std::byte, N> raw, std::uint8_t v) {
    static_assert(Offset + 1 <= N);
    raw[Offset] = static_cast<std::byte>(v);
}
template <std::size_t Offset, std::size_t N>
constexpr void store_be16(std::span<std::byte, N> raw, std::uint16_t v) {
    static_assert(Offset + 2 <= N);
    raw[Offset] = static_cast<std::byte>(v >> 8U);
    raw[Offset + 1] = static_cast<std::byte>(v & 0xFFU);
}
template <std::size_t Offset, std::size_t N>
constexpr void store_be32(std::span<std::byte, N> raw, std::uint32_t v) {
    static_assert(Offset + 4 <= N);
    raw[Offset] = static_cast<std::byte>(v >> 24U);
    raw[Offset + 1] = static_cast<std::byte>((v >> 16U) & 0xFFU);
    raw[Offset + 2] = static_cast<std::byte>((v >> 8U) & 0xFFU);
    raw[Offset + 3] = static_cast<std::byte>(v & 0xFFU);
}

// Reads the variable part of a body front to back. Every read checks the bytes left first and
// returns std::nullopt instead of reading past the end.
class ByteReader {
public:
    explicit ByteReader(ByteView data) noexcept : data_(data) {}

    [[nodiscard]] std::optional<ByteView> take(std::size_t n) noexcept {
        if (n > data_.size() - pos_) {
            return std::nullopt;
        }
        const ByteView out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    template <std::size_t N>
    [[nodiscard]] std::optional<std::span<const std::byte, N>> take_fixed() noexcept {
        const auto v = take(N);
        if (!v) {
            return std::nullopt;
        }
        return v->template first<N>();
    }
    [[nodiscard]] std::optional<std::uint8_t> u8() noexcept;
    [[nodiscard]] std::optional<std::uint16_t> be16() noexcept;
    [[nodiscard]] std::optional<std::uint32_t> be32() noexcept;

    [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }
    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    [[nodiscard]] ByteView rest() const noexcept { return data_.subspan(pos_); }

private:
    ByteView data_;
    std::size_t pos_ = 0;
};

// Writes front to back into a buffer the caller sized with encoded_size(); writing past the
// end is a programming error (assert in debug, nothing written in release) and sets failed().
class ByteWriter {
public:
    explicit ByteWriter(MutableByteView out) noexcept : out_(out) {}

    void u8(std::uint8_t v) noexcept;
    void be16(std::uint16_t v) noexcept;
    void be32(std::uint32_t v) noexcept;
    void bytes(ByteView v) noexcept;
    void zeros(std::size_t n) noexcept;

    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    [[nodiscard]] bool failed() const noexcept { return failed_; }

private:
    [[nodiscard]] bool reserve(std::size_t n) noexcept;

    MutableByteView out_;
    std::size_t pos_ = 0;
    bool failed_ = false;
};

[[nodiscard]] inline ByteView as_bytes(std::string_view s) noexcept {
    return std::as_bytes(std::span(s.data(), s.size()));
}
[[nodiscard]] std::string to_string(ByteView bytes);

// Lower-case hex without separators.
[[nodiscard]] std::string to_hex(ByteView bytes);
// Accepts upper or lower case, ignores ASCII white space; nullopt on any other character or an
// odd number of digits.
[[nodiscard]] std::optional<Bytes> from_hex(std::string_view hex);

}  // namespace cyphonic
