#pragma once

#include <array>
#include <cstddef>
#include <span>

#include <openssl/crypto.h>

#include "cyphonic/core/bytes.hpp"

namespace cyphonic::crypto {

// Key material: move-only, wiped with OPENSSL_cleanse when destroyed or moved from, and with no
// fmt formatter, so a key cannot reach a log line (STYLE.md §5).
template <std::size_t N>
class SecretBytes {
public:
    static constexpr std::size_t kSize = N;

    SecretBytes() noexcept = default;
    explicit SecretBytes(std::span<const std::byte, N> bytes) noexcept {
        std::copy(bytes.begin(), bytes.end(), bytes_.begin());
    }
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;
    SecretBytes(SecretBytes&& other) noexcept : bytes_(other.bytes_) { other.wipe(); }
    SecretBytes& operator=(SecretBytes&& other) noexcept {
        if (this != &other) {
            bytes_ = other.bytes_;
            other.wipe();
        }
        return *this;
    }
    ~SecretBytes() { wipe(); }

    // An explicit copy, for the rare place that must hold the key twice (a message to send).
    [[nodiscard]] SecretBytes clone() const noexcept { return SecretBytes(view()); }

    [[nodiscard]] std::span<const std::byte, N> view() const noexcept { return bytes_; }
    [[nodiscard]] std::span<std::byte, N> mutable_view() noexcept { return bytes_; }

private:
    void wipe() noexcept { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }
    std::array<std::byte, N> bytes_{};
};

using Key = SecretBytes<32>;

}  // namespace cyphonic::crypto
