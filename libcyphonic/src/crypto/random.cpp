#include "cyphonic/crypto/random.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <stdexcept>

#include <openssl/rand.h>

#include "openssl_util.hpp"

namespace cyphonic::crypto {

void random_bytes(MutableByteView out) {
    // RAND_bytes takes an int length: large requests go in chunks.
    constexpr std::size_t kChunk = INT_MAX;
    while (!out.empty()) {
        const std::size_t n = std::min(out.size(), kChunk);
        if (RAND_bytes(detail::uc(out.data()), static_cast<int>(n)) != 1) {
            throw std::runtime_error(detail::openssl_error("RAND_bytes failed"));
        }
        out = out.subspan(n);
    }
}

Key random_key() {
    Key key;
    random_bytes(key.mutable_view());
    return key;
}

std::uint32_t random_u32() {
    std::array<std::byte, sizeof(std::uint32_t)> raw{};
    random_bytes(raw);
    std::uint32_t v = 0;
    std::memcpy(&v, raw.data(), sizeof v);
    return v;
}

}  // namespace cyphonic::crypto
