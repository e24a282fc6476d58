#pragma once

#include <string>

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"

namespace cyphonic::crypto {

// HKDF-SHA256 (RFC 5869): fills `out` (at most 255 × 32 bytes) from `ikm`, `salt` and `info`.
// The error is the OpenSSL error text.
[[nodiscard]] Expected<void, std::string> hkdf_sha256(ByteView ikm, ByteView salt, ByteView info,
                                                      MutableByteView out);

}  // namespace cyphonic::crypto
