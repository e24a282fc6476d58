#pragma once

#include <array>
#include <cstddef>

#include "cyphonic/core/bytes.hpp"

namespace cyphonic::crypto {

using Sha256Digest = std::array<std::byte, 32>;

// SHA-256 of the concatenation of `parts` (one-shot EVP digest). Throws std::runtime_error only
// if OpenSSL itself fails, which is a broken environment, not bad input.
[[nodiscard]] Sha256Digest sha256(std::initializer_list<ByteView> parts);

}  // namespace cyphonic::crypto
