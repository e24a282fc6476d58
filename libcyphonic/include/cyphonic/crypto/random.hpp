#pragma once

#include <cstdint>
#include <span>

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/crypto/secret_bytes.hpp"

namespace cyphonic::crypto {

// All randomness comes from the OpenSSL CSPRNG (RAND_bytes). A failing RAND_bytes means the
// process cannot produce keys safely: these functions throw std::runtime_error with the OpenSSL
// error text, which reaches main as a bad environment (STYLE.md §3), never a packet path.
void random_bytes(MutableByteView out);
[[nodiscard]] Key random_key();
[[nodiscard]] std::uint32_t random_u32();

template <class Tag>
[[nodiscard]] Id128<Tag> random_id() {
    typename Id128<Tag>::Raw raw{};
    random_bytes(raw);
    return Id128<Tag>(raw);
}

}  // namespace cyphonic::crypto
